import type { KafkaStats } from '../client/types';
import { PartitionState, keyOf } from './partition-state';
import type { ConsumerLag } from './types';

interface PartitionStats { consumer_lag?: number }

/** The lag of the partitions assigned here, from one statistics event (librdkafka's `consumer_lag`; -1: unknown). */
export function lagOf(stats: KafkaStats, assigned: ReadonlyMap<string, PartitionState>): ConsumerLag {
  const partitions: ConsumerLag['partitions'] = [];
  let total = 0;
  for (const [topic, t] of Object.entries(stats.topics ?? {})) {
    const parts = (t as { partitions?: Record<string, PartitionStats> }).partitions ?? {};
    for (const [id, p] of Object.entries(parts)) {
      const partition = Number(id);
      const state = assigned.get(keyOf(topic, partition));
      // Partition -1 is librdkafka's internal unassigned one; revoked partitions are someone else's now.
      if (partition < 0 || !state || state.revoked || typeof p.consumer_lag !== 'number' || p.consumer_lag < 0) continue;
      partitions.push({ topic, partition, lag: p.consumer_lag });
      total += p.consumer_lag;
    }
  }
  // `time` is librdkafka's wall clock in seconds.
  return { total, partitions, at: typeof stats.time === 'number' ? stats.time * 1000 : Date.now() };
}
