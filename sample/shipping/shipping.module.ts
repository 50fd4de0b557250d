import { DynamicModule, Module } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';
import { KafkaFdClient } from '../../lib/microservices';
import type { Brokers } from '../brokers';
import { QuotesController, SHIPPING } from './quotes.controller';
import { ShippingController } from './shipping.controller';

/** What was `ClientsModule.register([{ name, transport: Transport.KAFKA, options }])`: two lines changed. */
@Module({})
export class ShippingModule {
  static with(brokers: Brokers): DynamicModule {
    return {
      module: ShippingModule,
      imports: [
        ClientsModule.register([{
          name: SHIPPING,
          customClass: KafkaFdClient,
          options: { client: { brokers: [brokers.bootstrapServers], clientId: 'shop' }, consumer: { groupId: 'shop' } },
        }]),
      ],
      controllers: [ShippingController, QuotesController],
    };
  }
}
