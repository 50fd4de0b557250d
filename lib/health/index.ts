export { KafkaFdHealthIndicator } from './kafka-fd.health';
export { KafkaFdHealthModule } from './kafka-fd-health.module';
