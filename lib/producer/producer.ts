import { Observable } from 'rxjs';
import { ClientStreams } from '../client/client-streams';
import { resolvePolling } from '../client/polling';
import { flattenConfig } from '../config/kafka-config';
import { closedError, deliveryError } from '../errors/delivery-errors';
import { KafkaFdError } from '../errors/kafka-fd.error';
import { NativeProducer, NativeSink, constants, native } from '../native/binding';
import type { Poller } from '../poller/poller';
import { checkTimeout } from '../util/timeout';
import { BatchRecord } from './batch-record';
import { plain } from './deferred';
import { Deliveries } from './deliveries';
import { FlushWaiters } from './flush-waiters';
import {
  BatchReport, CloseOptions, DeliveryReport, KafkaLog, KafkaStats, Message, ProducerHealth, ProducerOptions,
} from './types';
import { Transaction, TransactionOptions, Transactions } from './transactions';
import { producerDefaults } from './defaults';
import { produceChannel, traceProduce, traced } from '../diagnostics/channels';
import { MessageChecker } from './validate';
import { BatchRefusal, Sender } from './sender';

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** No fewer than the bytes a checked value or key takes (a UTF-16 unit is at most 3 bytes of UTF-8). */
function upperBytes(v: unknown): number {
  return typeof v === 'string' ? v.length * 3 : v == null ? 0 : (v as Buffer).length;
}

/**
 * A Kafka producer over librdkafka whose delivery reports, statistics, errors and logs are served on the
 * event loop by a {@link Poller} (fd mode, the default): no polling thread, no interval timer, nothing on
 * the libuv threadpool but the final destroy.
 *
 * ```ts
 * const producer = new Producer({ kafka: { 'bootstrap.servers': '127.0.0.1:9092' } });
 * const report = await producer.produce({ topic: 'orders', key: 'k1', value: JSON.stringify(order) });
 * await producer.close();
 * ```
 */
export class Producer {
  /** The librdkafka handle's name (`client.id#producer-N`). */
  readonly name: string;
  /** The poller serving this producer (fd mode), undefined in thread mode. */
  readonly poller: Poller | undefined;
  readonly mode: 'fd' | 'thread';

  private readonly native: NativeProducer;
  private readonly sink: NativeSink;
  private readonly streams: ClientStreams;
  private readonly deliveries: Deliveries;
  private readonly checker = new MessageChecker();
  private readonly sender: Sender;
  private readonly flushWaiters = new FlushWaiters(() => this.inFlightCount);
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closePromise: Promise<void> | undefined;
  private dispatching = false;
  private readonly transactions: Transactions;
  // Whether produce() and produceAsync() of a message without headers or timestamp go out once the
  // microtask ends, a turn's messages as runs of one native call (Sender.defer): not for a transactional
  // producer, whose messages must be in librdkafka before a commit, and, for produceAsync, not when a full
  // queue must throw at once.
  private readonly deferProduce: boolean;
  private readonly deferAsync: boolean;
  // message.max.bytes less room for librdkafka's overhead: a produceAsync value under it cannot be refused
  // for its size, so it may be deferred (a refusal must throw from the call).
  private readonly deferBytes: number;

