import { KafkaFdError } from '../errors/kafka-fd.error';
import type { NativeConsumer } from '../native/binding';
import type { PartitionRunner } from './partition-runner';
import { type PartitionState, keyOf } from './partition-state';
import type { TopicPartitionOffset } from './types';

/**
 * What a producer's transaction needs of a consumer whose offsets it commits: its native handle (for the
 * group's metadata), whether it commits by itself, and what to tell it when the transaction ends. Reached
 * through this symbol, not a public property.
 */
export const CONSUMER_HANDLE = Symbol('nestjs-kafka-fd consumer handle');

export interface ConsumerHandle {
  native: NativeConsumer;
  autoCommit: boolean;
  name: string;
  /** The transaction committed these positions (the next offsets to read). */
  committed(positions: readonly TopicPartitionOffset[]): void;
  /** The transaction that recorded these positions aborted: the consumer rewinds those partitions. */
  aborted(positions: readonly TopicPartitionOffset[]): void;
  /** Why a transaction may not commit a partition's input starting at `first` (a rewind waits before it). */
  rewindRefusal(topic: string, partition: number, first: number): KafkaFdError | undefined;
}

/** A consumer's handle: its transactions' outcomes go to the partitions' runner. */
export function consumerHandle(
  native: NativeConsumer, autoCommit: boolean, name: string, partitions: ReadonlyMap<string, PartitionState>, runner: PartitionRunner,
): ConsumerHandle {
  const each = (positions: readonly TopicPartitionOffset[], fn: (p: PartitionState, offset: number) => void): void => {
    for (const tp of positions) {
      const p = partitions.get(keyOf(tp.topic, tp.partition));
      if (p) fn(p, Number(tp.offset));
    }
  };
  return {
    native, autoCommit, name,
    committed: (positions) => each(positions, (p, next) => runner.committed(p, next)),
    aborted: (positions) => each(positions, (p) => runner.aborted(p)),
    rewindRefusal: (topic, partition, first) => {
      const p = partitions.get(keyOf(topic, partition));
      if (!p?.rewindPending || p.base === undefined || first <= p.base) return undefined;
      return new KafkaFdError(
        `sendConsumed: ${topic} [${partition}] goes back to offset ${p.base} after an aborted transaction; a transaction ` +
          `that commits its input from offset ${first} would skip what the aborted one held`,
        { code: 'ERR__STATE' },
      );
    },
  };
}
