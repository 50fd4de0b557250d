// npm run bench:produce-path — the cost of one produceAsync() call on the JS thread, broker-free: the
// producer points at a closed port with a queue large enough to hold everything, so only our JS, the N-API
// call and librdkafka's enqueue are timed. Median of 7 loops of 200,000 calls. Compare builds with it.
// BENCH_TRACED=1: with a subscriber (doing nothing) on the nestjs-kafka-fd:produce tracing channel.
import diagnostics_channel from 'node:diagnostics_channel';
import { Producer, TRACING_CHANNELS } from '../lib/core';

if (process.env.BENCH_TRACED) diagnostics_channel.tracingChannel(TRACING_CHANNELS.produce).subscribe({ start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} });

const p = new Producer({
  kafka: { 'bootstrap.servers': '127.0.0.1:1', 'queue.buffering.max.messages': 2000000, 'message.timeout.ms': 300000 },
  queueFull: 'error',
});
p.errors$.subscribe(() => undefined); // the purge at close is expected here
const value = Buffer.alloc(100, 7);
const res: number[] = [];
for (let r = 0; r < 7; r++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 200000; i++) p.produceAsync({ topic: 'produce-path', value });
  res.push(Number(process.hrtime.bigint() - t0) / 200000);
}
res.sort((a, b) => a - b);
console.log(`ns per produceAsync()${process.env.BENCH_TRACED ? ', traced' : ''}: median ${res[3].toFixed(0)}, min ${res[0].toFixed(0)} (7 x 200,000 calls)`);
void p.close({ timeoutMs: 0 }).then(() => process.exit(0));
