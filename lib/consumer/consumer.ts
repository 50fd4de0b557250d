import { Observable, Subject } from 'rxjs';
import { ClientStreams } from '../client/client-streams';
import { resolvePolling } from '../client/polling';
import type { ClientHealth, KafkaLog, KafkaStats } from '../client/types';
import { flattenConfig } from '../config/kafka-config';
import { KafkaFdError } from '../errors/kafka-fd.error';
import { commitChannel, traceCommit, traced } from '../diagnostics/channels';
import { type NativeConsumer, constants, native } from '../native/binding';
import type { Poller } from '../poller/poller';
import { checkTimeout } from '../util/timeout';
import { consumerConfig } from './defaults';
import { CommitWaiters } from './commit-waiters';
import { lagOf } from './lag';
import { CONSUMER_HANDLE, type ConsumerHandle, consumerHandle } from './native-handle';
import { OffsetStore } from './offset-store';
import { META_FIELDS, messageAt, nativeError, offsetColumns, subscription } from './messages';
import { PartitionState, keyOf } from './partition-state';
import { PartitionRunner } from './partition-runner';
import { MaxPollInterval } from './poll-interval';
import type {
  CommitOptions, ConsumerCloseOptions, ConsumerLag, ConsumerOptions, Rebalance, RunOptions, TopicPartition, TopicPartitionOffset,
} from './types';

/** How long close() keeps serving the group's leave past its timeout (see doClose). */
const LEAVE_GRACE_MS = 5000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A Kafka consumer of a consumer group over librdkafka, served on the event loop by a {@link Poller} like
 * the producers (fd mode): no thread of ours, nothing on the libuv threadpool but the final destroy.
 * At-least-once: a message's offset is stored once its handler resolved and every earlier message of its
 * partition did, and auto-commit sends it. Backpressure by credit: at most `maxInFlight` messages are in JS
 * at once.
 *
 * ```ts
 * const consumer = new Consumer({ kafka: { 'bootstrap.servers': b, 'group.id': 'billing' } });
 * await consumer.subscribe(['orders']);
 * await consumer.run({ eachMessage: async (m) => bill(m.value) });
 * await consumer.close();
 * ```
 */
export class Consumer {
  /** The librdkafka handle's name (`client.id#consumer-N`). */
  readonly name: string;
  /** Its consumer group (`group.id`). */
  readonly group: string;
  /** The poller serving this consumer. */
  readonly poller: Poller;

  private readonly native: NativeConsumer;
  private readonly streams: ClientStreams;
  private readonly rebalanceSubject = new Subject<Rebalance>();
  private readonly partitions = new Map<string, PartitionState>();
  private readonly maxInFlight: number;
  private readonly rebalanceTimeoutMs: number;
  /** `enable.auto.commit` (librdkafka's default true): close() commits what was processed only then. */
  private readonly autoCommit: boolean;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closePromise: Promise<void> | undefined;
  private subscribed = false;
  private topics: string[] = [];
  private readonly maxPoll: MaxPollInterval;
  private readonly commits = new CommitWaiters();
  private readonly offsets: OffsetStore;
  private readonly runner: PartitionRunner;
  private handle: ConsumerHandle | undefined;
  private lastLag: ConsumerLag | undefined;

  /** What the addon calls; the addon holds it weakly while idle, so the consumer must hold it. */
  private readonly sink = {
    onEvent: (kind: number, code: number, name: string, text: string, fatal: boolean) => this.streams.onEvent(kind, code, name, text, fatal),
    onMessages: (bytes: Buffer, meta: Float64Array, topics: string[], headers?: Array<Array<[string, Buffer | null]> | undefined>) =>
      this.onMessages(bytes, meta, topics, headers),
    onRebalance: (assign: boolean, partitions: TopicPartition[], lost: boolean) => void this.onRebalance(assign, partitions, lost),
    onCommit: (id: number, err: number) => this.onCommit(id, err),
  };

