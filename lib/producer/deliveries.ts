import { Observable, Subject } from 'rxjs';
import type { ClientStreams } from '../client/client-streams';
import { reportedError } from '../errors/delivery-errors';
import type { KafkaFdError } from '../errors/kafka-fd.error';
import { constants } from '../native/binding';
import { BatchRecord } from './batch-record';
import { PendingRing } from './pending-ring';
import type { DeliveryReport } from './types';

type Owner = ((r: DeliveryReport) => void) | BatchRecord;

// One executor for every promise: no closure per produce() call.
let capturedResolve: ((r: DeliveryReport) => void) | undefined;
let capturedReject: ((e: unknown) => void) | undefined;
function capture(resolve: (r: DeliveryReport) => void, reject: (e: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/**
 * Who waits for which message, and the delivery of each report to it: a `produce()` promise, a
 * `produceMany` batch, `acks$`, or `errors$` (a failed `produceAsync`; with no subscriber anywhere, a
 * warning once per code, never silence). Report objects are built only for someone who reads them.
 */
export class Deliveries {
  private readonly pending = new PendingRing<Owner>();
  private readonly acksSubject = new Subject<DeliveryReport>();

  constructor(private readonly streams: ClientStreams, private readonly name: () => string) {}

  get acks$(): Observable<DeliveryReport> {
    return this.acksSubject.asObservable();
  }

  /** A promise for message `id`, settled by its report. */
  promise(id: number, topic: string): Promise<DeliveryReport> {
    const promise = new Promise<DeliveryReport>(capture);
    this.pending.put(id, topic, capturedResolve, capturedReject);
    return promise;
  }

  /** Message `id` reports to `acks$`/`errors$` (`produceAsync`) or to its batch. */
  expect(id: number, topic: string, batch?: BatchRecord): void {
    this.pending.put(id, topic, batch, undefined);
  }

  /** Message `id` was never queued (the addon refused it at once): nobody waits for it any more. With
   * `error`, its promise (if any) rejects with it. */
  forget(id: number, error?: unknown): void {
    const slot = this.pending.find(id);
    if (slot < 0) return;
    const reject = this.pending.reject(slot);
    this.pending.release(slot);
    if (error !== undefined) reject?.(error);
  }

  /** Delivers one report to whoever waits for it. */
  settle(id: number, err: number, partition: number, offset: number, timestamp: number, why?: string): void {
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
      if (owner instanceof BatchRecord) owner.done(1);
      return;
    }
    const error = reportedError(err, topic, why);
    if (observed) this.acksSubject.next({ topic, partition, offset, timestamp, error });
    if (reject) reject(error);
    else if (owner instanceof BatchRecord) owner.done(1, error);
    else if (this.streams.errorsObserved) this.streams.error(error);
    else if (!observed) this.warnUnobserved(error);
  }

  /** A message that failed without a broker's report (refused, purged, timed out waiting for room). */
  fail(id: number, err: number, why?: string): void {
    this.settle(id, err, -1, constants().offsetInvalid, -1, why);
  }

  /** Every id still waiting, in order (for close: fail what never got a report). */
  waitingIds(): number[] {
    return this.pending.waitingIds();
  }

  complete(): void {
    this.acksSubject.complete();
  }

  private warnUnobserved(error: KafkaFdError): void {
    this.streams.warnOnce('KAFKA_FD_UNOBSERVED_FAILURE', `${this.name()}: a message produced with produceAsync failed (${error.message}) ` +
      'and neither acks$ nor errors$ has a subscriber; further failures with this code are not reported here.', error.code);
  }
}
