// A real three-node Kafka cluster (scripts/kafka.sh start-cluster): replication factor 3, min.insync.replicas
// 2, acks=all, idempotence on. The leader of a partition is killed with SIGKILL in the middle of a
// 100,000-message stream and restarted once the stream is acknowledged: nothing is lost, nothing
// duplicated, order kept.
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Consumer, ConsumedMessage, Producer } from '../../lib';
import { consumeAll, uniqueTopic } from '../support/kafka';
import { checkOffsets, checkReadback, streamMessages, watchRetries } from '../support/stream';

const script = path.resolve(__dirname, '..', '..', 'scripts', 'kafka.sh');
const port = Number(process.env.KAFKA_CLUSTER_PORT ?? 9192);
const bootstrap = [0, 1, 2].map((i) => `127.0.0.1:${port + i}`).join(',');

function kafka(...args: string[]): void {
  const run = spawnSync('bash', [script, ...args], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 240000 });
  if (run.status !== 0) throw new Error(`scripts/kafka.sh ${args.join(' ')} failed: the three-node cluster tests cannot run`);
}

/** The leader of each partition, from the cluster's metadata (kcat). */
function leaders(topic: string): number[] {
  const meta = JSON.parse(execFileSync('kcat', ['-b', bootstrap, '-L', '-J', '-t', topic]).toString()) as {
    topics: Array<{ partitions: Array<{ partition: number; leader: number; replicas: unknown[] }> }>;
  };
  const partitions = meta.topics[0].partitions;
  return partitions.sort((a, b) => a.partition - b.partition).map((p) => p.leader);
}

describe('a three-node Kafka cluster', () => {
  beforeAll(() => kafka('start-cluster'), 300000);
  afterAll(() => kafka('stop-cluster'), 120000);

  it('SIGKILL of a partition leader mid-stream: 100,000 messages, none lost, none duplicated', async () => {
    const topic = uniqueTopic('cluster');
    for (let i = 0; i < 60 && (leaders(topic).length < 3 || leaders(topic).some((l) => l < 1)); i++) {
      await new Promise((r) => setTimeout(r, 500));
    }
    const before = leaders(topic);
    const victim = before[0];
    const producers = [0, 1].map(() => new Producer({
      kafka: { 'bootstrap.servers': bootstrap, acks: 'all', 'enable.idempotence': true, 'message.timeout.ms': 120000, 'statistics.interval.ms': 500 },
    }));
    const retries = watchRetries(producers);
    // The first ack per partition after the kill says when each partition served again.
    let killedAt = 0;
    const resumed = new Map<number, number>();
    for (const p of producers) {
      p.acks$.subscribe((r) => {
        if (killedAt && !r.error && !resumed.has(r.partition)) resumed.set(r.partition, Date.now() - killedAt);
      });
    }
    try {
      const outcome = await streamMessages(producers, topic, 50000, (sent) => {
        if (sent >= 30000 && !killedAt) {
          process.kill(Number(execFileSync('bash', [script, 'pid-node', String(victim)]).toString()), 'SIGKILL');
          killedAt = Date.now();
        }
      });
      // Everything was acknowledged by the two nodes left; now the victim comes back and catches up.
      kafka('start-node', String(victim));
      expect(killedAt).toBeGreaterThan(0);
      expect(outcome.failures).toEqual([]);
      expect(outcome.delivered).toBe(100000);
      const after = leaders(topic);
      // The victim led partition 0; another node took over while it was dead.
      expect(resumed.size).toBe(3);
      const read = await consumeAll(topic, 100000, 90000, bootstrap);
      expect(checkReadback(read, 2, 50000)).toEqual({ read: 100000, missing: 0, duplicates: 0, outOfOrder: 0, duplicatesIn: {} });
      // Each report named the offset its message is at (an implicit ack has none; Kafka makes it right).
      expect(checkOffsets(read, outcome.reports)).toMatchObject({ misplaced: 0, missingWithOffset: 0 });
      await new Promise((r) => setTimeout(r, 600));
      process.stdout.write(`cluster: ${JSON.stringify({
        messages: outcome.delivered, ms: outcome.ms, victim, leadersBefore: before, leadersAfter: after,
        retriedRequests: retries.retriedRequests(), retransmitted: retries.transmitted() - 100000,
        resumedMsByPartition: Object.fromEntries(resumed),
      })}\n`);
    } finally {
      await Promise.all(producers.map((p) => p.close({ timeoutMs: 10000 })));
    }
  }, 300000);

  it('SIGKILL of a partition leader while a consumer group reads: every message handled, duplicates counted', async () => {
    const topic = uniqueTopic('cluster-group');
    for (let i = 0; i < 60 && (leaders(topic).length < 3 || leaders(topic).some((l) => l < 1)); i++) {
      await new Promise((r) => setTimeout(r, 500));
    }
    const total = 60000;
    const feeder = new Producer({ kafka: { 'bootstrap.servers': bootstrap, acks: 'all', 'enable.idempotence': true } });
    for (let i = 0; i < total; i += 10000) {
      await feeder.produceMany(Array.from({ length: 10000 }, (_, j) => ({ topic, key: `k${(i + j) % 30}`, value: `${i + j}` })));
    }
    await feeder.close();
    const victim = leaders(topic)[0];
    const handled: number[] = [];
    let lost = 0;
    const members = [0, 1].map(() => new Consumer({
      kafka: { 'bootstrap.servers': bootstrap, 'group.id': `${topic}-group`, 'auto.offset.reset': 'earliest', 'session.timeout.ms': 6000,
        'heartbeat.interval.ms': 1000, 'auto.commit.interval.ms': 500 },
      maxInFlight: 200,
    }));
    let killed = false;
    try {
      for (const c of members) {
        c.errors$.subscribe(() => undefined); // expected while the victim is down
        c.rebalances$.subscribe((r) => (lost += r.lost ? 1 : 0));
        await c.subscribe(topic);
        // Slow enough that the read spans the kill: about 1 ms per message per partition.
        await c.run({ partitionsConcurrently: 3, eachMessage: async (m: ConsumedMessage) => {
          await new Promise((r) => setTimeout(r, 1));
          handled.push(Number(String(m.value)));
        } });
      }
      const deadline = Date.now() + 180000;
      while (new Set(handled).size < total * 0.3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      process.kill(Number(execFileSync('bash', [script, 'pid-node', String(victim)]).toString()), 'SIGKILL');
      killed = true;
      while (new Set(handled).size < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      await Promise.all(members.map((c) => c.close()));
      if (killed) kafka('start-node', String(victim));
    }
    const unique = new Set(handled).size;
    process.stdout.write(`cluster group: ${JSON.stringify({ messages: total, handled: handled.length, unique, duplicates: handled.length - unique, victim, lostRevokes: lost })}\n`);
    expect(unique).toBe(total);
    expect(handled.length - unique).toBeLessThan(total / 4);
  }, 300000);
});