  constructor(options: ProducerOptions) {
    if (!options || typeof options !== 'object' || !options.kafka || typeof options.kafka !== 'object') {
      throw new KafkaFdError('Producer options need a `kafka` configuration object', { code: 'ERR__INVALID_ARG' });
    }
    ({ mode: this.mode, poller: this.poller } = resolvePolling(options.polling, 'producer'));
    const queueFull = options.queueFull ?? 'wait';
    if (queueFull !== 'wait' && queueFull !== 'error') {
      throw new KafkaFdError(`queueFull must be 'wait' or 'error', got '${String(queueFull)}'`, { code: 'ERR__INVALID_ARG' });
    }
    const queueFullTimeoutMs = checkTimeout('queueFullTimeoutMs', options.queueFullTimeoutMs === undefined ? 30000 : options.queueFullTimeoutMs);
    this.streams = new ClientStreams(options.kafka, () => this.name);
    this.deliveries = new Deliveries(this.streams, () => this.name);
    const capacity = this.poller ? this.poller.options.batchSize : 1024;
    this.sink = {
      ids: new Float64Array(capacity),
      errs: new Int32Array(capacity),
      partitions: new Int32Array(capacity),
      offsets: new Float64Array(capacity),
      timestamps: new Float64Array(capacity),
      onBatch: (count) => this.onBatch(count),
      onEvent: (kind, code, name, text, fatal) => this.onEvent(kind, code, name, text, fatal),
    };
    try {
      this.native = new (native().NativeProducer)(flattenConfig({ ...producerDefaults(options.kafka), ...options.kafka }), this.sink);
    } catch (e) {
      throw this.streams.clean(e);
    }
    this.sender = new Sender(this.native, this.deliveries, queueFull, {
      timeoutMs: queueFullTimeoutMs, chunk: capacity, onEmpty: () => this.flushWaiters.wakeIfIdle(),
    });
    this.name = options.name ?? this.native.name();
    this.native.attach(this.poller?.native);
    const transactionalId = options.kafka['transactional.id'];
    this.deferProduce = transactionalId === undefined;
    this.deferAsync = this.deferProduce && queueFull === 'wait';
    this.deferBytes = Number(options.kafka['message.max.bytes'] ?? 1000000) - 512;
    // The producer itself is what a transaction's function produces with.
    this.transactions = new Transactions(this.native, transactionalId === undefined ? undefined : String(transactionalId), {
      refusal: () => this.refusal(),
      onFatal: (e) => {
        this.streams.fatalError ??= e;
      },
    }, this);
  }

  /** Every delivery report, success or failure (`error` set). Report objects are built only while this
   * stream has subscribers. */
  get acks$(): Observable<DeliveryReport> {
    return this.deliveries.acks$;
  }

  /** librdkafka's statistics, parsed, every `statistics.interval.ms`. */
  get stats$(): Observable<KafkaStats> {
    return this.streams.stats$;
  }

  /** librdkafka's errors (`fatal`, `retriable` set), and failed deliveries of `produceAsync`/`produceManyAsync`. */
  get errors$(): Observable<KafkaFdError> {
    return this.streams.errors$;
  }

  /** librdkafka's log lines, secrets redacted. */
  get logs$(): Observable<KafkaLog> {
    return this.streams.logs$;
  }

  /** Messages accepted and not yet reported (including those waiting for room in the queue). */
  get inFlightCount(): number {
    return this.sender.count;
  }

  /**
   * What the producer knows of its state, cheaply (no subscription needed): closed, a fatal error (it then
   * refuses messages), or every broker down since its last successful delivery or statistics with a broker up.
   */
  get health(): ProducerHealth {
    return this.streams.health(this.state !== 'open');
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.state !== 'open';
  }

  /**
   * Produces one message; resolves with its delivery report once the broker acknowledged it, rejects with
   * a {@link KafkaFdError} when it fails (bad input, closed producer, delivery failure). A message without
   * headers or timestamp reaches librdkafka when the current microtask ends, with the turn's others in one
   * call: its fields are read now, a Buffer's bytes then.
   */
  produce(message: Message): Promise<DeliveryReport> {
    if (traced(produceChannel)) return traceProduce(this.name, [message], false, (ms) => this.produceOne(ms[0]));
    return this.produceOne(message);
  }

  private produceOne(message: Message): Promise<DeliveryReport> {
    const refused = this.refuse(message);
    if (refused) return Promise.reject(refused);
    const id = this.sender.ids(1);
    const promise = this.deliveries.promise(id, message.topic);
    if (this.deferProduce && plain(message)) {
      // Its promise says what librdkafka answers, whenever it answers.
      this.sender.defer(message, id);
      return promise;
    }
    let err: number;
    try {
      err = this.sender.send(message, id);
    } catch (e) {
      // The addon's own checks (a second line behind checkMessage): reject, never throw from produce().
      this.deliveries.forget(id, e);
      return promise;
    }
    if (err !== 0) this.deliveries.fail(id, err);
    return promise;
  }

  /**
   * Produces one message without a promise; its report appears on `acks$` (failures also on `errors$`).
   * Throws a {@link KafkaFdError} at once for bad input, a closed producer, or a full queue with
   * `queueFull: 'error'`. A message without partition, headers or timestamp reaches librdkafka when the
   * microtask ends (as {@link produce}'s does) unless librdkafka might refuse it, which then throws here.
   */
  produceAsync(message: Message): void {
    if (traced(produceChannel)) return traceProduce(this.name, [message], true, (ms) => this.produceAsyncOne(ms[0]));
    this.produceAsyncOne(message);
  }

