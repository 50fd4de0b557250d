// One measurement, in a process of its own: N producers in one polling mode, each sending `messages`
// messages of 100 bytes with produce() (a promise each) or produceAsync() (acks counted from acks$),
// clock from the first send to the last ack. After a warm-up (connections, metadata), the burst is repeated
// `rounds` times and the median round is kept, with the process's CPU time per message over all rounds.
// Prints one JSON line.
import * as fs from 'node:fs';
import { Producer } from '../lib';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function burst(ps: Producer[], api: string, topic: string, messages: number, value: Buffer): Promise<number> {
  const started = process.hrtime.bigint();
  if (api === 'produce') {
    const all: Promise<unknown>[] = [];
    for (const p of ps) for (let i = 0; i < messages; i++) all.push(p.produce({ topic, value }));
    await Promise.all(all);
  } else {
    let acked = 0;
    const total = ps.length * messages;
    const subs: Array<{ unsubscribe(): void }> = [];
    const done = new Promise<void>((resolve) => {
      for (const p of ps) subs.push(p.acks$.subscribe(() => ++acked === total && resolve()));
    });
    for (const p of ps) for (let i = 0; i < messages; i++) p.produceAsync({ topic, value });
    await done;
    for (const s of subs) s.unsubscribe();
  }
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main(): Promise<void> {
  const [mode, api, producersArg, messagesArg, topic, roundsArg] = process.argv.slice(2);
  const producers = Number(producersArg);
  const messages = Number(messagesArg);
  const rounds = Number(roundsArg ?? 5);
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const threadsBefore = fs.readdirSync('/proc/self/task').length;
  const ps = Array.from({ length: producers }, () => new Producer({
    kafka: { 'bootstrap.servers': brokers, acks: 'all' },
    polling: { mode: mode as 'fd' | 'thread' },
  }));
  const value = Buffer.alloc(100, 7);
  await Promise.all(ps.map((p) => p.produce({ topic, value: 'warm-up' })));
  await burst(ps, api, topic, Math.min(messages, 1000), value);
  const cpu0 = process.cpuUsage();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) times.push(await burst(ps, api, topic, messages, value));
  const cpu = process.cpuUsage(cpu0);
  const ms = median(times);
  const threads = fs.readdirSync('/proc/self/task').length;
  const rssMb = process.memoryUsage().rss / 1048576;
  await Promise.all(ps.map((p) => p.close()));
  const msgs = producers * messages;
  const cpuUsPerMsg = (cpu.user + cpu.system) / (msgs * rounds);
  process.stdout.write(`${JSON.stringify({ mode, api, producers, msgs, ms, cpuUsPerMsg, threads, threadsBefore, rssMb })}\n`);
}

void main();
