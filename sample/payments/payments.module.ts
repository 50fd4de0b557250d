import { Module } from '@nestjs/common';
import { KafkaFdModule } from '../../lib';
import { PaymentsService } from './payments.service';

// A named producer on the dedicated 'critical' poller, idempotent. Re-exported so that the app's monitor can
// watch it too.
const paymentsKafka = KafkaFdModule.forFeature([{ name: 'payments', poller: 'critical', kafka: { 'enable.idempotence': true } }]);

@Module({
  imports: [paymentsKafka],
  providers: [PaymentsService],
  exports: [PaymentsService, paymentsKafka],
})
export class PaymentsModule {}
