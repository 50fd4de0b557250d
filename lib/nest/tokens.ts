/** The name of the producer and of the poller you get when you give none. */
export const DEFAULT_NAME = 'default';

/** Injection token of the producer named `name` (the default producer when left out). */
export function getProducerToken(name?: string): string {
  return `KafkaFdProducer:${name ?? DEFAULT_NAME}`;
}

/**
 * Injection token of the poller named `name`. Left out: the poller that producers without a named poller
 * use, the environment's global one.
 */
export function getPollerToken(name?: string): string {
  return `KafkaFdPoller:${name ?? DEFAULT_NAME}`;
}

/** Injection token of the consumer named `name` (declared in `forRoot({ consumers })` or `forFeature`). */
export function getConsumerToken(name: string): string {
  return `KafkaFdConsumer:${name}`;
}
