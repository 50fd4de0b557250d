import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ConfigurableKafkaFdModule } from './kafka-fd.module-definition';
import { KafkaFdExplorer } from './kafka-fd.explorer';
import { KafkaFdRegistry } from './kafka-fd.registry';

/**
 * Holds the module's options, its registry (which owns the native handles and their shutdown) and the explorer
 * that starts consumers with their `@KafkaFdHandler` methods. Global so that `forFeature` modules reach the
 * registry; what users inject is provided by KafkaFdModule.
 */
@Global()
@Module({ imports: [DiscoveryModule], providers: [KafkaFdRegistry, KafkaFdExplorer], exports: [KafkaFdRegistry] })
export class KafkaFdCoreModule extends ConfigurableKafkaFdModule {}
