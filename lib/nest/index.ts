export { KafkaFdModule } from './kafka-fd.module';
export { KafkaFdCoreModule } from './kafka-fd-core.module';
export { KafkaFdRegistry } from './kafka-fd.registry';
export { KAFKA_FD_MODULE_OPTIONS } from './kafka-fd.module-definition';
export { KafkaFdExplorer } from './kafka-fd.explorer';
export type {
  KafkaFdConsumerDefinition, KafkaFdFeatureOptions, KafkaFdModuleOptions, KafkaFdProducerDefinition, KafkaFdProvides,
} from './kafka-fd.interfaces';
export { InjectConsumer, InjectPoller, InjectProducer, KAFKA_FD_HANDLER, KafkaFdHandler } from './decorators';
export type { KafkaFdHandlerOptions } from './decorators';
export { DEFAULT_NAME, getConsumerToken, getPollerToken, getProducerToken } from './tokens';
