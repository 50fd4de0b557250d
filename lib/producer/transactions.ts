import { KafkaFdError } from '../errors/kafka-fd.error';
import { checkTimeout, nativeTimeout } from '../util/timeout';
import { type NativeProducer, constants } from '../native/binding';
import type { BatchReport, DeliveryReport, Message } from './types';


/** What the function given to `transaction()` produces with: the producer's own methods, in the transaction. */
export interface Transaction {
  /** Resolves once the broker has the message; it becomes visible to `read_committed` consumers at commit. */
  produce(message: Message): Promise<DeliveryReport>;
  produceAsync(message: Message): void;
  produceMany(messages: readonly Message[]): Promise<BatchReport>;
  produceManyAsync(messages: readonly Message[]): void;
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

  constructor(
    private readonly native: NativeProducer,
    private readonly transactionalId: string | undefined,
    private readonly host: TransactionHost,
    private readonly view: Transaction,
  ) {}

  run<T>(fn: (tx: Transaction) => T | Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (typeof fn !== 'function') {
      return Promise.reject(new KafkaFdError('transaction() takes a function', { code: 'ERR__INVALID_ARG' }));
    }
    let timeoutMs: number;
    try {
      timeoutMs = nativeTimeout(checkTimeout('transaction timeoutMs', options?.timeoutMs === undefined ? 60000 : options.timeoutMs));
    } catch (e) {
      return Promise.reject(e);
    }
    if (!this.transactionalId) {
      return Promise.reject(new KafkaFdError(
        "transaction() needs 'transactional.id' in the producer's kafka configuration: a stable id per producer " +
          "instance, e.g. `orders-${workerId}`, so that a restarted instance fences its predecessor",
        { code: 'ERR__NOT_CONFIGURED' },
      ));
    }
    const next = this.chain.then(() => this.once(fn, timeoutMs));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Before the producer closes: let the running call end, then abort a transaction left open. */
  async beforeClose(timeoutMs: number): Promise<void> {
    await this.running;
    if (this.open) await this.abort(nativeTimeout(timeoutMs)).catch(() => undefined);
  }

  private async once<T>(fn: (tx: Transaction) => T | Promise<T>, timeoutMs: number): Promise<T> {
    this.check();
    this.initialized ??= this.call(constants().txn.init, timeoutMs).catch((e: unknown) => {
      this.initialized = undefined; // a later transaction tries again (unless the error was fatal)
      throw e;
    });
    await this.initialized;
    this.check();
    await this.call(constants().txn.begin, timeoutMs);
    this.open = true;
    let result: T;
    try {
      result = await fn(this.view);
    } catch (e) {
      await this.abort(timeoutMs).catch(() => undefined);
      // A fatal error (e.g. fenced by a newer producer with the same transactional.id) is what the caller
      // must learn: the producer is done. The function's own failure is its cause.
      const refusal = this.host.refusal();
      if (refusal?.fatal && refusal !== e) throw new KafkaFdError(refusal.message, { code: refusal.code, fatal: true, cause: e });
      throw e;
    }
    if (!this.open) {
      throw new KafkaFdError('the producer closed during the transaction: it was aborted', { code: 'ERR__STATE' });
    }
    try {
      this.check();
      await this.call(constants().txn.commit, timeoutMs);
      this.open = false;
    } catch (e) {
      // librdkafka leaves the transaction abortable unless the error is fatal; abort so that the producer
      // can begin the next one, and report the commit's error.
      if (!(e instanceof KafkaFdError && e.fatal)) await this.abort(timeoutMs).catch(() => undefined);
      this.open = false;
      throw e;
    }
    return result;
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

  private call(op: number, timeoutMs: number): Promise<void> {
    const done = this.native.txn(op, timeoutMs).catch((e: unknown) => {
      if (e instanceof KafkaFdError && e.fatal) this.host.onFatal(e);
      throw e;
    });
    this.running = done.catch(() => undefined);
    return done;
  }
}
