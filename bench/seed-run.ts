// One run of the seed scenario in a process of its own: client, producers, messages per producer, rounds.
// Prints one JSON line: the median burst time and the process's CPU per message.
import { CLIENTS, timeBursts } from './clients';

async function main(): Promise<void> {
  const [client, producersArg, messagesArg, topic, roundsArg] = process.argv.slice(2);
  const [n, count, rounds] = [Number(producersArg), Number(messagesArg), Number(roundsArg)];
  const c = CLIENTS[client](process.env.KAFKA_BROKERS ?? '127.0.0.1:9092', topic);
  await c.connect(n);
  const { ms, cpuUsPerMsg } = await timeBursts(c, n, count, rounds, Math.min(count, 100));
  const librdkafka = c.librdkafka;
  await c.close();
  process.stdout.write(`${JSON.stringify({ client, producers: n, msgs: n * count, ms, librdkafka, cpuUsPerMsg })}\n`);
  process.exit(0);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
