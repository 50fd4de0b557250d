import type { KafkaConfig } from '../config/kafka-config';
import type { ConsumerOptions } from '../consumer/types';
import type { PollerOptions } from '../poller/poller';
import type { ProducerOptions } from '../producer/types';

/** A producer the module creates, registers with its poller and closes on shutdown. */
export interface KafkaFdProducerDefinition {
  /** Its name: inject it with `@InjectProducer(name)`. */
  name: string;
  /** librdkafka settings over the root `kafka` defaults. */
  kafka?: KafkaConfig;
  /** A poller declared in the root options' `pollers`; the environment's global poller when left out. */
  poller?: string;
  /** `fd` (default) or `thread` (the deprecated baseline; it takes no poller). */
  mode?: 'fd' | 'thread';
  queueFull?: ProducerOptions['queueFull'];
  queueFullTimeoutMs?: number;
}

/**
 * A consumer the module creates. It subscribes to `topics` and starts when the application has bootstrapped if
 * a provider method is decorated `@KafkaFdHandler(name)`; without one it waits for your own `subscribe`/`run`
 * (inject it with `@InjectConsumer(name)`). On shutdown it stops taking messages, finishes its handlers and
 * commits in `beforeApplicationShutdown`, before any producer flushes.
 */
export interface KafkaFdConsumerDefinition {
  /** Its name: inject it with `@InjectConsumer(name)`, bind a handler with `@KafkaFdHandler(name)`. */
  name: string;
  /** librdkafka settings over the root `kafka` defaults; `group.id` is required here or at the root. */
  kafka?: KafkaConfig;
  /** The topics a `@KafkaFdHandler` consumes. */
  topics?: string[];
  /** A poller declared in the root options' `pollers`; the environment's global poller when left out. */
  poller?: string;
  /** Partitions handled at once (default 1); order is kept within a partition. */
  partitionsConcurrently?: number;
  maxInFlight?: ConsumerOptions['maxInFlight'];
  rebalanceTimeoutMs?: ConsumerOptions['rebalanceTimeoutMs'];
}

/** What `KafkaFdModule.forFeature` takes besides the plain array of producers. */
export interface KafkaFdFeatureOptions {
  producers?: KafkaFdProducerDefinition[];
  consumers?: KafkaFdConsumerDefinition[];
}

/** Options of `KafkaFdModule.forRoot` (and what the `forRootAsync` factory returns). */
export interface KafkaFdModuleOptions {
  /** librdkafka settings every producer starts from (`bootstrap.servers`, `acks`, ...). */
  kafka: KafkaConfig;
  /** Dedicated pollers by name; producers name the one they use. */
  pollers?: Record<string, Omit<PollerOptions, 'name'>>;
  /** A producer without a name, injected with `@InjectProducer()`: `true`, or its settings. */
  defaultProducer?: boolean | Omit<KafkaFdProducerDefinition, 'name'>;
  /** Named producers declared at the root (feature modules use `forFeature`). */
  producers?: KafkaFdProducerDefinition[];
  /** Named consumers declared at the root (feature modules use `forFeature({ consumers })`). */
  consumers?: KafkaFdConsumerDefinition[];
  /** How long shutdown waits for in-flight messages, flush and close each, and for consumers' handlers
   * (default 30000 ms). */
  shutdownTimeoutMs?: number;
  /** Route librdkafka's log lines to Nest's Logger (default true). */
  logging?: boolean;
}

/**
 * What `forRootAsync` must know before its factory runs: which producers and pollers to provide for
 * injection (their settings come from the factory's result). `forRoot` works this out from its options.
 */
export interface KafkaFdProvides {
  /** Provide the default producer (`@InjectProducer()`); the factory's `defaultProducer` gives its settings. */
  defaultProducer?: boolean;
  /** Names of the factory's `producers` to provide (`@InjectProducer(name)`). */
  producers?: string[];
  /** Names of the factory's `pollers` to provide (`@InjectPoller(name)`). */
  pollers?: string[];
  /** Names of the factory's `consumers` to provide (`@InjectConsumer(name)`). */
  consumers?: string[];
}
