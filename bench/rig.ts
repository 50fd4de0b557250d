// What the benchmark scripts share: topics on the rig's broker, in-process child measurements and table cells.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Creates topics (name, partitions) on the broker and waits for their leaders. */
export async function createTopics(brokers: string, topics: Array<[string, number]>, configEntries?: Array<{ name: string; value: string }>): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: topics.map(([topic, numPartitions]) => ({ topic, numPartitions, configEntries })), waitForLeaders: true });
  await admin.disconnect();
}

/**
 * Runs `script measure <job>` in a process of its own and returns the JSON its last line prints; a failure
 * becomes `{ ...base, error }` with the last lines of its stderr.
 */
export function measureInChild<T extends object>(script: string, job: object, base: T): T & { error?: string } {
  try {
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', script, 'measure', JSON.stringify(job)],
      { cwd: path.join(__dirname, '..'), timeout: 900000, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 });
    return JSON.parse(out.toString().trim().split('\n').pop()!) as T;
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return { ...base, error: (err.stderr?.toString() || err.message).trim().split('\n').slice(-3).join(' ') };
  }
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A table cell: a number with thousands separators, '-' for anything else. */
export const fmt = (v: unknown, digits = 1): string => (typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits }) : '-');

/** Starts the rig's broker (scripts/kafka.sh; nothing if it runs) and returns a stamp for this run's names. */
export function startRig(): string {
  execFileSync('bash', [path.join(__dirname, '..', 'scripts', 'kafka.sh'), 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return Date.now().toString(36);
}

/** Prints a suite's markdown and writes it, with the runs as JSON, to bench/results/<name>-<date>.md/.json. */
export function writeResults(name: string, md: string, runs: unknown[]): void {
  process.stdout.write(`${md}\n`);
  // BENCH_TAG keeps an experiment's results beside the day's full run instead of over it.
  const tag = process.env.BENCH_TAG ? `-${process.env.BENCH_TAG}` : '';
  const out = path.join(__dirname, 'results', `${name}${tag}-${new Date().toISOString().slice(0, 10)}`);
  fs.writeFileSync(`${out}.md`, md);
  fs.writeFileSync(`${out}.json`, JSON.stringify(runs, null, 1));
}

/**
 * A suite script's entry: `script measure <job>` runs one measurement in this process and prints its JSON
 * (what measureInChild reads); anything else runs the suite.
 */
export function suiteEntry<J, R>(measure: (job: J) => Promise<R>, main: () => Promise<void>): void {
  if (process.argv[2] !== 'measure') {
    void main();
    return;
  }
  measure(JSON.parse(process.argv[3]) as J).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (e: Error) => {
      process.stderr.write(`${e.stack}\n`);
      process.exit(1);
    },
  );
}
