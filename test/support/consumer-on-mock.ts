// The harness of the consumer specs on the mock cluster. librdkafka 2.0.2's mock coordinator keeps a member
// that left until its session times out, so members that leave before another joins use a short
// session.timeout.ms; each test gets a group of its own.
import { Consumer, MockCluster, Producer } from '../../lib';
import { track } from './track';

export interface ConsumerOnMock {
  readonly mock: MockCluster;
  /** Fills topics (and produces anything else a test needs). */
  readonly producer: Producer;
  /** A consumer of this test's group (closed after the test), `earliest`, a 6 s session. */
  consumer(kafka?: Record<string, string | number>, extra?: object): Consumer;
  /** A new group for the consumers made after this call. */
  nextGroup(): void;
  /** `n` messages into `topic`: keys k0-k12, values v0..., a header `i`. */
  fill(topic: string, n: number): Promise<unknown>;
  /** Waits until `done()` or `ms` passes (the test's expectations then say what went wrong). */
  until(done: () => boolean, ms?: number): Promise<void>;
}

/** A mock cluster with `topics` (name: partitions) for the specs of this file; registers its own hooks. */
export function consumerOnMock(topics: Record<string, number>): ConsumerOnMock {
  const consumers = track<Consumer>(10000);
  let group = 0;
  let mock: MockCluster | undefined;
  let producer: Producer | undefined;
  beforeAll(() => {
    mock = MockCluster.start({ topics });
    producer = new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers } });
  });
  beforeEach(() => {
    group++;
  });
  afterEach(() => consumers.closeAll());
  afterAll(async () => {
    await producer?.close();
    await mock?.close();
  });
  const harness: ConsumerOnMock = {
    get mock() {
      return mock!;
    },
    get producer() {
      return producer!;
    },
    consumer: (kafka = {}, extra = {}) =>
      consumers.add(new Consumer({
        kafka: { 'bootstrap.servers': mock!.bootstrapServers, 'group.id': `g${group}`, 'auto.offset.reset': 'earliest', 'session.timeout.ms': 6000, ...kafka },
        ...extra,
      })),
    nextGroup: () => {
      group++;
    },
    fill: (topic, n) =>
      producer!.produceMany(Array.from({ length: n }, (_, i) => ({ topic, key: `k${i % 13}`, value: `v${i}`, headers: { i: `${i}` } }))),
    until: async (done, ms = 30000) => {
      const deadline = Date.now() + ms;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    },
  };
  return harness;
}
