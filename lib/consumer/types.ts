import type { KafkaConfig } from '../config/kafka-config';
import type { PollingOptions } from '../client/polling';

/** A topic's partition. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A message as a handler gets it. */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  /** The message's offset. A number: exact up to 2^53, which no partition reaches in practice. */
  offset: number;
  /** ms since the epoch, -1 when unknown. */
  timestamp: number;
  /** Views of one buffer per batch the addon hands over (as Node's own small buffers share a pool): keeping one
   * message's key or value keeps that batch's bytes; copy it (`Buffer.from(value)`) to keep it long. */
  key: Buffer | null;
  value: Buffer | null;
  /** Headers by name; a name sent more than once has an array of values. */
  headers: Record<string, Buffer | null | Array<Buffer | null>>;
}

/** What `eachBatch` gets: the messages of one partition, in order. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
}

/** Options of {@link Consumer.run}. */
export interface RunOptions {
  /** Called for each message, one at a time per partition; the next message of the partition waits for
   * its promise. Its offset is stored (and then committed) once it resolves. */
  eachMessage?: (message: ConsumedMessage) => unknown;
  /** Called with what has arrived for a partition, in order; the offsets are stored once it resolves. */
  eachBatch?: (batch: ConsumedBatch) => unknown;
  /** Partitions processed at once (default 1); order is kept within a partition. */
  partitionsConcurrently?: number;
}

/** A change of the consumer's assignment, on `rebalances$`. */
export interface Rebalance {
  type: 'assign' | 'revoke';
  partitions: TopicPartition[];
  /** The revoked partitions were already given to another member (their offsets can no longer be committed). */
  lost: boolean;
}

/** Options of a {@link Consumer}. */
export interface ConsumerOptions {
  /** librdkafka configuration; `group.id` is required. Defaults that differ from librdkafka's:
   * `partition.assignment.strategy` cooperative-sticky (from librdkafka 2.3.0: older ones abort on it, #4312), `enable.auto.offset.store` false (offsets are stored
   * after the handler); prefetch sized for throughput with a bound: librdkafka >= 2.2 `queued.max.messages.kbytes`
   * 16384 and `fetch.queue.backoff.ms` 10, older ones `queued.max.messages.kbytes` 65536 and `queued.min.messages`
   * 1000000 (their refetch back-off is a fixed second, so the buffer is what one consumer reads per second). */
  kafka: KafkaConfig;
  /** fd mode only: the poller to join (the global one when left out). */
  polling?: Omit<PollingOptions, 'mode'>;
  /** Messages handed to JS and not yet processed, at most (default 1000). With none left librdkafka's queue
   * is not drained and it stops fetching by itself: backpressure without pause. */
  maxInFlight?: number;
  /** How long a revoke waits for the handlers of the revoked partitions (default 30000 ms). */
  rebalanceTimeoutMs?: number;
  /** A name for logs (librdkafka's `client.id` is used when left out). */
  name?: string;
}

/** Options of {@link Consumer.close}. */
export interface ConsumerCloseOptions {
  /** How long close waits for handlers and for leaving the group (default 30000 ms; `Infinity`: no limit). */
  timeoutMs?: number;
}

/** A position to commit: `offset` is the next message to read (the last one processed + 1), as Kafka means it.
 * A string or bigint is taken too (kafkajs passes offsets as strings). */
export interface TopicPartitionOffset extends TopicPartition {
  offset: number | string | bigint;
}

/** Options of {@link Consumer.commit}. */
export interface CommitOptions {
  /** How long to wait for the coordinator's answer (default 30000 ms; `Infinity`: no limit). */
  timeoutMs?: number;
  /** Exactly these positions, instead of everything processed so far. */
  offsets?: readonly TopicPartitionOffset[];
}

/** How far the group's committed position of each assigned partition is behind its end, from librdkafka's last
 * statistics (`consumer_lag`; needs `statistics.interval.ms`). */
export interface ConsumerLag {
  /** The sum over the partitions whose lag is known. */
  total: number;
  partitions: Array<TopicPartition & { lag: number }>;
  /** When the statistics were emitted (ms since the epoch). */
  at: number;
}
