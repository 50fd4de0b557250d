import type { Message } from './types';

/**
 * Messages of consecutive ids taken by `produce()`/`produceAsync()` and not yet handed to librdkafka, as
 * columns: the topic, value, key and partition are read at the call (a message object the caller reuses or
 * changes afterwards sends what it held then), so that runs go to `produceValues` without another pass over
 * objects. Only messages without headers or a timestamp are deferred.
 */
export class DeferredRun {
  readonly topics: string[] = [];
  readonly values: unknown[] = [];
  readonly keys: unknown[] = [];
  readonly partitions: Array<number | undefined> = [];
  /** Whether any message has a key (else no key column goes to the addon). */
  keyed = false;
  /** Taken by a flush: nothing more joins it. */
  sealed = false;

  constructor(readonly firstId: number) {}

  get length(): number {
    return this.topics.length;
  }

  /** Takes message id `firstId + length`. */
  push(m: Message): void {
    this.topics.push(m.topic);
    this.values.push(m.value);
    const key = m.key;
    if (key !== undefined && key !== null) this.keyed = true;
    this.keys.push(key);
    this.partitions.push(m.partition);
  }

  /** The end (exclusive) of the run of one topic and partition that starts at `start`. */
  runEnd(start: number): number {
    const topic = this.topics[start];
    const partition = this.partitions[start];
    let end = start + 1;
    while (end < this.topics.length && this.topics[end] === topic && this.partitions[end] === partition) end++;
    return end;
  }

  /** Message `i` as an object (for the single call and the backlog). */
  message(i: number): Message {
    const m: Message = { topic: this.topics[i], value: this.values[i] as Message['value'], key: this.keys[i] as Message['key'] };
    if (this.partitions[i] !== undefined) m.partition = this.partitions[i];
    return m;
  }
}
