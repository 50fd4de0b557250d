// One run of the seed scenario in a process of its own: client, producers, messages per producer, rounds.
// Prints one JSON line: the median burst time and the process's CPU per message.
import { CLIENTS } from './clients';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const [client, producersArg, messagesArg, topic, roundsArg] = process.argv.slice(2);
  const [n, count, rounds] = [Number(producersArg), Number(messagesArg), Number(roundsArg)];
  const c = CLIENTS[client](process.env.KAFKA_BROKERS ?? '127.0.0.1:9092', topic);
  await c.connect(n);
  const value = Buffer.alloc(100, 7);
  await c.burst(Math.min(count, 100), value);
  const cpu0 = process.cpuUsage();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    await c.burst(count, value);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cpu = process.cpuUsage(cpu0);
  const librdkafka = c.librdkafka;
  await c.close();
  process.stdout.write(`${JSON.stringify({ client, producers: n, msgs: n * count, ms: median(times), librdkafka,
    cpuUsPerMsg: (cpu.user + cpu.system) / (n * count * rounds) })}\n`);
  process.exit(0);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
