import { DynamicModule, Module } from '@nestjs/common';
import { KafkaFdModule } from '../lib';
import { BillingModule } from './billing/billing.module';
import { BROKERS, Brokers } from './brokers';
import { MonitorService } from './monitor/monitor.service';
import { ObservabilityModule } from './observability/observability.module';
import { OrdersModule } from './orders/orders.module';
import { PaymentsModule } from './payments/payments.module';
import { ShippingModule } from './shipping/shipping.module';

@Module({})
export class AppModule {
  static with(brokers: Brokers): DynamicModule {
    return {
      module: AppModule,
      imports: [
        KafkaFdModule.forRootAsync({
          isGlobal: true,
          // Known before the factory runs: what the module provides for injection.
          provides: { defaultProducer: true, pollers: ['critical'] },
          useFactory: (b: Brokers) => ({
            kafka: { 'bootstrap.servers': b.bootstrapServers, acks: 'all', 'statistics.interval.ms': 1000 },
            pollers: { critical: { maxTimeMs: 200 } },
            defaultProducer: { kafka: { 'client.id': 'orders' } },
            shutdownTimeoutMs: 10000,
          }),
          inject: [BROKERS],
          imports: [BrokersModule.with(brokers)],
        }),
        OrdersModule,
        PaymentsModule,
        BillingModule,
        ShippingModule.with(brokers),
        ObservabilityModule,
      ],
      providers: [MonitorService],
    };
  }
}

@Module({})
class BrokersModule {
  static with(brokers: Brokers): DynamicModule {
    return { module: BrokersModule, providers: [{ provide: BROKERS, useValue: brokers }], exports: [BROKERS] };
  }
}
