import { KafkaFdError } from '../errors/kafka-fd.error';
import { Poller } from '../poller/poller';

/** How a client's queues are served. */
export interface PollingOptions {
  /** `fd` (default): served on the event loop by a {@link Poller}. `thread`: a thread per client, the
   * old way, kept as a baseline (deprecated). */
  mode?: 'fd' | 'thread';
  /** The poller to join (fd mode); the environment's global poller when left out. */
  poller?: Poller;
  /** Longest native serve of this client per wake-up, ms (fd mode); the poller's `maxTimeMs` by default.
   * When given without `poller`, a poller of its own is made for this client. */
  maxTimeMs?: number;
}

let threadModeWarned = false;

/** The mode and poller a client's `polling` options ask for, checked; thread mode warns once per process. */
export function resolvePolling(polling: PollingOptions = {}, kind: string): { mode: 'fd' | 'thread'; poller: Poller | undefined } {
  const mode = polling.mode ?? 'fd';
  if (mode !== 'fd' && mode !== 'thread') {
    throw new KafkaFdError(`polling.mode must be 'fd' or 'thread', got '${String(mode)}'`, { code: 'ERR__INVALID_ARG' });
  }
  if (mode === 'thread') {
    if (polling.poller || polling.maxTimeMs !== undefined) {
      throw new KafkaFdError(
        `polling.poller and polling.maxTimeMs belong to fd mode: a thread-mode ${kind} polls on a thread of its own. Remove them or use mode 'fd'.`,
        { code: 'ERR__INVALID_ARG' },
      );
    }
    if (!threadModeWarned) {
      threadModeWarned = true;
      process.emitWarning(
        `polling.mode 'thread' polls from a thread per ${kind} and is kept only as a baseline; use the default fd mode.`,
        { type: 'DeprecationWarning', code: 'KAFKA_FD_THREAD_MODE' },
      );
    }
    return { mode, poller: undefined };
  }
  const poller = polling.poller ??
    (polling.maxTimeMs !== undefined ? new Poller({ name: kind, maxTimeMs: polling.maxTimeMs }) : Poller.global());
  return { mode, poller };
}
