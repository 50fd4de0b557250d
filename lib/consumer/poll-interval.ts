import type { ClientStreams } from '../client/client-streams';
import { KafkaFdError } from '../errors/kafka-fd.error';
import type { NativeConsumer } from '../native/binding';
import { nativeError } from './messages';
import type { PartitionState } from './partition-state';

/**
 * Kafka's `max.poll.interval.ms` for a consumer that never stops polling. A poll-loop consumer (Java,
 * kafkajs) stops polling while its handler runs, so a handler stuck longer than the interval gets the member
 * evicted and its partitions reassigned. Ours keeps polling for the other partitions, so librdkafka alone would
 * never notice a stuck handler: this watchdog does, and calls `onExceeded` with the oldest handler's partition.
 * It checks four times per interval (at most once a second), so it fires between 1x and 1.25x the interval.
 */
export class PollIntervalWatchdog {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly running: () => Iterable<PartitionState>,
    private readonly onExceeded: (p: PartitionState, ranMs: number) => void,
  ) {}

  start(): void {
    if (this.timer || !Number.isFinite(this.intervalMs)) return;
    this.timer = setInterval(() => this.check(), Math.max(10, Math.min(1000, Math.floor(this.intervalMs / 4))));
    // It watches handlers; it must not keep the process alive by itself.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const now = Date.now();
    let oldest: PartitionState | undefined;
    for (const p of this.running()) if (p.since > 0 && (!oldest || p.since < oldest.since)) oldest = p;
    if (oldest && now - oldest.since > this.intervalMs) this.onExceeded(oldest, now - oldest.since);
  }
}

/** What {@link MaxPollInterval} needs of its consumer. */
export interface MaxPollHost {
  readonly native: Pick<NativeConsumer, 'subscribe' | 'unsubscribe'>;
  readonly streams: Pick<ClientStreams, 'report'>;
  isOpen(): boolean;
  /** Partitions whose handler runs now. */
  running(): Iterable<PartitionState>;
  /** Partitions the consumer still has state for (a revoke removes them). */
  partitionCount(): number;
  topics(): string[];
}

/**
 * `max.poll.interval.ms` with Kafka's meaning: a handler running longer makes the member leave the group as a
 * poll-loop consumer would be evicted (its partitions go to the others at once, reported as lost), and rejoin
 * once every handler running then has finished, as that consumer would on its next poll.
 */
export class MaxPollInterval {
  /** Out of the group after a handler overran; back once the running handlers finish. */
  evicted = false;
  private readonly watchdog: PollIntervalWatchdog;

  constructor(private readonly maxPollMs: number, private readonly host: MaxPollHost) {
    this.watchdog = new PollIntervalWatchdog(maxPollMs, () => host.running(), (p, ranMs) => this.evict(p, ranMs));
  }

  start(): void {
    this.watchdog.start();
  }

  stop(): void {
    this.watchdog.stop();
  }

  private evict(p: PartitionState, ranMs: number): void {
    const host = this.host;
    if (this.evicted || !host.isOpen()) return;
    this.evicted = true;
    const error = new KafkaFdError(
      `handler for ${p.topic} [${p.partition}] has run for ${ranMs} ms, longer than max.poll.interval.ms ` +
        `(${this.maxPollMs}): the consumer leaves the group and rejoins once its running handlers finish`,
      { code: 'ERR__MAX_POLL_EXCEEDED' },
    );
    host.streams.report(error, 'KAFKA_FD_MAX_POLL_EXCEEDED', `${p.topic}/${p.partition}`);
    const err = host.native.unsubscribe();
    if (err !== 0) {
      this.evicted = false;
      host.streams.report(nativeError(err, 'leaving the group'), 'KAFKA_FD_EVICT_FAILED');
      return;
    }
    void Promise.all([...host.running()].map((r) => r.idle())).then(() => this.rejoin());
  }

  private rejoin(tries = 0): void {
    const host = this.host;
    if (!host.isOpen() || !this.evicted) return;
    // The revoke that follows unsubscribe is handled first (its partitions' states are then gone), so that the
    // next assignment starts clean; a few seconds at most.
    if (host.partitionCount() > 0 && tries < 250) {
      setTimeout(() => this.rejoin(tries + 1), 20);
      return;
    }
    this.evicted = false;
    const err = host.native.subscribe(host.topics());
    if (err !== 0) host.streams.report(nativeError(err, 'rejoining the group'), 'KAFKA_FD_REJOIN_FAILED');
  }
}
