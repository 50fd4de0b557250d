import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { ClientHealth } from '../client/types';
import { KafkaFdRegistry } from '../nest/kafka-fd.registry';

/**
 * A `@nestjs/terminus` health indicator for the module's producers and consumers: up while every client is
 * open, has no fatal error and has a broker (librdkafka has not said all brokers are down since); down with
 * the reason otherwise. A consumer's result also says how many partitions it is assigned (0 while its group
 * is forming or when it has more members than partitions: not a failure).
 *
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.kafka.isHealthy('kafka')]); }
 * ```
 */
@Injectable()
export class KafkaFdHealthIndicator {
  constructor(private readonly registry: KafkaFdRegistry, private readonly indicators: HealthIndicatorService) {}

  /**
   * Checks every producer and consumer of the module; `key` names the result (e.g. `'kafka'`). A consumer's
   * lag (from librdkafka's statistics: set `statistics.interval.ms`) is reported, and with `maxLag` a consumer
   * whose total lag is above it is down.
   */
  isHealthy(key = 'kafka', options: { maxLag?: number } = {}): HealthIndicatorResult {
    const indicator = this.indicators.check(key);
    const producers: Record<string, string> = {};
    const consumers: Record<string, string> = {};
    const problems: string[] = [];
    const check = (name: string, h: ClientHealth): string | undefined => {
      const why = h.closed ? 'closed' : h.fatal ? `fatal error: ${h.fatal}` : h.brokersDown ? 'all brokers are down' : undefined;
      if (why) problems.push(`${name}: ${why}`);
      return why;
    };
    for (const [name, producer] of this.registry.all()) {
      const why = check(name, producer.health);
      producers[name] = why ? `down: ${why}` : 'up';
    }
    for (const [name, consumer] of this.registry.allConsumers()) {
      const why = check(name, consumer.health);
      const lag = consumer.lag();
      const behind = !why && lag && options.maxLag !== undefined && lag.total > options.maxLag ? `lag ${lag.total} above ${options.maxLag}` : undefined;
      if (behind) problems.push(`${name}: ${behind}`);
      const state = why ?? behind;
      consumers[name] = state ? `down: ${state}` : `up: ${consumer.assignment().length} partition(s) assigned${lag ? `, lag ${lag.total}` : ''}`;
    }
    const details: Record<string, Record<string, string>> = this.registry.allConsumers().size > 0 ? { producers, consumers } : { producers };
    return problems.length === 0 ? indicator.up(details) : indicator.down({ ...details, reason: problems.join('; ') });
  }
}
