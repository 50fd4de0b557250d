import { BadRequestException, Controller, Get, Inject, OnApplicationBootstrap, Query } from '@nestjs/common';
import { Observable } from 'rxjs';
import { KafkaFdClient } from '../../lib/microservices';

export const SHIPPING = 'SHIPPING';

/** HTTP in front of a Kafka request-reply call through KafkaFdClient (Nest's ClientKafka, on fd clients). */
@Controller('shipping')
export class QuotesController implements OnApplicationBootstrap {
  constructor(@Inject(SHIPPING) private readonly shipping: KafkaFdClient) {
    this.shipping.subscribeToResponseOf('shipping.quote');
  }

  /** Connected before the app listens: connect() waits until the reply topic is assigned to this client. */
  async onApplicationBootstrap(): Promise<void> {
    await this.shipping.connect();
  }

  @Get('quote')
  quote(@Query('total') total: string): Observable<{ cost: number }> {
    const value = Number(total);
    if (!Number.isFinite(value)) throw new BadRequestException('?total= a number');
    return this.shipping.send('shipping.quote', { total: value });
  }
}
