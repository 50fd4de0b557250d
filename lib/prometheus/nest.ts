// The Nest side of nestjs-kafka-fd/prometheus: every producer, consumer and poller of the application's
// KafkaFdModule on the registry that the application's /metrics endpoint already serves.
import { DynamicModule, Inject, Injectable, Module, OnModuleDestroy, Optional } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { KafkaFdRegistry } from '../nest/kafka-fd.registry';
import { KafkaFdPrometheus } from './index';

/** The prom-client registry to use (default: prom-client's global one). */
export const KAFKA_FD_PROMETHEUS_REGISTRY = Symbol('nestjs-kafka-fd prometheus registry');

/** Holds the {@link KafkaFdPrometheus} of the application's KafkaFdModule; its metrics go when the app closes. */
@Injectable()
export class KafkaFdPrometheusCollector implements OnModuleDestroy {
  readonly metrics: KafkaFdPrometheus;

  constructor(kafka: KafkaFdRegistry, @Optional() @Inject(KAFKA_FD_PROMETHEUS_REGISTRY) registry?: Registry) {
    this.metrics = new KafkaFdPrometheus({
      registry,
      // Asked at each scrape: clients created after startup are picked up.
      source: () => [...kafka.all().values(), ...kafka.allConsumers().values(), ...kafka.allPollers()],
    });
  }

  onModuleDestroy(): void {
    this.metrics.close();
  }
}

/**
 * Import beside `KafkaFdModule` (and, say, @willsoto/nestjs-prometheus): the Kafka metrics appear on the
 * existing `/metrics`. Set `statistics.interval.ms` in the Kafka settings for librdkafka's figures.
 *
 * ```ts
 * @Module({ imports: [KafkaFdModule.forRoot({ kafka }), KafkaFdPrometheusModule.register()] })
 * ```
 */
@Module({})
export class KafkaFdPrometheusModule {
  static register(options: { registry?: Registry } = {}): DynamicModule {
    return {
      module: KafkaFdPrometheusModule,
      providers: [{ provide: KAFKA_FD_PROMETHEUS_REGISTRY, useValue: options.registry }, KafkaFdPrometheusCollector],
      exports: [KafkaFdPrometheusCollector],
    };
  }
}
