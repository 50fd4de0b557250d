import { Observable, Subject } from 'rxjs';
import { KafkaConfig, secretRedactor } from '../config/kafka-config';
import { KafkaFdError } from '../errors/kafka-fd.error';
import { constants } from '../native/binding';
import type { ClientHealth, KafkaLog, KafkaStats } from './types';

/**
 * What every client (producer and consumer) reports besides its own results: librdkafka's
 * errors, statistics and logs as streams, what it knows of its health, and secrets redacted from all of it.
 * A client composes one, hands it the addon's events (`onEvent`), and completes it when it has closed.
 */
export class ClientStreams {
  /** The first fatal error librdkafka raised: the client then refuses all work. */
  fatalError: KafkaFdError | undefined;
  /** librdkafka said all brokers are down, and nothing since showed one up. */
  brokersDown = false;
  /** Replaces the values of the configuration's secrets in a text. */
  readonly redact: (text: string) => string;

  private readonly statsSubject = new Subject<KafkaStats>();
  private readonly errorsSubject = new Subject<KafkaFdError>();
  private readonly logsSubject = new Subject<KafkaLog>();
  private readonly warned = new Set<string>();

  /** `name()` is read lazily: the client's name is known only once its native handle exists. `onStats`: the
   * client's own use of each statistics event (parsed once, for it and for `stats$`). */
  constructor(config: KafkaConfig, private readonly name: () => string, private readonly onStats?: (stats: KafkaStats) => void) {
    this.redact = secretRedactor(config);
  }

  get stats$(): Observable<KafkaStats> {
    return this.statsSubject.asObservable();
  }

  get errors$(): Observable<KafkaFdError> {
    return this.errorsSubject.asObservable();
  }

  get logs$(): Observable<KafkaLog> {
    return this.logsSubject.asObservable();
  }

  /** Whether `errors$` has a subscriber. */
  get errorsObserved(): boolean {
    return this.errorsSubject.observed;
  }

  /** Publishes an error of the client's own (a failed delivery nobody else waits for). */
  error(error: KafkaFdError): void {
    this.errorsSubject.next(error);
  }

  /** An error the user must hear of: on `errors$` when it has a subscriber, else as a process warning once. */
  report(error: KafkaFdError, warning: string, detail?: string): void {
    if (this.errorsSubject.observed) this.errorsSubject.next(error);
    else this.warnOnce(warning, `${this.name()}: ${error.message}`, detail);
  }

  /** What the client knows of its state, cheaply (no subscription needed). */
  health(closed: boolean): ClientHealth {
    return { closed, fatal: this.fatalError?.message, brokersDown: this.brokersDown };
  }

  /** One event from the addon (native/src/event_queue.h): an error, statistics or a log line. */
  onEvent(kind: number, code: number, name: string, text: string, fatal: boolean): void {
    const events = constants().events;
    if (kind === events.stats) {
      if (this.brokersDown && text.includes('"state":"UP"')) this.brokersDown = false;
      if (this.statsSubject.observed || this.onStats) {
        const stats = JSON.parse(text) as KafkaStats;
        this.onStats?.(stats);
        if (this.statsSubject.observed) this.statsSubject.next(stats);
      }
    } else if (kind === events.log) {
      if (this.logsSubject.observed) {
        this.logsSubject.next({ level: code, facility: name, message: this.redact(text), producer: this.name() });
      }
    } else if (kind === events.error) {
      const error = new KafkaFdError(this.redact(`${name}: ${text}`), { code: name, fatal });
      if (fatal && !this.fatalError) this.fatalError = error;
      if (name === 'ERR__ALL_BROKERS_DOWN') this.brokersDown = true;
      if (this.errorsSubject.observed) this.errorsSubject.next(error);
      else if (fatal) this.warnOnce('KAFKA_FD_FATAL', `${this.name()}: fatal librdkafka error, the client accepts no more work: ${error.message}`);
    }
  }

  /**
   * Something the user should know and no stream of theirs carries: a process warning (visible, and
   * silenced the usual ways), once per `code` and detail.
   */
  warnOnce(code: string, message: string, detail = code): void {
    if (this.warned.has(detail)) return;
    this.warned.add(detail);
    process.emitWarning(message, { code });
  }

  /** A KafkaFdError from the addon with secrets redacted; anything else as it is. */
  clean(e: unknown): unknown {
    if (e instanceof KafkaFdError) return new KafkaFdError(this.redact(e.message), { code: e.code, fatal: e.fatal });
    return e;
  }

  /** The client has closed: the streams complete. */
  complete(): void {
    this.statsSubject.complete();
    this.errorsSubject.complete();
    this.logsSubject.complete();
  }
}