  private produceAsyncOne(message: Message): void {
    const refused = this.refuse(message);
    if (refused) throw refused;
    const id = this.sender.ids(1);
    this.deliveries.expect(id, message.topic);
    if (this.deferAsync && this.deferrable(message)) {
      this.sender.defer(message, id);
      return;
    }
    let err: number;
    try {
      err = this.sender.send(message, id);
    } catch (e) {
      // The addon's own checks refused it: nothing was queued, so nothing may stay pending.
      this.deliveries.forget(id);
      throw e;
    }
    if (err !== 0) {
      this.deliveries.forget(id);
      throw deliveryError(err, message.topic);
    }
  }

  /**
   * Produces a batch with one promise. Resolves once every message is acknowledged; rejects with the
   * first failure (its `failed` count says how many failed) once every message has a report. Bad input
   * anywhere in the batch rejects the whole batch before anything is sent.
   */
  produceMany(messages: readonly Message[]): Promise<BatchReport> {
    if (traced(produceChannel) && Array.isArray(messages)) return traceProduce(this.name, messages, false, (ms) => this.produceManyUntraced(ms));
    return this.produceManyUntraced(messages);
  }

  private produceManyUntraced(messages: readonly Message[]): Promise<BatchReport> {
    const refused = this.refuseBatch(messages);
    if (refused) return Promise.reject(refused);
    if (messages.length === 0) return Promise.resolve({ delivered: 0 });
    let record!: BatchRecord;
    const promise = new Promise<BatchReport>((resolve, reject) => {
      record = new BatchRecord(messages.length, resolve, reject);
    });
    const refusedAt = this.sendBatch(messages, record);
    // Nothing after a refused message went out: count it and the rest as failed now.
    if (refusedAt) record.done(messages.length - refusedAt.accepted, refusedAt);
    return promise;
  }

  /** Produces a batch without a promise; reports appear on `acks$`. Throws like
   * {@link produceAsync}; on a full queue with `queueFull: 'error'` the messages before the refused one
   * were accepted and the error's `accepted` property says how many. */
  produceManyAsync(messages: readonly Message[]): void {
    if (traced(produceChannel) && Array.isArray(messages)) return traceProduce(this.name, messages, true, (ms) => this.produceManyAsyncUntraced(ms));
    this.produceManyAsyncUntraced(messages);
  }

  private produceManyAsyncUntraced(messages: readonly Message[]): void {
    const refused = this.refuseBatch(messages);
    if (refused) throw refused;
    const refusedAt = this.sendBatch(messages, undefined);
    if (refusedAt) throw refusedAt;
  }

  /**
   * Runs `fn` in a Kafka transaction (the producer needs `transactional.id`): `init_transactions` on first
   * use, begin, `fn`, commit when `fn` resolves; abort when it throws or rejects, then rethrow. Resolves with
   * what `fn` resolved once the commit is done. Init, begin, commit and abort run off the JS thread while
   * the poller keeps serving every producer. One transaction at a time per producer: a second call waits.
   * Messages the producer sends while a transaction is open belong to it, whether sent through `tx` or not.
   * Errors are {@link KafkaFdError}s with `retriable`, `txnRequiresAbort` and `fatal` as librdkafka says; a
   * fenced producer (another started with the same `transactional.id`) gets a fatal error and refuses
   * further work. `close()` during a transaction aborts it.
   */
  transaction<T>(fn: (tx: Transaction) => T | Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.transactions.run(fn, options);
  }

  /**
   * `init_transactions` now rather than at the first `transaction()`: registers the `transactional.id` with the
   * coordinator, fencing a predecessor with the same id and aborting what it left open. A restarted pipeline
   * worker should call it at startup: until then the transaction its predecessor left open holds back
   * `read_committed` readers and its pending offsets hold back the group's next owners of its partitions
   * (up to `transaction.timeout.ms`). Off the JS thread; resolves once done (again at once after that).
   */
  initTransactions(options?: TransactionOptions): Promise<void> {
    return this.transactions.init(options);
  }

  /** Resolves when every accepted message has its report; rejects with `ERR__TIMED_OUT` after `timeoutMs`
   * (`Infinity`: no limit; NaN or negative: `ERR__INVALID_ARG`). Never blocks the event loop (no
   * `rd_kafka_flush`). */
  flush(timeoutMs = 30000): Promise<void> {
    return this.flushWaiters.wait(timeoutMs);
  }

