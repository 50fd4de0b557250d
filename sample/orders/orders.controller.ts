import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { DeliveryReport, InjectProducer, KafkaFdError, Producer } from '../../lib';
import { PaymentsService } from '../payments/payments.service';

interface Order {
  id: string;
  total: number;
}

@Controller('orders')
export class OrdersController {
  constructor(@InjectProducer() private readonly orders: Producer, private readonly payments: PaymentsService) {}

  /** Accepts an order, produces it to `orders` (waiting for the broker's ack) and asks for its payment. */
  @Post()
  @HttpCode(202)
  async create(@Body() order: Order): Promise<{ order: DeliveryReport; payment: 'requested' }> {
    if (!order || typeof order.id !== 'string' || typeof order.total !== 'number') {
      throw new BadRequestException('an order is { "id": string, "total": number }');
    }
    try {
      const report = await this.orders.produce({ topic: 'orders', key: order.id, value: JSON.stringify(order) });
      this.payments.request(order.id, order.total);
      return { order: report, payment: 'requested' };
    } catch (e) {
      if (e instanceof KafkaFdError) throw new BadRequestException(`${e.code}: ${e.message}`);
      throw e;
    }
  }
}
