import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';

/** The real broker of the test rig (set by the global setup). */
export function brokers(): string {
  const b = process.env.KAFKA_BROKERS;
  if (!b) throw new Error('KAFKA_BROKERS is not set: the global setup did not run');
  return b;
}

/** A topic name no other test uses. */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Creates a topic on the real broker with kcat's help: a produce of nothing triggers auto-creation; we
 * ask for metadata until it has all partitions (the broker's default is 3). */
export function waitForTopic(topic: string, timeoutMs = 30000): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The first request creates the topic and answers "unknown topic"; the partitions come a moment later.
    const out = execFileSync('kcat', ['-b', brokers(), '-L', '-t', topic, '-m', '10', '-J'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const meta = JSON.parse(out) as { topics: Array<{ topic: string; error?: string; partitions: Array<{ leader: number }> }> };
    const t = meta.topics.find((x) => x.topic === topic);
    if (t && !t.error && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) return;
    if (Date.now() > deadline) throw new Error(`topic ${topic} has no partitions after ${timeoutMs} ms`);
    execFileSync('sleep', ['0.1']);
  }
}

export interface ConsumedMessage {
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers: string[] | null;
  ts: number;
}

/** Reads a topic from the beginning to its end with kcat (an independent librdkafka consumer), from the
 * rig's broker or from `bootstrap` (a mock cluster, the three-node cluster). librdkafka's consumers read
 * committed messages only by default (`isolation.level=read_committed`); `extra` may say otherwise. */
export async function consumeAll(topic: string, expected: number, timeoutMs = 30000, bootstrap = brokers(),
  extra: string[] = []): Promise<ConsumedMessage[]> {
  const deadline = Date.now() + timeoutMs;
  let out: ConsumedMessage[] = [];
  while (Date.now() < deadline) {
    out = await new Promise<ConsumedMessage[]>((resolve, reject) => {
      const child = spawn('kcat', ['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q',
        '-X', 'fetch.wait.max.ms=10', ...extra]);
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.on('error', reject);
      child.on('close', () => {
        resolve(text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as ConsumedMessage));
      });
    });
    if (out.length >= expected) return out;
    await new Promise((r) => setTimeout(r, 200));
  }
  return out;
}

/** Threads of this process now. */
export function threadCount(): number {
  return fs.readdirSync('/proc/self/task').length;
}

/** The rig broker's SASL_PLAINTEXT listener (PLAIN, user "tester"): scripts/kafka.sh puts it at the client port + 2. */
export function saslBrokers(): string {
  const [host, port] = brokers().split(':');
  return `${host}:${process.env.KAFKA_SASL_PORT ?? Number(port) + 2}`;
}

/** The pid of the rig broker's JVM, for the tests that pause it; only a broker our script started has one. */
export function brokerPid(): number {
  const file = `${__dirname}/../../.kafka/kafka.pid`;
  if (!fs.existsSync(file)) {
    throw new Error('the fault tests pause the rig broker and need the one scripts/kafka.sh started (.kafka/kafka.pid is missing)');
  }
  return Number(fs.readFileSync(file, 'utf8').trim());
}

/** Reads what a `read_committed` consumer sees: committed transactions and non-transactional messages. */
export function consumeCommitted(topic: string, expected: number, timeoutMs = 30000): Promise<ConsumedMessage[]> {
  return consumeAll(topic, expected, timeoutMs, brokers(), ['-X', 'isolation.level=read_committed']);
}

/** Creates a topic with `partitions` partitions (kafkajs's admin client) and waits for its leaders. */
export async function createTopic(topic: string, partitions: number): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  const admin = new Kafka({ brokers: [brokers()], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  waitForTopic(topic);
}
