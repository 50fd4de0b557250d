// One adapter per consumer client for `npm run bench:consume`: start N members of one group on a topic and
// call `onMessage` for every message handled, the way each client's documentation shows for a per-message
// handler and, where it has one, a batch handler. Every member reads from the earliest offset of a fresh
// group with auto-commit on (each client's default commit behaviour). Packages load when their factory runs.

/** Called for each message handled: the value (the latency scenario's send time) and the message's Kafka
 * timestamp in ms (the broker's append time on the latency topic). */
export type OnMessage = (value: Buffer | null, timestamp: number) => void;

export interface BenchConsumers {
  /** Starts `n` members of `group` on `topic`, handling every message with `onMessage`. */
  start(n: number, onMessage: OnMessage): Promise<void>;
  close(): Promise<void>;
  librdkafka?: string;
  /** Ours: the poller's longest pass, wall and CPU time, ms. */
  passes?(): { passMaxMs: number; passMaxCpuMs: number };
}

type Factory = (brokers: string, topic: string, group: string) => BenchConsumers;

// eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any
const load = (name: string): any => require(name);

/** Partitions a member handles at once where a client lets us say (all 6 of the bench topic). */
const CONCURRENCY = 6;

/** Ours: `eachMessage` or `eachBatch`, defaults otherwise (maxInFlight 1000, fd mode, the global poller, or a
 * poller of the given turn budget when the client is named `kafka-fd eachBatch@2`, say). */
function kafkaFd(batch: boolean, turnBudgetMs?: number): Factory {
  return (brokers, topic, group) => {
    const core = load('../lib/core') as typeof import('../lib/core');
    const members: Array<import('../lib/core').Consumer> = [];
    const poller = turnBudgetMs === undefined ? undefined : new core.Poller({ name: 'bench', turnBudgetMs });
    return {
      librdkafka: core.librdkafkaVersion(),
      async start(n, onMessage) {
        for (let i = 0; i < n; i++) {
          // BENCH_KAFKA_FD_CONFIG: extra librdkafka settings as JSON (to measure prefetch sizes, say).
          const extra = JSON.parse(process.env.BENCH_KAFKA_FD_CONFIG ?? '{}') as Record<string, string | number>;
          const c = new core.Consumer({ kafka: { 'bootstrap.servers': brokers, 'group.id': group, 'auto.offset.reset': 'earliest', ...extra }, polling: { poller } });
          members.push(c);
          await c.subscribe(topic);
          await c.run(batch
            ? { partitionsConcurrently: CONCURRENCY, eachBatch: ({ messages }) => { for (const m of messages) onMessage(m.value, m.timestamp); } }
            : { partitionsConcurrently: CONCURRENCY, eachMessage: (m) => onMessage(m.value, m.timestamp) });
        }
      },
      close: async () => void (await Promise.all(members.map((c) => c.close()))),
      passes: () => {
        const m = members[0].poller.metrics();
        return { passMaxMs: m.passMaxMs, passMaxCpuMs: m.passMaxCpuMs };
      },
    };
  };
}

/** node-rdkafka's flowing mode (`consume()` with no argument: a thread per consumer, 'data' events). */
const nodeRdkafka: Factory = (brokers, topic, group) => {
  const Kafka = load('node-rdkafka');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const members: any[] = [];
  return {
    librdkafka: Kafka.librdkafkaVersion,
    async start(n, onMessage) {
      for (let i = 0; i < n; i++) {
        const c = new Kafka.KafkaConsumer({ 'group.id': group, 'metadata.broker.list': brokers }, { 'auto.offset.reset': 'earliest' });
        members.push(c);
        await new Promise<void>((resolve, reject) => c.connect({}, (err: Error | null) => (err ? reject(err) : resolve())));
        c.subscribe([topic]);
        c.on('data', (m: { value: Buffer | null; timestamp: number }) => onMessage(m.value, m.timestamp));
        c.consume();
      }
    },
    close: async () => {
      await Promise.all(members.map((c) => new Promise<void>((resolve) => c.disconnect(() => resolve()))));
    },
  };
};

