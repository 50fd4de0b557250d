// queueFull: 'wait' with far more messages than librdkafka's queue holds, sent in one synchronous loop: the
// waiting messages move in a bounded number per event-loop turn (the loop keeps turning, no turn lasts
// seconds), in order, and close() fails what still waits a chunk per turn.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { KafkaFdError, MockCluster, Producer } from '../../lib';
import { consumeAll } from '../support/kafka';
import { countLoopTurns } from '../support/loop-turns';
import { track } from '../support/track';

describe("queueFull: 'wait' backlog", () => {
  let mock: MockCluster;
  const open = track<Producer>(10000);
  const producer = (kafka: Record<string, string | number> = {}): Producer =>
    open.add(new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers, 'queue.buffering.max.messages': 1000, ...kafka } }));

  beforeAll(() => {
    mock = MockCluster.start({ topics: { backlog: 1, purge: 1, order: 1, expiry: 1 } });
  });
  afterEach(() => open.closeAll());
  afterAll(() => mock.close());

  it('200,000 messages through a 1,000-message queue: delivered in order, the loop turning throughout', async () => {
    const p = producer({ 'linger.ms': 5 });
    const total = 200000;
    let acked = 0;
    let lastOffset = -1;
    let outOfOrder = 0;
    p.acks$.subscribe((r) => {
      if (r.error) return;
      acked++;
      if (r.offset !== lastOffset + 1) outOfOrder++;
      lastOffset = r.offset;
    });
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const turns = countLoopTurns();
    for (let i = 0; i < total; i++) p.produceAsync({ topic: 'backlog', value: `m${i}` });
    // Nearly all of them wait: only librdkafka's 1,000 went in.
    expect(p.inFlightCount).toBe(total);
    await p.flush(120000);
    const loopTurns = turns.stop();
    delay.disable();
    const maxMs = delay.max / 1e6;
    process.stdout.write(`backlog: ${total} messages, ${loopTurns} loop turns, event-loop delay max ${maxMs.toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms\n`);
    expect(acked).toBe(total);
    expect(outOfOrder).toBe(0);
    expect(p.inFlightCount).toBe(0);
    // Bounded work per turn: the drain took many turns, and none of them came near the seconds an
    // unbounded drain takes (17 s measured before the fix); 1 s leaves room for a noisy machine.
    expect(loopTurns).toBeGreaterThan(200);
    expect(maxMs).toBeLessThan(1000);
    const read = await consumeAll('backlog', total, 60000, mock.bootstrapServers);
    expect(read).toHaveLength(total);
    let misplaced = 0;
    for (let i = 0; i < read.length; i++) if (read[i].payload !== `m${i}`) misplaced++;
    expect(misplaced).toBe(0);
  }, 180000);

  it('produceMany and produce() wait in the same line: order kept across the three calls', async () => {
    const p = producer();
    const batch = Array.from({ length: 3000 }, (_, i) => ({ topic: 'order', value: `batch ${i}` }));
    const many = p.produceMany(batch);
    const single = p.produce({ topic: 'order', value: 'after the batch' });
    const last = p.produce({ topic: 'order', value: 'last' });
    await expect(many).resolves.toEqual({ delivered: 3000 });
    await expect(single).resolves.toMatchObject({ offset: 3000 });
    await expect(last).resolves.toMatchObject({ offset: 3001 });
    const read = await consumeAll('order', 3002, 30000, mock.bootstrapServers);
    expect(read.map((m) => m.payload)).toEqual([...batch.map((m) => m.value), 'after the batch', 'last']);
  });

  it('close() with 100,000 waiting fails each once with ERR__PURGE_QUEUE, a chunk per loop turn', async () => {
    mock.setRtt(1, 200);
    try {
      const p = producer({ 'message.timeout.ms': 60000 });
      const failures = new Map<string, number>();
      let delivered = 0;
      p.acks$.subscribe((r) => {
        if (!r.error) delivered++;
        else failures.set(r.error.code, (failures.get(r.error.code) ?? 0) + 1);
      });
      for (let i = 0; i < 100000; i++) p.produceAsync({ topic: 'purge', value: `m${i}` });
      const turns = countLoopTurns();
      await p.close({ timeoutMs: 0 });
      const loopTurns = turns.stop();
      const failed = [...failures.values()].reduce((a, b) => a + b, 0);
      expect(delivered + failed).toBe(100000);
      expect(failures.get('ERR__PURGE_QUEUE')).toBeGreaterThanOrEqual(99000 - delivered);
      expect(p.inFlightCount).toBe(0);
      expect(loopTurns).toBeGreaterThan(90);
    } finally {
      mock.setRtt(1, 0);
    }
  });

  it('messages that wait past queueFullTimeoutMs fail with ERR__QUEUE_FULL; those in librdkafka go on', async () => {
    mock.brokerDown(1);
    const p = open.add(new Producer({
      kafka: { 'bootstrap.servers': mock.bootstrapServers, 'queue.buffering.max.messages': 10, 'message.timeout.ms': 60000 },
      queueFullTimeoutMs: 300,
    }));
    try {
      const sent = Array.from({ length: 30 }, (_, i) => p.produce({ topic: 'expiry', value: `t${i}` }));
      const waited = await Promise.allSettled(sent.slice(10));
      expect(waited.map((r) => (r.status === 'rejected' ? (r.reason as KafkaFdError).code : 'delivered'))).toEqual(Array(20).fill('ERR__QUEUE_FULL'));
      mock.brokerUp(1);
      const queued = await Promise.all(sent.slice(0, 10));
      expect(queued.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      mock.brokerUp(1);
    }
    await expect(p.produce({ topic: 'expiry', value: 'after' })).resolves.toMatchObject({ offset: 10 });
  });
});
