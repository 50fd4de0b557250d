import type { ClientStreams } from '../client/client-streams';
import { KafkaFdError } from '../errors/kafka-fd.error';
import type { NativeConsumer } from '../native/binding';
import { processChannel, traceProcess, traced } from '../diagnostics/channels';
import { startTimer } from '../util/timeout';
import { checkTopicPartition, nativeError, offsetColumns } from './messages';
import type { OffsetStore } from './offset-store';
import { type PartitionState, keyOf } from './partition-state';
import type { RunOptions, TopicPartition, TopicPartitionOffset } from './types';

/** Messages one handler run takes before the partition yields to the others waiting. */
const RUN_SLICE = 100;

/** The wait after a partition's first rewind in a row; it doubles with each further one, up to the most. */
const REWIND_BACKOFF_MS = 100;
const REWIND_BACKOFF_MAX_MS = 30000;

/** What the runner needs of its consumer. */
export interface RunnerHost {
  native: NativeConsumer;
  streams: ClientStreams;
  offsets: OffsetStore;
  partitions: ReadonlyMap<string, PartitionState>;
  /** `enable.auto.commit`: a move stores the new position for the next auto-commit. */
  autoCommit: boolean;
  /** The consumer's name and group, for the `nestjs-kafka-fd:process` channel. */
  name: string;
  group: string;
  isOpen(): boolean;
}

/**
 * Runs the handlers of `run()`: at most `partitionsConcurrently` partitions at once, each partition's messages
 * in order, a slice at a time so that one busy partition does not starve the others; stores offsets after
 * the handlers and returns credit to the addon.
 */
export class PartitionRunner {
  /** Partitions whose handler runs now, revoked ones included (what the watchdog looks at). */
  readonly running = new Set<PartitionState>();
  private handlers: RunOptions | undefined;
  private concurrency = 1;

  constructor(private readonly host: RunnerHost) {}

  get started(): boolean {
    return this.handlers !== undefined;
  }

  start(handlers: RunOptions, concurrency: number): void {
    this.handlers = handlers;
    this.concurrency = concurrency;
    this.schedule();
  }

  /** Starts a handler run for each partition with messages waiting, up to the concurrency. */
  schedule(): void {
    if (!this.handlers || !this.host.isOpen()) return;
    for (const p of this.host.partitions.values()) {
      if (this.running.size >= this.concurrency) return;
      if (!p.running && !p.stopped && !p.revoked && !p.paused && p.heldUntil === 0 && p.pending > 0) void this.runPartition(p);
    }
  }

  /**
   * Moves `p` to `offset`: the next message its handler gets is the one at `offset`. What was fetched or
   * waits in JS for it is dropped (its credit returned); a handler running now stores nothing when it ends;
   * a partition stopped by a failed handler goes on from there. Returns librdkafka's refusal, if any.
   */
  seek(p: PartitionState, offset: number): KafkaFdError | undefined {
    const { native } = this.host;
    const err = native.seek([p.topic], [p.partition], [offset]);
    if (err !== 0) return nativeError(err, 'seek');
    const dropped = p.dropAll();
    if (dropped > 0) native.credit(dropped);
    p.processed = -1;
    p.epoch++;
    p.base = offset;
    p.rewindPending = false;
    if (p.stopped) {
      p.stopped = false;
      native.pause(false, [p.topic], [p.partition]);
    }
    if (this.host.autoCommit) native.storeOffsets([p.topic], [p.partition], [offset]);
    this.schedule();
    return undefined;
  }

  /** {@link seek} of a position the user gave: checked, and refused for a partition not assigned to `member`. */
  seekTo(position: TopicPartitionOffset, member: string): KafkaFdError | undefined {
    const columns = offsetColumns([position], 'seek');
    if (columns instanceof KafkaFdError) return columns;
    const p = this.host.partitions.get(keyOf(columns.topics[0], columns.partitions[0]));
    if (!p || p.revoked) {
      return new KafkaFdError(`seek: ${columns.topics[0]} [${columns.partitions[0]}] is not assigned to ${member}`, { code: 'ERR__STATE' });
    }
    return this.seek(p, columns.offsets[0]);
  }

  /** The user's pause/resume: librdkafka stops fetching, and the messages fetched already wait in JS too. */
  pauseResume(pause: boolean, partitions: readonly TopicPartition[]): void {
    if (!Array.isArray(partitions)) throw new KafkaFdError('pause/resume take an array of { topic, partition }', { code: 'ERR__INVALID_ARG' });
    const refusedTp = partitions.map((tp) => checkTopicPartition(tp)).find(Boolean);
    if (refusedTp) throw refusedTp;
    const err = this.host.native.pause(pause, partitions.map((p) => p.topic), partitions.map((p) => p.partition));
    if (err !== 0) throw nativeError(err, pause ? 'pause' : 'resume');
    // librdkafka resumes after the last message it handed over.
    for (const tp of partitions) {
      const state = this.host.partitions.get(keyOf(tp.topic, tp.partition));
      if (state) state.paused = pause;
    }
    if (!pause) this.schedule();
  }

