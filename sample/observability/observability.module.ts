import { Module } from '@nestjs/common';
import { KafkaFdPrometheusModule } from '../../lib/prometheus/nest';
import { MetricsController } from './metrics.controller';

/** The Kafka clients' metrics on prom-client's global registry, served at GET /metrics. */
@Module({ imports: [KafkaFdPrometheusModule.register()], controllers: [MetricsController] })
export class ObservabilityModule {}
