import { KafkaContext } from '@nestjs/microservices';
import type { Consumer } from '../consumer/consumer';
import type { Producer } from '../producer/producer';

/**
 * The context of a message handled by {@link KafkaFdServer}: a real `KafkaContext` (`instanceof KafkaContext`
 * holds, the arguments are in its order), so `@Ctx() ctx: KafkaContext` handlers keep working. `getMessage()`
 * is the message in kafkajs's shape after Nest's Kafka parser (key, value, headers decoded as Nest decodes
 * them; offset and timestamp strings). `getConsumer()` and `getProducer()` are this library's clients, not
 * kafkajs's; `getHeartbeat()` resolves at once (librdkafka heartbeats on its own threads).
 */
export class KafkaFdContext extends KafkaContext {
  /** The consumer that took the message. */
  getFdConsumer(): Consumer {
    return this.getConsumer() as unknown as Consumer;
  }

  /** The producer that sends replies. */
  getFdProducer(): Producer {
    return this.getProducer() as unknown as Producer;
  }
}
