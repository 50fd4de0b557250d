import { Injectable, Logger, Module } from '@nestjs/common';
import { ConsumedMessage, KafkaFdHandler, KafkaFdModule } from '../../lib';

/** The billing side: consumes the payment requests (its handler starts once the app has bootstrapped). */
@Injectable()
export class BillingService {
  private readonly log = new Logger('Billing');

  @KafkaFdHandler('billing')
  async onPayment(m: ConsumedMessage): Promise<void> {
    const { orderId, total } = JSON.parse(String(m.value)) as { orderId: string; total: number };
    // The offset is stored once this resolves; on shutdown the consumer finishes it and commits first.
    this.log.log(`billing: payment for ${orderId} (${total}) handled, payments[${m.partition}]@${m.offset}`);
  }
}

@Module({
  imports: [
    KafkaFdModule.forFeature({
      consumers: [{ name: 'billing', topics: ['payments'], partitionsConcurrently: 3, kafka: { 'group.id': 'billing', 'auto.offset.reset': 'earliest' } }],
    }),
  ],
  providers: [BillingService],
})
export class BillingModule {}
