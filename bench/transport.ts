// npm run bench:transport — the same Nest microservice app on Nest's Transport.KAFKA (kafkajs) and on
// KafkaFdServer, on the rig's real broker:
//   events   a topic of BENCH_EVENTS (100,000) JSON events over 6 partitions, 6 keys, read from the beginning by an
//            @EventPattern handler: events/s from the first handled to the last, CPU per event, and whether each
//            key's events arrived in order.
//   request  an @MessagePattern handler called BENCH_REQUESTS (5,000) times, 50 requests in flight, by the
//            transport's own client (ClientKafka / KafkaFdClient): round trips/s and latency p50/p99.
// Both get the same options (run.partitionsConsumedConcurrently 6; each transport's defaults otherwise). Each
// measurement runs in a process of its own, the two transports alternating first; tables give medians of
// BENCH_REPS (3). Writes bench/results/transport-<date>.md and .json.
import 'reflect-metadata';
import { createTopics, fmt, measureInChild, median, startRig, suiteEntry, writeResults } from './rig';

type Kind = 'Transport.KAFKA' | 'KafkaFdServer';
interface Job { scenario: 'events' | 'request'; kind: Kind; topic: string; group: string; brokers: string; total: number }
interface Result { scenario: string; kind: string; [k: string]: number | string | undefined }

const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const IN_FLIGHT = 50;

/** The options a Transport.KAFKA user passes; KafkaFdServer takes the same object. */
function options(job: Job, clientId: string): Record<string, unknown> {
  return {
    client: { brokers: [job.brokers], clientId },
    consumer: { groupId: job.group },
    subscribe: { fromBeginning: true },
    run: { partitionsConsumedConcurrently: 6 },
  };
}

/** One measurement, in this process: a Nest microservice of `job.kind`, fed as the scenario says. */
async function measure(job: Job): Promise<Result> {
  const { Controller, Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const ms = await import('@nestjs/microservices');
  const { KafkaFdClient, KafkaFdServer } = await import('../lib/microservices');
  const { lastValueFrom } = await import('rxjs');

  let count = 0;
  let first = 0;
  let last = 0;
  let outOfOrder = 0;
  const lastSeq = new Map<string, number>();
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  let cpu0 = process.cpuUsage();

  // One controller per scenario: a server subscribed to both topics would also answer the requests earlier runs left.
  @Controller()
  class EventsController {
    @ms.EventPattern(job.topic)
    onEvent(@ms.Payload() data: { key: string; seq: number }): void {
      if (count++ === 0) {
        first = nowMs();
        cpu0 = process.cpuUsage();
      }
      if ((lastSeq.get(data.key) ?? -1) > data.seq) outOfOrder++;
      lastSeq.set(data.key, data.seq);
      if (count === job.total) {
        last = nowMs();
        finish();
      }
    }

  }
  @Controller()
  class RequestsController {
    @ms.MessagePattern(`${job.topic}-rr`)
    onRequest(@ms.Payload() data: { n: number }): { n: number } {
      return { n: data.n + 1 };
    }
  }
  @Module({ controllers: [job.scenario === 'events' ? EventsController : RequestsController] })
  class BenchModule {}

  const serverOptions = options(job, 'bench-server');
  const app = await NestFactory.createMicroservice(BenchModule, {
    ...(job.kind === 'KafkaFdServer' ? { strategy: new KafkaFdServer(serverOptions as never) } : { transport: ms.Transport.KAFKA, options: serverOptions }),
    logger: ['error'],
  } as never);
  await app.listen();
  try {
    if (job.scenario === 'events') {
      const timedOut = await Promise.race([done.then(() => false), sleep(600000).then(() => true)]);
      const cpu = process.cpuUsage(cpu0);
      const took = (timedOut ? nowMs() : last) - first;
      return {
        scenario: 'events', kind: job.kind, events: count, eventsPerS: (count / took) * 1000,
        cpuUsPerEvent: (cpu.user + cpu.system) / count, outOfOrder, timedOut: timedOut ? 1 : 0,
      };
    }
    const clientOptions = { ...options(job, 'bench-caller'), consumer: { groupId: `${job.group}-caller` } };
    const client = job.kind === 'KafkaFdServer' ? new KafkaFdClient(clientOptions as never) : new ms.ClientKafka(clientOptions as never);
    client.subscribeToResponseOf(`${job.topic}-rr`);
    await client.connect();
    if (job.kind === 'Transport.KAFKA') {
      // ClientKafka's connect() can resolve before its reply topic is assigned (see the microservice e2e test).
      const assigned = (): Record<string, number> => (client as unknown as { consumerAssignments: Record<string, number> }).consumerAssignments ?? {};
      const deadline = Date.now() + 60000;
      while (!(`${job.topic}-rr.reply` in assigned()) && Date.now() < deadline) await sleep(50);
    }
    try {
      // Warm-up: the first requests pay for metadata and the group's first fetch.
      for (let i = 0; i < 20; i++) await lastValueFrom(client.send(`${job.topic}-rr`, { n: i }));
      const latencies: number[] = [];
      let next = 0;
      let wrong = 0;
      const c0 = process.cpuUsage();
      const t0 = nowMs();
      await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
        while (next < job.total) {
          const n = next++;
          const t = nowMs();
          const reply = await lastValueFrom(client.send<{ n: number }>(`${job.topic}-rr`, { n }));
          latencies.push(nowMs() - t);
          if (reply.n !== n + 1) wrong++;
        }
      }));
      const took = nowMs() - t0;
      const cpu = process.cpuUsage(c0);
      return {
        scenario: 'request', kind: job.kind, requests: latencies.length, perS: (latencies.length / took) * 1000,
        p50: pct(latencies, 50), p99: pct(latencies, 99), cpuUsPerRequest: (cpu.user + cpu.system) / latencies.length, wrong,
      };
    } finally {
      await client.close();
    }
  } finally {
    await Promise.race([app.close(), sleep(30000)]);
  }
}

