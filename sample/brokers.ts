import { Logger } from '@nestjs/common';
import { MockCluster } from '../lib';

/** Where the sample's Kafka is: KAFKA_BROKERS, or an embedded broker (librdkafka's mock cluster). */
export interface Brokers {
  bootstrapServers: string;
  embedded?: MockCluster;
}

export const BROKERS = Symbol('Brokers');

export function resolveBrokers(): Brokers {
  if (process.env.KAFKA_BROKERS) return { bootstrapServers: process.env.KAFKA_BROKERS };
  const embedded = MockCluster.start({ brokers: 1, topics: { orders: 3, payments: 3, 'shipping.quote': 3, 'shipping.quote.reply': 1 } });
  new Logger('Sample').log(`KAFKA_BROKERS is not set: using an embedded broker at ${embedded.bootstrapServers}`);
  return { bootstrapServers: embedded.bootstrapServers, embedded };
}
