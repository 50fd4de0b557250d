import type { NativeConsumer } from '../native/binding';
import type { PartitionState } from './partition-state';

/**
 * Stores processed offsets in librdkafka (`rd_kafka_offsets_store`; auto-commit sends them) at most once per
 * partition per loop turn, not once per message: a store takes librdkafka's partition lock, which its fetching
 * thread takes for every message it adds (a store per message held eachMessage to 0.8M msg/s here; 1.9M
 * without). A handler that then takes long (awaiting I/O, or stuck past max.poll.interval.ms) does not hold back
 * the offsets of the messages before it: they are stored at the end of the turn they were processed in.
 */
export class OffsetStore {
  /** Partitions with processed offsets to store at the end of this loop turn. */
  private readonly due = new Set<PartitionState>();
  private scheduled = false;

  constructor(private readonly native: NativeConsumer) {}

  /** `p` processed up to `next - 1` (every earlier message of it too): stored at the end of this turn. */
  processed(p: PartitionState, next: number): void {
    p.processed = next;
    this.due.add(p);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const q of this.due) if (!q.revoked) this.storeNow(q);
      this.due.clear();
    });
  }

  /** Stores the offset after the partition's last processed message now, if one is waiting. */
  storeNow(p: PartitionState): void {
    const offset = p.takeProcessed();
    if (offset >= 0) this.native.storeOffsets([p.topic], [p.partition], [offset]);
  }
}
