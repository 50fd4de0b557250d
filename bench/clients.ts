// One adapter per client for the side-by-side benchmarks: connect N producers, send a burst of messages
// from each and resolve when every one is acknowledged (acks=all for everyone), close. Each client is used
// the way its own documentation recommends for throughput with delivery confirmation; the settings that
// matter are in the comments.
import { Producer as FdProducer } from '../lib/core';

export interface BenchClient {
  /** Connects `n` producers and sends one warm-up message from each (connections and metadata). */
  connect(n: number): Promise<void>;
  /** Every producer sends `count` messages of `value`; resolves once all are acknowledged. */
  burst(count: number, value: Buffer): Promise<void>;
  close(): Promise<void>;
  librdkafka?: string;
}

type Factory = (brokers: string, topic: string) => BenchClient;

/**
 * The measurement both runners make: one short burst to warm up, then `rounds` timed bursts of `count`
 * messages per producer; the median burst in ms and the process's CPU time per message over the rounds.
 */
export async function timeBursts(c: BenchClient, producers: number, count: number, rounds: number, warmUp: number):
Promise<{ ms: number; cpuUsPerMsg: number }> {
  const value = Buffer.alloc(100, 7);
  await c.burst(warmUp, value);
  const cpu0 = process.cpuUsage();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    await c.burst(count, value);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cpu = process.cpuUsage(cpu0);
  const ms = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  return { ms, cpuUsPerMsg: (cpu.user + cpu.system) / (producers * count * rounds) };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = (name: string): any => require(name);

/** Ours: fd or thread mode, produce() (a promise each) or produceAsync() (acks counted from acks$). */
function ours(mode: 'fd' | 'thread', api: 'produce' | 'produceAsync'): Factory {
  return (brokers, topic) => {
    let ps: FdProducer[] = [];
    return {
      librdkafka: require('../lib/core').librdkafkaVersion(),
      async connect(n) {
        ps = Array.from({ length: n }, () => new FdProducer({ kafka: { 'bootstrap.servers': brokers, acks: 'all' }, polling: { mode } }));
        await Promise.all(ps.map((p) => p.produce({ topic, value: 'warm-up' })));
      },
      async burst(count, value) {
        if (api === 'produce') {
          const all: Promise<unknown>[] = [];
          for (const p of ps) for (let i = 0; i < count; i++) all.push(p.produce({ topic, value }));
          await Promise.all(all);
          return;
        }
        let acked = 0;
        const total = ps.length * count;
        const subs: Array<{ unsubscribe(): void }> = [];
        const done = new Promise<void>((resolve) => {
          for (const p of ps) subs.push(p.acks$.subscribe(() => ++acked === total && resolve()));
        });
        for (const p of ps) for (let i = 0; i < count; i++) p.produceAsync({ topic, value });
        await done;
        for (const s of subs) s.unsubscribe();
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
    let acked = 0;
    let waiting: { target: number; resolve: () => void } | undefined;
    const onReport = (err: unknown): void => {
      if (err) throw err;
      acked++;
      if (waiting && acked >= waiting.target) {
        const w = waiting;
        waiting = undefined;
        w.resolve();
      }
    };
    const until = (target: number): Promise<void> =>
      acked >= target ? Promise.resolve() : new Promise((resolve) => (waiting = { target, resolve }));
    return {
      librdkafka: Kafka.librdkafkaVersion,
      async connect(n) {
        ps = await Promise.all(Array.from({ length: n }, () => new Promise<any>((resolve, reject) => {
          const p = new Kafka.Producer({ 'bootstrap.servers': brokers, acks: 'all', dr_cb: true });
          p.on('delivery-report', onReport);
          p.on('ready', () => {
            // Once connected: setPollInBackground before 'ready' crashed @confluentinc/kafka-javascript 1.10.1 here.
            if (background) p.setPollInBackground(true);
            else p.setPollInterval(100);
            resolve(p);
          });
          p.connect({}, (e: unknown) => e && reject(e));
        })));
        const target = acked + n;
        for (const p of ps) p.produce(topic, null, Buffer.from('warm-up'));
        await until(target);
      },
      async burst(count, value) {
        const target = acked + ps.length * count;
        for (const p of ps) {
          for (let i = 0; i < count; i++) {
            for (;;) {
              try {
                p.produce(topic, null, value);
                break;
              } catch (e) {
                // Queue full: let the poller make room, as their docs suggest.
                await new Promise((r) => setTimeout(r, 1));
              }
            }
          }
        }
        await until(target);
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
    let ps: any[] = [];
    let librdkafka: string | undefined;
    const make = (): any => {
      if (which === 'kafkajs') {
        const { Kafka, logLevel } = load('kafkajs');
        return new Kafka({ brokers: [brokers], logLevel: logLevel.ERROR }).producer();
      }
      const { KafkaJS, librdkafkaVersion } = load('@confluentinc/kafka-javascript');
      librdkafka = librdkafkaVersion;
      return new KafkaJS.Kafka({ kafkaJS: { brokers: [brokers], logLevel: KafkaJS.logLevel.ERROR } }).producer({ kafkaJS: { acks: -1 } });
    };
    const send = (p: any, messages: Array<{ value: Buffer | string }>): Promise<unknown> =>
      which === 'kafkajs' ? p.send({ topic, acks: -1, messages }) : p.send({ topic, messages });
    return {
      get librdkafka() {
        return librdkafka;
      },
      async connect(n) {
        ps = Array.from({ length: n }, make);
        await Promise.all(ps.map((p) => p.connect()));
        await Promise.all(ps.map((p) => send(p, [{ value: 'warm-up' }])));
      },
      async burst(count, value) {
        const messages = Array.from({ length: count }, () => ({ value }));
        await Promise.all(ps.map((p) => send(p, messages)));
      },
      async close() {
        await Promise.all(ps.map((p) => p.disconnect()));
      },
    };
  };
}

/** @platformatic/kafka 1.x (2.x needs Node 22): one send() per batch, acks -1. */
const platformatic: Factory = (brokers, topic) => {
  let ps: any[] = [];
  return {
    async connect(n) {
      const { Producer } = load('@platformatic/kafka');
      ps = Array.from({ length: n }, (_, i) => new Producer({ clientId: `bench-${i}`, bootstrapBrokers: [brokers], acks: -1 }));
      await Promise.all(ps.map((p) => p.send({ messages: [{ topic, value: Buffer.from('warm-up') }] })));
    },
    async burst(count, value) {
      const messages = Array.from({ length: count }, () => ({ topic, value }));
      await Promise.all(ps.map((p) => p.send({ messages })));
    },
    async close() {
      await Promise.all(ps.map((p) => p.close()));
    },
  };
};

export const CLIENTS: Record<string, Factory> = {
  'kafka-fd fd produce()': ours('fd', 'produce'),
  'kafka-fd fd produceAsync()': ours('fd', 'produceAsync'),
  'kafka-fd thread produce()': ours('thread', 'produce'),
  'kafka-fd thread produceAsync()': ours('thread', 'produceAsync'),
  'node-rdkafka': rdkafkaApi('node-rdkafka', false),
  'confluent rdkafka API (background poll)': rdkafkaApi('@confluentinc/kafka-javascript', true),
  'confluent KafkaJS API': kafkajsStyle('confluent'),
  kafkajs: kafkajsStyle('kafkajs'),
  '@platformatic/kafka 1.x': platformatic,
};
