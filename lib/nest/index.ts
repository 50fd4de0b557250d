export { KafkaFdModule } from './kafka-fd.module';
export { KafkaFdCoreModule } from './kafka-fd-core.module';
export { KafkaFdRegistry } from './kafka-fd.registry';
export { KAFKA_FD_MODULE_OPTIONS } from './kafka-fd.module-definition';
export type { KafkaFdModuleOptions, KafkaFdProducerDefinition, KafkaFdProvides } from './kafka-fd.interfaces';
export { InjectPoller, InjectProducer } from './decorators';
export { DEFAULT_NAME, getPollerToken, getProducerToken } from './tokens';
