import { KafkaFdError } from '../errors/kafka-fd.error';
import { checkTimeout, nativeTimeout } from '../util/timeout';
import { type NativeProducer, constants } from '../native/binding';
import type { Consumer } from '../consumer/consumer';
import { offsetColumns } from '../consumer/messages';
import { CONSUMER_HANDLE, type ConsumerHandle } from '../consumer/native-handle';
import type { ConsumedMessage, TopicPartitionOffset } from '../consumer/types';
import type { BatchReport, DeliveryReport, Message } from './types';


/** What the function given to `transaction()` produces with: the producer's own methods, in the transaction. */
export interface Transaction {
  /** Resolves once the broker has the message; it becomes visible to `read_committed` consumers at commit. */
  produce(message: Message): Promise<DeliveryReport>;
  produceAsync(message: Message): void;
  produceMany(messages: readonly Message[]): Promise<BatchReport>;
  produceManyAsync(messages: readonly Message[]): void;
  /**
   * Commits these positions of `consumer`'s group with the transaction (exactly-once consume-transform-produce):
   * `offset` is the next message to read. Sent (`send_offsets_to_transaction`, off the JS thread) when the
   * function has resolved, before the commit; on abort they are not committed. The consumer must have
   * `'enable.auto.commit': false`: its group's offsets are the transaction's to commit.
   */
  sendOffsets(consumer: Consumer, offsets: readonly TopicPartitionOffset[]): void;
  /** {@link sendOffsets} for the positions after these consumed messages (per partition, the highest offset + 1). */
  sendConsumed(consumer: Consumer, messages: readonly ConsumedMessage[]): void;
}

/** Options of `Producer.transaction()`. */
export interface TransactionOptions {
  /** Longest wait for each of init, commit and abort (default 60000 ms, librdkafka's transaction timeout;
   * `Infinity`, or anything over 2^31-1 ms, waits without limit). */
  timeoutMs?: number;
}

/** What the transactions need from their producer. */
export interface TransactionHost {
  /** The error that stops any new work (closed, closing, fatal), or undefined. */
  refusal(): KafkaFdError | undefined;
  /** Records a fatal error: the producer refuses all further work. */
  onFatal(error: KafkaFdError): void;
}

/**
 * One producer's transactions: `init_transactions` on first use, then begin, the caller's function, commit;
 * abort when the function throws. One transaction at a time (Kafka allows one open transaction per
 * producer): a second call waits for the first. Every librdkafka call runs off the JS thread.
 */
export class Transactions {
  private chain: Promise<unknown> = Promise.resolve();
  private initialized: Promise<void> | undefined;
  private open = false;
  /** The native call running now, if any (close waits for it before it aborts). */
  private running: Promise<unknown> = Promise.resolve();

  /** The consumer positions the open transaction commits, by consumer and partition. */
  private offsets = new Map<ConsumerHandle, Map<string, { topic: string; partition: number; offset: number }>>();
  private readonly view: Transaction;

  constructor(
    private readonly native: NativeProducer,
    private readonly transactionalId: string | undefined,
    private readonly host: TransactionHost,
    private readonly producer: Pick<Transaction, 'produce' | 'produceAsync' | 'produceMany' | 'produceManyAsync'> & { flush(timeoutMs: number): Promise<void> },
  ) {
    this.view = {
      produce: (m) => producer.produce(m),
      produceAsync: (m) => producer.produceAsync(m),
      produceMany: (ms) => producer.produceMany(ms),
      produceManyAsync: (ms) => producer.produceManyAsync(ms),
      sendOffsets: (consumer, offsets) => this.addOffsets(consumer, offsets),
      sendConsumed: (consumer, messages) => {
        const { next, first } = consumedRange(messages);
        this.addOffsets(consumer, next, first);
      },
    };
  }

  run<T>(fn: (tx: Transaction) => T | Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (typeof fn !== 'function') {
      return Promise.reject(new KafkaFdError('transaction() takes a function', { code: 'ERR__INVALID_ARG' }));
    }
    return this.enqueue(options, (timeoutMs) => this.once(fn, timeoutMs));
  }

