// One measurement of bench:modes, in a process of its own: N producers in one polling mode, each sending
// `messages` messages of 100 bytes with produce() (a promise each) or produceAsync() (acks counted from
// acks$), clock from the first send to the last ack. After a warm-up (connections, metadata), the burst is
// repeated `rounds` times and the median round is kept, with the process's CPU time per message over all
// rounds, its thread count and its RSS. Prints one JSON line.
import * as fs from 'node:fs';
import { CLIENTS, timeBursts } from './clients';

async function main(): Promise<void> {
  const [mode, api, producersArg, messagesArg, topic, roundsArg] = process.argv.slice(2);
  const producers = Number(producersArg);
  const messages = Number(messagesArg);
  const rounds = Number(roundsArg ?? 5);
  const threadsBefore = fs.readdirSync('/proc/self/task').length;
  const client = CLIENTS[`kafka-fd ${mode} ${api}()`](process.env.KAFKA_BROKERS ?? '127.0.0.1:9092', topic);
  await client.connect(producers);
  const { ms, cpuUsPerMsg } = await timeBursts(client, producers, messages, rounds, Math.min(messages, 1000));
  const threads = fs.readdirSync('/proc/self/task').length;
  const rssMb = process.memoryUsage().rss / 1048576;
  await client.close();
  const msgs = producers * messages;
  process.stdout.write(`${JSON.stringify({ mode, api, producers, msgs, ms, cpuUsPerMsg, threads, threadsBefore, rssMb })}\n`);
}

void main();
