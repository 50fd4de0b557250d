// npm run bench:produce (the first part of npm run bench) — every scenario of issue 4, every client, on the test rig's real Apache Kafka broker:
//   seed       1, 2, 5, 10, 25 producers in one process, bursts of 1000 messages of 100 B per producer:
//              msg/s, clock from the first send to the last ack (median of 5 bursts after a warm-up).
//   sustained  1 and 25 producers, 200,000 messages in all, sent 100 per call with at most 10,000
//              unacknowledged: msg/s, ack latency p50/p99/max, event-loop delay p99, fs.stat p99.
//   paced      25 producers each sending 100 messages per setImmediate turn, 250,000 in all: msg/s,
//              event-loop delay p99/max.
//   idle       25 connected producers doing nothing for 10 s: CPU ms, threads, voluntary context
//              switches, RSS.
//   memory     RSS with 1 and with 25 connected producers: MB added per producer.
//   transactions  ours in fd and thread mode, 1 and 10 transactional producers, 20 transactions of 100
//              messages each: commits/s, event-loop delay.
// Each measurement runs in a process of its own (`bench/measure.ts`); clients are interleaved and the
// order rotates every repetition; tables give the median of BENCH_REPS (5) repetitions and the spread.
// The broker is restarted clean before each scenario (BENCH_BROKER=external: use KAFKA_BROKERS as it is,
// with a fresh topic per scenario). Ours also runs built against @confluentinc/kafka-javascript's
// librdkafka, to compare like with like (BENCH_PEER_LIBRDKAFKA=0 skips it).
// Writes bench/results/<date>.md, .json and -seed.svg (<date>-<scenarios> for a partial run). Env:
// BENCH_SCENARIOS, BENCH_REPS, BENCH_CLIENTS (ours in fd mode may end in `@<turnBudgetMs>`: a poller of
// that budget); BENCH_PRODUCERS (e.g. 25: only those producer counts) and BENCH_ROUNDS (bursts per seed run,
// 5) for a focused before/after; BENCH_PIN=1: in sustained and paced, the JS thread alone on CPU 0, the rest
// and the broker on CPU 1 (bench/pin.ts).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { seedChart } from './chart';
import { CLIENTS } from './clients';
import type { Job } from './measure';
import { AT_PEER, CEILING, type Run, report } from './report';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const ONLY = process.env.BENCH_CLIENTS?.split(',');
const COUNTS = process.env.BENCH_PRODUCERS?.split(',').map(Number);
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'seed,sustained,paced,idle,memory,transactions').split(',') as Job['scenario'][];
const EXTERNAL = process.env.BENCH_BROKER === 'external';
const port = process.env.KAFKA_PORT ?? '9092';
const brokers = EXTERNAL ? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' : `127.0.0.1:${port}`;
const PEER = process.env.BENCH_PEER_LIBRDKAFKA !== '0';
const root = path.join(__dirname, '..');

const peers = Object.keys(CLIENTS).filter((c) => !c.startsWith('kafka-fd'));
const oursFd = Object.keys(CLIENTS).filter((c) => c.startsWith('kafka-fd fd'));
const atPeer = (cs: string[]): string[] => (PEER ? cs.map((c) => c + AT_PEER) : []);
/** Idle and memory do not send: one row per client and mode. */
const resting = ['kafka-fd fd produce()', 'kafka-fd thread produce()'];

const PLAN: Record<Job['scenario'], { producers: number[]; clients: string[]; job: Partial<Job> }> = {
  seed: { producers: [1, 2, 5, 10, 25], clients: [...Object.keys(CLIENTS), CEILING, ...atPeer([...oursFd, CEILING])], job: { messages: 1000, rounds: Number(process.env.BENCH_ROUNDS ?? 5) } },
  sustained: { producers: [1, 25], clients: [...Object.keys(CLIENTS), ...atPeer(oursFd)], job: { total: 200000, chunk: 100, window: 10000 } },
  // BENCH_PACED_CHUNK: messages per producer per turn (100): a smaller one shows the sending loop's own share of the loop delay.
  paced: { producers: [25], clients: [...Object.keys(CLIENTS), ...atPeer(oursFd)], job: { total: 250000, chunk: Number(process.env.BENCH_PACED_CHUNK ?? 100) } },
  idle: { producers: [25], clients: [...resting, ...peers, ...atPeer(resting)], job: { seconds: 10 } },
  memory: { producers: [1, 25], clients: [...resting, ...peers, ...atPeer(resting)], job: {} },
  transactions: { producers: [1, 10], clients: resting, job: { transactions: 20, size: 100 } },
};

let peerAddon = '';
let peerCeiling = '';

function kafka(cmd: 'start' | 'stop' | 'status'): boolean {
  try {
    execFileSync('bash', [path.join(root, 'scripts', 'kafka.sh'), cmd], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, KAFKA_PORT: port } });
    return true;
  } catch {
    return false;
  }
}

