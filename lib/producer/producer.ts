import { Observable, Subject } from 'rxjs';
import { KafkaConfig, flattenConfig, secretRedactor } from '../config/kafka-config';
import { KafkaFdError } from '../errors/kafka-fd.error';
import { NativeProducer, NativeSink, describeError, native } from '../native/binding';
import { Poller } from '../poller/poller';
import { checkTimeout, startTimer } from '../util/timeout';
import { Backlog } from './backlog';
import { PendingRing } from './pending-ring';
import {
  BatchReport, CloseOptions, DeliveryReport, KafkaLog, KafkaStats, Message, ProducerHealth, ProducerOptions,
} from './types';
import { Transaction, TransactionOptions, Transactions } from './transactions';
import { checkMessage, headersForAddon, withAddonHeaders } from './validate';

// librdkafka's codes that we raise ourselves (RD_KAFKA_RESP_ERR_*).
const ERR_QUEUE_FULL = -184;
const ERR_PURGE_QUEUE = -152;
const ERR_DESTROY = -172;
const OFFSET_INVALID = -1001;
const EVENT_ERROR = 0;
const EVENT_STATS = 1;
const EVENT_LOG = 2;

/** A batch of produceMany: one record shared by all its messages. */
class BatchRecord {
  remaining: number;
  failed = 0;
  firstError: KafkaFdError | undefined;
  constructor(readonly total: number, readonly resolve: (r: BatchReport) => void, readonly reject: (e: unknown) => void) {
    this.remaining = total;
  }
}

type Owner = ((r: DeliveryReport) => void) | BatchRecord;

