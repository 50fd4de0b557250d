import type { ConsumedMessage } from './types';

/** A partition's key in the consumer's maps. */
export function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * One assigned partition's messages waiting for its handler, in order (a queue with a moving head: O(1)
 * per message), and whether its handler runs, failed or was revoked.
 */
export class PartitionState {
  running = false;
  /** When the handler running now started (Date.now()), 0 when none runs: the poll-interval watchdog reads it. */
  since = 0;
  /** Its handler threw: the partition is paused and takes no more messages until reassigned. */
  stopped = false;
  revoked = false;
  /** Paused by the user: its messages wait (already fetched ones too) until resumed. */
  paused = false;
  /** The offset to store next (the last processed message's + 1), -1 when nothing waits to be stored. */
  processed = -1;
  /** Moved by a seek (or a rewind) this many times: a handler that ran across a move stores nothing. */
  epoch = 0;
  /**
   * Where the partition's input not yet committed starts: the first offset handed over since the assignment
   * or the last move, then each position a transaction committed. An aborted transaction rewinds to it.
   */
  base: number | undefined;
  /** A transaction that recorded this partition's positions aborted: it goes back to `base` once its
   * handler is done (unless a transaction commits that input meanwhile). */
  rewindPending = false;
  /** Rewinds in a row without a commit in between (each waits longer before handing messages again). */
  rewinds = 0;
  /** Handing no messages until this time (Date.now()), after a rewind. */
  heldUntil = 0;
  private items: ConsumedMessage[] = [];
  private head = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(readonly topic: string, readonly partition: number) {}

  get pending(): number {
    return this.items.length - this.head;
  }

  push(m: ConsumedMessage): void {
    if (this.base === undefined) this.base = m.offset;
    this.items.push(m);
  }

  take(max: number): ConsumedMessage[] {
    const n = Math.min(max, this.pending);
    const out = this.items.slice(this.head, this.head + n);
    this.head += n;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return out;
  }

  /** The offset to store, once: -1 when nothing was processed since the last call. */
  takeProcessed(): number {
    const offset = this.processed;
    this.processed = -1;
    return offset;
  }

  /** Drops what waits; returns how many were dropped (their credit goes back). */
  dropAll(): number {
    const n = this.pending;
    this.items = [];
    this.head = 0;
    return n;
  }

  /** Resolves once no handler runs for this partition. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  settled(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