function measure(scenario: Job['scenario'], client: string, producers: number, topic: string): Run {
  const base = client.endsWith(AT_PEER) ? client.slice(0, -AT_PEER.length) : client;
  const peer = base !== client;
  const run = { scenario, client, producers };
  try {
    if (base === CEILING) {
      const { messages = 1000, rounds = 5 } = PLAN.seed.job;
      const binary = peer ? peerCeiling : path.join(__dirname, 'ceiling', 'ceiling');
      const out = execFileSync(binary, [brokers, topic, String(producers), String(messages), '100', String(rounds)], { timeout: 300000 });
      const lines = out.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string | undefined>);
      const bursts = lines.filter((l) => l.ms !== undefined);
      const mid = (k: string): number => bursts.map((l) => Number(l[k])).sort((a, b) => a - b)[Math.floor(bursts.length / 2)];
      return {
        ...run, msgs: producers * messages, ms: mid('ms'), jsCpuUsPerMsg: mid('jsCpuUsPerMsg'), jsWaitUsPerMsg: mid('jsWaitUsPerMsg'),
        librdkafka: String(lines.at(-1)!.librdkafka),
      };
    }
    const job: Job = { scenario, client: base, producers, topic, brokers, ...PLAN[scenario].job };
    const out = execFileSync(process.execPath, ['--expose-gc', '-r', 'ts-node/register/transpile-only', path.join(__dirname, 'measure.ts'),
      JSON.stringify(job)], { env: { ...process.env, ...(peer ? { KAFKA_FD_ADDON: peerAddon } : {}) }, timeout: 300000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { ...run, ...JSON.parse(out.toString().trim().split('\n').pop()!) };
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    const why = (err.stderr?.toString().trim().split('\n').filter(Boolean).pop() ?? err.message).slice(0, 200);
    process.stderr.write(`  ${scenario} ${client} x${producers} failed: ${why}\n`);
    return { ...run, failed: why };
  }
}

function main(): void {
  execFileSync('make', ['-s', '-C', path.join(__dirname, 'ceiling')], { stdio: 'inherit' });
  if (PEER) {
    peerAddon = execFileSync('bash', [path.join(__dirname, 'build-peer-librdkafka.sh')]).toString().trim();
    const version = path.basename(path.dirname(path.dirname(path.dirname(peerAddon)))).replace('.addon-', '');
    peerCeiling = path.join(__dirname, 'ceiling', `ceiling-.librdkafka-${version}`);
  }
  const wasRunning = !EXTERNAL && kafka('status');
  const runs: Run[] = [];
  const started = Date.now();
  for (const scenario of SCENARIOS) {
    if (!EXTERNAL) {
      kafka('stop');
      if (!kafka('start')) throw new Error('bench: the broker did not start (scripts/kafka.sh start)');
    }
    const topic = `bench-${scenario}-${Date.now()}`;
    execFileSync('kcat', ['-b', brokers, '-L', '-t', topic], { stdio: 'ignore' });
    const { producers, clients: all } = PLAN[scenario];
    // Ours with a turn budget (`kafka-fd fd produceAsync()@2`) only when named, in the scenarios that send.
    const budgeted = scenario === 'seed' || scenario === 'sustained' || scenario === 'paced' ? (ONLY ?? []).filter((o) => o.startsWith('kafka-fd fd ') && o.includes('@')) : [];
    const clients = [...all.filter((c) => !ONLY || ONLY.some((o) => c.startsWith(o))), ...budgeted];
    for (let rep = 0; rep < REPS; rep++) {
      const order = clients.map((_, i) => clients[(i + rep) % clients.length]);
      for (const n of producers.filter((p) => !COUNTS || COUNTS.includes(p))) for (const c of order) runs.push(measure(scenario, c, n, topic));
      process.stderr.write(`${scenario}: repetition ${rep + 1}/${REPS} done (${Math.round((Date.now() - started) / 1000)} s)\n`);
    }
  }
  if (!EXTERNAL && !wasRunning) kafka('stop');

  const date = new Date().toISOString().slice(0, 10);
  const { markdown, seedTable } = report(runs, { reps: REPS, brokers, bursts: PLAN.seed.job.rounds ?? 5 });
  console.log(markdown);
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  // A partial run (BENCH_SCENARIOS) gets a name of its own, so that it never overwrites the day's full run.
  const partial = process.env.BENCH_SCENARIOS ? `-${SCENARIOS.join('-')}` : '';
  const base = path.join(dir, `${date}${partial}`);
  fs.writeFileSync(`${base}.md`, markdown);
  fs.writeFileSync(`${base}.json`, JSON.stringify({ date, node: process.version, reps: REPS, plan: PLAN, runs }, null, 1));
  if (seedTable) fs.writeFileSync(`${base}-seed.svg`, seedChart(`Seed table, ${date}: msg/s, median of ${REPS} runs`, PLAN.seed.producers, seedTable));
  console.log(`\nwritten to ${path.relative(process.cwd(), base)}.md, .json${seedTable ? ' and -seed.svg' : ''}`);
}

if (require.main === module) main();
