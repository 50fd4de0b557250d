// The fd poller on its own terms (native/src/poller.*, lib/poller): its options and defaults, its handles
// (held only while it has clients), the safety serve, the shared per-turn budget, and fairness between the
// clients it serves. Producers on the mock cluster are the clients.
import { MockCluster, Poller, Producer } from '../../lib';
import { native } from '../../lib/native/binding';
import { countLoopTurns } from '../support/loop-turns';
import { track } from '../support/track';

describe('Poller', () => {
  let mock: MockCluster;
  const open = track<Producer>();
  const producer = (kafka: Record<string, string | number> = {}, poller?: Poller): Producer =>
    open.add(new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers, ...kafka }, polling: { poller } }));

  beforeAll(() => {
    mock = MockCluster.start({ topics: { orders: 4 } });
  });
  afterEach(() => open.closeAll());
  afterAll(() => mock.close());

  it('takes its defaults from the addon, which declares them once', () => {
    const defaults = native().constants.pollerDefaults;
    expect(defaults).toEqual({ maxTimeMs: 100, pollTimeoutMs: 1000, turnBudgetMs: 10, batchSize: 1024 });
    expect(new Poller().options).toEqual(defaults);
    expect(new Poller({ maxTimeMs: 5 }).options).toEqual({ ...defaults, maxTimeMs: 5 });
  });

  it('one global poller per environment; dedicated ones are separate', () => {
    expect(Poller.global()).toBe(Poller.global());
    expect(Poller.global().name).toBe('global');
    expect(new Poller({ name: 'x' })).not.toBe(Poller.global());
  });

  it('holds libuv handles only while it has clients, and takes them again for the next', async () => {
    const poller = new Poller({ name: 'handles' });
    expect(poller.active).toBe(false);
    const a = producer({}, poller);
    expect(poller.active).toBe(true);
    await a.produce({ topic: 'orders', value: 'x' });
    await a.close();
    expect(poller.active).toBe(false);
    expect(poller.producerCount).toBe(0);
    const b = producer({}, poller);
    expect(poller.active).toBe(true);
    await expect(b.produce({ topic: 'orders', value: 'again' })).resolves.toMatchObject({ topic: 'orders' });
    expect(poller.metrics()).toMatchObject({ reports: 2, producers: 1 });
  });

  it('the safety timer serves clients nobody woke, every pollTimeoutMs', async () => {
    const poller = new Poller({ name: 'safety', pollTimeoutMs: 20 });
    producer({}, poller);
    producer({}, poller);
    const before = poller.metrics().safetyServes;
    await new Promise((r) => setTimeout(r, 300));
    // Two idle producers, 300 ms at 20 ms: about 30 serves; a loaded machine may lose some ticks.
    expect(poller.metrics().safetyServes - before).toBeGreaterThanOrEqual(10);
  });

    it('maxTimeMs: 1 with tens of thousands of reports delivers all, and another producer is served in between', async () => {
      const poller = new Poller({ name: 'tiny', maxTimeMs: 1, turnBudgetMs: 1, batchSize: 256 });
      const busy = producer({}, poller);
      const other = producer({}, poller);
      await Promise.all([busy.produce({ topic: 'orders', value: 'warm' }), other.produce({ topic: 'orders', value: 'warm' })]);
      const order: string[] = [];
      let otherDone: Promise<unknown> | undefined;
      busy.acks$.subscribe(() => {
        order.push('busy');
        // About 20 us of application work per report: 40,000 reports keep the poller busy for most of a second.
        const until = process.hrtime.bigint() + 20000n;
        while (process.hrtime.bigint() < until);
        // The other producer starts sending only once the busy one's backlog is being worked through.
        otherDone ??= Promise.all(Array.from({ length: 50 }, () => other.produce({ topic: 'orders', value })));
      });
      other.acks$.subscribe(() => order.push('other'));
      const value = Buffer.alloc(10);
      for (let i = 0; i < 40000; i++) busy.produceAsync({ topic: 'orders', value });
      await busy.flush(120000);
      await otherDone;
      expect(order.filter((o) => o === 'busy')).toHaveLength(40000);
      expect(order.filter((o) => o === 'other')).toHaveLength(50);
      // The other producer's reports came while the busy one still had most of its backlog: no starvation.
      const lastOther = order.lastIndexOf('other');
      expect(lastOther).toBeLessThan(order.length / 2);
      const m = poller.metrics();
      expect(m.turnsDeferred).toBeGreaterThan(0);
      expect(m.batches).toBeGreaterThanOrEqual(40000 / 256);
    });

    it('hands JS batches across loop turns instead of one long turn', async () => {
      const poller = new Poller({ name: 'turns', turnBudgetMs: 2, batchSize: 1000 });
      const ps = Array.from({ length: 5 }, () => producer({ 'linger.ms': 20 }, poller));
      const loop = countLoopTurns();
      let heavy = 0;
      for (const p of ps) p.acks$.subscribe(() => {
        // Some JS work per report, as an application would do.
        for (let k = 0; k < 200; k++) heavy += k;
      });
      for (const p of ps) for (let i = 0; i < 10000; i++) p.produceAsync({ topic: 'orders', value: 'x' });
      await Promise.all(ps.map((p) => p.flush(60000)));
      const turns = loop.stop();
      expect(heavy).toBeGreaterThan(0);
      // 50,000 reports at most 1000 per call and a 2 ms budget per turn: many turns, each bounded.
      expect(poller.metrics().batches).toBeGreaterThanOrEqual(50);
      expect(poller.metrics().turnsDeferred).toBeGreaterThan(0);
      expect(turns).toBeGreaterThan(10);
    });

    it('a dedicated poller releases its handles when its last producer closes', async () => {
      const poller = new Poller({ name: 'dedicated' });
      const a = new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers }, polling: { poller } });
      const b = new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers }, polling: { poller } });
      expect(poller.producerCount).toBe(2);
      expect(poller.active).toBe(true);
      await a.produce({ topic: 'orders', value: 'x' });
      await a.close();
      expect(poller.producerCount).toBe(1);
      expect(poller.active).toBe(true);
      await b.close();
      expect(poller.producerCount).toBe(0);
      expect(poller.active).toBe(false);
      const m = poller.metrics();
      expect(m.serves).toBeGreaterThan(0);
      expect(m.reports).toBe(1);
      expect(m.wakeups).toBeGreaterThan(0);
    });

});
