import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { KafkaFdRegistry } from '../nest/kafka-fd.registry';

/**
 * A `@nestjs/terminus` health indicator for the module's producers: up while every producer is open, has no
 * fatal error and has a broker (librdkafka has not said all brokers are down since its last delivery);
 * down with the reason otherwise.
 *
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.kafka.isHealthy('kafka')]); }
 * ```
 */
@Injectable()
export class KafkaFdHealthIndicator {
  constructor(private readonly registry: KafkaFdRegistry, private readonly indicators: HealthIndicatorService) {}

  /** Checks every producer of the module; `key` names the result (e.g. `'kafka'`). */
  isHealthy(key = 'kafka'): HealthIndicatorResult {
    const indicator = this.indicators.check(key);
    const producers: Record<string, string> = {};
    const problems: string[] = [];
    for (const [name, producer] of this.registry.all()) {
      const h = producer.health;
      const why = h.closed ? 'closed' : h.fatal ? `fatal error: ${h.fatal}` : h.brokersDown ? 'all brokers are down' : undefined;
      producers[name] = why ? `down: ${why}` : 'up';
      if (why) problems.push(`${name}: ${why}`);
    }
    return problems.length === 0 ? indicator.up({ producers }) : indicator.down({ producers, reason: problems.join('; ') });
  }
}
