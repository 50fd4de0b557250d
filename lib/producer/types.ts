import type { KafkaConfig } from '../config/kafka-config';
import type { KafkaFdError } from '../errors/kafka-fd.error';
import type { Poller } from '../poller/poller';

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

/** How a producer's queue is served. */
export interface PollingOptions {
  /** `fd` (default): served on the event loop by a {@link Poller}. `thread`: a thread per producer, the
   * old way, kept as a baseline (deprecated). */
  mode?: 'fd' | 'thread';
  /** The poller to join (fd mode); the environment's global poller when left out. */
  poller?: Poller;
  /** Longest native serve of this producer per wake-up, ms (fd mode); the poller's `maxTimeMs` by default.
   * When given without `poller`, a poller of its own is made for this producer. */
  maxTimeMs?: number;
}

/** A log line of librdkafka's. */
export interface KafkaLog {
  /** syslog level: 0 emergency ... 3 error, 4 warning, 6 info, 7 debug. */
  level: number;
  facility: string;
  message: string;
  producer: string;
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

/** librdkafka's statistics (`statistics.interval.ms`), parsed. See librdkafka's STATISTICS.md. */
export interface KafkaStats {
  name: string;
  client_id: string;
  type: string;
  ts: number;
  time: number;
  msg_cnt: number;
  msg_size: number;
  txmsgs: number;
  tx: number;
  rx: number;
  brokers: Record<string, Record<string, unknown>>;
  topics: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

/** {@link Producer.health}. */
export interface ProducerHealth {
  closed: boolean;
  /** The fatal error's message, once librdkafka raised one. */
  fatal?: string;
  /** librdkafka said all brokers are down, and no delivery or statistics showed one up since. */
  brokersDown: boolean;
}
