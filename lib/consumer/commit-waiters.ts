import { KafkaFdError } from '../errors/kafka-fd.error';
import { startTimer } from '../util/timeout';

/** The callers of `commit()`, each waiting for the answer that carries its id (the commit's opaque). */
export class CommitWaiters {
  private next = 1;
  private readonly waiters = new Map<number, (error?: unknown) => void>();

  nextId(): number {
    return this.next++;
  }

  /** Resolves with the answer to commit `id`; rejects with `ERR__TIMED_OUT` after `timeoutMs` (`Infinity`: never). */
  wait(id: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const cancel = startTimer(timeoutMs, () => {
        this.waiters.delete(id);
        reject(new KafkaFdError(`commit: no answer from the group coordinator within ${timeoutMs} ms`, { code: 'ERR__TIMED_OUT' }));
      });
      this.waiters.set(id, (error) => {
        cancel();
        if (error === undefined) resolve();
        else reject(error);
      });
    });
  }

  /** Settles the waiter of `id` (with `error` when it failed); false when nobody waits for it (an auto-commit). */
  settle(id: number, error?: unknown): boolean {
    const waiter = this.waiters.get(id);
    if (!waiter) return false;
    this.waiters.delete(id);
    waiter(error);
    return true;
  }

  rejectAll(error: unknown): void {
    const waiters = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of waiters) w(error);
  }
}
