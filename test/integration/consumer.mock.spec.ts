// The consumer on the mock cluster (first increment of the consumer issue): group membership, every message
// handled once and in order per partition, offsets stored after the handler and committed, backpressure by
// credit, a failing handler, close (also from inside a handler), bad input. librdkafka 2.0.2's mock
// coordinator keeps a member that left until its session times out, so members that leave before another
// joins use a short session.timeout.ms.
import { firstValueFrom, filter } from 'rxjs';
import { ConsumedMessage, Consumer, KafkaFdError, MockCluster, Poller, Producer } from '../../lib';
import { track } from '../support/track';

describe('Consumer on the mock cluster', () => {
  let mock: MockCluster;
  let producer: Producer;
  const consumers = track<Consumer>(10000);
  let group = 0;
  const consumer = (kafka: Record<string, string | number> = {}, extra: object = {}): Consumer =>
    consumers.add(new Consumer({
      kafka: { 'bootstrap.servers': mock.bootstrapServers, 'group.id': `g${group}`, 'auto.offset.reset': 'earliest', 'session.timeout.ms': 6000, ...kafka },
      ...extra,
    }));
  const fill = (topic: string, n: number): Promise<unknown> =>
    producer.produceMany(Array.from({ length: n }, (_, i) => ({ topic, key: `k${i % 13}`, value: `v${i}`, headers: { i: `${i}` } })));
  const until = async (done: () => boolean, ms = 30000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };

  beforeAll(() => {
    mock = MockCluster.start({ topics: { c1: 3, c2: 3, c3: 2, c4: 1, c5: 3 } });
    producer = new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers } });
  });
  beforeEach(() => {
    group++;
  });
  afterEach(() => consumers.closeAll());
  afterAll(async () => {
    await producer.close();
    await mock.close();
  });

  it('handles every message once, in order per partition; after a commit a new member reads only what came next', async () => {
    await fill('c1', 3000);
    const c = consumer();
    const seen: ConsumedMessage[] = [];
    await c.subscribe(['c1']);
    const assigned = firstValueFrom(c.rebalances$.pipe(filter((r) => r.type === 'assign')));
    await c.run({ eachMessage: async (m) => void seen.push(m) });
    expect((await assigned).partitions).toHaveLength(3);
    await until(() => seen.length >= 3000);
    expect(seen).toHaveLength(3000);
    expect(new Set(seen.map((m) => String(m.value))).size).toBe(3000);
    for (const partition of [0, 1, 2]) {
      const offsets = seen.filter((m) => m.partition === partition).map((m) => m.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    expect(seen[0]).toMatchObject({ topic: 'c1', key: expect.any(Buffer), value: expect.any(Buffer), headers: { i: expect.any(Buffer) } });
    expect(seen.every((m) => String(m.headers.i) === String(m.value).slice(1))).toBe(true);
    await c.commit();
    await c.close();
    await producer.produce({ topic: 'c1', value: 'after the commit' });
    const next = consumer();
    const later: string[] = [];
    await next.subscribe('c1');
    await next.run({ eachMessage: (m) => void later.push(String(m.value)) });
    await until(() => later.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(later).toEqual(['after the commit']);
  });

  it('eachBatch: a partition at a time, in order, never more than maxInFlight messages in JS', async () => {
    await fill('c2', 2000);
    const c = consumer({}, { maxInFlight: 50 });
    const sizes: number[] = [];
    const byPartition = new Map<number, number[]>();
    let handled = 0;
    await c.subscribe('c2');
    await c.run({
      partitionsConcurrently: 3,
      eachBatch: async (b) => {
        sizes.push(b.messages.length);
        byPartition.set(b.partition, [...(byPartition.get(b.partition) ?? []), ...b.messages.map((m) => m.offset)]);
        expect(new Set(b.messages.map((m) => m.partition))).toEqual(new Set([b.partition]));
        await new Promise((r) => setTimeout(r, 2));
        handled += b.messages.length;
      },
    });
    await until(() => handled >= 2000);
    expect(handled).toBe(2000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
    for (const offsets of byPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
  });

  it('a handler that throws stops its partition and reports on errors$; the others go on; its offset is not committed', async () => {
    await fill('c3', 200);
    const c = consumer();
    const errors: KafkaFdError[] = [];
    c.errors$.subscribe((e) => errors.push(e));
    const handled = new Map<number, number>();
    await c.subscribe('c3');
    await c.run({
      partitionsConcurrently: 2,
      eachMessage: (m) => {
        if (m.partition === 0 && m.offset === 10) throw new Error('bad message');
        handled.set(m.partition, (handled.get(m.partition) ?? 0) + 1);
      },
    });
    await until(() => errors.length > 0 && (handled.get(1) ?? 0) >= 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(errors[0]).toMatchObject({ code: 'ERR__APPLICATION', message: expect.stringMatching(/c3 \[0\].*bad message/) });
    expect(handled.get(0)).toBe(10);
    const other = handled.get(1)!;
    expect(other).toBeGreaterThan(50);
    await c.commit();
    await c.close();
    // A new member starts partition 0 at the message that failed.
    const next = consumer();
    const first = new Map<number, number>();
    await next.subscribe('c3');
    await next.run({ eachMessage: (m) => void (first.has(m.partition) || first.set(m.partition, m.offset)) });
    await until(() => first.has(0));
    expect(first.get(0)).toBe(10);
  });

  it('close() from inside a handler, and close() twice, settle; the consumer refuses work after', async () => {
    await fill('c4', 100);
    const c = consumer();
    let closing: Promise<void> | undefined;
    await c.subscribe('c4');
    await c.run({ eachMessage: (m) => { if (m.offset === 5) closing = c.close(); } });
    await until(() => closing !== undefined);
    await closing;
    await expect(c.close()).resolves.toBeUndefined();
    await expect(c.subscribe('c4')).rejects.toMatchObject({ code: 'ERR__STATE' });
    await expect(c.commit()).rejects.toMatchObject({ code: 'ERR__STATE' });
  });

  it('shares a poller with producers and leaves it when closed', async () => {
    const poller = new Poller({ name: 'mixed' });
    const p = new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers }, polling: { poller } });
    const c = consumer({}, { polling: { poller } });
    expect(poller.producerCount).toBe(2);
    let got = 0;
    await c.subscribe('c5');
    await c.run({ eachMessage: () => void got++ });
    await p.produceMany(Array.from({ length: 100 }, (_, i) => ({ topic: 'c5', value: `${i}` })));
    await until(() => got >= 100);
    expect(got).toBe(100);
    await c.close();
    await p.close();
    expect(poller.producerCount).toBe(0);
    expect(poller.active).toBe(false);
  });

  it.each([
    ['no group.id', () => new Consumer({ kafka: { 'bootstrap.servers': '127.0.0.1:1' } }), /group\.id/],
    ['thread mode', () => new Consumer({ kafka: { 'group.id': 'x' }, polling: { mode: 'thread' } as never }), /fd mode only/],
    ['maxInFlight 0', () => new Consumer({ kafka: { 'group.id': 'x' }, maxInFlight: 0 }), /maxInFlight/],
    ['an invalid setting', () => new Consumer({ kafka: { 'group.id': 'x', 'session.timeout.ms': 'soon' } }), /session\.timeout\.ms/],
  ])('refuses %s with a KafkaFdError', (_, make, why) => {
    expect(make).toThrow(KafkaFdError);
    expect(make).toThrow(why);
  });

  it('refuses a bad subscription, a bad run() and a bad commit timeout with ERR__INVALID_ARG', async () => {
    const c = consumer();
    await expect(c.commit({ timeoutMs: NaN })).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(c.subscribe([])).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(c.subscribe('bad topic')).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(c.run({})).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(c.run({ eachMessage: () => undefined, partitionsConcurrently: 0 })).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await c.run({ eachMessage: () => undefined });
    await expect(c.run({ eachMessage: () => undefined })).rejects.toMatchObject({ code: 'ERR__STATE' });
  });
});
