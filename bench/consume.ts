// npm run bench:consume — the consumer scenarios of the consumer issue, every client, on the rig's real broker:
//   drain    N members (1, 5, 20) of one fresh group read a pre-filled topic of BENCH_MESSAGES (1,000,000)
//            100-byte messages over 6 partitions: msg/s and CPU per message from the first message handled
//            to the last, event-loop delay p99/max, fs.stat p99 (one stat every 5 ms on the threadpool),
//            most threads, most RSS.
//   latency  one member; our producer (linger.ms 0, its own process) sends a message every ms for 10 s with its
//            send time in the value: produce-to-handler latency p50/p99/max.
//   idle     20 members of one group on an empty topic, joined, for 10 s: CPU ms, threads.
//   baseline fs.stat p99 and event-loop delay with no consumer at all.
// Each measurement runs in a process of its own; clients rotate order every repetition; tables give medians
// of BENCH_REPS (3). Env: BENCH_MESSAGES, BENCH_REPS, BENCH_CLIENTS, BENCH_MEMBERS (1,5,20),
// BENCH_SCENARIOS (drain,latency,idle). Writes bench/results/consume-<date>.md and .json.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CONSUMERS, consumerFactory, type OnMessage } from './consumer-clients';
import { createTopics, fmt, measureInChild, median, startRig, writeResults } from './rig';

interface Job { scenario: 'drain' | 'latency' | 'idle' | 'baseline'; client: string; members: number; topic: string; group: string; brokers: string; total: number }
interface Result { scenario: string; client: string; members: number; [k: string]: number | string | undefined }

const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const threads = (): number => fs.readdirSync('/proc/self/task').length;

/** Samples what a run costs besides its own figures: fs.stat latency, threads, RSS. */
function sampler(): { stop(): { statP99: number; threadsMax: number; rssMaxMB: number } } {
  const stats: number[] = [];
  let running = true;
  let threadsMax = threads();
  let rssMax = process.memoryUsage.rss();
  void (async () => {
    while (running) {
      const t = nowMs();
      await fs.promises.stat(__filename);
      stats.push(nowMs() - t);
      await sleep(5);
    }
  })();
  const timer = setInterval(() => {
    threadsMax = Math.max(threadsMax, threads());
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
  }, 100);
  return {
    stop() {
      running = false;
      clearInterval(timer);
      return { statP99: pct(stats, 99), threadsMax, rssMaxMB: rssMax / 2 ** 20 };
    },
  };
}

async function drain(job: Job): Promise<Result> {
  const client = consumerFactory(job.client)(job.brokers, job.topic, job.group);
  const eld = monitorEventLoopDelay({ resolution: 1 });
  let count = 0;
  let first = 0;
  let last = 0;
  let cpu0 = process.cpuUsage();
  let sampling: ReturnType<typeof sampler> | undefined;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const onMessage: OnMessage = () => {
    if (count++ === 0) {
      first = nowMs();
      cpu0 = process.cpuUsage();
      eld.enable();
      sampling = sampler();
    }
    if (count === job.total) {
      last = nowMs();
      finish();
    }
  };
  await client.start(job.members, onMessage);
  const timedOut = await Promise.race([done.then(() => false), sleep(600000).then(() => true)]);
  const cpu = process.cpuUsage(cpu0);
  eld.disable();
  const s = sampling?.stop();
  const ms = (timedOut ? nowMs() : last) - first;
  const passes = client.passes?.();
  await Promise.race([client.close(), sleep(30000)]);
  return {
    scenario: 'drain', client: job.client, members: job.members, librdkafka: client.librdkafka,
    msgs: count, msgPerS: (count / ms) * 1000, cpuUsPerMsg: (cpu.user + cpu.system) / count,
    eldP99: eld.percentile(99) / 1e6, eldMax: eld.max / 1e6, statP99: s?.statP99, threadsMax: s?.threadsMax, rssMaxMB: s?.rssMaxMB,
    timedOut: timedOut ? 1 : 0, ...passes,
  };
}

