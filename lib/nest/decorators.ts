import { Inject, SetMetadata } from '@nestjs/common';
import { getConsumerToken, getPollerToken, getProducerToken } from './tokens';

/** Injects the producer named `name` (declared in `forRoot`/`forFeature`), or the default producer. */
export const InjectProducer = (name?: string): ParameterDecorator & PropertyDecorator => Inject(getProducerToken(name));

/** Injects the poller named `name` (declared in the root options), or the global poller. */
export const InjectPoller = (name?: string): ParameterDecorator & PropertyDecorator => Inject(getPollerToken(name));

/** Injects the consumer named `name` (declared in `forRoot({ consumers })` or `forFeature({ consumers })`). */
export const InjectConsumer = (name: string): ParameterDecorator & PropertyDecorator => Inject(getConsumerToken(name));

/** Metadata key of {@link KafkaFdHandler}. */
export const KAFKA_FD_HANDLER = 'kafka-fd:handler';

/** What {@link KafkaFdHandler} records on a method. */
export interface KafkaFdHandlerOptions {
  /** The method takes a whole batch of one partition (`{ topic, partition, messages }`), not one message. */
  batch?: boolean;
  /**
   * Exactly-once (see `runPipeline`): the method takes `(batch, tx)` and runs inside a transaction of the named
   * producer (declared with a `transactional.id`), with the consumer's position after the batch committed in
   * it; an aborted batch is tried again (`attempts`, default 3, `backoffMs`, default 100), then its messages one
   * by one, a message that still fails going to `deadLetterTopic` when there is one. The consumer needs
   * `'enable.auto.commit': false`. The producer registers its `transactional.id` before the consumer starts.
   */
  transactional?: string | { producer: string; attempts?: number; backoffMs?: number; deadLetterTopic?: string | ((topic: string) => string) };
}

/**
 * Makes a provider method the handler of the consumer named `consumer`: found at startup, it gets every
 * message of the consumer's `topics` (or every batch, with `{ batch: true }`) once the application has
 * bootstrapped. A message's offset is stored once the method's promise resolves; a throw pauses the partition
 * and reports on the consumer's `errors$` (see Consumer). One handler per consumer.
 *
 * ```ts
 * @Injectable()
 * export class Billing {
 *   @KafkaFdHandler('orders-consumer')
 *   async onOrder(m: ConsumedMessage) { ... }
 * }
 * ```
 */
export const KafkaFdHandler = (consumer: string, options: KafkaFdHandlerOptions = {}): MethodDecorator =>
  SetMetadata(KAFKA_FD_HANDLER, { consumer, ...options });
