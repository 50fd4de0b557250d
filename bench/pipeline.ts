// npm run bench:pipeline — exactly-once consume-transform-produce on the rig's real broker: BENCH_MESSAGES
// (100,000) input messages of 100 B over 6 partitions; P pipelines in one process (1 and 10: each a consumer
// of one group and a transactional producer); each transaction takes up to B messages of a partition (100 and
// 1,000), produces one output message per input and commits the consumer's position with it. End to end msg/s
// (first transaction begun to the last input committed) and the latency of a transaction (begin to commit)
// p50/p99, for ours (producer fd mode and thread mode) and @confluentinc/kafka-javascript's KafkaJS API doing the
// same (kafkajs's too with BENCH_CLIENTS). Each measurement runs in a process of its own; medians of BENCH_REPS (3).
// Env: BENCH_MESSAGES, BENCH_REPS, BENCH_CLIENTS, BENCH_PIPELINES (1,10), BENCH_TX_SIZES (100,1000).
// Writes bench/results/pipeline-<date>.md and .json.
import { createTopics, fmt, measureInChild, median, startRig, suiteEntry, writeResults } from './rig';

interface Job { client: string; pipelines: number; txSize: number; input: string; output: string; group: string; brokers: string; total: number }
interface Result { client: string; pipelines: number; txSize: number; [k: string]: number | string | undefined }

const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const chunks = <T>(xs: T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));

/** What every client's pipeline reports: transactions' latencies (begin to commit), their waits for the
 * producer's previous transaction, the inputs committed. */
interface Tally { committed: number; latencies: number[]; waits: number[]; first: number; last: number }

/** Ours: Consumer + transactional Producer, a transaction per chunk with sendConsumed. */
async function kafkaFd(job: Job, mode: 'fd' | 'thread', tally: Tally): Promise<() => Promise<void>> {
  const core = await import('../lib/core');
  const clients: Array<{ close(): Promise<void> }> = [];
  for (let i = 0; i < job.pipelines; i++) {
    const consumer = new core.Consumer({ kafka: { 'bootstrap.servers': job.brokers, 'group.id': job.group, 'auto.offset.reset': 'earliest', 'enable.auto.commit': false } });
    const producer = new core.Producer({ kafka: { 'bootstrap.servers': job.brokers, 'transactional.id': `${job.group}-${i}` }, polling: { mode } });
    clients.push(consumer, producer);
    await producer.initTransactions();
    await consumer.subscribe(job.input);
    await consumer.run({
      partitionsConcurrently: 6,
      eachBatch: async (batch) => {
        for (const chunk of chunks(batch.messages, job.txSize)) {
          if (!tally.first) tally.first = nowMs();
          // The producer runs its transactions one at a time, queueing the other partitions' batches: a
          // transaction's latency counts from its begin (the function runs then), its wait is counted apart.
          const asked = nowMs();
          let t = 0;
          await producer.transaction((tx) => {
            t = nowMs();
            tally.waits.push(t - asked);
            tx.produceManyAsync(chunk.map((m) => ({ topic: job.output, key: m.key, value: m.value })));
            tx.sendConsumed(consumer, chunk);
          });
          tally.latencies.push(nowMs() - t);
          tally.committed += chunk.length;
          tally.last = nowMs();
        }
      },
    });
  }
  // Consumers first (they wait for their handlers), then the producers.
  return async () => {
    for (const c of clients) await c.close();
  };
}

/** One transaction at a time per producer: `take()` resolves, in call order, with the release of the turn. */
class Turns {
  private tail = Promise.resolve();
  take(): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const before = this.tail;
    this.tail = before.then(() => mine);
    return before.then(() => release);
  }
}

