import { KafkaFdError } from '../errors/kafka-fd.error';
import { checkTimeout, startTimer } from '../util/timeout';

/** The callers of `flush()`, woken together when the producer has nothing in flight. */
export class FlushWaiters {
  private waiters: Array<() => void> = [];

  /** `inFlight()` is read now and in the timeout's message. */
  constructor(private readonly inFlight: () => number) {}

  /** Resolves when `wake()` is called with nothing in flight; rejects with `ERR__TIMED_OUT` after `timeoutMs`
   * (`Infinity`: no limit; NaN or negative: `ERR__INVALID_ARG`). */
  wait(timeoutMs: number): Promise<void> {
    try {
      checkTimeout('flush timeoutMs', timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.inFlight() === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const cancel = startTimer(timeoutMs, () => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new KafkaFdError(`flush timed out after ${timeoutMs} ms with ${this.inFlight()} messages in flight`, {
          code: 'ERR__TIMED_OUT',
        }));
      });
      const done = (): void => {
        cancel();
        resolve();
      };
      this.waiters.push(done);
    });
  }

  /** Wakes every waiter if nothing is in flight any more. */
  wakeIfIdle(): void {
    if (this.waiters.length === 0 || this.inFlight() !== 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Wakes every waiter (the producer has closed: nothing will be in flight again). */
  wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
