// npm run bench:produce-path — the cost of one produce call on the JS thread, broker-free: the producer points
// at a closed port with a queue large enough to hold everything, so only our JS, the N-API call and
// librdkafka's enqueue are timed. Beside ours, the floor: librdkafka's own enqueue called from C
// (bench/ceiling/produce-cost.c). Median of 7 loops of 200,000 messages, a fresh producer per loop; 100-byte
// Buffer values, one topic. Compare builds with it.
// BENCH_TRACED=1: with a subscriber (doing nothing) on the nestjs-kafka-fd:produce tracing channel.
import { execFileSync } from 'node:child_process';
import diagnostics_channel from 'node:diagnostics_channel';
import * as path from 'node:path';
import { Message, Producer, TRACING_CHANNELS } from '../lib/core';

if (process.env.BENCH_TRACED) diagnostics_channel.tracingChannel(TRACING_CHANNELS.produce).subscribe({ start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} });

const N = 200000;
const value = Buffer.alloc(100, 7);
const message: Message = { topic: 'produce-path', value };
const batch: Message[] = Array.from({ length: 1000 }, () => ({ topic: 'produce-path', value }));
const ignore = (): void => undefined;

const apis: Record<string, (p: Producer) => void> = {
  'produceAsync()': (p) => {
    for (let i = 0; i < N; i++) p.produceAsync(message);
  },
  'produce() (a promise each)': (p) => {
    for (let i = 0; i < N; i++) p.produce(message).catch(ignore);
  },
  'produceManyAsync(), 1000 a call': (p) => {
    for (let i = 0; i < N; i += 1000) p.produceManyAsync(batch);
  },
  'produceMany(), 1000 a call': (p) => {
    for (let i = 0; i < N; i += 1000) p.produceMany(batch).catch(ignore);
  },
};

async function time(fn: (p: Producer) => void): Promise<number[]> {
  const res: number[] = [];
  for (let r = 0; r < 7; r++) {
    const p = new Producer({
      kafka: { 'bootstrap.servers': '127.0.0.1:1', 'queue.buffering.max.messages': 2000000, 'message.timeout.ms': 300000 },
    });
    p.errors$.subscribe(ignore); // the purge at close is expected here
    const t0 = process.hrtime.bigint();
    fn(p);
    await null; // what produce() and produceAsync() defer goes out when the microtask ends: timed too
    res.push(Number(process.hrtime.bigint() - t0) / N);
    await p.close({ timeoutMs: 0 });
  }
  return res.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const dir = path.join(__dirname, 'ceiling');
  execFileSync('make', ['-s', '-C', dir], { stdio: 'inherit' });
  const floor = JSON.parse(execFileSync(path.join(dir, 'produce-cost')).toString()) as { produceva: number; produceBatch: number; librdkafka: string };
  console.log(`ns per message, broker-free, median (min) of 7 x ${N.toLocaleString('en-US')}${process.env.BENCH_TRACED ? ', traced' : ''}; librdkafka ${floor.librdkafka}\n`);
  console.log('| call | ns per message | / librdkafka produceva |\n|---|---:|---:|');
  console.log(`| C: rd_kafka_produceva (the addon's call) | ${floor.produceva.toFixed(0)} | 1.00x |`);
  console.log(`| C: rd_kafka_produce_batch, 1000 a call (produceValues') | ${floor.produceBatch.toFixed(0)} | ${(floor.produceBatch / floor.produceva).toFixed(2)}x |`);
  for (const [name, fn] of Object.entries(apis)) {
    const res = await time(fn);
    console.log(`| ${name} | ${res[3].toFixed(0)} (${res[0].toFixed(0)}) | ${(res[3] / floor.produceva).toFixed(2)}x |`);
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