/** The KafkaJS API (kafkajs, or @confluentinc/kafka-javascript's): eachBatch, a transaction per chunk, sendOffsets. */
async function kafkajsStyle(job: Job, which: 'kafkajs' | 'confluent', tally: Tally): Promise<() => Promise<void>> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any
  const pkg: any = which === 'kafkajs' ? require('kafkajs') : require('@confluentinc/kafka-javascript').KafkaJS;
  const kafka = which === 'kafkajs'
    ? new pkg.Kafka({ brokers: [job.brokers], logLevel: pkg.logLevel.NOTHING })
    : new pkg.Kafka({ kafkaJS: { brokers: [job.brokers], logLevel: pkg.logLevel.NOTHING } });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const clients: any[] = [];
  const turns = Array.from({ length: job.pipelines }, () => new Turns());
  for (let i = 0; i < job.pipelines; i++) {
    const transactionalId = `${job.group}-${i}`;
    const producer = which === 'kafkajs'
      ? kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 })
      : kafka.producer({ kafkaJS: { transactionalId, idempotent: true, maxInFlightRequests: 1 } });
    const consumer = which === 'kafkajs'
      ? kafka.consumer({ groupId: job.group })
      : kafka.consumer({ kafkaJS: { groupId: job.group, fromBeginning: true, autoCommit: false } });
    clients.push(consumer, producer);
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe(which === 'kafkajs' ? { topic: job.input, fromBeginning: true } : { topic: job.input });
    await consumer.run({
      partitionsConsumedConcurrently: 6,
      ...(which === 'kafkajs' ? { autoCommit: false } : {}),
      eachBatch: async ({ batch }: { batch: { topic: string; partition: number; messages: Array<{ offset: string; key: Buffer | null; value: Buffer | null }> } }) => {
        for (const chunk of chunks(batch.messages, job.txSize)) {
          if (!tally.first) tally.first = nowMs();
          // Its producer refuses a second transaction while one is open ("Can only start one transaction at a
          // time"), so the partitions handled at once take turns, as ours do inside the producer.
          const asked = nowMs();
          const release = await turns[i].take();
          const t = nowMs();
          tally.waits.push(t - asked);
          const tx = await producer.transaction();
          try {
            await tx.send({ topic: job.output, messages: chunk.map((m) => ({ key: m.key, value: m.value })) });
            const next = String(Number(chunk[chunk.length - 1].offset) + 1);
            const topics = [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }];
            await tx.sendOffsets(which === 'kafkajs' ? { consumerGroupId: job.group, topics } : { consumer, topics });
            await tx.commit();
          } catch (e) {
            await tx.abort().catch(() => undefined);
            throw e;
          } finally {
            release();
          }
          tally.latencies.push(nowMs() - t);
          tally.committed += chunk.length;
          tally.last = nowMs();
        }
      },
    });
  }
  return async () => {
    for (const c of clients) await c.disconnect();
  };
}

async function measure(job: Job): Promise<Result> {
  const tally: Tally = { committed: 0, latencies: [], waits: [], first: 0, last: 0 };
  const stop = job.client === 'kafka-fd' ? await kafkaFd(job, 'fd', tally)
    : job.client === 'kafka-fd thread mode' ? await kafkaFd(job, 'thread', tally)
      : await kafkajsStyle(job, job.client === 'kafkajs' ? 'kafkajs' : 'confluent', tally);
  const cpu0 = process.cpuUsage();
  const deadline = Date.now() + 600000;
  while (tally.committed < job.total && Date.now() < deadline) await sleep(20);
  const cpu = process.cpuUsage(cpu0);
  const result: Result = {
    client: job.client, pipelines: job.pipelines, txSize: job.txSize, committed: tally.committed, transactions: tally.latencies.length,
    msgPerS: (tally.committed / (tally.last - tally.first)) * 1000, txP50: pct(tally.latencies, 50), txP99: pct(tally.latencies, 99), waitP99: pct(tally.waits, 99),
    cpuUsPerMsg: (cpu.user + cpu.system) / Math.max(1, tally.committed), timedOut: tally.committed < job.total ? 1 : 0,
  };
  await Promise.race([stop(), sleep(60000)]);
  return result;
}