  /** `init_transactions` now (once; transaction() waits for it). */
  init(options: TransactionOptions = {}): Promise<void> {
    return this.enqueue(options, (timeoutMs) => this.initOnce(timeoutMs));
  }

  /** Checks the options and the transactional.id, then runs `work` after the calls queued before it. */
  private enqueue<T>(options: TransactionOptions, work: (timeoutMs: number) => Promise<T>): Promise<T> {
    let timeoutMs: number;
    try {
      timeoutMs = nativeTimeout(checkTimeout('transaction timeoutMs', options?.timeoutMs === undefined ? 60000 : options.timeoutMs));
    } catch (e) {
      return Promise.reject(e);
    }
    if (!this.transactionalId) return Promise.reject(this.notConfigured());
    const next = this.chain.then(() => work(timeoutMs));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Before the producer closes: let the running call end, then abort a transaction left open. */
  async beforeClose(timeoutMs: number): Promise<void> {
    await this.running;
    if (this.open) await this.abort(nativeTimeout(timeoutMs)).catch(() => undefined);
  }

  private notConfigured(): KafkaFdError {
    return new KafkaFdError(
      "transaction() needs 'transactional.id' in the producer's kafka configuration: a stable id per producer " +
        "instance, e.g. `orders-${workerId}`, so that a restarted instance fences its predecessor",
      { code: 'ERR__NOT_CONFIGURED' },
    );
  }

  private initOnce(timeoutMs: number): Promise<void> {
    this.check();
    this.initialized ??= this.call(constants().txn.init, timeoutMs).catch((e: unknown) => {
      this.initialized = undefined; // a later transaction tries again (unless the error was fatal)
      throw e;
    });
    return this.initialized;
  }

  private async once<T>(fn: (tx: Transaction) => T | Promise<T>, timeoutMs: number): Promise<T> {
    await this.initOnce(timeoutMs);
    this.check();
    await this.call(constants().txn.begin, timeoutMs);
    this.open = true;
    this.offsets = new Map();
    let result: T;
    try {
      result = await fn(this.view);
    } catch (e) {
      // What the function produced is delivered first (bounded): aborting while a partition's
      // AddPartitionsToTxn is still under way makes the broker answer EndTxn with INVALID_TXN_STATE, which
      // librdkafka 2.0.2 raises as fatal (librdkafka #4849; seen here when a transform threw right after
      // produceManyAsync). confluent-kafka-python flushes before abort_transaction for the same reason.
      await this.producer.flush(timeoutMs).catch(() => undefined);
      await this.abort(timeoutMs).catch(() => undefined);
      this.settleOffsets(false);
      // A fatal error (e.g. fenced by a newer producer with the same transactional.id) is what the caller
      // must learn: the producer is done. The function's own failure is its cause.
      const refusal = this.host.refusal();
      if (refusal?.fatal && refusal !== e) throw new KafkaFdError(refusal.message, { code: refusal.code, fatal: true, cause: e });
      throw e;
    }
    if (!this.open) {
      this.settleOffsets(false);
      throw new KafkaFdError('the producer closed during the transaction: it was aborted', { code: 'ERR__STATE' });
    }
    try {
      this.check();
      // The consumed positions join the transaction now that its output is produced: with the group's
      // current metadata, so that a member fenced by a rebalance meanwhile cannot commit them.
      for (const [consumer, positions] of this.offsets) {
        const list = [...positions.values()];
        await this.call(constants().txn.sendOffsets, timeoutMs, consumer, list);
      }
      await this.call(constants().txn.commit, timeoutMs);
      this.open = false;
      this.settleOffsets(true);
    } catch (e) {
      // librdkafka leaves the transaction abortable unless the error is fatal; abort so that the producer
      // can begin the next one, and report the commit's error.
      if (!(e instanceof KafkaFdError && e.fatal)) await this.abort(timeoutMs).catch(() => undefined);
      this.open = false;
      this.settleOffsets(false);
      throw e;
    }
    return result;
  }

  /**
   * Tells each consumer whose positions the transaction recorded how it ended: committed, they are its
   * new start; aborted, it rewinds those partitions to where their uncommitted input starts, so that the
   * aborted input is handled again.
   */
  private settleOffsets(committed: boolean): void {
    for (const [consumer, positions] of this.offsets) {
      const list = [...positions.values()];
      if (committed) consumer.committed(list);
      else consumer.aborted(list);
    }
    this.offsets = new Map();
  }

  private async abort(timeoutMs: number): Promise<void> {
    if (!this.open) return;
    try {
      await this.call(constants().txn.abort, timeoutMs);
    } finally {
      this.open = false;
    }
  }

  private check(): void {
    const refusal = this.host.refusal();
    if (refusal) throw refusal;
  }

  /** Checks and records positions for the open transaction (sendOffsets, sendConsumed). Throws on bad input. */
  private addOffsets(consumer: Consumer, offsets: readonly TopicPartitionOffset[], firsts?: readonly TopicPartitionOffset[]): void {
    const handle = (consumer as { [CONSUMER_HANDLE]?: ConsumerHandle } | null)?.[CONSUMER_HANDLE];
    if (!handle) throw new KafkaFdError('sendOffsets takes a Consumer of this library', { code: 'ERR__INVALID_ARG' });
    if (handle.autoCommit) {
      throw new KafkaFdError(
        `sendOffsets: consumer ${handle.name} commits by itself; give it 'enable.auto.commit': false (the transaction commits its offsets)`,
        { code: 'ERR__INVALID_ARG' },
      );
    }
    if (Array.isArray(offsets) && offsets.length === 0) return;
    if (!this.open) throw new KafkaFdError('sendOffsets: no transaction is open (call it inside the transaction\'s function)', { code: 'ERR__STATE' });
    const columns = offsetColumns(offsets);
    if (columns instanceof KafkaFdError) throw columns;
    for (const f of firsts ?? []) {
      const refused = handle.rewindRefusal(f.topic, f.partition, Number(f.offset));
      if (refused) throw refused;
    }
    let positions = this.offsets.get(handle);
    if (!positions) this.offsets.set(handle, (positions = new Map()));
    for (let i = 0; i < columns.topics.length; i++) {
      const key = `${columns.partitions[i]}:${columns.topics[i]}`;
      const known = positions.get(key);
      // The furthest position of a partition wins: a partition's messages are processed in order.
      if (!known || known.offset < columns.offsets[i]) positions.set(key, { topic: columns.topics[i], partition: columns.partitions[i], offset: columns.offsets[i] });
    }
  }

  private call(op: number, timeoutMs: number, consumer?: ConsumerHandle, offsets?: Array<{ topic: string; partition: number; offset: number }>): Promise<void> {
    const started = consumer && offsets
      ? this.native.txn(op, timeoutMs, consumer.native, offsets.map((o) => o.topic), offsets.map((o) => o.partition), offsets.map((o) => o.offset))
      : this.native.txn(op, timeoutMs);
    const done = started.catch((e: unknown) => {
      if (e instanceof KafkaFdError && e.fatal) this.host.onFatal(e);
      throw e;
    });
    this.running = done.catch(() => undefined);
    return done;
  }
}

/**
 * Per partition, the position after these messages (the highest offset + 1) and their first offset (a
 * pending rewind checks it), in one pass.
 */
function consumedRange(messages: readonly ConsumedMessage[]): { next: TopicPartitionOffset[]; first: TopicPartitionOffset[] } {
  if (!Array.isArray(messages)) throw new KafkaFdError('sendConsumed takes an array of consumed messages', { code: 'ERR__INVALID_ARG' });
  const ranges = new Map<string, { topic: string; partition: number; first: number; last: number }>();
  for (const m of messages) {
    if (typeof m?.offset !== 'number') throw new KafkaFdError('sendConsumed takes consumed messages ({ topic, partition, offset })', { code: 'ERR__INVALID_ARG' });
    const key = `${m.partition}:${m.topic}`;
    const r = ranges.get(key);
    if (!r) ranges.set(key, { topic: m.topic, partition: m.partition, first: m.offset, last: m.offset });
    else {
      r.first = Math.min(r.first, m.offset);
      r.last = Math.max(r.last, m.offset);
    }
  }
  const all = [...ranges.values()];
  return {
    next: all.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.last + 1 })),
    first: all.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.first })),
  };
}
