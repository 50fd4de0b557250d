import type { KafkaConfig } from '../config/kafka-config';
import type { KafkaFdError } from '../errors/kafka-fd.error';
import type { ClientHealth } from '../client/types';

export type { KafkaLog, KafkaStats } from '../client/types';
export type { PollingOptions } from '../client/polling';
import type { PollingOptions } from '../client/polling';

/** Bytes as Kafka sees them: a Buffer, a string (sent as UTF-8), or null. */
export type KafkaBytes = Buffer | string | null;

/** Message headers: a record of own enumerable properties (an array value repeats the name), a `Map` (in
 * its order), or `[name, value]` pairs in order. Anything else is refused with `ERR__INVALID_ARG`. */
export type MessageHeaders =
  | Record<string, KafkaBytes | KafkaBytes[]>
  | Map<string, KafkaBytes | KafkaBytes[]>
  | Array<[string, KafkaBytes]>;

/** A message to produce. */
export interface Message {
  topic: string;
  /** `null` (or undefined) is a null value, a tombstone on compacted topics; an empty string or a
   * zero-length Buffer is an empty value. The same holds for `key` and header values. */
  value: KafkaBytes | undefined;
  key?: KafkaBytes;
  /** Leave out to let the partitioner choose. */
  partition?: number;
  headers?: MessageHeaders;
  /** Creation time, ms since the epoch (or a Date); the producer's clock when left out. */
  timestamp?: number | Date;
}

/** The broker's answer for one message. */
export interface DeliveryReport {
  topic: string;
  partition: number;
  /** Offset in the partition; -1001 when the broker did not say (e.g. a failure). */
  offset: number;
  /** Timestamp as stored, ms since the epoch; -1 when unknown. */
  timestamp: number;
  /** Set when delivery failed (`acks$` carries failures too). */
  error?: KafkaFdError;
}

/** What `produceMany` resolves with once every message of the batch is acknowledged. */
export interface BatchReport {
  delivered: number;
}

/** Options of a {@link Producer}. */
export interface ProducerOptions {
  /** librdkafka configuration (`bootstrap.servers`, `acks`, `linger.ms`, ...). */
  kafka: KafkaConfig;
  polling?: PollingOptions;
  /** When librdkafka's queue is full: `wait` (default) for acks to make room, up to
   * `queueFullTimeoutMs`, keeping order; `error` to fail at once with a retriable `ERR__QUEUE_FULL`. */
  queueFull?: 'wait' | 'error';
  /** Longest wait for room in the queue with `queueFull: 'wait'` (default 30000 ms; `Infinity`: no limit).
   * Waiting messages cost no object of ours each (a slot in a ring), and move into librdkafka a bounded
   * number per event-loop turn, in order. */
  queueFullTimeoutMs?: number;
  /** A name for logs (librdkafka's `client.id` is used when left out). */
  name?: string;
}

/** Options of {@link Producer.close}. */
export interface CloseOptions {
  /** How long to wait for in-flight messages before purging them (default 30000 ms; `Infinity`: no limit).
   * Purged messages fail with `ERR__PURGE_QUEUE` or `ERR__PURGE_INFLIGHT`. */
  timeoutMs?: number;
}

/** {@link Producer.health}. */
export type ProducerHealth = ClientHealth;
