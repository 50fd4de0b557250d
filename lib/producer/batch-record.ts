import type { KafkaFdError } from '../errors/kafka-fd.error';
import type { BatchReport } from './types';

/**
 * A batch of `produceMany`: one record shared by all its messages. It resolves once every message is
 * acknowledged, or rejects with the first failure (its `failed` count says how many failed) once every
 * message has a report.
 */
export class BatchRecord {
  private remaining: number;
  private failed = 0;
  private firstError: KafkaFdError | undefined;

  constructor(readonly total: number, private readonly resolve: (r: BatchReport) => void, private readonly reject: (e: unknown) => void) {
    this.remaining = total;
  }

  /** `count` messages have their reports; `error` when they failed. */
  done(count: number, error?: KafkaFdError): void {
    if (error) {
      this.failed += count;
      this.firstError ??= error;
    }
    this.remaining -= count;
    if (this.remaining > 0) return;
    if (this.failed === 0) {
      this.resolve({ delivered: this.total });
      return;
    }
    const e = this.firstError!;
    (e as KafkaFdError & { failed?: number }).failed = this.failed;
    this.reject(e);
  }
}