/** The KafkaJS API of kafkajs and of @confluentinc/kafka-javascript: `eachMessage` or `eachBatch`. */
function kafkajsStyle(which: 'kafkajs' | 'confluent', batch: boolean): Factory {
  return (brokers, topic, group) => {
    const pkg = which === 'kafkajs' ? load('kafkajs') : load('@confluentinc/kafka-javascript').KafkaJS;
    const kafka = which === 'kafkajs'
      ? new pkg.Kafka({ brokers: [brokers], logLevel: pkg.logLevel.NOTHING })
      : new pkg.Kafka({ kafkaJS: { brokers: [brokers], logLevel: pkg.logLevel.NOTHING } });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const members: any[] = [];
    return {
      librdkafka: which === 'kafkajs' ? undefined : load('@confluentinc/kafka-javascript').librdkafkaVersion,
      async start(n, onMessage) {
        for (let i = 0; i < n; i++) {
          const c = which === 'kafkajs'
            ? kafka.consumer({ groupId: group })
            : kafka.consumer({ kafkaJS: { groupId: group, fromBeginning: true } });
          members.push(c);
          await c.connect();
          await c.subscribe(which === 'kafkajs' ? { topic, fromBeginning: true } : { topic });
          await c.run(batch
            ? { partitionsConsumedConcurrently: CONCURRENCY, eachBatch: async ({ batch: b }: { batch: { messages: Array<{ value: Buffer | null; timestamp: string }> } }) => {
              for (const m of b.messages) onMessage(m.value, Number(m.timestamp));
            } }
            : { partitionsConsumedConcurrently: CONCURRENCY, eachMessage: async ({ message }: { message: { value: Buffer | null; timestamp: string } }) => onMessage(message.value, Number(message.timestamp)) });
        }
      },
      close: async () => void (await Promise.all(members.map((c) => c.disconnect()))),
    };
  };
}

/** @platformatic/kafka 1.x: its message stream, 'data' events, autocommit. */
const platformatic: Factory = (brokers, topic, group) => {
  const { Consumer } = load('@platformatic/kafka');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const members: any[] = [];
  return {
    async start(n, onMessage) {
      for (let i = 0; i < n; i++) {
        const c = new Consumer({ groupId: group, clientId: `bench-${i}`, bootstrapBrokers: [brokers] });
        members.push(c);
        const stream = await c.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: true });
        stream.on('data', (m: { value: Buffer | null; timestamp: bigint }) => onMessage(m.value, Number(m.timestamp)));
      }
    },
    close: async () => void (await Promise.all(members.map((c) => c.close(true)))),
  };
};

export const CONSUMERS: Record<string, Factory> = {
  'kafka-fd eachMessage': kafkaFd(false),
  'kafka-fd eachBatch': kafkaFd(true),
  'node-rdkafka flowing': nodeRdkafka,
  'confluent KafkaJS eachMessage': kafkajsStyle('confluent', false),
  'confluent KafkaJS eachBatch': kafkajsStyle('confluent', true),
  'kafkajs eachMessage': kafkajsStyle('kafkajs', false),
  'kafkajs eachBatch': kafkajsStyle('kafkajs', true),
  '@platformatic/kafka stream': platformatic,
};

/** The factory of a client named in BENCH_CLIENTS; ours takes `@<turnBudgetMs>` (`kafka-fd eachMessage@2`). */
export function consumerFactory(name: string): Factory {
  const [base, budget] = name.split('@');
  if (budget !== undefined && base.startsWith('kafka-fd ')) return kafkaFd(base.endsWith('eachBatch'), Number(budget));
  const factory = CONSUMERS[name];
  if (!factory) throw new Error(`unknown consumer client '${name}'`);
  return factory;
}