// --- the runner --------------------------------------------------------------------------------------------

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const REPS = Number(process.env.BENCH_REPS ?? 3);
const TOTAL = Number(process.env.BENCH_MESSAGES ?? 100000);
const PIPELINES = (process.env.BENCH_PIPELINES ?? '1,10').split(',').map(Number);
const TX_SIZES = (process.env.BENCH_TX_SIZES ?? '100,1000').split(',').map(Number);
// kafkajs 2.2.4 is left out by default: against the rig's Kafka 4.1.1 its transactional pipeline committed
// nothing in 120 s (2,000 messages); BENCH_CLIENTS=kafkajs runs it anyway.
const CLIENTS = process.env.BENCH_CLIENTS?.split(',') ?? ['kafka-fd', 'kafka-fd thread mode', '@confluentinc/kafka-javascript'];

async function prefill(topic: string): Promise<void> {
  const { Producer } = await import('../lib/core');
  const producer = new Producer({ kafka: { 'bootstrap.servers': brokers } });
  const value = Buffer.alloc(100, 7);
  for (let i = 0; i < TOTAL; i += 10000) {
    await producer.produceMany(Array.from({ length: Math.min(10000, TOTAL - i) }, (_, j) => ({ topic, key: `k${(i + j) % 60}`, value })));
  }
  await producer.close();
}

async function main(): Promise<void> {
  const stamp = startRig();
  const input = `bench-pipeline-in-${stamp}`;
  await createTopics(brokers, [[input, 6]]);
  await prefill(input);
  const results: Result[] = [];
  for (const pipelines of PIPELINES) {
    for (const txSize of TX_SIZES) {
      for (let rep = 0; rep < REPS; rep++) {
        const order = CLIENTS.map((_, i) => CLIENTS[(i + rep) % CLIENTS.length]);
        for (const client of order) {
          // A fresh group reads the input from the beginning; a fresh output topic each time.
          const tag = `${pipelines}-${txSize}-${rep}-${client.replace(/\W+/g, '_')}`;
          const output = `bench-pipeline-out-${stamp}-${tag}`;
          await createTopics(brokers, [[output, 6]]);
          const job: Job = { client, pipelines, txSize, input, output, group: `bench-pipeline-${stamp}-${tag}`, brokers, total: TOTAL };
          const r = measureInChild(__filename, job, { client, pipelines, txSize } as Result);
          results.push(r);
          process.stderr.write(`${JSON.stringify(r)}\n`);
        }
      }
    }
  }
  const head = '| client | pipelines | messages per transaction | msg/s | transaction p50 ms | p99 ms | wait for its turn p99 ms | CPU µs/msg | runs |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows: string[] = [];
  for (const pipelines of PIPELINES) {
    for (const txSize of TX_SIZES) {
      for (const client of CLIENTS) {
        const rs = results.filter((r) => r.client === client && r.pipelines === pipelines && r.txSize === txSize);
        const ok = rs.filter((r) => r.error === undefined && !r.timedOut);
        const m = (key: string): number => median(ok.map((r) => Number(r[key])));
        rows.push(`| ${client} | ${pipelines} | ${txSize} | ${fmt(m('msgPerS'), 0)} | ${fmt(m('txP50'), 1)} | ${fmt(m('txP99'), 1)} | ${fmt(m('waitP99'), 1)} | ${fmt(m('cpuUsPerMsg'), 1)} | ${ok.length}${rs.length > ok.length ? ` (${rs.length - ok.length} failed)` : ''} |`);
      }
    }
  }
  const md = [
    `# Exactly-once pipeline (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Broker ${brokers} (scripts/kafka.sh); ${TOTAL.toLocaleString('en-US')} input messages of 100 B over 6 partitions; each transaction up to the given number of one partition's messages, one output message per input, the consumer's position sent with it; medians of ${REPS}, each run its own process.`,
    'A transaction\'s latency runs from its begin to its commit; a producer runs one transaction at a time, so a partition\'s batch first waits for its turn (counted apart).',
    '',
    head,
    ...rows,
    '',
  ].join('\n');
  writeResults('pipeline', md, results);
}

suiteEntry(measure, main);
