// What the benchmark scripts share: topics on the rig's broker, in-process child measurements and table cells.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/** Creates topics (name, partitions) on the broker and waits for their leaders. */
export async function createTopics(brokers: string, topics: Array<[string, number]>): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: topics.map(([topic, numPartitions]) => ({ topic, numPartitions })), waitForLeaders: true });
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
