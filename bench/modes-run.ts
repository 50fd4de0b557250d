// One measurement, in a process of its own: N producers in one polling mode, each sending `messages`
// messages of 100 bytes with produce() (a promise each) or produceAsync() (acks counted from acks$),
// clock from the first send to the last ack. Prints one JSON line.
import * as fs from 'node:fs';
import { Producer } from '../lib';

async function main(): Promise<void> {
  const [mode, api, producersArg, messagesArg, topic] = process.argv.slice(2);
  const producers = Number(producersArg);
  const messages = Number(messagesArg);
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const threadsBefore = fs.readdirSync('/proc/self/task').length;
  const ps = Array.from({ length: producers }, () => new Producer({
    kafka: { 'bootstrap.servers': brokers, acks: 'all' },
    polling: { mode: mode as 'fd' | 'thread' },
  }));
  // Connected and with metadata before the clock starts.
  await Promise.all(ps.map((p) => p.produce({ topic, value: 'warm-up' })));
  const value = Buffer.alloc(100, 7);
  const started = process.hrtime.bigint();
  if (api === 'produce') {
    const all: Promise<unknown>[] = [];
    for (const p of ps) for (let i = 0; i < messages; i++) all.push(p.produce({ topic, value }));
    await Promise.all(all);
  } else {
    let acked = 0;
    const total = producers * messages;
    const done = new Promise<void>((resolve) => {
      for (const p of ps) p.acks$.subscribe(() => ++acked === total && resolve());
    });
    for (const p of ps) for (let i = 0; i < messages; i++) p.produceAsync({ topic, value });
    await done;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const threads = fs.readdirSync('/proc/self/task').length;
  const rssMb = process.memoryUsage().rss / 1048576;
  await Promise.all(ps.map((p) => p.close()));
  process.stdout.write(`${JSON.stringify({ mode, api, producers, msgs: producers * messages, ms, threads, threadsBefore, rssMb })}\n`);
}

void main();
