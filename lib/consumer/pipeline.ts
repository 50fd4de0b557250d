import { KafkaFdError } from '../errors/kafka-fd.error';
import type { Producer } from '../producer/producer';
import type { Transaction } from '../producer/transactions';
import type { Consumer } from './consumer';
import type { Message } from '../producer/types';
import type { ConsumedBatch, ConsumedMessage } from './types';

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  /** Partitions processed at once (default 1); their transactions take turns on the one producer. */
  partitionsConcurrently?: number;
  /** Tries again a batch whose transaction was aborted, this many more times (default 3), after `backoffMs`
   * (default 100) doubled each time, up to 30 s. Once they are spent (and with no dead-letter topic) the
   * partition rewinds to the batch: it comes again after the consumer's rewind back-off (100 ms doubled with
   * each rewind in a row, up to 30 s), each rewind reported on `errors$`. */
  attempts?: number;
  backoffMs?: number;
  /**
   * Where a message that keeps failing goes. Once a batch's attempts are spent, its messages are tried one by
   * one (a transaction each), so that one poison message does not take its batch with it; a message that still
   * fails is produced to this topic, with `kafka-fd-dlt-*` headers saying why and where it came from, in a
   * transaction with its position; then the partition goes on. Without one, the partition rewinds to it (see `attempts`).
   */
  deadLetterTopic?: string | ((topic: string) => string);
}

/**
 * Exactly-once consume-transform-produce: each batch of a partition is handed to `transform` inside a
 * transaction of `producer`, and the consumer's position after the batch commits with it. When the transaction
 * aborts (`transform` threw, or the commit failed), nothing of it is visible and the same batch is tried again:
 * the batch starts at the partition's committed position, so trying it again is rewinding to that position.
 * Once the attempts are spent, the consumer rewinds the partition to the batch (see `attempts`).
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
  const dlt = options?.deadLetterTopic;
  if (dlt !== undefined && !(typeof dlt === 'function' || (typeof dlt === 'string' && dlt.length > 0))) {
    return Promise.reject(new KafkaFdError('runPipeline: deadLetterTopic must be a topic name or a function of the topic', { code: 'ERR__INVALID_ARG' }));
  }
  /** One transaction: the batch's output and its position. Fatal errors close the consumer. */
  const commitBatch = async (batch: ConsumedBatch): Promise<void> => {
    try {
      await producer.transaction(async (tx) => {
        // The position first: whatever fails after it, the abort rewinds the partition to the batch.
        tx.sendConsumed(consumer, batch.messages);
        await transform(batch, tx);
      });
    } catch (e) {
      if (e instanceof KafkaFdError && e.fatal) {
        // Fenced (or another fatal producer error): this instance cannot commit anything any more.
        void consumer.close();
      }
      throw e;
    }
  };
  const withRetries = async (batch: ConsumedBatch): Promise<unknown> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await commitBatch(batch);
        return undefined;
      } catch (e) {
        if ((e instanceof KafkaFdError && e.fatal) || attempt >= attempts) return e;
        await new Promise((r) => setTimeout(r, Math.min(30000, backoffMs * 2 ** attempt)));
      }
    }
  };
  return consumer.run({
    partitionsConcurrently,
    eachBatch: async (batch) => {
      const failed = await withRetries(batch);
      if (failed === undefined) return;
      if (dlt === undefined || (failed instanceof KafkaFdError && failed.fatal)) throw failed;
      // Spent: one message at a time, so that only the poison goes to the dead-letter topic.
      for (const m of batch.messages) {
        const one = { ...batch, messages: [m] };
        const error = batch.messages.length > 1 ? await withRetries(one) : failed;
        if (error === undefined) continue;
        if (error instanceof KafkaFdError && error.fatal) throw error;
        await producer.transaction((tx) => {
          tx.produceAsync(deadLetter(m, typeof dlt === 'function' ? dlt(m.topic) : dlt, error));
          tx.sendConsumed(consumer, [m]);
        });
      }
    },
  });
}

/** A failed message as it goes to the dead-letter topic: as it came, with why and where from. */
function deadLetter(m: ConsumedMessage, topic: string, error: unknown): Message {
  const headers: Record<string, Buffer | string> = {};
  for (const [name, value] of Object.entries(m.headers)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last) headers[name] = last;
  }
  Object.assign(headers, {
    'kafka-fd-dlt-error': error instanceof Error ? error.message : String(error),
    'kafka-fd-dlt-topic': m.topic,
    'kafka-fd-dlt-partition': String(m.partition),
    'kafka-fd-dlt-offset': String(m.offset),
  });
  return { topic, key: m.key ?? undefined, value: m.value, headers };
}
