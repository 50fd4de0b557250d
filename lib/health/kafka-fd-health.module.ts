import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { KafkaFdHealthIndicator } from './kafka-fd.health';

/** Import next to `KafkaFdModule` to inject {@link KafkaFdHealthIndicator}. Needs `@nestjs/terminus`. */
@Module({ imports: [TerminusModule], providers: [KafkaFdHealthIndicator], exports: [KafkaFdHealthIndicator] })
export class KafkaFdHealthModule {}
