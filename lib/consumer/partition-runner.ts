import type { ClientStreams } from '../client/client-streams';
import { KafkaFdError } from '../errors/kafka-fd.error';
import type { NativeConsumer } from '../native/binding';
import type { OffsetStore } from './offset-store';
import type { PartitionState } from './partition-state';
import type { RunOptions } from './types';

/** Messages one handler run takes before the partition yields to the others waiting. */
const RUN_SLICE = 100;

/** What the runner needs of its consumer. */
export interface RunnerHost {
  native: NativeConsumer;
  streams: ClientStreams;
  offsets: OffsetStore;
  partitions: ReadonlyMap<string, PartitionState>;
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
      if (!p.running && !p.stopped && !p.revoked && !p.paused && p.pending > 0) void this.runPartition(p);
    }
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
        p.since = Date.now();
        try {
          if (eachBatch) await eachBatch({ topic: p.topic, partition: p.partition, messages });
          else await eachMessage!(messages[0]);
        } catch (e) {
          if (!p.revoked) this.fail(p, e);
          break;
        } finally {
          p.since = 0;
        }
        handled += messages.length;
        // Revoked while the handler ran (its wait timed out, or the member was evicted): the partition may be
        // assigned here again already, so storing this offset could move it backwards. The next owner
        // processes the message again (at-least-once).
        if (p.revoked) break;
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
