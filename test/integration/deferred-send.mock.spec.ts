import { DeliveryReport, KafkaFdError, MockCluster, Producer } from '../../lib';
import { consumeAll } from '../support/kafka';
import { track } from '../support/track';

// produce() and a plain produceAsync() hand their message to librdkafka when the microtask ends (the turn's
// messages as runs of one native call): what the caller sees must be what it saw when each call sent at once.
describe('Messages deferred to the end of the microtask', () => {
  let mock: MockCluster;
  const open = track<Producer>(2000);
  const producer = (kafka: Record<string, string | number | boolean> = {}): Producer => {
    const p = new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers, ...kafka } });
    open.add(p);
    return p;
  };

  beforeAll(() => {
    mock = MockCluster.start({ brokers: 1, topics: { order: 1, closing: 1, alone: 1, inside: 1, reuse: 1, retry: 1 } });
  });
  afterEach(async () => {
    await open.closeAll();
  });
  afterAll(() => mock.close());

  it('keep the order of the calls, whichever API sent them and whether it sends at once or defers', async () => {
    const p = producer();
    const sent: Array<Promise<unknown>> = [];
    // Deferred (plain produceAsync, every produce()) and sent at once (produceAsync with headers or a
    // partition, produceMany), interleaved in one turn: each call that sends at once sends the deferred first.
    sent.push(p.produce({ topic: 'order', value: 'm0' }));
    p.produceAsync({ topic: 'order', value: 'm1' });
    p.produceAsync({ topic: 'order', value: 'm2', headers: { h: '1' } });
    sent.push(p.produce({ topic: 'order', value: 'm3', key: 'k' }));
    sent.push(p.produceMany([{ topic: 'order', value: 'm4' }, { topic: 'order', value: 'm5' }]));
    p.produceAsync({ topic: 'order', value: 'm6' });
    sent.push(p.produce({ topic: 'order', value: 'm7', timestamp: 1700000000000 }));
    p.produceManyAsync([{ topic: 'order', value: 'm8' }]);
    p.produceAsync({ topic: 'order', value: 'm9', partition: 0 });
    p.produceAsync({ topic: 'order', value: 'm10' });
    expect(p.inFlightCount).toBe(11);
    await Promise.all(sent);
    await p.flush(5000);
    expect(p.inFlightCount).toBe(0);
    const read = await consumeAll('order', 11, 15000, mock.bootstrapServers);
    expect(read.map((m) => m.payload)).toEqual(Array.from({ length: 11 }, (_, i) => `m${i}`));
  });

  it('send what the message object held at the call: an object reused and changed afterwards is not read again', async () => {
    const p = producer();
    const m: { topic: string; value: string | null; key?: string; partition?: number } = { topic: 'reuse', value: 'a' };
    p.produceAsync(m);
    m.value = 'b';
    m.key = 'kb';
    const b = p.produce(m);
    m.value = 'c';
    m.partition = 0;
    const c = p.produce(m);
    m.value = 'changed';
    m.key = 'changed';
    m.topic = 'order';
    await Promise.all([b, c]);
    await p.flush(5000);
    const read = await consumeAll('reuse', 3, 15000, mock.bootstrapServers);
    expect(read.map((r) => [r.key, r.payload])).toEqual([[null, 'a'], ['kb', 'b'], ['kb', 'c']]);
  });

  it('are counted by inFlightCount and waited for by flush() and close() called in the same turn', async () => {
    const p = producer();
    const acks: DeliveryReport[] = [];
    p.acks$.subscribe((r) => acks.push(r));
    for (let i = 0; i < 10; i++) p.produceAsync({ topic: 'closing', value: `f${i}` });
    expect(p.inFlightCount).toBe(10);
    await p.flush(5000);
    expect(acks.filter((r) => r.error === undefined)).toHaveLength(10);
    // More than one deferral's limit, then close() before the microtask ends: all of them are delivered.
    for (let i = 0; i < 1000; i++) p.produceAsync({ topic: 'closing', value: `c${i}` });
    const promised = p.produce({ topic: 'closing', value: 'last' });
    await p.close({ timeoutMs: 10000 });
    await expect(promised).resolves.toMatchObject({ topic: 'closing' });
    expect(acks.filter((r) => r.error === undefined)).toHaveLength(1011);
    const read = await consumeAll('closing', 1011, 15000, mock.bootstrapServers);
    expect(read.map((m) => m.payload)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `f${i}`), ...Array.from({ length: 1000 }, (_, i) => `c${i}`), 'last',
    ]);
  });

  it('a deferred message librdkafka refuses fails alone on its promise; the rest of the turn goes out, and flush() still returns', async () => {
    const p = producer({ 'message.max.bytes': 10000 });
    await p.produce({ topic: 'alone', value: 'metadata known' });
    const outcomes = await Promise.allSettled([
      p.produce({ topic: 'alone', value: 'a' }),
      p.produce({ topic: 'alone', value: 'x'.repeat(20000) }),
      p.produce({ topic: 'alone', value: 'b' }),
      p.produce({ topic: 'alone', value: 'p', partition: 7 }),
      p.produce({ topic: 'alone', value: 'c' }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ name: 'KafkaFdError', code: 'ERR_MSG_SIZE_TOO_LARGE' });
    expect((outcomes[3] as PromiseRejectedResult).reason).toMatchObject({ name: 'KafkaFdError', code: 'ERR__UNKNOWN_PARTITION' });
    // Nothing but refused messages in a turn: no report will come, flush() returns all the same.
    const refused = p.produce({ topic: 'alone', value: 'q', partition: 9 });
    await expect(p.flush(2000)).resolves.toBeUndefined();
    await expect(refused).rejects.toMatchObject({ code: 'ERR__UNKNOWN_PARTITION' });
    const read = await consumeAll('alone', 4, 15000, mock.bootstrapServers);
    expect(read.map((m) => m.payload)).toEqual(['metadata known', 'a', 'b', 'c']);
  });

  it('produceAsync still throws at once for a message librdkafka would refuse for its size', () => {
    const p = producer({ 'message.max.bytes': 10000 });
    let thrown: unknown;
    try {
      p.produceAsync({ topic: 'alone', value: 'x'.repeat(20000) });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(KafkaFdError);
    expect(thrown).toMatchObject({ code: 'ERR_MSG_SIZE_TOO_LARGE' });
    expect(p.inFlightCount).toBe(0);
  });

  it('a message produced from a report subscriber while the deferred ones go out comes after them', async () => {
    const p = producer();
    await p.produce({ topic: 'inside', value: 'first' });
    // The refused message's report reaches acks$ inside the flush, before 'b' is sent: what the subscriber
    // sends then (with headers, a call that would otherwise go at once) must not overtake 'b'.
    p.acks$.subscribe((r) => {
      if (r.error) p.produceAsync({ topic: 'inside', value: 'from the subscriber', headers: { h: '1' } });
    });
    const refused = p.produce({ topic: 'inside', value: 'bad', partition: 5 });
    const b = p.produce({ topic: 'inside', value: 'b' });
    await expect(refused).rejects.toMatchObject({ code: 'ERR__UNKNOWN_PARTITION' });
    await b;
    await p.flush(5000);
    const read = await consumeAll('inside', 3, 15000, mock.bootstrapServers);
    expect(read.map((m) => m.payload)).toEqual(['first', 'b', 'from the subscriber']);
    // Deferred behind the flush, it keeps what only the single call carries: its headers.
    expect(read[2].headers).toEqual(['h', '1']);
  });

  it('a subscriber that produces again on every failure cannot hold the event loop: what it sends waits for the next turn', async () => {
    const p = producer();
    await p.produce({ topic: 'retry', value: 'metadata known' });
    let retries = 0;
    let stop = false;
    p.acks$.subscribe((r) => {
      if (!r.error || stop) return;
      retries++;
      p.produce({ topic: 'retry', value: 'again', partition: 5 }).catch(() => undefined);
    });
    p.produce({ topic: 'retry', value: 'bad', partition: 5 }).catch(() => undefined);
    // Sent all in one flush, the retries would never end and this timer never fire.
    await new Promise((resolve) => setTimeout(resolve, 50));
    stop = true;
    expect(retries).toBeGreaterThan(0);
    await expect(p.flush(5000)).resolves.toBeUndefined();
  });
});
