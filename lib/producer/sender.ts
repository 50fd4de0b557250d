import { deliveryError } from '../errors/delivery-errors';
import { KafkaFdError } from '../errors/kafka-fd.error';
import { NativeProducer, ProduceFull, ProducePlain, errorCode } from '../native/binding';
import { Backlog } from './backlog';
import { DeferredRun, plain, Run, RunSource } from './deferred';
import type { BatchRecord } from './batch-record';
import type { Deliveries } from './deliveries';
import type { Message } from './types';
import { headersForAddon } from './validate';

/** A refused message of a batch: its error, and how many of the batch went before it. */
export type BatchRefusal = KafkaFdError & { accepted: number };

/**
 * The producer's way into librdkafka: message ids, what is in flight, the messages deferred to the end of the
 * microtask, the backlog of messages that wait for room (`queueFull: 'wait'`), and the native calls: one
 * message (a produce function bound to the native producer, so that a call skips the wrapper's lookup, the
 * topic by index) or a run of one topic and partition as columns (`produceValues`, one call for the run).
 */
export class Sender {
  /** Accepted by librdkafka, report not yet settled. */
  private inFlight = 0;
  private nextId = 1;
  private readonly produceFn: ProduceFull;
  private readonly producePlain: ProducePlain;
  // Topics by the index the addon gave (so that no name is converted per message); the last one apart.
  private readonly topics = new Map<string, number>();
  private lastTopic: string | undefined;
  private lastTopicIndex = -1;
  readonly backlog: Backlog;
  // Messages taken by defer() and not yet sent, in runs of consecutive ids.
  private runs: DeferredRun[] = [];
  private pendingCount = 0;
  private flushing = false;
  private scheduled = false;
  private readonly flushTask = (): void => {
    this.scheduled = false;
    this.flushPending();
  };
  private immediate: NodeJS.Immediate | undefined;
  private readonly flushLater = (): void => {
    this.immediate = undefined;
    this.flushPending();
  };
  private readonly onIdle: () => void;

  constructor(
    private readonly native: NativeProducer,
    private readonly deliveries: Deliveries,
    private readonly queueFull: 'wait' | 'error',
    backlog: { timeoutMs: number; chunk: number; onEmpty: () => void },
  ) {
    this.produceFn = native.bindProduce(false);
    this.producePlain = native.bindProduce(true);
    this.onIdle = backlog.onEmpty;
    this.backlog = new Backlog({
      produce: (m, id) => this.produceNative(m, id),
      fail: (id, err, why) => this.deliveries.fail(id, err, why),
      onEmpty: backlog.onEmpty,
    }, backlog.timeoutMs, backlog.chunk);
  }

  /** Messages accepted and not yet reported, those waiting for room included. */
  get count(): number {
    return this.inFlight + this.backlog.length + this.pendingCount;
  }

  /** `n` consecutive message ids; returns the first. */
  ids(n: number): number {
    const first = this.nextId;
    this.nextId += n;
    return first;
  }

  /** `count` reports were handed to JS. */
  reported(count: number): void {
    this.inFlight -= count;
  }

  /** Acks made room: waiting messages move in (a bounded number now, the rest on later turns). */
  drain(): void {
    if (this.backlog.length > 0) this.backlog.drain();
  }

  /** After the handle's destroy: nothing is in flight any more. */
  destroyed(): void {
    this.inFlight = 0;
  }

  /** Queues one message natively, or in the backlog while librdkafka's queue is full. Returns librdkafka's
   * error (0: accepted or waiting); throws when the addon refuses the message's shape. */
  send(m: Message, id: number): number {
    if (this.flushing) {
      // Produced from a report's subscriber while deferred messages go out: after them.
      this.defer(m, id);
      return 0;
    }
    this.flushPending();
    if (this.backlog.length > 0) {
      // Keep order: nothing overtakes a message that waits for room.
      this.backlog.add(m, id);
      return 0;
    }
    const err = this.produceNative(m, id);
    if (err === 0) return 0;
    if (err === errorCode('ERR__QUEUE_FULL') && this.queueFull === 'wait') {
      this.backlog.add(m, id);
      return 0;
    }
    return err;
  }

