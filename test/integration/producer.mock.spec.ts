import { firstValueFrom, take, toArray } from 'rxjs';
import { DeliveryReport, KafkaFdError, KafkaLog, Message, MockCluster, Poller, Producer } from '../../lib';
import { consumeAll } from '../support/kafka';
import { countLoopTurns } from '../support/loop-turns';
import { track } from '../support/track';

describe('Producer on the mock cluster', () => {
  let mock: MockCluster;
  const open = track<Producer>(2000);
  const producer = (kafka: Record<string, string | number | boolean> = {}, extra: object = {}): Producer => {
    const p = new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers, ...kafka }, ...extra });
    open.add(p);
    return p;
  };

  beforeAll(() => {
    mock = MockCluster.start({ brokers: 3, topics: { orders: 4, one: 1, sizes: 1 } });
  });
  afterEach(async () => {
    await open.closeAll();
  });
  afterAll(() => mock.close());

  it('acks every message with increasing offsets per partition', async () => {
    const p = producer();
    const reports = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => p.produce({ topic: 'orders', key: `k${i % 50}`, value: `v${i}` })),
    );
    const byPartition = new Map<number, number[]>();
    for (const r of reports) {
      expect(r.topic).toBe('orders');
      expect(r.partition).toBeGreaterThanOrEqual(0);
      byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.offset]);
    }
    expect([...byPartition.keys()].length).toBeGreaterThan(1);
    for (const offsets of byPartition.values()) {
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      expect(new Set(offsets).size).toBe(offsets.length);
    }
  });

  it('sends a message to the partition it names, with the same key hashing to the same partition', async () => {
    const p = producer();
    const r = await p.produce({ topic: 'orders', value: 'x', partition: 3 });
    expect(r.partition).toBe(3);
    const a = await p.produce({ topic: 'orders', key: 'same', value: '1' });
    const b = await p.produce({ topic: 'orders', key: 'same', value: '2' });
    expect(b.partition).toBe(a.partition);
  });

  it('produceAsync reports on acks$ and produceMany resolves once all are acked', async () => {
    const p = producer();
    const acks = firstValueFrom(p.acks$.pipe(take(1500), toArray()));
    for (let i = 0; i < 500; i++) p.produceAsync({ topic: 'orders', value: `a${i}` });
    const batch = Array.from({ length: 500 }, (_, i) => ({ topic: 'orders', value: `b${i}` }));
    await expect(p.produceMany(batch)).resolves.toEqual({ delivered: 500 });
    p.produceManyAsync(batch);
    const seen = await acks;
    expect(seen).toHaveLength(1500);
    expect(seen.every((r) => r.error === undefined && r.topic === 'orders')).toBe(true);
    await p.flush(5000);
    expect(p.inFlightCount).toBe(0);
  });

  it('a mixed batch goes out whole and in order: runs split at every change of topic, partition, headers or timestamp', async () => {
    const p = producer();
    // Plain runs (one native call each) around messages that go alone (headers, a timestamp), a change of
    // topic and of partition, keyed and key-less messages, strings, Buffers, empty and null values.
    const batch: Message[] = [
      ...Array.from({ length: 5 }, (_, i) => ({ topic: 'one', value: `a${i}`, key: i % 2 ? `k${i}` : undefined })),
      { topic: 'one', value: 'h', headers: { h: '1' } },
      { topic: 'one', value: Buffer.from('b0') }, { topic: 'one', value: '' }, { topic: 'one', value: null },
      { topic: 'one', value: 't', timestamp: 1700000000000 },
      { topic: 'orders', value: 'o0', partition: 2 }, { topic: 'orders', value: 'o1', partition: 2 },
      { topic: 'one', value: 'c0', key: Buffer.from('kb') }, { topic: 'one', value: 'c1' },
    ];
    await expect(p.produceMany(batch)).resolves.toEqual({ delivered: batch.length });
    const one = await consumeAll('one', 12, 15000, mock.bootstrapServers);
    expect(one.map((m) => [m.key, m.payload])).toEqual([
      [null, 'a0'], ['k1', 'a1'], [null, 'a2'], ['k3', 'a3'], [null, 'a4'], [null, 'h'], [null, 'b0'], [null, ''], [null, null],
      [null, 't'], ['kb', 'c0'], [null, 'c1'],
    ]);
    expect(one[5].headers).toEqual(['h', '1']);
    expect(one[9].ts).toBe(1700000000000);
    const orders = await consumeAll('orders', 2, 15000, mock.bootstrapServers);
    expect(orders.filter((m) => m.payload === 'o0' || m.payload === 'o1').map((m) => [m.partition, m.payload])).toEqual([[2, 'o0'], [2, 'o1']]);
  });

  it('a too-large message in a plain run is refused alone, by its own error: nothing after it goes out', async () => {
    const p = producer({ 'message.max.bytes': 10000 });
    const batch: Message[] = ['a', 'b', 'x'.repeat(20000), 'c'].map((value) => ({ topic: 'sizes', value }));
    const outcome = await p.produceMany(batch).then(() => undefined, (e: unknown) => e);
    expect(outcome).toMatchObject({ name: 'KafkaFdError', code: 'ERR_MSG_SIZE_TOO_LARGE', failed: 2 });
    let thrown: unknown;
    try {
      p.produceManyAsync(batch);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: 'ERR_MSG_SIZE_TOO_LARGE', accepted: 2 });
    // A message just under the limit still goes (by the single call, past the batch call's margin).
    await expect(p.produceMany([{ topic: 'sizes', value: 'd' }, { topic: 'sizes', value: 'y'.repeat(9900) }])).resolves.toEqual({ delivered: 2 });
    await p.flush(5000);
    const read = await consumeAll('sizes', 6, 15000, mock.bootstrapServers);
    expect(read.map((m) => (m.payload ?? '').slice(0, 1))).toEqual(['a', 'b', 'a', 'b', 'd', 'y']);
  });

  it('rejects bad input with KafkaFdError and keeps working', async () => {
    const p = producer();
    await expect(p.produce({ topic: 'orders', value: 5 as unknown as string })).rejects.toMatchObject({
      name: 'KafkaFdError', code: 'ERR__INVALID_ARG',
    });
    expect(() => p.produceAsync({ topic: 'bad topic!', value: 'x' })).toThrow(KafkaFdError);
    await expect(p.produceMany([{ topic: 'orders', value: 'ok' }, { topic: 'orders', value: 'x', partition: -5 }]))
      .rejects.toThrow(/message 1 of the batch: message partition must be an integer/);
    await expect(p.produce({ topic: 'orders', value: 'still fine' })).resolves.toMatchObject({ topic: 'orders' });
  });

  it('fails a message for a partition that does not exist on its promise', async () => {
    const p = producer({ 'message.timeout.ms': 2000 });
    await expect(p.produce({ topic: 'one', value: 'x', partition: 7 })).rejects.toMatchObject({
      code: 'ERR__UNKNOWN_PARTITION',
    });
  });

  it('rejects invalid configuration with librdkafka\'s own message, secrets redacted', () => {
    expect(() => producer({ 'no.such.property': 1 })).toThrow(/No such configuration property: "no.such.property"/);
    expect(() => producer({ acks: 'sometimes' })).toThrow(KafkaFdError);
    let error: unknown;
    try {
      producer({ 'sasl.password': 'hunter2-secret', 'security.protocol': 'hunter2-secret' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KafkaFdError);
    expect((error as Error).message).not.toContain('hunter2-secret');
    expect((error as Error).message).toContain('[redacted]');
  });

  it('emits stats$ every statistics.interval.ms', async () => {
    const p = producer({ 'statistics.interval.ms': 100 });
    const started = Date.now();
    const stats = await firstValueFrom(p.stats$.pipe(take(5), toArray()));
    const elapsed = Date.now() - started;
    expect(stats.every((s) => s.type === 'producer' && typeof s.msg_cnt === 'number')).toBe(true);
    // Five payloads take at least four intervals (no upper bound: the machine is shared).
    expect(elapsed).toBeGreaterThanOrEqual(350);
  });

  it('routes librdkafka logs to logs$ on the event loop, secrets redacted', async () => {
    const p = producer({ debug: 'conf', 'sasl.password': 'hunter2-secret' }, {});
    const logs: KafkaLog[] = [];
    p.logs$.subscribe((l) => logs.push(l));
    await p.produce({ topic: 'orders', value: 'x' });
    await new Promise((r) => setTimeout(r, 100));
    // The conf dump happens during creation, before anyone could subscribe; later lines are here.
    const p2 = new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers, debug: 'broker', 'sasl.password': 'hunter2-secret' } });
    open.add(p2);
    const logs2: KafkaLog[] = [];
    p2.logs$.subscribe((l) => logs2.push(l));
    await p2.produce({ topic: 'orders', value: 'y' });
    expect(logs2.length).toBeGreaterThan(0);
    expect(logs2.every((l) => typeof l.level === 'number' && l.facility.length > 0)).toBe(true);
    expect(JSON.stringify([...logs, ...logs2])).not.toContain('hunter2-secret');
  });


  it('a transactional producer retries after 20 ms unless its configuration says otherwise', async () => {
    // librdkafka's debug=conf dump (queued at creation, read on the loop) shows the setting it runs with.
    const backoff = async (kafka: Record<string, string | number>): Promise<string | undefined> => {
      const p = producer({ debug: 'conf', ...kafka });
      const lines: string[] = [];
      p.logs$.subscribe((l) => lines.push(l.message));
      await new Promise((r) => setTimeout(r, 200));
      return lines.map((l) => /retry\.backoff\.ms = (\d+)/.exec(l)?.[1]).find((v) => v !== undefined);
    };
    expect(await backoff({ 'transactional.id': 'tx-backoff' })).toBe('20');
    expect(await backoff({ 'transactional.id': 'tx-backoff-own', 'retry.backoff.ms': 250 })).toBe('250');
    expect(await backoff({})).toBeUndefined(); // librdkafka's default (100) is not in a dump of what was set
  });
  it('errors$ reports an unreachable broker and the promise fails at message.timeout.ms', async () => {
    const p = new Producer({ kafka: { 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 1500 } });
    open.add(p);
    const firstError = firstValueFrom(p.errors$);
    const delivery = p.produce({ topic: 'orders', value: 'x' });
    const e = await firstError;
    expect(e).toBeInstanceOf(KafkaFdError);
    expect(['ERR__TRANSPORT', 'ERR__ALL_BROKERS_DOWN']).toContain(e.code);
    await expect(delivery).rejects.toMatchObject({ code: 'ERR__MSG_TIMED_OUT', retriable: true });
  });

  it('warns when a produceAsync failure has nobody listening, instead of dropping it silently', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const p = new Producer({ kafka: { 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 300 } });
      open.add(p);
      p.produceAsync({ topic: 'orders', value: 'nobody listens' });
      p.produceAsync({ topic: 'orders', value: 'nobody listens either' });
      await p.flush(10000);
      const ours = warn.mock.calls.filter(([, o]) => (o as { code?: string })?.code === 'KAFKA_FD_UNOBSERVED_FAILURE');
      // Once per code, not once per message.
      expect(ours).toHaveLength(1);
      expect(String(ours[0][0])).toContain('ERR__MSG_TIMED_OUT');
    } finally {
      warn.mockRestore();
    }
  });

  it('a fatal error reaches errors$ once, flags health, and the producer refuses further messages', async () => {
    const p = producer({ 'enable.idempotence': true });
    await p.produce({ topic: 'orders', value: 'before' });
    const fatal = firstValueFrom(p.errors$);
    // librdkafka's own test hook raises a fabricated fatal error (ERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45).
    (p as unknown as { native: { testFatalError(code: number, why: string): number } }).native.testFatalError(45, 'fabricated');
    const e = await fatal;
    expect(e).toMatchObject({ fatal: true, code: 'ERR_OUT_OF_ORDER_SEQUENCE_NUMBER', retriable: false });
    expect(e.message).toContain('fabricated');
    expect(p.health.fatal).toContain('fabricated');
    await expect(p.produce({ topic: 'orders', value: 'after' })).rejects.toBe(e);
    expect(() => p.produceAsync({ topic: 'orders', value: 'after' })).toThrow(e);
  });

  describe('close', () => {
    it('is harmless twice and rejects produce afterwards with ERR__STATE', async () => {
      const p = producer();
      await p.produce({ topic: 'orders', value: 'x' });
      await Promise.all([p.close(), p.close()]);
      await p.close();
      await expect(p.produce({ topic: 'orders', value: 'x' })).rejects.toMatchObject({ code: 'ERR__STATE' });
      expect(() => p.produceAsync({ topic: 'orders', value: 'x' })).toThrow(/closed/);
    });

    it('delivers what was accepted before it returns', async () => {
      const p = producer();
      let acked = 0;
      p.acks$.subscribe((r) => r.error === undefined && acked++);
      for (let i = 0; i < 5000; i++) p.produceAsync({ topic: 'orders', value: `m${i}` });
      await p.close();
      expect(acked).toBe(5000);
    });

    it('works from inside an acks$ subscriber without deadlock or throw', async () => {
      const p = producer();
      let closing: Promise<void> | undefined;
      const completed = new Promise<void>((resolve) => {
        p.acks$.subscribe({
          next: () => {
            closing ??= p.close();
          },
          complete: resolve,
        });
      });
      const reports = Array.from({ length: 100 }, (_, i) => p.produce({ topic: 'orders', value: `c${i}` }));
      await completed;
      await closing;
      const settled = await Promise.allSettled(reports);
      // Closing waits for what was accepted: every message still gets its report.
      expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    });

    it('purges and fails what cannot be delivered within its timeout', async () => {
      const p = new Producer({ kafka: { 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 60000 } });
      const results = Array.from({ length: 10 }, () => p.produce({ topic: 'orders', value: 'x' }).catch((e) => e));
      const started = Date.now();
      await p.close({ timeoutMs: 300 });
      expect(Date.now() - started).toBeLessThan(10000);
      const errors = await Promise.all(results);
      for (const e of errors) {
        expect(e).toBeInstanceOf(KafkaFdError);
        expect(e.code).toMatch(/ERR__PURGE_QUEUE|ERR__PURGE_INFLIGHT|ERR__DESTROY/);
      }
    });

    it('hands a large purge to JS a batch per loop turn', async () => {
      const p = new Producer({ kafka: { 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 60000 } });
      let failed = 0;
      p.acks$.subscribe((r) => r.error && /ERR__PURGE/.test(r.error.code) && failed++);
      for (let i = 0; i < 20000; i++) p.produceAsync({ topic: 'orders', value: 'x' });
      const loop = countLoopTurns();
      await p.close({ timeoutMs: 100 });
      const turns = loop.stop();
      expect(failed).toBe(20000);
      // 20,000 reports at most 1024 per batch: the loop turned between batches.
      expect(turns).toBeGreaterThanOrEqual(20);
    });
  });

  describe('queue full', () => {
    it("'error' refuses with a retriable ERR__QUEUE_FULL and loses nothing already accepted", async () => {
      const p = producer({ 'queue.buffering.max.messages': 10, 'linger.ms': 50 }, { queueFull: 'error' });
      let accepted = 0;
      let refused: KafkaFdError | undefined;
      const acks: DeliveryReport[] = [];
      p.acks$.subscribe((r) => acks.push(r));
      for (let i = 0; i < 100 && !refused; i++) {
        try {
          p.produceAsync({ topic: 'orders', value: `q${i}` });
          accepted++;
        } catch (e) {
          refused = e as KafkaFdError;
        }
      }
      expect(refused).toMatchObject({ code: 'ERR__QUEUE_FULL', retriable: true });
      await p.flush(5000);
      expect(acks.filter((r) => !r.error)).toHaveLength(accepted);
      await expect(p.produce({ topic: 'orders', value: 'after' })).resolves.toBeDefined();
    });

    it("'wait' delivers everything, in order, through a tiny queue", async () => {
      const p = producer({ 'queue.buffering.max.messages': 10, 'linger.ms': 1 });
      const reports = await Promise.all(
        Array.from({ length: 300 }, (_, i) => p.produce({ topic: 'one', value: `w${i}` })),
      );
      const offsets = reports.map((r) => r.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      expect(new Set(offsets).size).toBe(300);
    });
  });

  describe('fd polling', () => {
    it('a synchronous loop of 150,000 messages fits librdkafka 2.0.2\'s default queue (served inline)', async () => {
      const p = producer({ 'linger.ms': 5 }, { queueFull: 'error' });
      let acked = 0;
      p.acks$.subscribe(() => acked++);
      const value = Buffer.alloc(100, 1);
      // Connected first: the loop measures serving, not librdkafka's first connection (about 1 s here).
      await p.produce({ topic: 'orders', value });
      for (let i = 0; i < 150000; i++) p.produceAsync({ topic: 'orders', value });
      await p.flush(60000);
      expect(acked).toBe(150001);
    });

    it('rejects a poller with thread mode', () => {
      expect(() => producer({}, { polling: { mode: 'thread', poller: new Poller() } })).toThrow(/fd mode/);
    });
  });

  describe('thread mode', () => {
    it('delivers like fd mode and warns once that it is deprecated', async () => {
      const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      try {
        const a = producer({}, { polling: { mode: 'thread' } });
        const b = producer({}, { polling: { mode: 'thread' } });
        const reports = await Promise.all(Array.from({ length: 1000 }, (_, i) => (i % 2 ? a : b).produce({ topic: 'orders', value: `t${i}` })));
        expect(reports).toHaveLength(1000);
        const ours = warn.mock.calls.filter(([, o]) => (o as { code?: string })?.code === 'KAFKA_FD_THREAD_MODE');
        expect(ours).toHaveLength(1);
        expect(a.poller).toBeUndefined();
        expect(a.mode).toBe('thread');
      } finally {
        warn.mockRestore();
      }
    });
  });
});
