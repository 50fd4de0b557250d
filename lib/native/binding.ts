import * as path from 'node:path';
import { KafkaFdError } from '../errors/kafka-fd.error';
import type { PollerOptions } from '../poller/poller-options';

/** The addon's exports (native/src/addon.cc). Internal: the public API wraps every one of them. */
export interface NativeBinding {
  NativeProducer: new (config: string[], sink: NativeSink) => NativeProducer;
  NativeConsumer: new (config: string[], sink: NativeConsumerSink) => NativeConsumer;
  NativePoller: new (options: NativePollerOptions) => NativePoller;
  NativeMockCluster: new (brokers: number) => NativeMockCluster;
  setErrorClass(ctor: typeof KafkaFdError): void;
  versions(): { librdkafka: string; librdkafkaNumber: number; errors: Record<number, [string, string]> };
  constants: NativeConstants;
}

/** What both sides must agree on, defined once in the addon (native/src/addon.cc). */
export interface NativeConstants {
  /** Kinds of `onEvent` calls. */
  events: { error: number; stats: number; log: number };
  /** The transaction operations of `txn()`. */
  txn: { init: number; begin: number; commit: number; abort: number; sendOffsets: number };
  /** Every librdkafka error code by name, e.g. `ERR__QUEUE_FULL: -184`. */
  codes: Record<string, number>;
  /** RD_KAFKA_OFFSET_INVALID. */
  offsetInvalid: number;
  /** The poller's option defaults. */
  pollerDefaults: Required<NativePollerOptions>;
}

/** Where the addon writes delivery reports: typed arrays allocated once per producer, and two callbacks. */
export interface NativeSink extends NativeEventSink {
  ids: Float64Array;
  errs: Int32Array;
  partitions: Int32Array;
  offsets: Float64Array;
  timestamps: Float64Array;
  onBatch(count: number): void;
}

/** What every native client has (native/src/client.h). */
export interface NativeClient {
  attach(poller?: NativePoller): void;
  close(): Promise<void>;
  name(): string;
  testFatalError(code: number, reason: string): number;
  /** After close: hands JS what is left, a batch; returns how much went (0: nothing left). */
  dispatchPending(): number;
}

/** Callbacks every client's sink has: events (errors, statistics, logs). */
export interface NativeEventSink {
  onEvent(kind: number, code: number, name: string, text: string, fatal: boolean): void;
}

/** A bound produce call (`NativeProducer.bindProduce`): librdkafka's code, 0 when accepted; throws for a value,
 * key or header that is not bytes. Topic: a name, or the index `topic()` gave for it (no string to convert per
 * message). */
export type ProduceFull = (topic: string | number, partition: number | undefined, value: unknown, key: unknown,
  headers: unknown, timestamp: number | undefined, id: number) => number;
/** The same for a message without partition, headers or timestamp. */
export type ProducePlain = (topic: string | number, value: unknown, key: unknown, id: number) => number;

export interface NativeProducer extends NativeClient {
  /** A produce function bound to this producer (no wrapper lookup per call); with `plain`, its form for a
   * message without partition, headers or timestamp. */
  bindProduce(plain: false): ProduceFull;
  bindProduce(plain: true): ProducePlain;
  /** The index the produce calls may pass for this topic (its handle made now if new); -1 once closing. */
  topic(name: string): number;
  /** A run of one topic and partition as columns, message i (values[i], keys?.[i]) with id firstId + i: how
   * many were accepted, from the first. It stops at the first refused (librdkafka's error, a value that is
   * not bytes, one that may be over message.max.bytes) and leaves it to a single produce call, which says why;
   * it never throws half-way. */
  produceValues(topic: string | number, values: unknown[], keys: unknown[] | undefined, partition: number | undefined,
    firstId: number, count: number): number;
  outqLen(): number;
  /** A transaction call on the threadpool (`constants.txn`). */
  txn(op: number, timeoutMs: number): Promise<void>;
  /** `send_offsets_to_transaction` with the consumer's group metadata, on the threadpool. */
  txn(op: number, timeoutMs: number, consumer: NativeConsumer, topics: string[], partitions: number[], offsets: number[]): Promise<void>;
}

