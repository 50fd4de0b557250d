import type { NativeConsumer } from '../native/binding';

/**
 * What a producer's transaction needs of a consumer whose offsets it commits: its native handle (for the
 * group's metadata) and whether it commits by itself. Reached through this symbol, not a public property.
 */
export const CONSUMER_HANDLE = Symbol('nestjs-kafka-fd consumer handle');

export interface ConsumerHandle {
  native: NativeConsumer;
  autoCommit: boolean;
  name: string;
}
