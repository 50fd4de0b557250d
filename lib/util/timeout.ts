import { KafkaFdError } from '../errors/kafka-fd.error';

/** The longest delay `setTimeout` takes: longer ones fire after 1 ms (Node's TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks a timeout given by a user: a number >= 0 in ms, or `Infinity` for no limit. NaN, negative numbers
 * and non-numbers are refused with a {@link KafkaFdError} naming the option, never clamped.
 */
export function checkTimeout(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new KafkaFdError(`${name} must be a number of ms >= 0, or Infinity for no limit; got ${String(value)}`, {
      code: 'ERR__INVALID_ARG',
    });
  }
  return value;
}

/**
 * Calls `fn` after `ms`, for any `ms` {@link checkTimeout} accepts: `Infinity` never fires, and delays past
 * 2^31-1 ms (about 24.8 days) are waited in steps. Returns a function that cancels it.
 */
export function startTimer(ms: number, fn: () => void): () => void {
  if (ms === Infinity) return () => undefined;
  const deadline = Date.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = (left: number): void => {
    timer = setTimeout(() => {
      const rest = deadline - Date.now();
      if (rest > 0) arm(rest);
      else fn();
    }, Math.min(left, MAX_TIMER_MS));
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/**
 * A timeout for librdkafka's `int timeout_ms` arguments: `-1` (no limit) for `Infinity` and for anything
 * an int cannot hold (over 2^31-1 ms: librdkafka could not wait that long anyway).
 */
export function nativeTimeout(ms: number): number {
  return ms > MAX_TIMER_MS ? -1 : Math.floor(ms);
}
