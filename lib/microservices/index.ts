// nestjs-kafka-fd/microservices: Nest's Kafka transport on fd-polled clients (needs @nestjs/microservices).
export { KafkaFdServer } from './kafka-fd.server';
export type { KafkaFdStatus } from './kafka-fd.server';
export { KafkaFdContext } from './kafka-fd.context';
export type { KafkaFdServerOptions } from './options';
export { KafkaFdClient } from './kafka-fd.client';
export type { KafkaFdClientOptions } from './kafka-fd.client';
