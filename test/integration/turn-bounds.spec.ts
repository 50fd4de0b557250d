// No JS work grows without a per-turn bound: whatever piles up natively (log lines from debug logging,
// reports that a poll thread collected while JS was busy) reaches JS a bounded amount per event-loop turn.
import { MockCluster, Poller, Producer } from '../../lib';
import { track } from '../support/track';

/** Counts what `count()` is called with per event-loop turn (turns told apart by a setImmediate chain). */
function perTurn(): { count(n?: number): void; stop(): { max: number; turns: number; total: number } } {
  let current = 0;
  let max = 0;
  let turns = 0;
  let total = 0;
  let on = true;
  const tick = (): void => {
    max = Math.max(max, current);
    if (current > 0) turns++;
    current = 0;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    count(n = 1) {
      current += n;
      total += n;
    },
    stop() {
      on = false;
      max = Math.max(max, current);
      return { max, turns, total };
    },
  };
}

describe('per-turn bounds', () => {
  let mock: MockCluster;
  const open = track<Producer>();
  beforeAll(() => {
    mock = MockCluster.start({ topics: { bounds: 2 } });
  });
  afterEach(() => open.closeAll());
  afterAll(() => mock.close());

  it('a burst of log lines reaches logs$ at most a batch per poller pass', async () => {
    const poller = new Poller({ name: 'tiny', batchSize: 16, turnBudgetMs: 0.001 });
    const counter = perTurn();
    const p = open.add(new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers, debug: 'all' }, polling: { poller } }));
    p.logs$.subscribe(() => counter.count());
    await Promise.all(Array.from({ length: 200 }, (_, i) => p.produce({ topic: 'bounds', value: `v${i}` })));
    await new Promise((r) => setTimeout(r, 200));
    const seen = counter.stop();
    process.stdout.write(`logs per turn: ${JSON.stringify(seen)}\n`);
    expect(seen.total).toBeGreaterThan(50);
    // One pass hands over one batch of 16 (the budget is spent at once); the counter's turns and the
    // poller's passes may straddle, so two batches is the bound that must hold.
    expect(seen.max).toBeLessThanOrEqual(32);
  });

  it('thread mode hands JS at most 8 batches of reports per loop turn', async () => {
    const p = open.add(new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers, 'linger.ms': 50 }, polling: { mode: 'thread' } }));
    const counter = perTurn();
    p.acks$.subscribe(() => counter.count());
    // The loop holds the JS thread while the poll thread collects every report it can.
    for (let i = 0; i < 60000; i++) p.produceAsync({ topic: 'bounds', value: `v${i}` });
    const start = Date.now();
    while (Date.now() - start < 300) {
      // busy: the poll thread keeps serving, JS gets nothing until this ends
    }
    await p.flush(30000);
    const seen = counter.stop();
    process.stdout.write(`reports per turn (thread mode): ${JSON.stringify(seen)}\n`);
    expect(seen.total).toBe(60000);
    expect(seen.max).toBeLessThanOrEqual(2 * 8 * 1024);
    expect(seen.turns).toBeGreaterThan(3);
  });
});
