// One adapter per client for the side-by-side benchmarks: connect N producers, send messages from any of
// them without waiting, and hear about every acknowledgement (acks=all for everyone). Each client is used
// the way its own documentation recommends for throughput with delivery confirmation; the settings that
// matter are in the comments. Every package is loaded when its factory runs, so that a process can measure
// its memory with the client's code loaded and no producer yet.
import type { Producer as FdProducer } from '../lib/core';
import { ThreadSched } from './sched';

/**
 * Told of acknowledged messages: `count` of them, sent at `sentAtMs` (epoch ms, fractional). Clients with a
 * promise per send pass the time they took before sending; clients whose acks come as delivery reports pass
 * the report's timestamp (librdkafka's CreateTime, whole ms: latencies read up to 1 ms high).
 */
export type OnAcked = (count: number, sentAtMs: number) => void;

export interface BenchClient {
  /** Connects `n` producers and sends one warm-up message from each (connections and metadata). */
  connect(n: number): Promise<void>;
  /** Producer `i` sends `count` messages of `value`; returns (or resolves) once they are handed over, and
   * calls `onAcked` as they are acknowledged. A delivery failure throws: a benchmark must not lose messages. */
  send(i: number, count: number, value: Buffer, onAcked: OnAcked): void | Promise<void>;
  close(): Promise<void>;
  librdkafka?: string;
  /** Ours in fd mode: the global poller's metrics (the paced scenario reports what its passes cost). */
  pollerMetrics?(): import('../lib/core').PollerMetrics;
}

type Factory = (brokers: string, topic: string) => BenchClient;

/** Epoch ms with sub-ms precision, the clock of every latency. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** Every producer sends `count` messages; resolves once all are acknowledged. */
export async function burst(c: BenchClient, producers: number, count: number, value: Buffer): Promise<void> {
  let left = producers * count;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const onAcked: OnAcked = (k) => {
    left -= k;
    if (left === 0) done();
  };
  for (let i = 0; i < producers; i++) await c.send(i, count, value, onAcked);
  await all;
}

/**
 * The seed measurement: one short burst to warm up, then `rounds` timed bursts of `count` messages per
 * producer; the median burst in ms and the process's CPU time per message over the rounds.
 */
