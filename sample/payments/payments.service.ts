import { Injectable } from '@nestjs/common';
import { InjectProducer, Producer } from '../../lib';

@Injectable()
export class PaymentsService {
  constructor(@InjectProducer('payments') private readonly producer: Producer) {}

  /** Fire and forget: the outcome shows on the producer's acks$ (see MonitorService). */
  request(orderId: string, total: number): void {
    this.producer.produceAsync({ topic: 'payments', key: orderId, value: JSON.stringify({ orderId, total }) });
  }
}
