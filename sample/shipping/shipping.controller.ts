import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, MessagePattern, Payload } from '@nestjs/microservices';

/**
 * The shipping side, written as for Nest's Transport.KAFKA: served by KafkaFdServer (see main.ts), so these
 * handlers run on the fd-polled consumer and reply through an fd producer.
 */
@Controller()
export class ShippingController {
  private readonly log = new Logger('Shipping');

  /** Every order, as an event (its own consumer group: billing's consumer is not affected). */
  @EventPattern('orders')
  onOrder(@Payload() order: { id: string; total: number }, @Ctx() ctx: KafkaContext): void {
    this.log.log(`shipping: order ${order.id} scheduled, orders[${ctx.getPartition()}]@${ctx.getMessage().offset}`);
  }

  /** Request-reply: what shipping an order of this total costs. */
  @MessagePattern('shipping.quote')
  quote(@Payload() request: { total: number }): { cost: number } {
    return { cost: request.total >= 50 ? 0 : 4.9 };
  }
}
