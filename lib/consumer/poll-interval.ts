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
