import { errorCode } from '../native/binding';
import { startTimer } from '../util/timeout';
import type { Message } from './types';


/** What the backlog needs from its producer. */
export interface BacklogHost {
  /** Queues one message in librdkafka; returns librdkafka's code (0: accepted). May throw (bad input). */
  produce(message: Message, id: number): number;
  /** Fails one message: its promise, batch or `acks$`/`errors$` learn it. */
  fail(id: number, err: number, why?: string): void;
  /** The backlog became empty (flush waiters may wake). */
  onEmpty(): void;
}

/**
 * Messages waiting for room in librdkafka's queue (`queueFull: 'wait'`), in the order they were produced:
 * nothing overtakes a waiting message. A ring of parallel arrays, so adding and taking a message is O(1)
 * and holds no object per message beyond the caller's own; the storage shrinks back once drained.
 *
 * The work is bounded per event-loop turn: {@link drain} moves at most `chunk` messages (acks free about
 * that much room per delivery batch); when it stops at the chunk rather than at a full queue, it continues
 * on the next turn (setImmediate). A timer retries while no ack arrives (a broker down) and fails messages
 * that waited longer than `timeoutMs` with `ERR__QUEUE_FULL`, also at most `chunk` a turn.
 */
export class Backlog {
  private messages: Array<Message | undefined>;
  private ids: Float64Array;
  private since: Float64Array;
  private head = 0;
  private size = 0;
  private cancelTimer: (() => void) | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(
    private readonly host: BacklogHost,
    private readonly timeoutMs: number,
    private readonly chunk: number,
    private readonly initialCapacity = 64,
  ) {
    this.messages = new Array<Message | undefined>(initialCapacity).fill(undefined);
    this.ids = new Float64Array(initialCapacity);
    this.since = new Float64Array(initialCapacity);
  }

  /** Messages waiting. */
  get length(): number {
    return this.size;
  }

  /** Appends a message that found the queue full (or others waiting before it). */
  add(message: Message, id: number, now = Date.now()): void {
    if (this.size === this.ids.length) this.resize(this.ids.length * 2);
    const slot = (this.head + this.size) % this.ids.length;
    this.messages[slot] = message;
    this.ids[slot] = id;
    this.since[slot] = now;
    this.size++;
    this.armRetry();
  }

  /** Moves waiting messages into librdkafka while it takes them, at most `chunk` now; fails expired ones. */
  drain(): void {
    const queueFull = errorCode('ERR__QUEUE_FULL');
    let moved = 0;
    let full = false;
    while (this.size > 0 && moved < this.chunk) {
      const slot = this.head;
      const id = this.ids[slot];
      let err: number;
      let why: string | undefined;
      try {
        err = this.host.produce(this.messages[slot]!, id);
      } catch (e) {
        // The addon refused the message (its own checks): it fails alone, the rest go on.
        err = errorCode('ERR__INVALID_ARG');
        why = (e as Error).message;
      }
      if (err === queueFull) {
        full = true;
        break;
      }
      this.take();
      moved++;
      if (err !== 0) this.host.fail(id, err, why);
    }
    this.expire();
    if (this.size === 0) {
      this.stop();
      this.host.onEmpty();
      return;
    }
    // Stopped by the chunk, not by a full queue: there may be room for more, next turn.
    if (!full && !this.immediate) {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.drain();
      });
    }
    this.armRetry();
  }

  /**
   * Fails every waiting message (the producer is closing), `chunk` per loop turn so that a large backlog
   * does not make one long turn.
   */
  async failAll(err: number, why: string): Promise<void> {
    this.stop();
    while (this.size > 0) {
      for (let n = 0; n < this.chunk && this.size > 0; n++) this.host.fail(this.take(), err, why);
      if (this.size > 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Cancels the retry timer and any pending continuation. */
  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  private expire(): void {
    if (this.timeoutMs === Infinity) return;
    const expired = Date.now() - this.timeoutMs;
    for (let n = 0; n < this.chunk && this.size > 0 && this.since[this.head] <= expired; n++) {
      this.host.fail(this.take(), errorCode('ERR__QUEUE_FULL'));
    }
  }

  /** Removes the oldest message; returns its id. */
  private take(): number {
    const slot = this.head;
    const id = this.ids[slot];
    this.messages[slot] = undefined;
    this.head = (slot + 1) % this.ids.length;
    this.size--;
    if (this.size === 0) {
      this.head = 0;
      // Give back what a burst grew.
      if (this.ids.length > this.initialCapacity) this.resize(this.initialCapacity);
    }
    return id;
  }

  private resize(capacity: number): void {
    const messages = new Array<Message | undefined>(capacity).fill(undefined);
    const ids = new Float64Array(capacity);
    const since = new Float64Array(capacity);
    for (let i = 0; i < this.size; i++) {
      const from = (this.head + i) % this.ids.length;
      messages[i] = this.messages[from];
      ids[i] = this.ids[from];
      since[i] = this.since[from];
    }
    this.messages = messages;
    this.ids = ids;
    this.since = since;
    this.head = 0;
  }

  /** While messages wait, retry every 100 ms (or at the timeout, if sooner): acks may not come. */
  private armRetry(): void {
    if (this.cancelTimer) return;
    this.cancelTimer = startTimer(Math.min(100, this.timeoutMs), () => {
      this.cancelTimer = undefined;
      this.drain();
    });
  }
}
