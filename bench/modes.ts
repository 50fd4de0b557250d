// npm run bench:modes — fd vs thread mode on the real broker: 1, 2, 5, 10, 25 producers, 1000 messages of
// 100 bytes each, acks=all, produce() and produceAsync(). Every measurement runs in a fresh process;
// modes and APIs are interleaved within each repetition so that machine noise hits them alike.
// Prints a table of medians (and the min-max spread) and writes it to bench/results/.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { librdkafkaVersion } from '../lib';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const COUNTS = (process.env.BENCH_PRODUCERS ?? '1,2,5,10,25').split(',').map(Number);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';

interface Sample { mode: string; api: string; producers: number; msgs: number; ms: number; cpuUsPerMsg: number; threads: number; rssMb: number }

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function runOne(mode: string, api: string, producers: number, topic: string): Sample {
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'modes-run.ts'),
    mode, api, String(producers), String(MESSAGES), topic, String(ROUNDS)], { env: { ...process.env, KAFKA_BROKERS: brokers }, timeout: 120000 });
  return JSON.parse(out.toString().trim().split('\n').pop()!) as Sample;
}

function main(): void {
  const topic = `bench-modes-${Date.now()}`;
  execFileSync('kcat', ['-b', brokers, '-L', '-t', topic], { stdio: 'ignore' }); // auto-creates it
  const samples: Sample[] = [];
  const kinds = [['fd', 'produce'], ['thread', 'produce'], ['fd', 'produceAsync'], ['thread', 'produceAsync']];
  for (let rep = 1; rep <= REPS; rep++) {
    for (const n of COUNTS) {
      // Alternate the order between repetitions too.
      const order = rep % 2 ? kinds : [...kinds].reverse();
      for (const [mode, api] of order) samples.push(runOne(mode, api, n, topic));
    }
    process.stderr.write(`repetition ${rep}/${REPS} done\n`);
  }

  const lines: string[] = [];
  lines.push(`librdkafka ${librdkafkaVersion()}, Node ${process.version}, ${MESSAGES} messages of 100 B per producer, acks=all, ` +
    `real broker at ${brokers}. Each run is a fresh process that warms up, then times ${ROUNDS} bursts and keeps the median; ` +
    `the table gives the median of ${REPS} runs (min-max). CPU is the process's user+system time per message over its bursts. ` +
    'Threads are the whole process (librdkafka starts the same threads per producer in both modes).');
  lines.push('');
  lines.push('| producers | api | fd msg/s | thread msg/s | fd / thread | fd CPU µs/msg | thread CPU µs/msg | fd threads | thread threads | fd RSS MB | thread RSS MB |');
  lines.push('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const api of ['produce', 'produceAsync']) {
    for (const n of COUNTS) {
      const pick = (mode: string): Sample[] => samples.filter((s) => s.mode === mode && s.api === api && s.producers === n);
      const rate = (s: Sample[]): number[] => s.map((x) => x.msgs / (x.ms / 1000));
      const fd = pick('fd');
      const th = pick('thread');
      const fmt = (r: number[]): string => `${Math.round(median(r)).toLocaleString('en-US')} (${Math.round(Math.min(...r)).toLocaleString('en-US')}-${Math.round(Math.max(...r)).toLocaleString('en-US')})`;
      lines.push(`| ${n} | ${api} | ${fmt(rate(fd))} | ${fmt(rate(th))} | ${(median(rate(fd)) / median(rate(th))).toFixed(2)} | ` +
        `${median(fd.map((s) => s.cpuUsPerMsg)).toFixed(2)} | ${median(th.map((s) => s.cpuUsPerMsg)).toFixed(2)} | ` +
        `${median(fd.map((s) => s.threads))} | ${median(th.map((s) => s.threads))} | ` +
        `${median(fd.map((s) => s.rssMb)).toFixed(0)} | ${median(th.map((s) => s.rssMb)).toFixed(0)} |`);
    }
  }
  const table = lines.join('\n');
  console.log(table);
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `modes-${new Date().toISOString().slice(0, 10)}-${MESSAGES}.md`);
  fs.writeFileSync(file, `# fd vs thread mode\n\n${table}\n`);
  fs.writeFileSync(file.replace(/\.md$/, '.json'), JSON.stringify(samples, null, 1));
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
}

main();
