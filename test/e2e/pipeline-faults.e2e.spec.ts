// The exactly-once pipeline under a fault, on the real broker: 100,000 input messages over 6 partitions, three
// pipeline processes (test/fixtures/pipeline-worker.ts: a consumer and a producer each), one SIGKILLed
// mid-stream and restarted. With transactions a read_committed reader of the output sees each input exactly
// once, each key in order; without them (at-least-once) nothing is missing and the duplicates are counted.
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { Consumer, Producer } from '../../lib';
import { brokers, createTopic, uniqueTopic } from '../support/kafka';

const TOTAL = 100000;
const KEYS = 100;

function startWorker(args: string[]): { child: ChildProcess; ready: Promise<void>; output: () => string } {
  const script = path.resolve(__dirname, '..', 'fixtures', 'pipeline-worker.ts');
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script, ...args], { cwd: path.resolve(__dirname, '..', '..') });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready in 60 s:\n${out}`)), 60000);
    child.stdout!.on('data', () => {
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!out.includes('ready')) reject(new Error(`worker exited (${code ?? signal}):\n${out}`));
    });
  });
  return { child, ready, output: () => out };
}

async function run(mode: 'eos' | 'alo', strategy = ''): Promise<{ read: number; unique: number; duplicates: number; outOfOrder: number; killedAt: number }> {
  const input = uniqueTopic(`pipe-${mode}-in`);
  const output = uniqueTopic(`pipe-${mode}-out`);
  const group = `${input}-group`;
  for (const topic of [input, output]) await createTopic(topic, 6);
  // Input: KEYS keys, each with increasing sequence numbers ("k7:123").
  const feeder = new Producer({ kafka: { 'bootstrap.servers': brokers(), 'linger.ms': 5 } });
  for (let i = 0; i < TOTAL; i += 10000) {
    await feeder.produceMany(Array.from({ length: 10000 }, (_, j) => {
      const n = i + j;
      return { topic: input, key: `k${n % KEYS}`, value: `k${n % KEYS}:${Math.floor(n / KEYS)}` };
    }));
  }
  await feeder.close();

  // The reader: read_committed (librdkafka's default), counting each input once and each key's order.
  const reader = new Consumer({ kafka: { 'bootstrap.servers': brokers(), 'group.id': `${output}-reader`, 'auto.offset.reset': 'earliest' } });
  const seen = new Set<string>();
  const lastSeq = new Map<string, number>();
  let read = 0;
  let outOfOrder = 0;
  await reader.subscribe(output);
  await reader.run({
    eachBatch: (batch) => {
      for (const m of batch.messages) {
        const [source] = String(m.value).split('|');
        const [key, seq] = source.split(':');
        read++;
        seen.add(source);
        if ((lastSeq.get(key) ?? -1) > Number(seq)) outOfOrder++;
        lastSeq.set(key, Number(seq));
      }
    },
  });

  const workers = [0, 1, 2].map((w) => startWorker([brokers(), input, output, group, String(w), mode, strategy]));
  let killedAt = 0;
  try {
    await Promise.all(workers.map((w) => w.ready));
    const deadline = Date.now() + 120000;
    while (seen.size < TOTAL * 0.3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    killedAt = seen.size;
    workers[0].child.kill('SIGKILL');
    await new Promise((r) => workers[0].child.once('exit', r));
    workers[0] = startWorker([brokers(), input, output, group, '0', mode, strategy]);
    await workers[0].ready;
    while (seen.size < TOTAL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // Anything still on its way (a duplicate, with at-least-once) arrives within a few seconds.
    await new Promise((r) => setTimeout(r, 3000));
  } finally {
    for (const w of workers) w.child.kill('SIGKILL');
    await reader.close();
  }
  return { read, unique: seen.size, duplicates: read - seen.size, outOfOrder, killedAt };
}

describe('pipeline processes under a SIGKILL (real broker)', () => {
  it('with transactions: a read_committed reader sees each of 100,000 inputs exactly once, each key in order', async () => {
    const r = await run('eos');
    process.stdout.write(`pipeline eos: ${JSON.stringify(r)}\n`);
    expect(r.killedAt).toBeLessThan(TOTAL);
    expect(r.unique).toBe(TOTAL);
    expect(r.duplicates).toBe(0);
    expect(r.outOfOrder).toBe(0);
  }, 300000);

  // librdkafka 2.0.2's default strategy (range,roundrobin) is eager: every member gives up its partitions at each
  // rebalance. Cooperative-sticky moves only the killed member's.
  it.each([['eager (range,roundrobin)', ''], ['cooperative-sticky', 'cooperative-sticky']])(
    'without transactions (at-least-once), %s: nothing missing; the duplicates are counted',
    async (name, strategy) => {
      const r = await run('alo', strategy);
      process.stdout.write(`pipeline at-least-once, ${name}: ${JSON.stringify(r)}\n`);
      expect(r.unique).toBe(TOTAL);
      expect(r.duplicates).toBeGreaterThanOrEqual(0);
    },
    300000,
  );
});