  constructor(options: ConsumerOptions) {
    if (!options || typeof options !== 'object' || !options.kafka || typeof options.kafka !== 'object') {
      throw new KafkaFdError('Consumer options need a `kafka` configuration object', { code: 'ERR__INVALID_ARG' });
    }
    const groupId = options.kafka['group.id'];
    if (typeof groupId !== 'string' || groupId.length === 0) {
      throw new KafkaFdError("a Consumer needs 'group.id' in its kafka configuration (the consumer group it joins)", { code: 'ERR__INVALID_ARG' });
    }
    if ((options.polling as { mode?: string } | undefined)?.mode === 'thread') {
      throw new KafkaFdError("a Consumer is served in fd mode only: remove polling.mode 'thread'", { code: 'ERR__INVALID_ARG' });
    }
    this.autoCommit = String(options.kafka['enable.auto.commit'] ?? true) !== 'false';
    this.maxInFlight = options.maxInFlight ?? 1000;
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) {
      throw new KafkaFdError(`maxInFlight must be an integer >= 1, got ${String(options.maxInFlight)}`, { code: 'ERR__INVALID_ARG' });
    }
    this.rebalanceTimeoutMs = checkTimeout('rebalanceTimeoutMs', options.rebalanceTimeoutMs === undefined ? 30000 : options.rebalanceTimeoutMs);
    this.poller = resolvePolling({ ...options.polling, mode: 'fd' }, 'consumer').poller!;
    this.streams = new ClientStreams(options.kafka, () => this.name, (stats) => (this.lastLag = lagOf(stats, this.partitions)));
    try {
      this.native = new (native().NativeConsumer)(flattenConfig(consumerConfig(options.kafka)), this.sink);
    } catch (e) {
      throw this.streams.clean(e);
    }
    this.name = options.name ?? this.native.name();
    this.group = groupId;
    const maxPollMs = Number(options.kafka['max.poll.interval.ms'] ?? 300000);
    this.maxPoll = new MaxPollInterval(maxPollMs, {
      native: this.native, streams: this.streams, isOpen: () => this.state === 'open', running: () => this.runner.running,
      partitionCount: () => this.partitions.size, topics: () => this.topics,
    });
    this.offsets = new OffsetStore(this.native);
    this.runner = new PartitionRunner({
      native: this.native, streams: this.streams, offsets: this.offsets, partitions: this.partitions, autoCommit: this.autoCommit,
      name: this.name, group: groupId, isOpen: () => this.state === 'open',
    });
    this.native.attach(this.poller.native);
    this.native.credit(this.maxInFlight);
  }

  /** For a producer's transaction that commits this consumer's offsets (lib/producer/transactions.ts). */
  get [CONSUMER_HANDLE](): ConsumerHandle {
    // One handle per consumer: a transaction keys its recorded positions by it.
    return (this.handle ??= consumerHandle(this.native, this.autoCommit, this.name, this.partitions, this.runner));
  }

  /** Every assignment and revocation of partitions. */
  get rebalances$(): Observable<Rebalance> {
    return this.rebalanceSubject.asObservable();
  }

  /** librdkafka's statistics, parsed, every `statistics.interval.ms`. */
  get stats$(): Observable<KafkaStats> {
    return this.streams.stats$;
  }

  /** librdkafka's errors, and handlers that threw (code `ERR__APPLICATION`). */
  get errors$(): Observable<KafkaFdError> {
    return this.streams.errors$;
  }

  /** librdkafka's log lines, secrets redacted. */
  get logs$(): Observable<KafkaLog> {
    return this.streams.logs$;
  }

  get health(): ClientHealth {
    return this.streams.health(this.state !== 'open');
  }

  /**
   * The lag of the assigned partitions from librdkafka's last statistics, or undefined when there were none
   * (statistics are off unless `statistics.interval.ms` is set).
   */
  lag(): ConsumerLag | undefined {
    return this.lastLag;
  }

  /** The partitions assigned to this member now (none before the group's first assignment). */
  assignment(): TopicPartition[] {
    return [...this.partitions.values()].filter((p) => !p.revoked).map((p) => ({ topic: p.topic, partition: p.partition }));
  }

  /**
   * Subscribes to topics, and to every topic a RegExp matches (now and as topics appear, at librdkafka's
   * `topic.metadata.refresh.interval.ms`). Joining the group happens in the background; `rebalances$` says when.
   */
  subscribe(topics: string | RegExp | ReadonlyArray<string | RegExp>): Promise<void> {
    const list = typeof topics === 'string' || topics instanceof RegExp ? [topics] : topics;
    const names = this.refusal() ?? (Array.isArray(list) && list.length > 0
      ? subscription(list)
      : new KafkaFdError('subscribe takes a topic, a RegExp or a non-empty array of them', { code: 'ERR__INVALID_ARG' }));
    if (names instanceof KafkaFdError) return Promise.reject(names);
    const err = this.native.subscribe(names);
    if (err !== 0) return Promise.reject(nativeError(err, 'subscribe'));
    this.subscribed = true;
    this.topics = names;
    return Promise.resolve();
  }

  /** Starts handing messages to `eachMessage` or `eachBatch`. Resolves once running. */
  run(options: RunOptions): Promise<void> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    if (this.runner.started) return Promise.reject(new KafkaFdError('run() was called already', { code: 'ERR__STATE' }));
    const { eachMessage, eachBatch, partitionsConcurrently = 1 } = options ?? {};
    if ((typeof eachMessage === 'function') === (typeof eachBatch === 'function')) {
      return Promise.reject(new KafkaFdError('run() takes one of eachMessage or eachBatch (a function)', { code: 'ERR__INVALID_ARG' }));
    }
    if (!Number.isInteger(partitionsConcurrently) || partitionsConcurrently < 1) {
      return Promise.reject(new KafkaFdError(`partitionsConcurrently must be an integer >= 1, got ${String(partitionsConcurrently)}`, { code: 'ERR__INVALID_ARG' }));
    }
    this.maxPoll.start();
    this.runner.start(options, partitionsConcurrently);
    return Promise.resolve();
  }

  /**
   * Moves an assigned partition (kafkajs's `seek`): the next message its handler gets is the one at `offset`
   * (or the first after it that exists). Messages fetched or waiting for it are dropped; a handler running
   * for it finishes but stores nothing; a partition stopped by a failed handler goes on from `offset`. With
   * auto-commit the new position is stored for the next commit. Throws `ERR__STATE` for a partition not
   * assigned here, `ERR__INVALID_ARG` for a bad offset.
   */
  seek(position: TopicPartitionOffset): void {
    const err = this.refusal() ?? this.runner.seekTo(position, this.name);
    if (err) throw err;
  }

  /** Stops fetching these partitions until {@link resume} (librdkafka drops what it prefetched for them). */
  pause(partitions: readonly TopicPartition[]): void {
    const refused = this.refusal();
    if (refused) throw refused;
    this.runner.pauseResume(true, partitions);
  }

  resume(partitions: readonly TopicPartition[]): void {
    const refused = this.refusal();
    if (refused) throw refused;
    this.runner.pauseResume(false, partitions);
  }

  /**
   * Commits the offsets stored so far (the messages processed), now, or exactly `offsets`; auto-commit does
   * the former periodically. Rejects with `ERR__TIMED_OUT` when the coordinator has not answered within
   * `timeoutMs` (default 30000; `Infinity`: no limit): a consumer that never joined its group gets no answer.
   */
  commit(options: CommitOptions = {}): Promise<void> {
    if (traced(commitChannel)) return traceCommit(this.name, this.group, options?.offsets, () => this.commitNow(options));
    return this.commitNow(options);
  }

  private commitNow(options: CommitOptions): Promise<void> {
    if (this.state === 'closed') return Promise.reject(this.closedError());
    let timeoutMs: number;
    try {
      timeoutMs = checkTimeout('commit timeoutMs', options?.timeoutMs === undefined ? 30000 : options.timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    const columns = options?.offsets === undefined ? undefined : offsetColumns(options.offsets);
    if (columns instanceof KafkaFdError) return Promise.reject(columns);
    // What handlers finished in runs still going is stored first: commit() means everything processed now.
    if (!columns) for (const p of this.partitions.values()) if (!p.revoked) this.offsets.storeNow(p);
    const id = this.commits.nextId();
    const err = columns ? this.native.commit(id, columns.topics, columns.partitions, columns.offsets) : this.native.commit(id);
    if (err === constants().codes.ERR__NO_OFFSET) return Promise.resolve();
    if (err !== 0) return Promise.reject(nativeError(err, 'commit'));
    return this.commits.wait(id, timeoutMs);
  }

  /**
   * kafkajs's name for `commit({ offsets })`, so that code written for kafkajs (a Nest transport handler's
   * `context.getConsumer().commitOffsets(...)`) keeps working: `offset` is the next one to read.
   */
  commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    return this.commit({ offsets });
  }

  /**
   * Stops handing out messages, waits for the handlers in flight, commits what they processed, leaves the
   * group (served through the fd, never blocking) and destroys the handle off the JS thread. Safe to call
   * twice and from inside a handler (it then does not wait for that handler).
   */
  close(options: ConsumerCloseOptions = {}): Promise<void> {
    if (!this.closePromise) {
      let timeoutMs: number;
      try {
        timeoutMs = checkTimeout('close timeoutMs', options?.timeoutMs === undefined ? 30000 : options.timeoutMs);
      } catch (e) {
        return Promise.reject(e);
      }
      this.closePromise = this.doClose(timeoutMs);
    }
    return this.closePromise;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.state = 'closing';
    this.maxPoll.stop();
    const deadline = Date.now() + timeoutMs;
    // Handlers in flight finish (a close from inside one does not wait for itself: it runs after it).
    await new Promise((resolve) => setImmediate(resolve));
    await this.runner.idleOrTimeout([...this.partitions.values()], timeoutMs);
    // Out of time (handlers stuck): no commit of our own; with auto-commit the leave commits what is stored.
    // With auto-commit off, only what the application committed counts: nothing is committed for it here.
    if (this.subscribed && this.autoCommit && deadline > Date.now()) {
      try {
        await this.commit({ timeoutMs: deadline - Date.now() });
      } catch (e) {
        if (this.streams.errorsObserved) this.streams.error(e as KafkaFdError);
      }
    }
    if (this.native.closeConsumer() === 0) {
      // The leave is served through the fd, also past the deadline for a few seconds: a handle destroyed
      // halfway through leaving would hold a threadpool thread until librdkafka's own timeouts.
      const leaveBy = Math.max(deadline, Date.now() + LEAVE_GRACE_MS);
      while (!this.native.consumerClosed() && Date.now() < leaveBy) await sleep(5);
      if (!this.native.consumerClosed()) {
        this.streams.report(
          new KafkaFdError(`close: the group's leave did not complete within ${LEAVE_GRACE_MS} ms past the timeout; destroying anyway`, { code: 'ERR__TIMED_OUT' }),
          'KAFKA_FD_LEAVE_TIMEOUT',
        );
      }
    }
    await this.native.close();
    while (this.native.dispatchPending() > 0) await new Promise((resolve) => setImmediate(resolve));
    this.commits.rejectAll(this.closedError());
    this.state = 'closed';
    this.rebalanceSubject.complete();
    this.streams.complete();
  }

  // --- from the poller ---------------------------------------------------------------------------------

  private onMessages(bytes: Buffer, meta: Float64Array, topics: string[], headers?: Array<Array<[string, Buffer | null]> | undefined>): void {
    const count = meta.length / META_FIELDS;
    if (this.state !== 'open') {
      // Closing: not processed, not stored; the credit goes back, or the queue would not be served again and
      // the answers close waits for (the commit, the group's leave) would never be read.
      this.native.credit(count);
      return;
    }
    let dropped = 0;
    let p: PartitionState | undefined;
    for (let i = 0, at = 0; i < count; i++, at += META_FIELDS) {
      const topic = topics[meta[at]];
      const partition = meta[at + 1];
      // Messages of a partition come in runs: one lookup per run.
      if (!p || p.partition !== partition || p.topic !== topic) p = this.partitions.get(keyOf(topic, partition));
      // Not assigned here (any more): its next owner reads it.
      if (!p || p.stopped || p.revoked) {
        dropped++;
        continue;
      }
      p.push(messageAt(bytes, meta, at, topic, headers?.[i]));
    }
    if (dropped > 0) this.native.credit(dropped);
    this.runner.schedule();
  }

  private async onRebalance(assign: boolean, partitions: TopicPartition[], lost: boolean): Promise<void> {
    const tps = partitions.map((p) => ({ topic: p.topic, partition: p.partition }));
    // Evicted: the partitions are someone else's already; nothing waits for their handlers.
    const gone = lost || (!assign && this.maxPoll.evicted);
    if (this.rebalanceSubject.observed) this.rebalanceSubject.next({ type: assign ? 'assign' : 'revoke', partitions: tps, lost: gone });
    if (assign) {
      for (const tp of tps) {
        const p = this.partitionState(tp.topic, tp.partition);
        p.revoked = false;
        p.stopped = false;
        p.base = undefined;
        p.rewindPending = false;
      }
      this.native.rebalanceDone();
      return;
    }
    // Revoke: nothing more for these partitions; their handlers finish (bounded), their offsets are stored
    // as each message completes, then the assignment changes.
    const states = tps.map((tp) => this.partitions.get(keyOf(tp.topic, tp.partition))).filter((p): p is PartitionState => !!p);
    let dropped = 0;
    for (const p of states) {
      p.revoked = true;
      dropped += p.dropAll();
    }
    if (dropped > 0) this.native.credit(dropped);
    // While closing, close() has waited for the handlers (the addon applies the leave's revoke itself).
    if (!gone && this.state === 'open') await this.runner.idleOrTimeout(states, this.rebalanceTimeoutMs);
    // Still ours until rebalanceDone: what was processed is stored (a lost partition's store is refused).
    if (!gone) for (const p of states) this.offsets.storeNow(p);
    for (const p of states) if (p.revoked) this.partitions.delete(keyOf(p.topic, p.partition));
    this.native.rebalanceDone();
  }

  private onCommit(id: number, err: number): void {
    const ok = err === 0 || err === constants().codes.ERR__NO_OFFSET;
    const waited = this.commits.settle(id, ok ? undefined : nativeError(err, 'commit'));
    if (!waited && !ok && this.streams.errorsObserved) {
      this.streams.error(nativeError(err, 'auto-commit'));
    }
  }

  private partitionState(topic: string, partition: number): PartitionState {
    const key = keyOf(topic, partition);
    let p = this.partitions.get(key);
    if (!p) {
      p = new PartitionState(topic, partition);
      this.partitions.set(key, p);
    }
    return p;
  }

  private refusal(): KafkaFdError | undefined {
    return this.state !== 'open' ? this.closedError() : this.streams.fatalError;
  }

  private closedError(): KafkaFdError {
    return new KafkaFdError(`consumer ${this.name} is ${this.state === 'closed' ? 'closed' : 'closing'}; create a new Consumer`, { code: 'ERR__STATE' });
  }
}