  /**
   * Sends a batch whose ids start at `firstId` (each already expected by the deliveries). Returns nothing
   * when every message was accepted or waits for room, else the error of the first refused message, whose
   * `accepted` says how many went before it (the rest are forgotten: nothing after it was sent).
   */
  sendBatch(messages: readonly Message[], firstId: number): BatchRefusal | undefined {
    if (this.flushing) {
      // Produced from a report's subscriber while deferred messages go out: after them, each on its own.
      for (let i = 0; i < messages.length; i++) this.defer(messages[i], firstId + i);
      return undefined;
    }
    this.flushPending();
    const source = new BatchRuns(messages);
    let accepted = 0;
    if (this.backlog.length === 0) {
      const stop = this.sendFrom(source, 0, firstId);
      accepted = stop.next;
      if (accepted === messages.length) return undefined;
      if (!this.waitsForRoom(stop)) {
        for (let i = accepted; i < messages.length; i++) this.deliveries.forget(firstId + i);
        const error = stop.refused !== undefined
          ? new KafkaFdError(`message ${accepted} of the batch: ${(stop.refused as Error)?.message ?? String(stop.refused)}`, {
            code: stop.refused instanceof KafkaFdError ? stop.refused.code : 'ERR__INVALID_ARG', cause: stop.refused,
          })
          : deliveryError(stop.err, messages[accepted].topic);
        return Object.assign(error, { accepted });
      }
    }
    this.waitFrom(source, accepted, firstId);
    return undefined;
  }

  /**
   * Takes message `id` now (its fields read at the call: {@link DeferredRun}) and sends it, with those taken
   * before it, when this microtask ends or {@link deferLimit} wait, whichever is first: the messages of one turn go to librdkafka as runs of `produceValues` (rd_kafka_produce_batch;
   * 269-270 ns a message against 351-442 for a call each, bench:produce-path). What librdkafka refuses then
   * fails that message alone through its promise or `acks$`/`errors$`, never the others. Every other way in
   * sends what waits here first, so nothing overtakes a deferred message.
   */
  defer(m: Message, id: number): void {
    let last = this.runs.length > 0 ? this.runs[this.runs.length - 1] : undefined;
    // Not into a run a flush under way took: it sends the runs it started with, not what it makes happen.
    if (last === undefined || last.sealed || id !== last.firstId + last.length) {
      last = new DeferredRun(id);
      this.runs.push(last);
    }
    last.push(m);
    this.pendingCount++;
    if (this.flushing) return; // sent on the next turn, or by the next call that sends
    if (this.pendingCount >= deferLimit) this.flushPending();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushTask);
    }
  }

  /** Sends what {@link defer} holds, in order: runs of one topic and partition in one call each; a message
   * librdkafka refuses fails alone, the rest go on. Never throws. */
  flushPending(): void {
    if (this.flushing || this.pendingCount === 0) return;
    this.flushing = true;
    try {
      // Bounded: what subscribers produce meanwhile (a retry of each failure, say) waits for the next turn.
      for (const run of this.runs) run.sealed = true;
      for (let left = this.runs.length; left > 0; left--) {
        const run = this.runs.shift()!;
        // Each message stays counted as pending until it is in flight, failed or waiting for room, so that
        // reports served inside the native call never make the count reach 0 early (flush() would return).
        let i = 0;
        while (i < run.length && this.backlog.length === 0) {
          const stop = this.sendFrom(run, i, run.firstId);
          this.pendingCount -= stop.next - i;
          i = stop.next;
          if (i === run.length || this.waitsForRoom(stop)) break;
          this.pendingCount--;
          if (stop.refused !== undefined) {
            this.deliveries.fail(run.firstId + i, errorCode('ERR__INVALID_ARG'), (stop.refused as Error)?.message ?? String(stop.refused));
          } else {
            this.deliveries.fail(run.firstId + i, stop.err);
          }
          i++;
        }
        this.pendingCount -= run.length - i;
        this.waitFrom(run, i, run.firstId);
      }
    } finally {
      this.flushing = false;
    }
    if (this.runs.length > 0) this.immediate ??= setImmediate(this.flushLater);
    // Every one may have failed here, with no report to come that would wake flush().
    this.onIdle();
  }

  /**
   * Sends source[start..] (ids firstId + index) while librdkafka takes them: runs of one topic and partition
   * without headers or timestamps in one native call over rd_kafka_produce_batch (236-249 ns a message
   * against 339-442 for a call each, bench:produce-path); whatever a run stops at goes alone, which says why.
   * Returns where it stopped and why (librdkafka's code, or what the addon threw).
   */
  private sendFrom(source: RunSource, start: number, firstId: number): Stop {
    let next = start;
    try {
      while (next < source.length) {
        const run = source.runAt(next);
        if (run !== undefined) {
          const n = this.native.produceValues(this.topicRef(run.topic), run.values, run.keys, run.partition, firstId + next, run.values.length);
          this.inFlight += n;
          next += n;
          if (n === run.values.length) continue;
        }
        const err = this.produceNative(source.message(next), firstId + next);
        if (err !== 0) return { next, err, refused: undefined };
        next++;
      }
    } catch (e) {
      // The addon's own checks (a second line behind MessageChecker) refused this one.
      return { next, err: 0, refused: e };
    }
    return { next, err: 0, refused: undefined };
  }

  /** Whether the stop is a full queue that the message waits out (`queueFull: 'wait'`). */
  private waitsForRoom(stop: Stop): boolean {
    return stop.refused === undefined && stop.err === errorCode('ERR__QUEUE_FULL') && this.queueFull === 'wait';
  }

  /** source[from..] waits in the backlog, in order. */
  private waitFrom(source: RunSource, from: number, firstId: number): void {
    if (from >= source.length) return;
    const now = Date.now();
    for (let i = from; i < source.length; i++) this.backlog.add(source.message(i), firstId + i, now);
  }

  /** One message into librdkafka; counts it in flight when accepted. Returns librdkafka's error code. */
  private produceNative(m: Message, id: number): number {
    const ts = m.timestamp;
    const err = m.partition === undefined && plain(m)
      ? this.producePlain(this.topicRef(m.topic), m.value, m.key, id)
      : this.produceFn(this.topicRef(m.topic), m.partition, m.value, m.key, headersForAddon(m.headers),
        ts instanceof Date ? ts.getTime() : ts, id);
    if (err === 0) this.inFlight++;
    return err;
  }

  /** The addon's index for a topic, or the name itself while the producer closes (the addon then refuses). */
  private topicRef(topic: string): number | string {
    if (topic === this.lastTopic) return this.lastTopicIndex;
    let index = this.topics.get(topic);
    if (index === undefined) {
      index = this.native.topic(topic);
      if (index < 0) return topic;
      this.topics.set(topic, index);
    }
    this.lastTopic = topic;
    this.lastTopicIndex = index;
    return index;
  }
}

