// npm run bench:seed — the seed table of issue 4: 1, 2, 5, 10, 25 producers in one process, 1000 messages
// of 100 bytes per producer, acks=all, clock from the first send to the last ack; every client on the same
// real broker, each run in a process of its own, clients interleaved (the order rotates every repetition).
// Each run warms up, times BENCH_ROUNDS bursts and keeps the median; the table gives the median of
// BENCH_REPS runs and the spread. The C ceiling (bench/ceiling) does the same on raw librdkafka.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLIENTS } from './clients';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const COUNTS = (process.env.BENCH_PRODUCERS ?? '1,2,5,10,25').split(',').map(Number);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1000);
const ONLY = process.env.BENCH_CLIENTS?.split(',');
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const CEILING = 'C ceiling (raw librdkafka, fd polling)';

interface Run { client: string; producers: number; msgs: number; ms: number; librdkafka?: string; cpuUsPerMsg?: number }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// With BENCH_PEER_LIBRDKAFKA=1, ours and the ceiling run a second time built against the librdkafka of
// @confluentinc/kafka-javascript (bench/build-peer-librdkafka.sh), to compare like with like.
const PEER = process.env.BENCH_PEER_LIBRDKAFKA === '1';
const AT_PEER = ' [peer librdkafka]';
let peerAddon = '';
let peerCeiling = '';

function runClient(client: string, n: number, topic: string): Run {
  const base = client.endsWith(AT_PEER) ? client.slice(0, -AT_PEER.length) : client;
  const atPeer = base !== client;
  if (base === CEILING) {
    const binary = atPeer ? peerCeiling : path.join(__dirname, 'ceiling', 'ceiling');
    const out = execFileSync(binary, [brokers, topic, String(n), String(MESSAGES), '100', String(ROUNDS)]);
    const lines = out.toString().trim().split('\n').map((l) => JSON.parse(l));
    const bursts = lines.filter((l) => l.ms !== undefined);
    return { client, producers: n, msgs: n * MESSAGES, ms: median(bursts.map((b) => b.ms)), librdkafka: lines.at(-1).librdkafka };
  }
  const env = { ...process.env, KAFKA_BROKERS: brokers, ...(atPeer ? { KAFKA_FD_ADDON: peerAddon } : {}) };
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'seed-run.ts'),
    base, String(n), String(MESSAGES), topic, String(ROUNDS)], { env, timeout: 180000, stdio: ['ignore', 'pipe', 'ignore'] });
  return { ...(JSON.parse(out.toString().trim().split('\n').pop()!) as Run), client };
}

function main(): void {
  execFileSync('make', ['-s', '-C', path.join(__dirname, 'ceiling')], { stdio: 'inherit' });
  const topic = `bench-seed-${Date.now()}`;
  execFileSync('kcat', ['-b', brokers, '-L', '-t', topic], { stdio: 'ignore' });
  const ours = [...Object.keys(CLIENTS).filter((c) => c.startsWith('kafka-fd fd')), CEILING];
  if (PEER) {
    peerAddon = execFileSync('bash', [path.join(__dirname, 'build-peer-librdkafka.sh')]).toString().trim();
    const version = path.basename(path.dirname(path.dirname(path.dirname(peerAddon)))).replace('.addon-', '');
    peerCeiling = path.join(__dirname, 'ceiling', `ceiling-.librdkafka-${version}`);
  }
  const clients = [...Object.keys(CLIENTS), CEILING, ...(PEER ? ours.map((c) => c + AT_PEER) : [])]
    .filter((c) => !ONLY || ONLY.includes(c));
  const runs: Run[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const order = clients.map((_, i) => clients[(i + rep) % clients.length]);
    for (const n of COUNTS) for (const c of order) runs.push(runClient(c, n, topic));
    process.stderr.write(`repetition ${rep + 1}/${REPS} done\n`);
  }
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  const lines = [
    `${MESSAGES} messages of 100 B per producer, acks=all, real broker (Apache Kafka 4.1.1, KRaft, one node on the same ` +
      `2 cores). msg/s = messages / (first send to last ack); median of ${REPS} runs, each the median of ${ROUNDS} bursts ` +
      'after a warm-up; (min-max) of the runs. Node ' + process.version + '.',
    '',
    `| client | librdkafka | ${COUNTS.map((n) => `${n} producer${n > 1 ? 's' : ''}`).join(' | ')} |`,
    `|---|---|${COUNTS.map(() => '---:').join('|')}|`,
  ];
  const table: Record<string, Record<number, number>> = {};
  for (const c of clients) {
    const cells = COUNTS.map((n) => {
      const rates = runs.filter((r) => r.client === c && r.producers === n).map((r) => r.msgs / (r.ms / 1000));
      (table[c] ??= {})[n] = median(rates);
      return `${fmt(median(rates))} (${fmt(Math.min(...rates))}-${fmt(Math.max(...rates))})`;
    });
    const version = runs.find((r) => r.client === c)?.librdkafka ?? '-';
    lines.push(`| ${c} | ${version} | ${cells.join(' | ')} |`);
  }
  const text = lines.join('\n');
  console.log(text);
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `seed-${new Date().toISOString().slice(0, 10)}${PEER ? '-peer-librdkafka' : ''}`);
  fs.writeFileSync(`${base}.md`, `# Seed table\n\n${text}\n`);
  fs.writeFileSync(`${base}.json`, JSON.stringify({ runs, table }, null, 1));
  console.log(`\nwritten to ${path.relative(process.cwd(), base)}.md and .json`);
}

main();
