// The consumer's librdkafka defaults that differ from librdkafka's own, chosen by the linked version: each
// works around a fact of older librdkafka measured on Debian's 2.0.2 (docs/consumer.md).
import type { KafkaConfig } from '../config/kafka-config';
import { librdkafkaVersion } from '../native/binding';

function atLeast(major: number, minor: number): boolean {
  const [a, b] = librdkafkaVersion().split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/**
 * How much librdkafka prefetches. Its fetcher stops fetching a partition once the consumer's buffer holds
 * `queued.min.messages` or `queued.max.messages.kbytes`, and looks again only after a back-off: a fixed 1 s
 * before 2.2, `fetch.queue.backoff.ms` since. With the fixed second, the buffer is what one consumer reads per
 * second (16 MB held ~136,000 messages of 100 B/s here; 64 MB, 377,000/s), so it keeps librdkafka's 64 MB and
 * lifts the message count; with the setting, 16 MB refetched every 10 ms (its throughput not measured yet).
 */
export function prefetchDefaults(): Record<string, number> {
  if (atLeast(2, 2)) return { 'queued.max.messages.kbytes': 16384, 'fetch.queue.backoff.ms': 10 };
  return { 'queued.max.messages.kbytes': 65536, 'queued.min.messages': 1000000 };
}

/**
 * cooperative-sticky, except on librdkafka < 2.3.0: there a member of a cooperative-sticky group destroyed
 * before it was given an assignment aborts the process (an assert on the assignor's state, librdkafka #4312,
 * fixed by #4381 in 2.3.0; reproduced here with 20 members of one group on 6 partitions, closed at once), so
 * librdkafka's own default (range, roundrobin: eager) is kept. Setting the strategy yourself overrides this.
 */
export function defaultStrategy(): string {
  return atLeast(2, 3) ? 'cooperative-sticky' : 'range,roundrobin';
}

/** The configuration a consumer is created with: these defaults under the user's settings, and offsets stored
 * by us after each handler (`enable.auto.offset.store` false: the point of at-least-once). */
export function consumerConfig(kafka: KafkaConfig): KafkaConfig {
  // KIP-848 (group.protocol consumer) has the broker assign partitions: the strategy must be left unset.
  const classic = String(kafka['group.protocol'] ?? 'classic') === 'classic';
  return {
    ...(classic ? { 'partition.assignment.strategy': defaultStrategy() } : {}),
    ...prefetchDefaults(),
    ...kafka,
    'enable.auto.offset.store': false,
  };
}
