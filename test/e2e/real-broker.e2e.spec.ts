import { KafkaFdError, Poller, Producer } from '../../lib';
import { runFixture } from '../support/child';
import { brokers, consumeAll, threadCount, uniqueTopic } from '../support/kafka';

describe('Producer on the real Kafka broker', () => {
  it('round-trips keys, values, headers, partitions and timestamps, read back by an independent consumer', async () => {
    const topic = uniqueTopic('roundtrip');
    const p = new Producer({ kafka: { 'bootstrap.servers': brokers(), acks: 'all', 'enable.idempotence': true } });
    const sent = Array.from({ length: 300 }, (_, i) => ({
      topic,
      key: i % 3 === 0 ? Buffer.from(`key-${i}`) : `key-${i}`,
      value: i % 2 === 0 ? `value-${i}` : Buffer.from(JSON.stringify({ i })),
      headers: i % 5 === 0 ? ([['h', `x${i}`], ['h', Buffer.from('again')]] as Array<[string, string | Buffer]>) : { trace: `t${i}` },
      partition: i % 3,
      timestamp: 1_700_000_000_000 + i,
    }));
    const reports = [
      ...(await Promise.all(sent.slice(0, 100).map((m) => p.produce(m)))),
    ];
    await p.produceMany(sent.slice(100, 200));
    for (const m of sent.slice(200)) p.produceAsync(m);
    await p.flush(30000);
    await p.close();

    for (const [i, r] of reports.entries()) {
      expect(r).toMatchObject({ topic, partition: i % 3, timestamp: 1_700_000_000_000 + i });
    }
    // Offsets increase per partition, from 0.
    for (let part = 0; part < 3; part++) {
      const offsets = reports.filter((r) => r.partition === part).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, k) => k));
    }

    const got = await consumeAll(topic, 300);
    expect(got).toHaveLength(300);
    const byKey = new Map(got.map((m) => [m.key, m]));
    for (const [i, m] of sent.entries()) {
      const c = byKey.get(`key-${i}`)!;
      expect(c).toBeDefined();
      expect(c.payload).toBe(m.value.toString());
      expect(c.partition).toBe(i % 3);
      expect(c.ts).toBe(1_700_000_000_000 + i);
      expect(c.headers).toEqual(i % 5 === 0 ? ['h', `x${i}`, 'h', 'again'] : ['trace', `t${i}`]);
    }
  });

  it('25 producers on the global poller add no thread of ours; thread mode adds one each', async () => {
    const topic = uniqueTopic('threads');
    const measure = async (mode: 'fd' | 'thread'): Promise<number> => {
      const before = threadCount();
      const ps = Array.from({ length: 25 }, () => new Producer({ kafka: { 'bootstrap.servers': brokers() }, polling: { mode } }));
      await Promise.all(ps.map((p) => p.produce({ topic, value: mode })));
      const added = threadCount() - before;
      await Promise.all(ps.map((p) => p.close()));
      return added;
    };
    const fd = await measure('fd');
    const thread = await measure('thread');
    expect(Poller.global().producerCount).toBe(0);
    // librdkafka's own threads are the same in both modes; the difference is ours.
    expect(thread - fd).toBe(25);
  });

  it('fails every message for a partition the topic does not have, on its promise', async () => {
    const topic = uniqueTopic('unknown-partition');
    const p = new Producer({ kafka: { 'bootstrap.servers': brokers(), 'message.timeout.ms': 3000 } });
    await p.produce({ topic, value: 'create' });
    const errors = await Promise.all(
      Array.from({ length: 5 }, () => p.produce({ topic, value: 'x', partition: 42 }).catch((e) => e)),
    );
    for (const e of errors) {
      expect(e).toBeInstanceOf(KafkaFdError);
      expect(e.code).toBe('ERR__UNKNOWN_PARTITION');
    }
    await p.close();
  });

  describe('process lifetime', () => {
    it('an idle producer does not keep the process from exiting', async () => {
      const r = await runFixture('idle-producer.ts', [uniqueTopic('idle')], 30000);
      expect(r.stdout).toMatch(/acked \d+/);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
    });

    it.each(['natural', 'exit', 'throw'])('a process that ends (%s) with producers open does not crash', async (how) => {
      const r = await runFixture('exit-open.ts', [uniqueTopic('exit'), how], 60000);
      expect(r.stdout).toContain('produced');
      expect(r.signal).toBeNull();
      expect(r.stderr).not.toMatch(/Assertion|Segmentation|core dumped|FATAL ERROR/);
      expect(r.code).toBe(how === 'throw' ? 3 : 0);
    });

    it('works in worker threads, each with its own global poller, closed or not', async () => {
      const topic = uniqueTopic('workers');
      const r = await runFixture('worker-producers.ts', [topic, '4'], 90000);
      expect(r.signal).toBeNull();
      expect(r.stderr).not.toMatch(/Assertion|Segmentation|FATAL ERROR/);
      expect(r.code).toBe(0);
      const results = JSON.parse(r.stdout.trim().split('\n').pop()!) as Array<{ delivered: number; reports: number }>;
      expect(results).toHaveLength(4);
      // Each worker's global poller served only its own producer's 200 reports.
      for (const w of results) {
        expect(w.delivered).toBe(200);
        expect(w.reports).toBe(200);
      }
      expect(await consumeAll(topic, 800)).toHaveLength(800);
    });
  });
});
