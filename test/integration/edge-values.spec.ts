// Values at the edge of the N-API boundary and of timers, read back by an independent consumer (kcat) where
// what matters is what reached Kafka: empty is not null, a Map's headers are not dropped, inherited header
// properties are neither sent nor able to tear a batch apart, and long timeouts mean long.
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { KafkaFdError, Message, MockCluster, Poller, Producer } from '../../lib';
import { consumeAll } from '../support/kafka';
import { track } from '../support/track';

describe('edge values', () => {
  let mock: MockCluster;
  const open = track<Producer>();
  const producer = (kafka: Record<string, string | number> = {}, extra: object = {}): Producer =>
    open.add(new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers, ...kafka }, ...extra }));

  beforeAll(() => {
    mock = MockCluster.start({ topics: { empty: 1, maps: 1, inherited: 1, views: 1 } });
  });
  afterEach(() => open.closeAll());
  afterAll(() => mock.close());

  it('a zero-length Buffer is an empty value, key and header, never null; only null is null', async () => {
    const p = producer();
    const empty = Buffer.alloc(0);
    await p.produce({ topic: 'empty', key: empty, value: empty, headers: { h: empty } });
    await p.produce({ topic: 'empty', key: Buffer.from('abc').subarray(1, 1), value: Buffer.from([]), headers: [['h', Buffer.alloc(0)]] });
    p.produceAsync({ topic: 'empty', key: empty, value: empty });
    await p.produceMany([{ topic: 'empty', key: empty, value: empty, headers: { h: [empty, empty] } }]);
    await p.produce({ topic: 'empty', key: null, value: null, headers: { h: null } });
    await p.flush(10000);
    const read = await consumeAll('empty', 5, 15000, mock.bootstrapServers);
    expect(read.map((m) => [m.key, m.payload, m.headers ?? []])).toEqual([
      ['', '', ['h', '']],
      ['', '', ['h', '']],
      ['', '', []],
      ['', '', ['h', '', 'h', '']],
      [null, null, ['h', null]],
    ]);
  });

  it('a Buffer view with an offset sends only its own bytes', async () => {
    const p = producer();
    const backing = Buffer.from('xxVALUExx--KEY--');
    await p.produce({ topic: 'views', value: backing.subarray(2, 7), key: backing.subarray(11, 14), headers: { h: backing.subarray(0, 2) } });
    await p.produceMany([{ topic: 'views', value: backing.subarray(2, 7), key: backing.subarray(11, 14) }]);
    const read = await consumeAll('views', 2, 15000, mock.bootstrapServers);
    expect(read.map((m) => [m.key, m.payload])).toEqual([['KEY', 'VALUE'], ['KEY', 'VALUE']]);
    expect(read[0].headers).toEqual(['h', 'xx']);
  });

  it('headers given as a Map are sent, in order, repeated names included, by every produce call', async () => {
    const p = producer();
    const headers = new Map<string, string | Buffer | null | string[]>([['a', '1'], ['b', Buffer.from('2')], ['c', ['3', '4']], ['d', null]]);
    await p.produce({ topic: 'maps', value: 'produce', headers });
    p.produceAsync({ topic: 'maps', value: 'produceAsync', headers });
    await p.produceMany([{ topic: 'maps', value: 'produceMany', headers }, { topic: 'maps', value: 'plain', headers: { e: '5' } }]);
    await p.flush(10000);
    const read = await consumeAll('maps', 4, 15000, mock.bootstrapServers);
    const expected = ['a', '1', 'b', '2', 'c', '3', 'c', '4', 'd', null];
    expect(read.map((m) => [m.payload, m.headers])).toEqual([
      ['produce', expected], ['produceAsync', expected], ['produceMany', expected], ['plain', ['e', '5']],
    ]);
  });

  it.each([
    ['a Map with a non-string name', new Map<unknown, unknown>([[1, 'x']]), /header names must be strings/],
    ['a Map with a numeric value', new Map([['h', 1]]), /header 'h' must be a string/],
    ['a Set', new Set(['h']), /headers must be an object, a Map or \[name, value\] pairs, got an object \(Set\)/],
    ['an own enumerable symbol name', { [Symbol('s')]: 'x' }, /header names must be strings, got Symbol\(s\)/],
  ])('headers as %s are refused with ERR__INVALID_ARG, nothing dropped silently', async (_, headers, why) => {
    const p = producer();
    const message = { topic: 'maps', value: 'x', headers } as unknown as Message;
    await expect(p.produce(message)).rejects.toMatchObject({ code: 'ERR__INVALID_ARG', message: expect.stringMatching(why) });
    expect(() => p.produceAsync(message)).toThrow(why);
    await expect(p.produceMany([message])).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    expect(p.inFlightCount).toBe(0);
  });

  it('headers with inherited properties: only own ones are sent, and produceMany takes the whole batch', async () => {
    const p = producer();
    const inheritedHeaders = (own: string): Record<string, string> => Object.assign(Object.create({ inherited: 'no' }), { own });
    const batch: Message[] = Array.from({ length: 10 }, (_, i) => ({
      topic: 'inherited', value: `v${i}`, headers: i === 5 ? (inheritedHeaders(`${i}`) as Record<string, string>) : { own: `${i}` },
    }));
    await expect(p.produceMany(batch)).resolves.toEqual({ delivered: 10 });
    await expect(p.produce({ topic: 'inherited', value: 'single', headers: inheritedHeaders('single') })).resolves.toMatchObject({ offset: 10 });
    expect(p.inFlightCount).toBe(0);
    await expect(p.flush(1000)).resolves.toBeUndefined();
    const read = await consumeAll('inherited', 11, 15000, mock.bootstrapServers);
    expect(read.map((m) => m.headers)).toEqual([...batch.map((_, i) => ['own', `${i}`]), ['own', 'single']]);
  });

  it('a batch the addon refuses half-way says how many it took; nothing is left to reject unobserved', async () => {
    const p = producer();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      // A getter that throws on the addon's read, after JS validation read it fine: the addon stops there.
      let reads = 0;
      const tricky = { topic: 'inherited', get value(): string {
        if (++reads > 1) throw new KafkaFdError('value read twice', { code: 'ERR__INVALID_ARG' });
        return 'x';
      } } as Message;
      const batch: Message[] = [{ topic: 'inherited', value: 'a' }, { topic: 'inherited', value: 'b' }, tricky, { topic: 'inherited', value: 'c' }];
      const outcome = await p.produceMany(batch).then(() => undefined, (e: unknown) => e);
      expect(outcome).toMatchObject({ code: 'ERR__INVALID_ARG', failed: 2, message: expect.stringMatching(/message 2 of the batch: value read twice/) });
      reads = 0;
      let thrown: unknown;
      try {
        p.produceManyAsync(batch);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toMatchObject({ code: 'ERR__INVALID_ARG', accepted: 2 });
      await p.flush(10000);
      expect(p.inFlightCount).toBe(0);
      await p.close({ timeoutMs: 1000 });
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  describe('timeouts', () => {
    it('Infinity and values past 2^31-1 ms wait: flush, close and queueFullTimeoutMs do not fire early', async () => {
      // The broker is slow (500 ms a round trip): with a timeout turned into 1 ms, these would fail at once.
      mock.setRtt(1, 500);
      try {
        const p = producer({}, { queueFullTimeoutMs: 30 * 24 * 3600 * 1000 });
        const first = p.produce({ topic: 'empty', value: 'slow' });
        await expect(p.flush(Infinity)).resolves.toBeUndefined();
        await expect(first).resolves.toMatchObject({ topic: 'empty' });
        const second = p.produce({ topic: 'empty', value: 'slow again' });
        await expect(p.flush(30 * 24 * 3600 * 1000)).resolves.toBeUndefined();
        await expect(second).resolves.toMatchObject({ topic: 'empty' });
        const third = p.produce({ topic: 'empty', value: 'at close' });
        await p.close({ timeoutMs: Infinity });
        await expect(third).resolves.toMatchObject({ topic: 'empty' });
        const q = producer();
        const fourth = q.produce({ topic: 'empty', value: 'at close, 30 days' });
        await q.close({ timeoutMs: 30 * 24 * 3600 * 1000 });
        await expect(fourth).resolves.toMatchObject({ topic: 'empty' });
      } finally {
        mock.setRtt(1, 0);
      }
    });

    it.each([NaN, -1, '10', null])('a timeout of %p is refused with ERR__INVALID_ARG and loses nothing', async (bad) => {
      const p = producer();
      const accepted = p.produce({ topic: 'empty', value: 'kept' });
      await expect(p.flush(bad as number)).rejects.toMatchObject({ code: 'ERR__INVALID_ARG', message: expect.stringMatching(/flush timeoutMs must be/) });
      await expect(p.close({ timeoutMs: bad as number })).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
      expect(p.closed).toBe(false);
      await expect(p.transaction(() => undefined, { timeoutMs: bad as number })).rejects.toMatchObject({ code: 'ERR__INVALID_ARG', message: expect.stringMatching(/transaction timeoutMs must be/) });
      expect(() => new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers }, queueFullTimeoutMs: bad as number })).toThrow(/queueFullTimeoutMs must be/);
      await expect(accepted).resolves.toMatchObject({ topic: 'empty' });
    });

    it.each([['maxTimeMs', Infinity], ['pollTimeoutMs', 2 ** 31], ['turnBudgetMs', NaN], ['batchSize', 1.5]])(
      'a Poller %s of %p is refused, not clamped', (key, value) => {
        expect(() => new Poller({ [key]: value })).toThrow(KafkaFdError);
        expect(() => new Poller({ [key]: value })).toThrow(new RegExp(`${key} must be`));
      });
  });

  it('a MockCluster whose object was dropped keeps running until the process ends', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const start = (): string => MockCluster.start({ topics: { kept: 1 } }).bootstrapServers;
    const bootstrapServers = start();
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    const p = producer({ 'bootstrap.servers': bootstrapServers, 'message.timeout.ms': 10000 });
    await expect(p.produce({ topic: 'kept', value: 'after gc' })).resolves.toMatchObject({ topic: 'kept', offset: 0 });
  });

  it('MockCluster arguments are checked: a KafkaFdError, not a TypeError from the addon', () => {
    expect(() => mock.setRtt(1, Infinity)).toThrow(/setRtt ms must be an integer/);
    expect(() => mock.brokerDown('1' as unknown as number)).toThrow(KafkaFdError);
    expect(() => mock.createTopic('bad topic')).toThrow(/invalid topic name/);
    expect(() => mock.pushRequestErrors(0, 'x' as unknown as number[])).toThrow(KafkaFdError);
  });
});
