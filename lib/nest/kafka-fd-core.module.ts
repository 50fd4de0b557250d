import { Global, Module } from '@nestjs/common';
import { ConfigurableKafkaFdModule } from './kafka-fd.module-definition';
import { KafkaFdRegistry } from './kafka-fd.registry';

/**
 * Holds the module's options and its registry (which owns the native handles and their shutdown). Global so
 * that `forFeature` modules reach the registry; what users inject is provided by KafkaFdModule.
 */
@Global()
@Module({ providers: [KafkaFdRegistry], exports: [KafkaFdRegistry] })
export class KafkaFdCoreModule extends ConfigurableKafkaFdModule {}