async function latency(job: Job): Promise<Result> {
  // The producer (ours, linger.ms 0) runs in a process of its own: two librdkafka builds cannot share one
  // process (the peers' would resolve to the one loaded first), and its sending must not cost the consumer.
  const producer = fork(__filename, ['produce', JSON.stringify(job)], { execArgv: ['-r', 'ts-node/register/transpile-only'] });
  const said = (what: string): Promise<number> => new Promise((resolve) => {
    const on = (m: { what: string; sent?: number }): void => {
      if (m.what !== what) return;
      producer.off('message', on);
      resolve(m.sent ?? 0);
    };
    producer.on('message', on);
  });
  await said('warm-up');
  const client = consumerFactory(job.client)(job.brokers, job.topic, job.group);
  // The topic keeps the broker's append time as each message's timestamp (main creates it so), which splits a
  // latency into produce-to-broker and broker-to-handler (ms resolution: Kafka timestamps are whole ms).
  const latencies: number[] = [];
  const toBroker: number[] = [];
  const fromBroker: number[] = [];
  let warm = false;
  await client.start(1, (v, timestamp) => {
    const now = nowMs();
    const text = String(v);
    if (text === 'warm-up') return void (warm = true);
    const sent = Number(text);
    latencies.push(now - sent);
    toBroker.push(timestamp - sent);
    fromBroker.push(now - timestamp);
  });
  while (!warm) await sleep(10);
  const sampling = sampler();
  const done = said('sent');
  producer.send('go');
  const sent = await done;
  const deadline = Date.now() + 10000;
  while (latencies.length < sent && Date.now() < deadline) await sleep(10);
  const s = sampling.stop();
  await client.close();
  producer.kill();
  return {
    scenario: 'latency', client: job.client, members: 1, sent, received: latencies.length,
    p50: pct(latencies, 50), p99: pct(latencies, 99), max: Math.max(...latencies), statP99: s.statP99, threadsMax: s.threadsMax,
    toBrokerP50: pct(toBroker, 50), toBrokerP99: pct(toBroker, 99), fromBrokerP50: pct(fromBroker, 50), fromBrokerP99: pct(fromBroker, 99),
  };
}

/** The latency scenario's producer process: a warm-up message, then on 'go' one message per ms for 10 s. */
async function produce(job: Job): Promise<void> {
  const core = await import('../lib/core');
  const producer = new core.Producer({ kafka: { 'bootstrap.servers': job.brokers, 'linger.ms': 0 } });
  await producer.produce({ topic: job.topic, value: 'warm-up' });
  process.send!({ what: 'warm-up' });
  await new Promise((resolve) => process.once('message', resolve));
  let n = 0;
  const end = Date.now() + 10000;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      producer.produceAsync({ topic: job.topic, value: String(nowMs()) });
      n++;
      if (Date.now() >= end) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await producer.flush();
  process.send!({ what: 'sent', sent: n });
  await new Promise(() => undefined); // until killed
}

async function idle(job: Job): Promise<Result> {
  const client = consumerFactory(job.client)(job.brokers, job.topic, job.group);
  await client.start(job.members, () => undefined);
  await sleep(15000); // joined and settled
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  await sleep(10000);
  const cpu = process.cpuUsage(cpu0);
  const ms = nowMs() - t0;
  const result = { scenario: 'idle', client: job.client, members: job.members, cpuMsPer10s: ((cpu.user + cpu.system) / 1000) * (10000 / ms), threads: threads() };
  await Promise.race([client.close(), sleep(30000)]);
  return result;
}

async function baseline(): Promise<Result> {
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const s = sampler();
  await sleep(5000);
  eld.disable();
  const r = s.stop();
  return { scenario: 'baseline', client: 'no consumer', members: 0, statP99: r.statP99, eldP99: eld.percentile(99) / 1e6, threadsMax: r.threadsMax };
}

// --- the runner --------------------------------------------------------------------------------------------

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const REPS = Number(process.env.BENCH_REPS ?? 3);
const TOTAL = Number(process.env.BENCH_MESSAGES ?? 1000000);
const MEMBERS = (process.env.BENCH_MEMBERS ?? '1,5,20').split(',').map(Number);
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'drain,latency,idle').split(',');
const CLIENTS = process.env.BENCH_CLIENTS?.split(',') ?? Object.keys(CONSUMERS);
const measureJob = (job: Job): Result => measureInChild(__filename, job, { scenario: job.scenario, client: job.client, members: job.members });



async function prefill(topic: string, total: number): Promise<void> {
  const core = await import('../lib/core');
  const producer = new core.Producer({ kafka: { 'bootstrap.servers': brokers } });
  const value = Buffer.alloc(100, 7);
  for (let i = 0; i < total; i += 10000) {
    await producer.produceMany(Array.from({ length: Math.min(10000, total - i) }, () => ({ topic, value })));
  }
  await producer.close();
}


function table(rows: Result[], columns: Array<[string, string, number?]>): string {
  const groups = new Map<string, Result[]>();
  for (const r of rows) groups.set(`${r.client}\u0000${r.members}`, [...(groups.get(`${r.client}\u0000${r.members}`) ?? []), r]);
  const head = `| client | members | ${columns.map((c) => c[1]).join(' | ')} | runs |\n|---|---|${columns.map(() => '---:').join('|')}|---:|`;
  const lines = [...groups.values()].map((rs) => {
    const ok = rs.filter((r) => r.error === undefined && !r.timedOut);
    const cells = columns.map(([key, , digits]) => fmt(median(ok.map((r) => Number(r[key]))), digits));
    const failed = rs.length - ok.length;
    return `| ${rs[0].client} | ${rs[0].members} | ${cells.join(' | ')} | ${ok.length}${failed ? ` (${failed} failed)` : ''} |`;
  });
  return [head, ...lines].join('\n');
}