// One executor for every promise: no closure per produce() call.
let capturedResolve: ((r: DeliveryReport) => void) | undefined;
let capturedReject: ((e: unknown) => void) | undefined;
function capture(resolve: (r: DeliveryReport) => void, reject: (e: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

let threadModeWarned = false;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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
  private readonly pending = new PendingRing<Owner>();
  private readonly redact: (text: string) => string;
  private readonly queueFull: 'wait' | 'error';
  private readonly acksSubject = new Subject<DeliveryReport>();
  private readonly statsSubject = new Subject<KafkaStats>();
  private readonly errorsSubject = new Subject<KafkaFdError>();
  private readonly logsSubject = new Subject<KafkaLog>();
  private nextId = 1;
  private inFlight = 0;
  private lastTopic: string | undefined;
  private readonly backlog: Backlog;
  private flushWaiters: Array<() => void> = [];
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closePromise: Promise<void> | undefined;
  private dispatching = false;
  private fatalError: KafkaFdError | undefined;
  private readonly warnedCodes = new Set<string>();
  private brokersDown = false;
  private readonly transactions: Transactions;

  constructor(options: ProducerOptions) {
    if (!options || typeof options !== 'object' || !options.kafka || typeof options.kafka !== 'object') {
      throw new KafkaFdError('Producer options need a `kafka` configuration object', { code: 'ERR__INVALID_ARG' });
    }
    const polling = options.polling ?? {};
    this.mode = polling.mode ?? 'fd';
    if (this.mode !== 'fd' && this.mode !== 'thread') {
      throw new KafkaFdError(`polling.mode must be 'fd' or 'thread', got '${String(this.mode)}'`, { code: 'ERR__INVALID_ARG' });
    }
    if (this.mode === 'thread' && (polling.poller || polling.maxTimeMs !== undefined)) {
      throw new KafkaFdError(
        "polling.poller and polling.maxTimeMs belong to fd mode: a thread-mode producer polls on a thread of its own. Remove them or use mode 'fd'.",
        { code: 'ERR__INVALID_ARG' },
      );
    }
    this.queueFull = options.queueFull ?? 'wait';
    if (this.queueFull !== 'wait' && this.queueFull !== 'error') {
      throw new KafkaFdError(`queueFull must be 'wait' or 'error', got '${String(this.queueFull)}'`, { code: 'ERR__INVALID_ARG' });
    }
    const queueFullTimeoutMs = checkTimeout('queueFullTimeoutMs', options.queueFullTimeoutMs === undefined ? 30000 : options.queueFullTimeoutMs);
    this.redact = secretRedactor(options.kafka);

    if (this.mode === 'fd') {
      this.poller = polling.poller ??
        (polling.maxTimeMs !== undefined ? new Poller({ name: 'producer', maxTimeMs: polling.maxTimeMs }) : Poller.global());
    }
    const capacity = this.poller ? this.poller.options.batchSize : 1024;
    this.backlog = new Backlog({
      produce: (m, id) => this.produceNative(m, id),
      fail: (id, err, why) => this.fail(id, err, why),
      onEmpty: () => {
        if (this.inFlightCount === 0) this.wakeFlushWaiters();
      },
    }, queueFullTimeoutMs, capacity);
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
      this.native = new (native().NativeProducer)(flattenConfig(options.kafka), this.sink);
    } catch (e) {
      throw this.cleanError(e);
    }
    this.name = options.name ?? this.native.name();
    if (this.mode === 'thread' && !threadModeWarned) {
      threadModeWarned = true;
      process.emitWarning(
        "polling.mode 'thread' polls from a thread per producer and is kept only as a baseline; use the default fd mode.",
        { type: 'DeprecationWarning', code: 'KAFKA_FD_THREAD_MODE' },
      );
    }
    this.native.attach(this.poller?.native);
    const transactionalId = options.kafka['transactional.id'];
    // The producer itself is what a transaction's function produces with.
    this.transactions = new Transactions(this.native, transactionalId === undefined ? undefined : String(transactionalId), {
      refusal: () => this.refusal(),
      onFatal: (e) => {
        this.fatalError ??= e;
      },
    }, this);
  }

  /** Every delivery report, success or failure (`error` set). Report objects are built only while this
   * stream has subscribers. */
  get acks$(): Observable<DeliveryReport> {
    return this.acksSubject.asObservable();
  }

  /** librdkafka's statistics, parsed, every `statistics.interval.ms`. */
  get stats$(): Observable<KafkaStats> {
    return this.statsSubject.asObservable();
  }

  /** librdkafka's errors (`fatal`, `retriable` set), and failed deliveries of `produceAsync`/`produceManyAsync`. */
  get errors$(): Observable<KafkaFdError> {
    return this.errorsSubject.asObservable();
  }

  /** librdkafka's log lines, secrets redacted. */
  get logs$(): Observable<KafkaLog> {
    return this.logsSubject.asObservable();
  }

  /** Messages accepted and not yet reported (including those waiting for room in the queue). */
  get inFlightCount(): number {
    return this.inFlight + this.backlog.length;
  }

  /**
   * What the producer knows of its state, cheaply (no subscription needed): closed, a fatal error (it then
   * refuses messages), or every broker down since its last successful delivery or statistics with a broker up.
   */
  get health(): ProducerHealth {
    return { closed: this.state !== 'open', fatal: this.fatalError?.message, brokersDown: this.brokersDown };
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.state !== 'open';
  }

  /**
   * Produces one message; resolves with its delivery report once the broker acknowledged it, rejects with
   * a {@link KafkaFdError} when it fails (bad input, closed producer, delivery failure).
   */
  produce(message: Message): Promise<DeliveryReport> {
    const refused = this.refuse(message);
    if (refused) return Promise.reject(refused);
    const id = this.nextId++;
    const promise = new Promise<DeliveryReport>(capture);
    this.pending.put(id, message.topic, capturedResolve, capturedReject);
    let err: number;
    try {
      err = this.send(message, id);
    } catch (e) {
      // The addon's own checks (a second line behind checkMessage): reject, never throw from produce().
      const slot = this.pending.find(id);
      const reject = this.pending.reject(slot)!;
      this.pending.release(slot);
      reject(e);
      return promise;
    }
    if (err !== 0) this.fail(id, err);
    return promise;
  }

  /**
   * Produces one message without a promise; its report appears on `acks$` (failures also on `errors$`).
   * Throws a {@link KafkaFdError} at once for bad input, a closed producer, or a full queue with
   * `queueFull: 'error'`.
   */
  produceAsync(message: Message): void {
    const refused = this.refuse(message);
    if (refused) throw refused;
    const id = this.nextId++;
    this.pending.put(id, message.topic, undefined, undefined);
    let err: number;
    try {
      err = this.send(message, id);
    } catch (e) {
      // The addon's own checks refused it: nothing was queued, so nothing may stay pending.
      this.pending.release(this.pending.find(id));
      throw e;
    }
    if (err !== 0) {
      this.pending.release(this.pending.find(id));
      throw this.deliveryError(err, message.topic);
    }
  }

  /**
   * Produces a batch in one native call. Resolves once every message is acknowledged; rejects with the
   * first failure (its `failed` count says how many failed) once every message has a report. Bad input
   * anywhere in the batch rejects the whole batch before anything is sent.
   */
  produceMany(messages: readonly Message[]): Promise<BatchReport> {
    const refused = this.refuseBatch(messages);
    if (refused) return Promise.reject(refused);
    if (messages.length === 0) return Promise.resolve({ delivered: 0 });
    let record!: BatchRecord;
    const promise = new Promise<BatchReport>((resolve, reject) => {
      record = new BatchRecord(messages.length, resolve, reject);
    });
    const refusedAt = this.sendBatch(messages, record);
    if (refusedAt) {
      // Nothing after the refused message went out: count it and the rest as failed now.
      const failedNow = messages.length - refusedAt.accepted;
      record.failed += failedNow;
      record.firstError ??= refusedAt;
      this.batchDone(record, failedNow);
    }
    return promise;
  }

  /** Produces a batch in one native call, without a promise; reports appear on `acks$`. Throws like
   * {@link produceAsync}; on a full queue with `queueFull: 'error'` the messages before the refused one
   * were accepted and the error's `accepted` property says how many. */
  produceManyAsync(messages: readonly Message[]): void {
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

  /** Resolves when every accepted message has its report; rejects with `ERR__TIMED_OUT` after `timeoutMs`
   * (`Infinity`: no limit; NaN or negative: `ERR__INVALID_ARG`). Never blocks the event loop (no
   * `rd_kafka_flush`). */
  flush(timeoutMs = 30000): Promise<void> {
    try {
      checkTimeout('flush timeoutMs', timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.inFlightCount === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const cancel = startTimer(timeoutMs, () => {
        this.flushWaiters = this.flushWaiters.filter((w) => w !== done);
        reject(new KafkaFdError(`flush timed out after ${timeoutMs} ms with ${this.inFlightCount} messages in flight`, {
          code: 'ERR__TIMED_OUT',
        }));
      });
      const done = (): void => {
        cancel();
        resolve();
      };
      this.flushWaiters.push(done);
    });
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
    if (this.dispatching) await new Promise((resolve) => setImmediate(resolve));
    // An open transaction is aborted first (its queued messages are purged and fail).
    await this.transactions.beforeClose(timeoutMs);
    try {
      await this.flush(timeoutMs);
    } catch {
      // Timed out: what is still in flight is purged below and reported as failed.
    }
    await this.backlog.failAll(ERR_PURGE_QUEUE, 'the producer closed before the message could be queued');
    await this.native.close();
    // The reports left after the destroy (purged messages among them), a batch per loop turn.
    while (this.native.dispatchPending() > 0) await nextTurn();
    // Anything without a report by now (librdkafka destroyed it unreported) fails here, never silently;
    // a batch per loop turn too.
    const unreported = this.pending.waitingIds();
    for (let i = 0; i < unreported.length; i++) {
      this.fail(unreported[i], ERR_DESTROY);
      if ((i + 1) % 1024 === 0) await nextTurn();
    }
    this.inFlight = 0;
    this.wakeFlushWaiters();
    this.state = 'closed';
    this.acksSubject.complete();
    this.statsSubject.complete();
    this.errorsSubject.complete();
    this.logsSubject.complete();
  }

  // --- sending ------------------------------------------------------------------------------------------

  /** Why the producer takes no new work (closed, closing, a fatal error), or undefined. */
  private refusal(): KafkaFdError | undefined {
    return this.state !== 'open' ? this.closedError() : this.fatalError;
  }

  private refuse(message: Message): KafkaFdError | undefined {
    const stopped = this.refusal();
    if (stopped) return stopped;
    const bad = checkMessage(message, this.lastTopic);
    if (bad) return bad;
    this.lastTopic = message.topic;
    return undefined;
  }

  private refuseBatch(messages: readonly Message[]): KafkaFdError | undefined {
    const stopped = this.refusal();
    if (stopped) return stopped;
    if (!Array.isArray(messages)) {
      return new KafkaFdError('produceMany takes an array of messages', { code: 'ERR__INVALID_ARG' });
    }
    for (let i = 0; i < messages.length; i++) {
      const bad = checkMessage(messages[i], this.lastTopic);
      if (bad) return new KafkaFdError(`message ${i} of the batch: ${bad.message}`, { code: bad.code });
      this.lastTopic = messages[i].topic;
    }
    return undefined;
  }

  /** Queues one message natively, or in the backlog while librdkafka's queue is full. */
  private send(m: Message, id: number): number {
    if (this.backlog.length > 0) {
      // Keep order: nothing overtakes a message that waits for room.
      this.backlog.add(m, id);
      return 0;
    }
    const err = this.produceNative(m, id);
    if (err === 0) return 0;
    if (err === ERR_QUEUE_FULL && this.queueFull === 'wait') {
      this.backlog.add(m, id);
      return 0;
    }
    return err;
  }

  /** One message into librdkafka; counts it in flight when accepted. Returns librdkafka's error code. */
  private produceNative(m: Message, id: number): number {
    const ts = m.timestamp;
    const err = this.native.produce(m.topic, m.partition, m.value, m.key, headersForAddon(m.headers),
      ts instanceof Date ? ts.getTime() : ts, id);
    if (err === 0) this.inFlight++;
    return err;
  }

  /**
   * Sends a batch natively in one call. Returns nothing when every message was accepted or waits for room,
   * else the error of the first refused message, whose `accepted` says how many went before it.
   */
  private sendBatch(messages: readonly Message[], record: BatchRecord | undefined): (KafkaFdError & { accepted: number }) | undefined {
    const firstId = this.nextId;
    this.nextId += messages.length;
    for (let i = 0; i < messages.length; i++) {
      this.pending.put(firstId + i, messages[i].topic, record, undefined);
    }
    let start = 0;
    if (this.backlog.length === 0) {
      // The addon never throws half-way: it says how many it took, and why it stopped.
      const [accepted, err, refused] = this.native.produceBatch(withAddonHeaders(messages), firstId);
      this.inFlight += accepted;
      start = accepted;
      if (refused || (err !== 0 && !(err === ERR_QUEUE_FULL && this.queueFull === 'wait'))) {
        for (let i = accepted; i < messages.length; i++) this.pending.release(this.pending.find(firstId + i));
        const error = refused instanceof KafkaFdError
          ? new KafkaFdError(`message ${accepted} of the batch: ${refused.message}`, { code: refused.code })
          : this.deliveryError(err, messages[accepted].topic);
        return Object.assign(error, { accepted });
      }
      if (accepted === messages.length) return undefined;
    }
    const now = Date.now();
    for (let i = start; i < messages.length; i++) this.backlog.add(messages[i], firstId + i, now);
    return undefined;
  }

  // --- reports from the poller ---------------------------------------------------------------------------

  private onBatch(count: number): void {
    this.dispatching = true;
    const { ids, errs, partitions, offsets, timestamps } = this.sink;
    this.inFlight -= count;
    try {
      for (let i = 0; i < count; i++) {
        if (errs[i] === 0) this.brokersDown = false;
        this.settle(ids[i], errs[i], partitions[i], offsets[i], timestamps[i]);
      }
    } finally {
      this.dispatching = false;
    }
    // Acks made room: move waiting messages in (a bounded number now, the rest on later turns).
    if (this.backlog.length > 0) this.backlog.drain();
    if (this.inFlightCount === 0) this.wakeFlushWaiters();
  }

  /** Delivers one report to whoever waits for it: a promise, a batch, `acks$`/`errors$`. */
  private settle(id: number, err: number, partition: number, offset: number, timestamp: number, why?: string): void {
    const slot = this.pending.find(id);
    if (slot < 0) return;
    const owner = this.pending.owner(slot);
    const reject = this.pending.reject(slot);
    const topic = this.pending.topic(slot)!;
    this.pending.release(slot);
    const observed = this.acksSubject.observed;
    if (err === 0) {
      if (typeof owner === 'function' || observed) {
        const report: DeliveryReport = { topic, partition, offset, timestamp };
        if (typeof owner === 'function') owner(report);
        if (observed) this.acksSubject.next(report);
      }
      if (owner instanceof BatchRecord) this.batchDone(owner);
      return;
    }
    const error = this.reportedError(err, topic, why);
    if (observed) this.acksSubject.next({ topic, partition, offset, timestamp, error });
    if (reject) reject(error);
    else if (owner instanceof BatchRecord) {
      owner.failed++;
      owner.firstError ??= error;
      this.batchDone(owner);
    } else if (this.errorsSubject.observed) this.errorsSubject.next(error);
    else if (!observed) this.warnUnobserved(error);
  }

  /** A failed fire-and-forget message that nobody listens for is still never silent: warn once per code. */
  private warnUnobserved(error: KafkaFdError): void {
    if (this.warnedCodes.has(error.code)) return;
    this.warnedCodes.add(error.code);
    process.emitWarning(`${this.name}: a message produced with produceAsync failed (${error.message}) and neither acks$ ` +
      'nor errors$ has a subscriber; further failures with this code are not reported here.', { code: 'KAFKA_FD_UNOBSERVED_FAILURE' });
  }

  private batchDone(record: BatchRecord, reports = 1): void {
    record.remaining -= reports;
    if (record.remaining > 0) return;
    if (record.failed === 0) {
      record.resolve({ delivered: record.total });
      return;
    }
    const e = record.firstError!;
    (e as KafkaFdError & { failed?: number }).failed = record.failed;
    record.reject(e);
  }

  private onEvent(kind: number, code: number, name: string, text: string, fatal: boolean): void {
    this.dispatching = true;
    try {
      this.deliverEvent(kind, code, name, text, fatal);
    } finally {
      this.dispatching = false;
    }
  }

  private deliverEvent(kind: number, code: number, name: string, text: string, fatal: boolean): void {
    if (kind === EVENT_STATS) {
      if (this.brokersDown && text.includes('"state":"UP"')) this.brokersDown = false;
      if (this.statsSubject.observed) this.statsSubject.next(JSON.parse(text) as KafkaStats);
      return;
    }
    if (kind === EVENT_LOG) {
      if (this.logsSubject.observed) {
        this.logsSubject.next({ level: code, facility: name, message: this.redact(text), producer: this.name });
      }
      return;
    }
    if (kind === EVENT_ERROR) {
      const error = new KafkaFdError(this.redact(`${name}: ${text}`), { code: name, fatal });
      if (fatal && !this.fatalError) this.fatalError = error;
      if (name === 'ERR__ALL_BROKERS_DOWN') this.brokersDown = true;
      if (this.errorsSubject.observed) this.errorsSubject.next(error);
      else if (fatal) console.error(`nestjs-kafka-fd: ${this.name}: fatal librdkafka error: ${error.message}`);
    }
  }

  // --- helpers -------------------------------------------------------------------------------------------

  /** A message that failed without a broker's report (refused, purged, timed out waiting for room). */
  private fail(id: number, err: number, why?: string): void {
    this.settle(id, err, -1, OFFSET_INVALID, -1, why);
  }

  private wakeFlushWaiters(): void {
    if (this.flushWaiters.length === 0) return;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) w();
  }

  private deliveryError(err: number, topic: string, why?: string): KafkaFdError {
    const [name, description] = describeError(err);
    return new KafkaFdError(`${name}: ${why ?? description} (topic '${topic}')`, { code: name });
  }

  /**
   * A delivery failure reported by the poller. Its stack would only show the poller's dispatch, and capturing
   * it is most of the cost of an Error: a storm of failures (a purge at close, a broker gone past
   * message.timeout.ms) would stall the event loop for seconds. So these are built without one.
   */
  private reportedError(err: number, topic: string, why?: string): KafkaFdError {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return this.deliveryError(err, topic, why);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  private closedError(): KafkaFdError {
    return new KafkaFdError(
      `producer ${this.name} is ${this.state === 'closed' ? 'closed' : 'closing'}: it accepts no more messages; create a new Producer`,
      { code: 'ERR__STATE' },
    );
  }

  private cleanError(e: unknown): unknown {
    if (e instanceof KafkaFdError) {
      return new KafkaFdError(this.redact(e.message), { code: e.code, fatal: e.fatal });
    }
    return e;
  }
}
