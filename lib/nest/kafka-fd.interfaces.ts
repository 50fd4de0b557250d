import type { KafkaConfig } from '../config/kafka-config';
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
  /** How long shutdown waits for in-flight messages, flush and close each (default 30000 ms). */
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
}
