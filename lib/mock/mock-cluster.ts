import { KafkaFdError } from '../errors/kafka-fd.error';
import { NativeMockCluster, native } from '../native/binding';

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
    this.native.createTopic(name, partitions, replicationFactor);
  }

  /** Takes a broker down: its connections close and it refuses new ones until {@link brokerUp}. */
  brokerDown(brokerId: number): void {
    this.native.brokerDown(brokerId);
  }

  /** Brings a broker back up. */
  brokerUp(brokerId: number): void {
    this.native.brokerUp(brokerId);
  }

  /** Adds a round-trip delay to a broker's responses. */
  setRtt(brokerId: number, ms: number): void {
    this.native.setRtt(brokerId, ms);
  }

  /** The next requests of API `apiKey` (0: Produce, 3: Metadata, ...) fail with these error codes, in order. */
  pushRequestErrors(apiKey: number, errorCodes: number[]): void {
    this.native.pushRequestErrors(apiKey, errorCodes);
  }

  /** Moves a partition's leadership to another broker. */
  setPartitionLeader(topic: string, partition: number, brokerId: number): void {
    this.native.setPartitionLeader(topic, partition, brokerId);
  }

  /** Stops the cluster (off the JS thread). */
  close(): Promise<void> {
    return this.native.close();
  }
}