  /** Resolves once these partitions' handlers are done, or after `timeoutMs`. */
  async idleOrTimeout(states: PartitionState[], timeoutMs: number): Promise<void> {
    let cancel: () => void = () => undefined;
    const limit = new Promise<void>((resolve) => (cancel = startTimer(timeoutMs, resolve)));
    await Promise.race([Promise.all(states.map((p) => p.idle())), limit]);
    cancel();
  }

  /** A transaction that recorded `p`'s positions aborted: back to its uncommitted input, now or after its handler. */
  aborted(p: PartitionState): void {
    if (p.revoked) return;
    p.rewindPending = true;
    if (!p.running) this.rewind(p);
  }

  /** A transaction committed `p`'s input up to `next`: an abort before it no longer rewinds. */
  committed(p: PartitionState, next: number): void {
    p.base = next;
    p.rewindPending = false;
    p.rewinds = 0;
  }

  /**
   * Back to `p.base`, the messages handed again after a back-off that doubles with each rewind in a row (a
   * message whose transaction always aborts does not loop fast), reported on errors$.
   */
  private rewind(p: PartitionState, cause?: unknown): void {
    p.rewindPending = false;
    const to = p.base;
    if (to === undefined || p.revoked || !this.host.isOpen()) return;
    const refused = this.seek(p, to);
    if (refused) {
      this.fail(p, refused);
      return;
    }
    p.rewinds++;
    const wait = Math.min(REWIND_BACKOFF_MS * 2 ** Math.min(p.rewinds - 1, 20), REWIND_BACKOFF_MAX_MS);
    p.heldUntil = Date.now() + wait;
    setTimeout(() => {
      p.heldUntil = 0;
      this.schedule();
    }, wait).unref();
    const why = cause === undefined ? '' : ` (${(cause as Error)?.message ?? String(cause)})`;
    const error = new KafkaFdError(
      `${p.topic} [${p.partition}] rewound to offset ${to} after an aborted transaction${why}; its messages are handed again in ${wait} ms`,
      { code: 'ERR__APPLICATION', cause },
    );
    this.host.streams.report(error, 'KAFKA_FD_REWOUND', `${p.topic}/${p.partition}`);
  }

  private async runPartition(p: PartitionState): Promise<void> {
    const { native, offsets } = this.host;
    p.running = true;
    this.running.add(p);
    const { eachMessage, eachBatch } = this.handlers!;
    let handled = 0;
    // Credit goes back once per run (at most RUN_SLICE messages), offsets once per loop turn (OffsetStore):
    // not a call into the addon per message.
    let credit = 0;
    try {
      while (p.pending > 0 && !p.stopped && !p.revoked && !p.paused && this.host.isOpen() && handled < RUN_SLICE) {
        const messages = p.take(eachBatch ? p.pending : 1);
        credit += messages.length;
        const epoch = p.epoch;
        p.since = Date.now();
        try {
          if (traced(processChannel)) {
            const { name, group } = this.host;
            await traceProcess(name, group, p.topic, p.partition, messages, eachBatch
              ? () => eachBatch({ topic: p.topic, partition: p.partition, messages })
              : () => eachMessage!(messages[0]));
          } else if (eachBatch) await eachBatch({ topic: p.topic, partition: p.partition, messages });
          else await eachMessage!(messages[0]);
        } catch (e) {
          // An aborted transaction's partition goes back to its uncommitted input; one moved by a seek while
          // its handler ran goes on from there; otherwise the partition stops at the failed message.
          if (p.revoked) break;
          if (p.rewindPending && this.host.isOpen()) this.rewind(p, e);
          else if (p.epoch === epoch) this.fail(p, e);
          break;
        } finally {
          p.since = 0;
        }
        handled += messages.length;
        // Revoked while the handler ran (its wait timed out, or the member was evicted): the partition may be
        // assigned here again already, so storing this offset could move it backwards. The next owner
        // processes the message again (at-least-once).
        if (p.revoked) break;
        if (p.rewindPending) {
          this.rewind(p);
          break;
        }
        // Moved while the handler ran: the messages after the move are the next ones, nothing is stored.
        if (p.epoch !== epoch) break;
        // Every earlier message of the partition is done too: handlers of a partition run in order.
        offsets.processed(p, messages[messages.length - 1].offset + 1);
      }
    } finally {
      // A partition revoked meanwhile has its processed offsets stored by the revoke (or refused, ERR__STATE,
      // when it is someone else's already).
      if (!p.revoked) offsets.storeNow(p);
      if (credit > 0) native.credit(credit);
      p.running = false;
      this.running.delete(p);
      p.settled();
      this.schedule();
    }
  }

  /** A handler threw: the partition stops (paused, its waiting messages dropped), the error goes to errors$. */
  private fail(p: PartitionState, cause: unknown): void {
    p.stopped = true;
    this.host.native.pause(true, [p.topic], [p.partition]);
    this.host.native.credit(p.dropAll());
    const error = new KafkaFdError(
      `handler failed for ${p.topic} [${p.partition}]: the partition is paused and its offset not stored past the ` +
        `failed message (${(cause as Error)?.message ?? String(cause)})`,
      { code: 'ERR__APPLICATION', cause },
    );
    this.host.streams.report(error, 'KAFKA_FD_HANDLER_FAILED', `${p.topic}/${p.partition}`);
  }
}
