import { KafkaFdError } from '../errors/kafka-fd.error';
import { NativeMockCluster, native } from '../native/binding';
import { checkTopic } from '../producer/validate';
import { MAX_TIMER_MS } from '../util/timeout';

function invalid(message: string): KafkaFdError {
  return new KafkaFdError(`MockCluster: ${message}`, { code: 'ERR__INVALID_ARG' });
}

/** An int32 argument of the addon, checked here so that a bad one is a KafkaFdError, not a TypeError. */
function int(name: string, value: unknown, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > MAX_TIMER_MS) {
    throw invalid(`${name} must be an integer from ${min} to ${MAX_TIMER_MS}, got ${String(value)}`);
  }
  return value as number;
}

/** Options of {@link MockCluster.start}. */
export interface MockClusterOptions {
  /** Brokers in the cluster (default 1). */
  brokers?: number;
  /** Topics to create at once, with their partition counts. */
  topics?: Record<string, number>;
}

/**
 * librdkafka's mock cluster: an in-process Kafka look-alike on random local ports, with fault hooks. It is
 * the embedded broker of examples and tests when no real broker is configured. It speaks only what
 * librdkafka needs (ApiVersions up to v2), so other Kafka clients need a real broker.
 *
 * A started cluster runs until {@link close} or until its environment ends (process exit, worker exit):
 * dropping the object does not stop it, so keeping only `bootstrapServers` is fine.
 */
export class MockCluster {
  private constructor(private readonly native: NativeMockCluster, readonly bootstrapServers: string) {}

  /** Starts a cluster with `brokers` brokers (ids 1..n). */
  static start(options: MockClusterOptions = {}): MockCluster {
    const brokers = options.brokers ?? 1;
    if (!Number.isInteger(brokers) || brokers < 1) {
      throw new KafkaFdError(`MockCluster brokers must be an integer >= 1, got ${String(brokers)}`, { code: 'ERR__INVALID_ARG' });
    }
    const n = new (native().NativeMockCluster)(brokers);
    const cluster = new MockCluster(n, n.bootstraps());
    for (const [topic, partitions] of Object.entries(options.topics ?? {})) cluster.createTopic(topic, partitions);
    return cluster;
  }

  /** Creates a topic (topics are also created on first use with the cluster's defaults). */
  createTopic(name: string, partitions = 1, replicationFactor = 1): void {
    const bad = checkTopic(name);
    if (bad) throw bad;
    this.native.createTopic(name, int('partitions', partitions, 1), int('replicationFactor', replicationFactor, 1));
  }

  /** Takes a broker down: its connections close and it refuses new ones until {@link brokerUp}. */
  brokerDown(brokerId: number): void {
    this.native.brokerDown(int('brokerId', brokerId, 1));
  }

  /** Brings a broker back up. */
  brokerUp(brokerId: number): void {
    this.native.brokerUp(int('brokerId', brokerId, 1));
  }

  /** Adds a round-trip delay to a broker's responses (an integer number of ms, 0 to 2^31-1). */
  setRtt(brokerId: number, ms: number): void {
    this.native.setRtt(int('brokerId', brokerId, 1), int('setRtt ms', ms, 0));
  }

  /** The next requests of API `apiKey` (0: Produce, 3: Metadata, ...) fail with these error codes, in order. */
  pushRequestErrors(apiKey: number, errorCodes: number[]): void {
    if (!Array.isArray(errorCodes)) throw invalid(`pushRequestErrors takes an array of error codes, got ${typeof errorCodes}`);
    this.native.pushRequestErrors(int('apiKey', apiKey, 0), errorCodes.map((c) => int('error code', c, -MAX_TIMER_MS)));
  }

  /** Moves a partition's leadership to another broker. */
  setPartitionLeader(topic: string, partition: number, brokerId: number): void {
    this.native.setPartitionLeader(topic, int('partition', partition, 0), int('brokerId', brokerId, 1));
  }

  /** Stops the cluster (off the JS thread). */
  close(): Promise<void> {
    return this.native.close();
  }
}