export async function timeBursts(c: BenchClient, producers: number, count: number, rounds: number, warmUp: number):
Promise<{ ms: number; cpuUsPerMsg: number; jsCpuUsPerMsg?: number; jsWaitUsPerMsg?: number }> {
  const value = Buffer.alloc(100, 7);
  await burst(c, producers, warmUp, value);
  // The JS thread's own share (schedstat): time on a CPU, and waiting on the run queue for one.
  const sched = new ThreadSched();
  const s0 = sched.read();
  const cpu0 = process.cpuUsage();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    await burst(c, producers, count, value);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cpu = process.cpuUsage(cpu0);
  const s1 = sched.read();
  sched.close();
  const ms = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  const msgs = producers * count * rounds;
  return {
    ms, cpuUsPerMsg: (cpu.user + cpu.system) / msgs,
    ...(s0 && s1 ? { jsCpuUsPerMsg: (s1[0] - s0[0]) / 1000 / msgs, jsWaitUsPerMsg: (s1[1] - s0[1]) / 1000 / msgs } : {}),
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = (name: string): any => require(name);

const failed = (e: unknown): never => {
  throw new Error(`bench: a delivery failed: ${String(e)}`);
};

/**
 * Ours: fd or thread mode; produce() (a promise each), produceAsync() (acks from acks$) or produceMany()
 * (one promise per batch). Defaults otherwise (linger.ms 5, as librdkafka's; the global poller, or in fd mode
 * a poller of the given turn budget when the client is named `kafka-fd fd produceAsync()@2`, say).
 */
function ours(mode: 'fd' | 'thread', api: 'produce' | 'produceAsync' | 'produceMany', turnBudgetMs?: number): Factory {
  return (brokers, topic) => {
    const core = require('../lib/core') as typeof import('../lib/core');
    let ps: FdProducer[] = [];
    let onReport: OnAcked | undefined;
    const poller = turnBudgetMs === undefined || mode !== 'fd' ? core.Poller.global() : new core.Poller({ name: 'bench', turnBudgetMs });
    return {
      librdkafka: core.librdkafkaVersion(),
      pollerMetrics: mode === 'fd' ? () => poller.metrics() : undefined,
      async connect(n) {
        ps = Array.from({ length: n }, () => new core.Producer({ kafka: { 'bootstrap.servers': brokers, acks: 'all' }, polling: mode === 'fd' ? { mode, poller } : { mode } }));
        await Promise.all(ps.map((p) => p.produce({ topic, value: 'warm-up' })));
        if (api === 'produceAsync') {
          for (const p of ps) {
            p.acks$.subscribe((r) => (r.error ? failed(r.error) : onReport!(1, r.timestamp)));
          }
        }
      },
      send(i, count, value, onAcked) {
        const p = ps[i];
        if (api === 'produceAsync') {
          onReport = onAcked;
          for (let k = 0; k < count; k++) p.produceAsync({ topic, value });
          return;
        }
        const t = nowMs();
        if (api === 'produceMany') {
          p.produceMany(Array.from({ length: count }, () => ({ topic, value }))).then(() => onAcked(count, t), failed);
          return;
        }
        const acked = (): void => onAcked(1, t);
        for (let k = 0; k < count; k++) p.produce({ topic, value }).then(acked, failed);
      },
      async close() {
        await Promise.all(ps.map((p) => p.close()));
      },
    };
  };
}

/**
 * node-rdkafka's producer API (node-rdkafka itself, or @confluentinc/kafka-javascript's copy of it): delivery
 * reports on 'delivery-report' with `dr_cb: true`. node-rdkafka polls from `setPollInterval(100)` (its README);
 * @confluentinc/kafka-javascript recommends `setPollInBackground(true)` (a librdkafka background thread).
 */
function rdkafkaApi(pkg: string, background: boolean): Factory {
  return (brokers, topic) => {
    const Kafka = load(pkg);
    let ps: any[] = [];
    let onReport: OnAcked | undefined;
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    return {
      librdkafka: Kafka.librdkafkaVersion,
      async connect(n) {
        ps = await Promise.all(Array.from({ length: n }, () => new Promise<any>((resolve, reject) => {
          const p = new Kafka.Producer({ 'bootstrap.servers': brokers, acks: 'all', dr_cb: true });
          p.on('ready', () => {
            // Once connected: setPollInBackground before 'ready' crashed @confluentinc/kafka-javascript 1.10.1 here.
            if (background) p.setPollInBackground(true);
            else p.setPollInterval(100);
            resolve(p);
          });
          p.connect({}, (e: unknown) => e && reject(e));
        })));
        let warm = 0;
        await new Promise<void>((resolve) => {
          onReport = () => ++warm === n && resolve();
          for (const p of ps) {
            p.on('delivery-report', (err: unknown, r: { timestamp: number }) => (err ? failed(err) : onReport!(1, r.timestamp)));
            p.produce(topic, null, Buffer.from('warm-up'));
          }
        });
      },
      async send(i, count, value, onAcked) {
        onReport = onAcked;
        for (let k = 0; k < count; k++) {
          for (;;) {
            try {
              ps[i].produce(topic, null, value);
              break;
            } catch {
              // Queue full: let the poller make room, as their docs suggest.
              await sleep(1);
            }
          }
        }
      },
      async close() {
        await Promise.all(ps.map((p) => new Promise<void>((resolve) => p.disconnect(() => resolve()))));
      },
    };
  };
}

/** KafkaJS-style APIs (kafkajs, and @confluentinc/kafka-javascript's KafkaJS API): one send() per batch. */
function kafkajsStyle(which: 'kafkajs' | 'confluent'): Factory {
  return (brokers, topic) => {
    const pkg = load(which === 'kafkajs' ? 'kafkajs' : '@confluentinc/kafka-javascript');
    let ps: any[] = [];
    const make = (): any => {
      if (which === 'kafkajs') return new pkg.Kafka({ brokers: [brokers], logLevel: pkg.logLevel.ERROR }).producer();
      const { KafkaJS } = pkg;
      return new KafkaJS.Kafka({ kafkaJS: { brokers: [brokers], logLevel: KafkaJS.logLevel.ERROR } }).producer({ kafkaJS: { acks: -1 } });
    };
    const sendBatch = (p: any, messages: Array<{ value: Buffer | string }>): Promise<unknown> =>
      which === 'kafkajs' ? p.send({ topic, acks: -1, messages }) : p.send({ topic, messages });
    return {
      librdkafka: which === 'kafkajs' ? undefined : pkg.librdkafkaVersion,
      async connect(n) {
        ps = Array.from({ length: n }, make);
        await Promise.all(ps.map((p) => p.connect()));
        await Promise.all(ps.map((p) => sendBatch(p, [{ value: 'warm-up' }])));
      },
      send(i, count, value, onAcked) {
        const t = nowMs();
        sendBatch(ps[i], Array.from({ length: count }, () => ({ value }))).then(() => onAcked(count, t), failed);
      },
      async close() {
        await Promise.all(ps.map((p) => p.disconnect()));
      },
    };
  };
}

/** @platformatic/kafka 1.x (2.x needs Node 22): one send() per batch, acks -1. */
const platformatic: Factory = (brokers, topic) => {
  const { Producer } = load('@platformatic/kafka');
  let ps: any[] = [];
  return {
    async connect(n) {
      ps = Array.from({ length: n }, (_, i) => new Producer({ clientId: `bench-${i}`, bootstrapBrokers: [brokers], acks: -1 }));
      await Promise.all(ps.map((p) => p.send({ messages: [{ topic, value: Buffer.from('warm-up') }] })));
    },
    send(i, count, value, onAcked) {
      const t = nowMs();
      ps[i].send({ messages: Array.from({ length: count }, () => ({ topic, value })) }).then(() => onAcked(count, t), failed);
    },
    async close() {
      await Promise.all(ps.map((p) => p.close()));
    },
  };
};

/** The factory of a client named in BENCH_CLIENTS; ours in fd mode takes `@<turnBudgetMs>`. */
export function producerFactory(name: string): Factory {
  const [base, budget] = name.split('@');
  if (budget !== undefined && base.startsWith('kafka-fd fd ')) {
    return ours('fd', base.slice('kafka-fd fd '.length).replace('()', '') as 'produce' | 'produceAsync' | 'produceMany', Number(budget));
  }
  const factory = CLIENTS[name];
  if (!factory) throw new Error(`unknown producer client '${name}'`);
  return factory;
}

export const CLIENTS: Record<string, Factory> = {
  'kafka-fd fd produce()': ours('fd', 'produce'),
  'kafka-fd fd produceAsync()': ours('fd', 'produceAsync'),
  'kafka-fd fd produceMany()': ours('fd', 'produceMany'),
  'kafka-fd thread produce()': ours('thread', 'produce'),
  'kafka-fd thread produceAsync()': ours('thread', 'produceAsync'),
  'node-rdkafka': rdkafkaApi('node-rdkafka', false),
  'confluent rdkafka API (background poll)': rdkafkaApi('@confluentinc/kafka-javascript', true),
  'confluent KafkaJS API': kafkajsStyle('confluent'),
  kafkajs: kafkajsStyle('kafkajs'),
  '@platformatic/kafka 1.x': platformatic,
};