/** Where the addon hands a consumer's results (native/src/consumer.h). */
export interface NativeConsumerSink extends NativeEventSink {
  /** A batch as columns (native/src/consumer.cc DispatchOwn): the bytes of every key and value, 8 numbers per
   * message (topic index into `topics`, partition, offset, timestamp, key start, key length or -1 for null,
   * value start, value length or -1), and the headers of the messages that have some. */
  onMessages(bytes: Buffer, meta: Float64Array, topics: string[], headers: Array<Array<[string, Buffer | null]> | undefined> | undefined): void;
  onRebalance(assign: boolean, partitions: Array<{ topic: string; partition: number }>, lost: boolean): void;
  onCommit(id: number, err: number): void;
}

export interface NativeConsumer extends NativeClient {
  subscribe(topics: string[]): number;
  unsubscribe(): number;
  credit(n: number): void;
  rebalanceDone(): number;
  storeOffsets(topics: string[], partitions: number[], offsets: number[]): number;
  /** Commits the stored offsets, or exactly the (topic, partition, next offset) given. */
  commit(id: number, topics?: string[], partitions?: number[], offsets?: number[]): number;
  pause(pause: boolean, topics: string[], partitions: number[]): number;
  /** Moves the partitions' fetch positions (asynchronously; what was fetched before is dropped) -> err. */
  seek(topics: string[], partitions: number[], offsets: number[]): number;
  closeConsumer(): number;
  consumerClosed(): boolean;
}

/** The poller options the addon reads (defaults from `constants().pollerDefaults`). */
export type NativePollerOptions = Omit<PollerOptions, 'name'>;

export interface NativePoller {
  metrics(): Record<string, number>;
  targetCount(): number;
  hasHandles(): boolean;
}

export interface NativeMockCluster {
  bootstraps(): string;
  createTopic(name: string, partitions: number, replicationFactor: number): void;
  brokerDown(id: number): void;
  brokerUp(id: number): void;
  setRtt(id: number, ms: number): void;
  pushRequestErrors(apiKey: number, codes: number[]): void;
  setPartitionLeader(topic: string, partition: number, brokerId: number): void;
  close(): Promise<void>;
}

let binding: NativeBinding | undefined;

/**
 * Loads the addon once per environment (the main thread and each worker thread load their own instance).
 * When it cannot load, the error says what to install and how to rebuild.
 */
export function native(): NativeBinding {
  if (binding) return binding;
  // KAFKA_FD_ADDON loads another build of the addon (scripts/memcheck.sh uses a sanitizer build).
  const file = process.env.KAFKA_FD_ADDON ?? path.resolve(__dirname, '..', '..', 'build', 'Release', 'kafka_fd.node');
  try {
    binding = require(file) as NativeBinding;
  } catch (cause) {
    const reason = (cause as Error).message ?? String(cause);
    const missingLib = /librdkafka\.so/.test(reason);
    throw new KafkaFdError(
      missingLib
        ? `nestjs-kafka-fd: librdkafka is not installed (${reason}). Install it (Debian/Ubuntu: ` +
            'apt-get install librdkafka1, or librdkafka-dev to build) and run `npm rebuild nestjs-kafka-fd`.'
        : `nestjs-kafka-fd: the native addon could not be loaded from ${file} (${reason}). Install ` +
            "librdkafka's headers (Debian/Ubuntu: apt-get install librdkafka-dev pkg-config) and run " +
            '`npm rebuild nestjs-kafka-fd`.',
      { code: 'ERR__NOT_IMPLEMENTED', cause },
    );
  }
  binding.setErrorClass(KafkaFdError);
  return binding;
}

/** The addon's constants (event kinds, transaction operations, error codes by name, poller defaults). */
export function constants(): NativeConstants {
  return native().constants;
}

/** librdkafka's code for an error name, e.g. `code('ERR__QUEUE_FULL')` is -184. */
export function errorCode(name: string): number {
  const c = native().constants.codes[name];
  if (c === undefined) throw new Error(`librdkafka has no error named ${name}`);
  return c;
}

let errorNames: Record<number, [string, string]> | undefined;

/** librdkafka's name and description of an error code (cached). */
export function describeError(code: number): [name: string, description: string] {
  errorNames ??= native().versions().errors;
  return errorNames[code] ?? [`ERR_${code}`, `librdkafka error ${code}`];
}

/** The version of the librdkafka the addon is linked against, e.g. `2.0.2`. */
export function librdkafkaVersion(): string {
  return native().versions().librdkafka;
}