  /**
   * Stops accepting messages, waits up to `timeoutMs` for those in flight (served by the poller, not by a
   * blocking flush), purges what is left (those fail with `ERR__PURGE_*`), leaves the poller, destroys the
   * librdkafka handle off the JS thread and completes the streams. Safe to call twice and from inside an
   * `acks$` or `stats$` subscriber (it then runs after the current batch). `timeoutMs: Infinity` waits
   * without limit; an invalid timeout rejects with `ERR__INVALID_ARG` and leaves the producer open.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (!this.closePromise) {
      let timeoutMs: number;
      try {
        timeoutMs = checkTimeout('close timeoutMs', options?.timeoutMs === undefined ? 30000 : options.timeoutMs);
      } catch (e) {
        return Promise.reject(e);
      }
      this.closePromise = this.doClose(timeoutMs);
    }
    return this.closePromise;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.state = 'closing';
    // Deferred messages were accepted: they go out before anything closes.
    this.sender.flushPending();
    if (this.dispatching) await new Promise((resolve) => setImmediate(resolve));
    // An open transaction is aborted first (its queued messages are purged and fail).
    await this.transactions.beforeClose(timeoutMs);
    try {
      await this.flush(timeoutMs);
    } catch {
      // Timed out: what is still in flight is purged below and reported as failed.
    }
    const codes = constants().codes;
    await this.sender.backlog.failAll(codes.ERR__PURGE_QUEUE, 'the producer closed before the message could be queued');
    await this.native.close();
    // The reports left after the destroy (purged messages among them), a batch per loop turn.
    while (this.native.dispatchPending() > 0) await nextTurn();
    // Anything without a report by now (librdkafka destroyed it unreported) fails here, never silently;
    // a batch per loop turn too.
    const unreported = this.deliveries.waitingIds();
    for (let i = 0; i < unreported.length; i++) {
      this.deliveries.fail(unreported[i], codes.ERR__DESTROY);
      if ((i + 1) % 1024 === 0) await nextTurn();
    }
    this.sender.destroyed();
    this.flushWaiters.wakeAll();
    this.state = 'closed';
    this.deliveries.complete();
    this.streams.complete();
  }

  // --- sending ------------------------------------------------------------------------------------------

  /** Why the producer takes no new work (closed, closing, a fatal error), or undefined. */
  private refusal(): KafkaFdError | undefined {
    return this.state !== 'open' ? closedError('producer', this.name, this.state === 'closed') : this.streams.fatalError;
  }

  private refuse(message: Message): KafkaFdError | undefined {
    return this.refusal() ?? this.checker.one(message);
  }

  /** Whether librdkafka can refuse nothing of this message at its enqueue but a full queue (which waits):
   * no partition (unknown), no headers or timestamp, and a size under message.max.bytes for sure. */
  private deferrable(m: Message): boolean {
    return m.partition === undefined && plain(m) &&
      upperBytes(m.value) + upperBytes(m.key) <= this.deferBytes;
  }

  private refuseBatch(messages: readonly Message[]): KafkaFdError | undefined {
    return this.refusal() ?? this.checker.batch(messages);
  }

  /** Expects a report for every message of the batch (to `record`, or `acks$`), then sends it. */
  private sendBatch(messages: readonly Message[], record: BatchRecord | undefined): BatchRefusal | undefined {
    const firstId = this.sender.ids(messages.length);
    for (let i = 0; i < messages.length; i++) this.deliveries.expect(firstId + i, messages[i].topic, record);
    return this.sender.sendBatch(messages, firstId);
  }

  // --- reports from the poller ---------------------------------------------------------------------------

  private onBatch(count: number): void {
    this.dispatching = true;
    const { ids, errs, partitions, offsets, timestamps } = this.sink;
    this.sender.reported(count);
    try {
      for (let i = 0; i < count; i++) {
        if (errs[i] === 0) this.streams.brokersDown = false;
        this.deliveries.settle(ids[i], errs[i], partitions[i], offsets[i], timestamps[i]);
      }
    } finally {
      this.dispatching = false;
    }
    // Acks made room: waiting messages move in (a bounded number now, the rest on later turns).
    this.sender.drain();
    this.flushWaiters.wakeIfIdle();
  }

  private onEvent(kind: number, code: number, name: string, text: string, fatal: boolean): void {
    this.dispatching = true;
    try {
      this.streams.onEvent(kind, code, name, text, fatal);
    } finally {
      this.dispatching = false;
    }
  }
}
