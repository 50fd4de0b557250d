import type { Message } from './types';

/** Whether a message can join a run: no headers and no timestamp (only the single call carries those). */
export function plain(m: Message): boolean {
  return (m.headers === undefined || m.headers === null) && m.timestamp === undefined;
}

/** The messages from a start that one `produceValues` call takes (at least two), as columns. */
export interface Run {
  topic: string;
  partition: number | undefined;
  values: unknown[];
  keys: unknown[] | undefined;
}

/** Messages of consecutive ids as the sender walks them: runs for `produceValues`, the rest one by one. */
export interface RunSource {
  readonly length: number;
  /** The run from `start` of one topic and partition without headers or a timestamp, or undefined when it
   * would hold fewer than two (message `start` then goes by the single call). */
  runAt(start: number): Run | undefined;
  message(i: number): Message;
}

/**
 * Messages of consecutive ids taken by `produce()`/`produceAsync()` and not yet handed to librdkafka, as
 * columns: the topic, value, key and partition are read at the call (a message object the caller reuses or
 * changes afterwards sends what it held then), so that runs go to `produceValues` without another pass over
 * objects. The producer defers only messages without headers or a timestamp; one produced while a flush is
 * under way may have them (it waits behind the flush's messages), and is kept whole, to go alone.
 */
export class DeferredRun implements RunSource {
  readonly topics: string[] = [];
  readonly values: unknown[] = [];
  readonly keys: unknown[] = [];
  readonly partitions: Array<number | undefined> = [];
  /** Whether any message has a key (else no key column goes to the addon). */
  keyed = false;
  /** Taken by a flush: nothing more joins it. */
  sealed = false;
  /** Messages with headers or a timestamp, by index: copied at the call. */
  private whole: Map<number, Message> | undefined;

  constructor(readonly firstId: number) {}

  get length(): number {
    return this.topics.length;
  }

  /** Takes message id `firstId + length`. */
  push(m: Message): void {
    if (!plain(m)) (this.whole ??= new Map()).set(this.topics.length, { ...m });
    this.topics.push(m.topic);
    this.values.push(m.value);
    const key = m.key;
    if (key !== undefined && key !== null) this.keyed = true;
    this.keys.push(key);
    this.partitions.push(m.partition);
  }

  runAt(start: number): Run | undefined {
    const whole = this.whole;
    if (whole?.has(start)) return undefined;
    const topic = this.topics[start];
    const partition = this.partitions[start];
    let end = start + 1;
    while (end < this.topics.length && this.topics[end] === topic && this.partitions[end] === partition && !whole?.has(end)) end++;
    if (end - start < 2) return undefined;
    const all = start === 0 && end === this.topics.length;
    return {
      topic,
      partition,
      values: all ? this.values : this.values.slice(start, end),
      keys: !this.keyed ? undefined : all ? this.keys : this.keys.slice(start, end),
    };
  }

  /** Message `i` as an object (for the single call and the backlog). */
  message(i: number): Message {
    const kept = this.whole?.get(i);
    if (kept !== undefined) return kept;
    const m: Message = { topic: this.topics[i], value: this.values[i] as Message['value'], key: this.keys[i] as Message['key'] };
    if (this.partitions[i] !== undefined) m.partition = this.partitions[i];
    return m;
  }
}