// --- the runner --------------------------------------------------------------------------------------------

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const REPS = Number(process.env.BENCH_REPS ?? 3);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5000);
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'events,request').split(',');
const KINDS: Kind[] = ['Transport.KAFKA', 'KafkaFdServer'];



/** Events as Nest's Kafka serializer writes them (a JSON value, a string key): 6 keys, each in order. */
async function prefill(topic: string, total: number): Promise<void> {
  const { Producer } = await import('../lib/core');
  const producer = new Producer({ kafka: { 'bootstrap.servers': brokers } });
  for (let i = 0; i < total; i += 10000) {
    const n = Math.min(10000, total - i);
    await producer.produceMany(Array.from({ length: n }, (_, j) => {
      const key = `k${(i + j) % 6}`;
      return { topic, key, value: JSON.stringify({ key, seq: i + j }) };
    }));
  }
  await producer.close();
}


function table(rows: Result[], columns: Array<[string, string, number?]>): string {
  const head = `| server | ${columns.map((c) => c[1]).join(' | ')} | runs |\n|---|${columns.map(() => '---:').join('|')}|---:|`;
  const lines = KINDS.map((kind) => {
    const rs = rows.filter((r) => r.kind === kind);
    const ok = rs.filter((r) => r.error === undefined && !r.timedOut);
    const cells = columns.map(([key, , digits]) => fmt(median(ok.map((r) => Number(r[key]))), digits));
    return `| ${kind} | ${cells.join(' | ')} | ${ok.length}${rs.length > ok.length ? ` (${rs.length - ok.length} failed)` : ''} |`;
  });
  return [head, ...lines].join('\n');
}

function ratio(rows: Result[], key: string): string {
  const m = (kind: Kind): number => median(rows.filter((r) => r.kind === kind && r.error === undefined && !r.timedOut).map((r) => Number(r[key])));
  return fmt(m('KafkaFdServer') / m('Transport.KAFKA'), 2);
}

async function main(): Promise<void> {
  const stamp = startRig();
  const results: Result[] = [];
  const say = (r: Result): void => {
    results.push(r);
    process.stderr.write(`${JSON.stringify(r)}\n`);
  };
  const events = `bench-transport-${stamp}`;
  await createTopics(brokers, [[events, 6], [`${events}-rr`, 6], [`${events}-rr.reply`, 1]]);
  if (SCENARIOS.includes('events')) await prefill(events, EVENTS);
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? KINDS : [...KINDS].reverse();
    for (const kind of order) {
      // A fresh group each time: each run reads the topic from the beginning.
      const group = `bench-${stamp}-${rep}-${kind.replace(/\W+/g, '_')}`;
      if (SCENARIOS.includes('events')) say(measureInChild(__filename, { scenario: 'events', kind, topic: events, group, brokers, total: EVENTS }, { scenario: 'events', kind }));
      if (SCENARIOS.includes('request')) say(measureInChild(__filename, { scenario: 'request', kind, topic: events, group: `${group}-rr`, brokers, total: REQUESTS }, { scenario: 'request', kind }));
    }
  }
  const md = [
    `# Nest transports: Transport.KAFKA against KafkaFdServer (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Broker ${brokers} (scripts/kafka.sh), ${EVENTS.toLocaleString('en-US')} events over 6 partitions, ${REQUESTS.toLocaleString('en-US')} requests with ${IN_FLIGHT} in flight; medians of ${REPS} runs, each in a process of its own; both with run.partitionsConsumedConcurrently 6.`,
    '',
    '## Events: @EventPattern handler, reading a full topic from the beginning',
    '',
    table(results.filter((r) => r.scenario === 'events'), [['eventsPerS', 'events/s', 0], ['cpuUsPerEvent', 'CPU µs/event', 1], ['outOfOrder', 'out of order per key', 0]]),
    '',
    `KafkaFdServer / Transport.KAFKA events/s: ${ratio(results.filter((r) => r.scenario === 'events'), 'eventsPerS')}x`,
    '',
    '## Request-reply: each transport\'s own client, same process',
    '',
    table(results.filter((r) => r.scenario === 'request'), [['perS', 'round trips/s', 0], ['p50', 'p50 ms', 2], ['p99', 'p99 ms', 2], ['cpuUsPerRequest', 'CPU µs/request', 0], ['wrong', 'wrong replies', 0]]),
    '',
    `KafkaFdServer / Transport.KAFKA round trips/s: ${ratio(results.filter((r) => r.scenario === 'request'), 'perS')}x`,
    '',
  ].join('\n');
  writeResults('transport', md, results);
}

suiteEntry(measure, main);