/** How many deferred messages are sent at once without waiting for the microtask (a loop of a million
 * produceAsync calls holds at most this many in JS). */
const deferLimit = 256;

/** Where {@link Sender.sendFrom} stopped: the index of the first message not sent and why. */
interface Stop {
  next: number;
  err: number;
  refused: unknown;
}

/** A batch's messages as the sender walks them. */
class BatchRuns implements RunSource {
  constructor(private readonly messages: readonly Message[]) {}

  get length(): number {
    return this.messages.length;
  }

  /** A message whose read throws (a getter) ends the run before it: the single call then reads it again
   * and says why. */
  runAt(start: number): Run | undefined {
    return plainRun(this.messages, start);
  }

  message(i: number): Message {
    return this.messages[i];
  }
}

function plainRun(messages: readonly Message[], start: number): Run | undefined {
  const first = messages[start];
  let topic: string;
  let partition: number | undefined;
  try {
    if (!plain(first)) return undefined;
    ({ topic, partition } = first);
  } catch {
    return undefined;
  }
  const values: unknown[] = [];
  let keys: unknown[] | undefined;
  for (let i = start; i < messages.length; i++) {
    let value: unknown;
    let key: unknown;
    try {
      const m = messages[i];
      if (i > start && (m.topic !== topic || m.partition !== partition || !plain(m))) break;
      value = m.value;
      key = m.key;
    } catch {
      break;
    }
    values.push(value);
    if (key !== undefined && key !== null) keys ??= new Array<unknown>(values.length - 1).fill(undefined);
    keys?.push(key);
  }
  return values.length < 2 ? undefined : { topic, partition, values, keys };
}

