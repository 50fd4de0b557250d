import { KafkaFdError } from '../errors/kafka-fd.error';
import type { Producer } from '../producer/producer';
import type { Transaction } from '../producer/transactions';
import type { Consumer } from './consumer';
import type { ConsumedBatch } from './types';

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  /** Partitions processed at once (default 1); their transactions take turns on the one producer. */
  partitionsConcurrently?: number;
  /** Tries again a batch whose transaction was aborted, this many more times (default 3), after `backoffMs`
   * (default 100) doubled each time, up to 30 s. Once they are spent the partition stops at the batch. */
  attempts?: number;
  backoffMs?: number;
}

/**
 * Exactly-once consume-transform-produce: each batch of a partition is handed to `transform` inside a
 * transaction of `producer`, and the consumer's position after the batch commits with it. When the transaction
 * aborts (`transform` threw, or the commit failed), nothing of it is visible and the same batch is tried again:
 * the batch starts at the partition's committed position, so trying it again is rewinding to that position.
 * A producer fenced by a newer instance with its `transactional.id` is done: the consumer then closes, leaving
 * the group to that instance's members, and the error goes to the consumer's `errors$`.
 *
 * The consumer needs `'enable.auto.commit': false`; call `producer.initTransactions()` at startup so that a
 * restarted instance fences its predecessor at once.
 *
 * ```ts
 * await producer.initTransactions();
 * await consumer.subscribe('orders');
 * await runPipeline(consumer, producer, (batch, tx) =>
 *   tx.produceManyAsync(batch.messages.map((m) => ({ topic: 'enriched', key: m.key, value: enrich(m.value) }))));
 * ```
 */
export function runPipeline(
  consumer: Consumer,
  producer: Producer,
  transform: (batch: ConsumedBatch, tx: Transaction) => unknown,
  options: PipelineOptions = {},
): Promise<void> {
  const { attempts = 3, backoffMs = 100, partitionsConcurrently = 1 } = options ?? {};
  if (typeof transform !== 'function') return Promise.reject(new KafkaFdError('runPipeline takes a transform function', { code: 'ERR__INVALID_ARG' }));
  if (!Number.isInteger(attempts) || attempts < 0 || !Number.isFinite(backoffMs) || backoffMs < 0) {
    return Promise.reject(new KafkaFdError(`runPipeline: attempts must be an integer >= 0 and backoffMs a number >= 0, got ${attempts} and ${backoffMs}`, {
      code: 'ERR__INVALID_ARG',
    }));
  }
  return consumer.run({
    partitionsConcurrently,
    eachBatch: async (batch) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await producer.transaction(async (tx) => {
            await transform(batch, tx);
            tx.sendConsumed(consumer, batch.messages);
          });
          return;
        } catch (e) {
          if (e instanceof KafkaFdError && e.fatal) {
            // Fenced (or another fatal producer error): this instance cannot commit anything any more.
            void consumer.close();
            throw e;
          }
          if (attempt >= attempts) throw e;
          await new Promise((r) => setTimeout(r, Math.min(30000, backoffMs * 2 ** attempt)));
        }
      }
    },
  });
}
