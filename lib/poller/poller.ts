import { KafkaFdError } from '../errors/kafka-fd.error';
import { NativePoller, constants, native } from '../native/binding';
import { MAX_TIMER_MS } from '../util/timeout';
import type { PollerOptions } from './poller-options';

export type { PollerOptions } from './poller-options';

/** What a poller has done since it was created. */
export interface PollerMetrics {
  /** Times a producer's fd was readable. */
  wakeups: number;
  /** Serves of a producer's queue (`rd_kafka_poll(rk, 0)` until empty or the budget ends). */
  serves: number;
  /** Events librdkafka served: a delivery-report batch, a statistics payload, a log line, an error. */
  events: number;
  /** Delivery reports handed to JS. */
  reports: number;
  /** JS calls that carried them. */
  batches: number;
  /** Serves stopped by `maxTimeMs` or the turn budget with more to do. */
  cutShort: number;
  /** Loop turns that left work for the next turn. */
  turnsDeferred: number;
  /** Serves started by the safety timer. */
  safetyServes: number;
  /** Time spent in librdkafka's serve, ms. */
  serveMs: number;
  /** Time spent handing batches to JS, including the JS callbacks, ms. */
  dispatchMs: number;
  /** Passes over the ready clients (at most one per event-loop turn). */
  passes: number;
  /**
   * The longest pass, ms. Batches are sized to the time left in the turn from what each client's JS work
   * cost so far, so a pass stays within `turnBudgetMs` unless one batch alone costs more (a slow synchronous
   * handler: the first client of a pass always gets at least one report or message).
   */
  passMaxMs: number;
  /**
   * The most CPU time the JS thread spent in one pass, ms: a pass's wall time also counts the thread's waits
   * (a lock librdkafka's threads hold, the OS running another thread), which no batch size controls.
   */
  passMaxCpuMs: number;
  /** Passes that ran past `turnBudgetMs`. */
  overBudget: number;
  /** Clients (producers and consumers) registered now. */
  producers: number;
}

let globalPoller: Poller | undefined;

/**
 * Serves librdkafka queues on the event loop: one fd per producer watched with libuv, served without
 * blocking when readable. No thread, no interval timer. Every environment (the main thread, each worker
 * thread) has one global poller, created on first use; dedicated pollers are created by name and may be
 * shared by several producers (`polling: { poller }`).
 */
export class Poller {
  readonly name: string;
  readonly options: Readonly<Required<Omit<PollerOptions, 'name'>>>;
  /** @internal */
  readonly native: NativePoller;

  constructor(options: PollerOptions = {}) {
    // Intervals and budgets, not limits: Infinity has no meaning here, and past 2^31-1 ms a timer cannot
    // wait. Refused with the reason rather than clamped.
    for (const key of ['maxTimeMs', 'pollTimeoutMs', 'turnBudgetMs'] as const) {
      const value = options[key];
      if (value !== undefined && !(typeof value === 'number' && value > 0 && value <= MAX_TIMER_MS)) {
        throw new KafkaFdError(`Poller option ${key} must be a number of ms > 0 and <= ${MAX_TIMER_MS}, got ${String(value)}`, {
          code: 'ERR__INVALID_ARG',
        });
      }
    }
    const batchSize = options.batchSize;
    if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 65536)) {
      throw new KafkaFdError(`Poller option batchSize must be an integer from 1 to 65536, got ${String(batchSize)}`, {
        code: 'ERR__INVALID_ARG',
      });
    }
    this.name = options.name ?? 'poller';
    const defaults = constants().pollerDefaults;
    this.options = {
      maxTimeMs: options.maxTimeMs ?? defaults.maxTimeMs,
      pollTimeoutMs: options.pollTimeoutMs ?? defaults.pollTimeoutMs,
      turnBudgetMs: options.turnBudgetMs ?? defaults.turnBudgetMs,
      batchSize: batchSize ?? defaults.batchSize,
    };
    this.native = new (native().NativePoller)(this.options);
  }

  /** The global poller of this environment (main thread or worker thread), created on first use. */
  static global(): Poller {
    globalPoller ??= new Poller({ name: 'global' });
    return globalPoller;
  }

  /** Counters since creation. */
  metrics(): PollerMetrics {
    return this.native.metrics() as unknown as PollerMetrics;
  }

  /** Producers registered now. */
  get producerCount(): number {
    return this.native.targetCount();
  }

  /** Whether the poller holds libuv handles now (it releases them when its last producer closes). */
  get active(): boolean {
    return this.native.hasHandles();
  }
}
