import { DynamicModule, Module, Provider } from '@nestjs/common';
import { KafkaFdCoreModule } from './kafka-fd-core.module';
import { KafkaFdConsumerDefinition, KafkaFdFeatureOptions, KafkaFdProducerDefinition, KafkaFdProvides } from './kafka-fd.interfaces';
import { KAFKA_FD_ASYNC_OPTIONS_TYPE, KAFKA_FD_OPTIONS_TYPE } from './kafka-fd.module-definition';
import { KafkaFdRegistry } from './kafka-fd.registry';
import { DEFAULT_NAME, getConsumerToken, getPollerToken, getProducerToken } from './tokens';

/** The provider of a named producer; `after` names providers that must exist first (a feature's declaration). */
function producerProvider(name: string, after: string[] = []): Provider {
  return { provide: getProducerToken(name), useFactory: (r: KafkaFdRegistry) => r.producer(name), inject: [KafkaFdRegistry, ...after] };
}

/** The provider of a named consumer (created, not subscribed: see KafkaFdExplorer). */
function consumerProvider(name: string, after: string[] = []): Provider {
  return { provide: getConsumerToken(name), useFactory: (r: KafkaFdRegistry) => r.consumer(name), inject: [KafkaFdRegistry, ...after] };
}

function pollerProvider(name: string): Provider {
  return { provide: getPollerToken(name), useFactory: (r: KafkaFdRegistry) => r.poller(name), inject: [KafkaFdRegistry] };
}

function rootProviders(provides: KafkaFdProvides): Provider[] {
  const producers = [...(provides.defaultProducer ? [DEFAULT_NAME] : []), ...(provides.producers ?? [])];
  const pollers = [DEFAULT_NAME, ...(provides.pollers ?? []).filter((n) => n !== DEFAULT_NAME)];
  return [
    ...producers.map((name) => producerProvider(name)),
    ...(provides.consumers ?? []).map((name) => consumerProvider(name)),
    ...pollers.map(pollerProvider),
  ];
}

function tokens(providers: Provider[]): string[] {
  return providers.map((p) => (p as { provide: string }).provide);
}

/** KafkaFdModule around its core: what the root options name, provided (and exported) for injection. */
function rootModule(core: DynamicModule, provides: KafkaFdProvides, isGlobal: boolean | undefined): DynamicModule {
  const providers = rootProviders(provides);
  // Called from KafkaFdModule's static methods, so the class below is defined by then.
  return { module: KafkaFdModule, global: isGlobal, imports: [core], providers, exports: tokens(providers) };
}

/**
 * Kafka producers and consumers served by file-descriptor polling, the Nest way.
 *
 * ```ts
 * @Module({ imports: [KafkaFdModule.forRoot({ kafka: { 'bootstrap.servers': 'b:9092' }, defaultProducer: true })] })
 * export class AppModule {}
 *
 * @Module({ imports: [KafkaFdModule.forFeature([{ name: 'payments', poller: 'critical' }])] })
 * export class PaymentsModule {}
 * ```
 * Producers are created and registered with their poller when the module initialises, flushed in
 * `beforeApplicationShutdown` and closed in `onApplicationShutdown`, so `app.close()` loses no accepted message.
 * Consumers with a `@KafkaFdHandler` method start once the application has bootstrapped, and on shutdown stop
 * taking messages, finish their handlers, commit and leave their group before any producer flushes.
 */
@Module({})
export class KafkaFdModule {
  /** Root configuration: defaults for every producer, named pollers, the default and root producers. */
  static forRoot(options: typeof KAFKA_FD_OPTIONS_TYPE): DynamicModule {
    const provides = {
      defaultProducer: Boolean(options.defaultProducer),
      producers: (options.producers ?? []).map((p: KafkaFdProducerDefinition) => p.name),
      consumers: (options.consumers ?? []).map((c: KafkaFdConsumerDefinition) => c.name),
      pollers: Object.keys(options.pollers ?? {}),
    };
    return rootModule(KafkaFdCoreModule.forRoot(options), provides, options.isGlobal);
  }

  /**
   * Root configuration from a factory, a class or an existing provider. Name in `provides` what it should
   * make injectable, since that must be known before the factory runs.
   */
  static forRootAsync(options: typeof KAFKA_FD_ASYNC_OPTIONS_TYPE): DynamicModule {
    return rootModule(KafkaFdCoreModule.forRootAsync(options), options.provides ?? {}, options.isGlobal);
  }

  /**
   * Named producers of a feature module (the array form), or its producers and consumers, each with its own
   * settings and, optionally, a named poller.
   */
  static forFeature(feature: KafkaFdProducerDefinition[] | KafkaFdFeatureOptions): DynamicModule {
    const { producers = [], consumers = [] } = Array.isArray(feature) ? { producers: feature } : (feature ?? {});
    const declare: Provider = {
      // Declared before any client of this feature is created, so that a bad definition fails at startup.
      provide: `KafkaFdFeature:${[...producers, ...consumers].map((d) => d.name).join(',')}`,
      useFactory: (r: KafkaFdRegistry) => {
        for (const def of producers) r.declare(def);
        for (const def of consumers) r.declareConsumer(def);
        return true;
      },
      inject: [KafkaFdRegistry],
    };
    const after = [declare.provide as string];
    const clients = [
      ...producers.map((def) => producerProvider(def.name, after)),
      ...consumers.map((def) => consumerProvider(def.name, after)),
    ];
    const named = [...producers, ...consumers].map((d) => d.poller).filter((n): n is string => Boolean(n));
    const pollers = [...new Set(named)].map(pollerProvider);
    return {
      module: KafkaFdModule,
      providers: [declare, ...clients, ...pollers],
      exports: [...tokens(clients), ...tokens(pollers)],
    };
  }
}
