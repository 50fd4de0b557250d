// Bad input of every kind gets a typed KafkaFdError, loses nothing already accepted, and leaves the
// producer working; a seeded fuzz of produce() arguments neither crashes nor hangs.
import * as fc from 'fast-check';
import { config as rxConfig } from 'rxjs';
import { KafkaFdError, Message, MockCluster, Poller, Producer } from '../../lib';
import { track } from '../support/track';

describe('bad input', () => {
  let mock: MockCluster;
  const open = track<Producer>(2000);
  const producer = (kafka: Record<string, unknown> = {}, extra: object = {}): Producer => {
    const p = new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers, ...kafka } as never, ...extra });
    open.add(p);
    return p;
  };

  beforeAll(() => {
    mock = MockCluster.start({ brokers: 1, topics: { orders: 2 } });
  });
  afterEach(async () => {
    await open.closeAll();
  });
  afterAll(() => mock.close());

  const bad: Array<[string, unknown, RegExp]> = [
    ['a message that is not an object', 'just a string', /a message must be an object, got string/],
    ['a missing topic', { value: 'x' }, /topic must be a string, got undefined/],
    ['a numeric topic', { topic: 42, value: 'x' }, /topic must be a string, got 42/],
    ['an empty topic', { topic: '', value: 'x' }, /invalid topic name ''/],
    ['a topic with a space', { topic: 'bad topic', value: 'x' }, /invalid topic name 'bad topic'/],
    ['a topic of 250 characters', { topic: 'a'.repeat(250), value: 'x' }, /1 to 249 characters/],
    ['the topic ".."', { topic: '..', value: 'x' }, /not "\." or "\.\."/],
    ['a numeric value', { topic: 'orders', value: 5 }, /value must be a string, a Buffer or null, got 5/],
    ['an object value', { topic: 'orders', value: { a: 1 } }, /value must be .* got an object \(Object\)/],
    ['a Uint8Array value (not a Buffer)', { topic: 'orders', value: new Uint8Array(3) }, /got an object \(Uint8Array\)/],
    ['a boolean key', { topic: 'orders', key: true, value: 'x' }, /key must be a string, a Buffer or null, got boolean/],
    ['a fractional partition', { topic: 'orders', value: 'x', partition: 1.5 }, /partition must be an integer .* got 1\.5/],
    ['a partition below -1', { topic: 'orders', value: 'x', partition: -2 }, /partition must be an integer/],
    ['a string partition', { topic: 'orders', value: 'x', partition: '1' }, /partition must be an integer .* got string/],
    ['a negative timestamp', { topic: 'orders', value: 'x', timestamp: -1 }, /timestamp must be ms since the epoch/],
    ['a NaN timestamp', { topic: 'orders', value: 'x', timestamp: NaN }, /timestamp must be/],
    ['an invalid Date', { topic: 'orders', value: 'x', timestamp: new Date('nope') }, /timestamp must be/],
    ['headers as a string', { topic: 'orders', value: 'x', headers: 'h' }, /headers must be an object, a Map or \[name, value\] pairs/],
    ['a numeric header value', { topic: 'orders', value: 'x', headers: { h: 1 } }, /header 'h' must be a string/],
    ['a malformed header pair', { topic: 'orders', value: 'x', headers: [['h']] }, /each header pair must be/],
  ];

  it.each(bad)('%s: produce() rejects, produceAsync() throws, both with ERR__INVALID_ARG', async (_, message, why) => {
    const p = producer();
    const accepted = p.produce({ topic: 'orders', value: 'accepted before' });
    await expect(p.produce(message as Message)).rejects.toMatchObject({ name: 'KafkaFdError', code: 'ERR__INVALID_ARG', message: expect.stringMatching(why) });
    expect(() => p.produceAsync(message as Message)).toThrow(why);
    await expect(p.produceMany([{ topic: 'orders', value: 'ok' }, message as Message])).rejects.toThrow(/message 1 of the batch/);
    await expect(accepted).resolves.toMatchObject({ topic: 'orders' });
    await expect(p.produce({ topic: 'orders', value: 'after' })).resolves.toMatchObject({ topic: 'orders' });
  });

  it('a message larger than message.max.bytes fails with ERR_MSG_SIZE_TOO_LARGE, the rest get through', async () => {
    const p = producer({ 'message.max.bytes': 10000 });
    const before = p.produce({ topic: 'orders', value: 'small' });
    const big = { topic: 'orders', value: Buffer.alloc(20000) };
    await expect(p.produce(big)).rejects.toMatchObject({ name: 'KafkaFdError', code: 'ERR_MSG_SIZE_TOO_LARGE' });
    expect(() => p.produceAsync(big)).toThrow(KafkaFdError);
    await expect(before).resolves.toBeDefined();
    await expect(p.produce({ topic: 'orders', value: 'small again' })).resolves.toBeDefined();
  });

  it('unknown and invalid configuration is refused with a typed error naming the key', () => {
    const refused = (kafka: Record<string, unknown>): KafkaFdError => {
      try {
        producer(kafka);
      } catch (e) {
        return e as KafkaFdError;
      }
      throw new Error(`accepted ${JSON.stringify(kafka)}`);
    };
    expect(refused({ 'no.such.key': 1 })).toMatchObject({ name: 'KafkaFdError', code: 'ERR__INVALID_ARG', message: expect.stringMatching(/no\.such\.key/) });
    expect(refused({ 'linger.ms': 'soon' }).message).toMatch(/linger\.ms/);
    expect(refused({ 'linger.ms': -5 }).message).toMatch(/linger\.ms/);
    expect(refused({ 'compression.codec': 'zip' }).message).toMatch(/compression\.codec/);
    expect(refused({ 'bootstrap.servers': { host: 'x' } }).message).toMatch(/'bootstrap\.servers' must be a string, a finite number or a boolean, got object/);
    expect(refused({ acks: null }).message).toMatch(/'acks' .* got null/);
    expect(refused({ 'linger.ms': NaN }).message).toMatch(/'linger\.ms' .* got NaN/);
    expect(() => new Producer({ kafka: undefined as never })).toThrow(/need a `kafka` configuration object/);
    // undefined leaves a key out: an unset environment variable is not an error.
    expect(() => producer({ 'sasl.password': undefined })).not.toThrow();
  });

  it('checks the topic of the very first message of a producer', async () => {
    const p = producer();
    expect(() => p.produceAsync({ value: 'no topic' } as unknown as Message)).toThrow(/topic must be a string, got undefined/);
    await expect(p.produce({ value: 'no topic' } as unknown as Message)).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(p.produce({ topic: 'orders', value: 'fine' })).resolves.toMatchObject({ topic: 'orders' });
  });

  it('produce during close is refused with ERR__STATE while what came before is delivered', async () => {
    const p = producer();
    const before = Array.from({ length: 200 }, (_, i) => p.produce({ topic: 'orders', value: `b${i}` }));
    const closing = p.close();
    await expect(p.produce({ topic: 'orders', value: 'during' })).rejects.toMatchObject({ code: 'ERR__STATE' });
    expect(() => p.produceAsync({ topic: 'orders', value: 'during' })).toThrow(KafkaFdError);
    await expect(p.produceMany([{ topic: 'orders', value: 'during' }])).rejects.toMatchObject({ code: 'ERR__STATE' });
    await closing;
    expect((await Promise.allSettled(before)).every((s) => s.status === 'fulfilled')).toBe(true);
    await expect(p.produce({ topic: 'orders', value: 'after' })).rejects.toMatchObject({ code: 'ERR__STATE' });
  });

  it('close() from inside a stats$ subscriber completes the streams and delivers what was accepted', async () => {
    const p = producer({ 'statistics.interval.ms': 50 });
    const accepted = Array.from({ length: 100 }, (_, i) => p.produce({ topic: 'orders', value: `s${i}` }));
    let closing: Promise<void> | undefined;
    await new Promise<void>((resolve) => {
      p.stats$.subscribe({ next: () => (closing ??= p.close()), complete: resolve });
    });
    await closing;
    expect(p.closed).toBe(true);
    expect((await Promise.allSettled(accepted)).every((s) => s.status === 'fulfilled')).toBe(true);
  });

  it('a subscriber that throws is reported, and the poller keeps serving every producer', async () => {
    // RxJS reports an error thrown by a subscriber through config.onUnhandledError, by default an uncaught
    // exception on a timer: never swallowed. Catch it here to count it.
    const reported: unknown[] = [];
    const previous = rxConfig.onUnhandledError;
    rxConfig.onUnhandledError = (e) => reported.push(e);
    try {
      const poller = new Poller({ name: 'shared' });
      const thrower = producer({}, { polling: { poller } });
      const other = producer({}, { polling: { poller } });
      thrower.acks$.subscribe(() => {
        throw new Error('subscriber bug');
      });
      const mine = Array.from({ length: 300 }, (_, i) => thrower.produce({ topic: 'orders', value: `t${i}` }));
      const theirs = Array.from({ length: 300 }, (_, i) => other.produce({ topic: 'orders', value: `o${i}` }));
      expect((await Promise.allSettled([...mine, ...theirs])).every((s) => s.status === 'fulfilled')).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(reported).toHaveLength(300);
      expect(reported.every((e) => e instanceof Error && e.message === 'subscriber bug')).toBe(true);
    } finally {
      rxConfig.onUnhandledError = previous;
    }
  });

  it('fuzz: a few thousand random produce() arguments, seeded: no crash, no hang, typed errors only', async () => {
    const p = producer({ 'message.timeout.ms': 5000 });
    const bytes = fc.oneof(fc.string(), fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), fc.constant(null), fc.anything());
    const field = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof(valid, valid, fc.anything());
    const message = fc.oneof(
      fc.record({
        topic: fc.oneof(fc.constant('orders'), fc.constant('orders'), fc.string(), fc.anything()),
        value: bytes,
        key: field(fc.option(fc.string())),
        partition: field(fc.option(fc.integer({ min: -1, max: 1 }), { nil: undefined })),
        timestamp: field(fc.option(fc.oneof(fc.nat(), fc.date()), { nil: undefined })),
        headers: field(fc.option(fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.array(fc.tuple(fc.string(), bytes))), { nil: undefined })),
      }, { requiredKeys: [] }),
      fc.anything(),
    );
    const reported: string[] = [];
    p.acks$.subscribe((r) => r.error && reported.push(r.error.code));
    const outcomes: Array<Promise<string>> = [];
    fc.assert(fc.property(message, fc.boolean(), (m, async) => {
      if (async) {
        try {
          p.produceAsync(m as Message);
        } catch (e) {
          if (!(e instanceof KafkaFdError)) throw e;
        }
      } else {
        outcomes.push(p.produce(m as Message).then(() => 'delivered', (e) => {
          if (!(e instanceof KafkaFdError)) throw e;
          return e.code;
        }));
      }
    }), { seed: 20261125, numRuns: 3000 });
    const codes = await Promise.all(outcomes);
    const tally: Record<string, number> = {};
    for (const c of codes) tally[c] = (tally[c] ?? 0) + 1;
    process.stdout.write(`fuzz: ${JSON.stringify({ cases: 3000, viaProduce: codes.length, outcomes: tally })}\n`);
    // Both kinds happened: the fuzz exercised acceptance and refusal.
    expect(codes.filter((c) => c === 'delivered').length).toBeGreaterThan(50);
    expect(codes.filter((c) => c === 'ERR__INVALID_ARG').length).toBeGreaterThan(50);
    // Everything else is a delivery failure the producer reported, typed.
    expect(codes.every((c) => /^(delivered|ERR_)/.test(c))).toBe(true);
    await p.flush(10000);
    expect(p.inFlightCount).toBe(0);
    await expect(p.produce({ topic: 'orders', value: 'still works' })).resolves.toMatchObject({ topic: 'orders' });
    await p.close();
    // Nothing refused stayed pending: a leaked entry would be failed with ERR__STATE at close.
    expect(reported.filter((c) => c === 'ERR__STATE')).toEqual([]);
  }, 60000);
});
