import { Controller, Get, Header } from '@nestjs/common';
import { register } from 'prom-client';

/** GET /metrics: prom-client's global registry, where KafkaFdPrometheusModule puts the Kafka metrics (an app
 * with @willsoto/nestjs-prometheus already has this endpoint). */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('content-type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