async function main(): Promise<void> {
  const stamp = startRig();
  const results: Result[] = [];
  const say = (r: Result): void => {
    results.push(r);
    process.stderr.write(`${JSON.stringify(r)}\n`);
  };
  say(measureJob({ scenario: 'baseline', client: 'no consumer', members: 0, topic: '', group: '', brokers, total: 0 }));
  if (SCENARIOS.includes('drain')) {
    const topic = `bench-consume-${stamp}`;
    await createTopics(brokers, [[topic, 6]]);
    await prefill(topic, TOTAL);
    for (const members of MEMBERS) {
      for (let rep = 0; rep < REPS; rep++) {
        const order = CLIENTS.map((_, i) => CLIENTS[(i + rep) % CLIENTS.length]);
        for (const client of order) say(measureJob({ scenario: 'drain', client, members, topic, group: `drain-${stamp}-${members}-${rep}-${client.replace(/\W+/g, '_')}`, brokers, total: TOTAL }));
      }
    }
  }
  if (SCENARIOS.includes('latency')) {
    for (let rep = 0; rep < REPS; rep++) {
      for (const client of CLIENTS) {
        const topic = `bench-latency-${stamp}-${rep}-${client.replace(/\W+/g, '_')}`;
        await createTopics(brokers, [[topic, 1]], [{ name: 'message.timestamp.type', value: 'LogAppendTime' }]);
        say(measureJob({ scenario: 'latency', client, members: 1, topic, group: `g-${topic}`, brokers, total: 0 }));
      }
    }
  }
  if (SCENARIOS.includes('idle')) {
    const topic = `bench-idle-${stamp}`;
    await createTopics(brokers, [[topic, 6]]);
    for (const client of CLIENTS) say(measureJob({ scenario: 'idle', client, members: 20, topic, group: `idle-${stamp}-${client.replace(/\W+/g, '_')}`, brokers, total: 0 }));
  }
  const base = results.find((r) => r.scenario === 'baseline')!;
  const md = [
    `# Consumer benchmark, ${new Date().toISOString().slice(0, 10)}`,
    '',
    `\`npm run bench:consume\` (BENCH_MESSAGES=${TOTAL}, BENCH_REPS=${REPS}), real broker on 127.0.0.1, 2 cores shared with it. Medians of the runs.`,
    `Baseline with no consumer: fs.stat p99 ${fmt(base.statP99, 2)} ms, event-loop delay p99 ${fmt(base.eldP99, 2)} ms, ${base.threadsMax} threads.`,
    '',
    `## Drain: ${TOTAL.toLocaleString('en-US')} messages of 100 B over 6 partitions`,
    '',
    table(results.filter((r) => r.scenario === 'drain'), [['msgPerS', 'msg/s', 0], ['cpuUsPerMsg', 'CPU µs/msg', 2], ['eldP99', 'loop delay p99 ms', 1],
      ['eldMax', 'loop delay max ms', 1], ['statP99', 'fs.stat p99 ms', 2], ['threadsMax', 'threads', 0], ['rssMaxMB', 'RSS MB', 0],
      ['passMaxMs', 'longest pass ms', 1], ['passMaxCpuMs', 'its CPU ms', 1]]),
    '',
    '## Latency: produce to handler, a message every ms for 10 s (producer: ours, linger.ms 0, in its own process)',
    '',
    table(results.filter((r) => r.scenario === 'latency'), [['p50', 'p50 ms', 2], ['p99', 'p99 ms', 2], ['max', 'max ms', 1], ['received', 'received', 0],
      ['toBrokerP50', 'to broker p50', 1], ['toBrokerP99', 'to broker p99', 1], ['fromBrokerP50', 'broker to handler p50', 1], ['fromBrokerP99', 'broker to handler p99', 1]]),
    '',
    'To broker: the send time to the broker\'s append time (the topic\'s message.timestamp.type is LogAppendTime); broker to handler: from it to',
    'the handler. Both in whole ms (Kafka timestamps), so each is within 1 ms.',
    '',
    '## Idle: 20 members joined, 10 s',
    '',
    table(results.filter((r) => r.scenario === 'idle'), [['cpuMsPer10s', 'CPU ms / 10 s', 0], ['threads', 'threads', 0]]),
    '',
  ].join('\n');
  writeResults('consume', md, results);
  const errors = results.filter((r) => r.error);
  for (const e of errors) process.stderr.write(`failed: ${e.client} ${e.scenario} ${e.members}: ${e.error}\n`);
}

if (process.argv[2] === 'produce') {
  void produce(JSON.parse(process.argv[3]) as Job);
} else if (process.argv[2] === 'measure') {
  const job = JSON.parse(process.argv[3]) as Job;
  const run = { drain, latency, idle, baseline }[job.scenario];
  run(job).then((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  }, (e: Error) => {
    process.stderr.write(`${e.stack}\n`);
    process.exit(1);
  });
} else {
  main().catch((e: Error) => {
    process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  });
}
