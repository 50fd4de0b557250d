// Transactional producers on the real broker: commit and abort as a read_committed consumer sees them,
// ten producers committing at once on one poller, workers, fencing, close during a transaction.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { KafkaFdError, Poller, Producer } from '../../lib';
import { runFixture } from '../support/child';
import { brokers, consumeAll, consumeCommitted, uniqueTopic, waitForTopic } from '../support/kafka';
import { track } from '../support/track';

const transactional = (id: string, extra: Record<string, unknown> = {}): Producer =>
  new Producer({ kafka: { 'bootstrap.servers': brokers(), 'transactional.id': id, ...extra } as never });

describe('transactions on the real broker', () => {
  const open = track<Producer>(10000);
  const keep = (p: Producer): Producer => open.add(p);
  afterEach(async () => {
    await open.closeAll();
  });

  it('a committed transaction is visible to read_committed consumers; an aborted one is not', async () => {
    const topic = uniqueTopic('txn');
    waitForTopic(topic);
    const p = keep(transactional(`${topic}-a`));
    const result = await p.transaction(async (tx) => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => tx.produce({ topic, value: `committed ${i}` })));
      return 'done';
    });
    expect(result).toBe('done');
    const failure = new Error('the function failed');
    await expect(p.transaction(async (tx) => {
      await Promise.all(Array.from({ length: 10 }, (_, i) => tx.produce({ topic, value: `aborted ${i}` })));
      throw failure;
    })).rejects.toBe(failure);
    // A marker after the abort, committed, so that the reader knows it has seen everything.
    await p.transaction((tx) => tx.produce({ topic, value: 'marker' }));
    const committed = await consumeCommitted(topic, 11);
    expect(committed.map((m) => m.payload).sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `committed ${i}`), 'marker'].sort());
    // The aborted messages are in the log (a read_uncommitted reader sees them): the filter is the broker's.
    const everything = await consumeAll(topic, 21, 30000, brokers(), ['-X', 'isolation.level=read_uncommitted']);
    expect(everything.filter((m) => m.payload?.startsWith('aborted'))).toHaveLength(10);
  });

  it('a producer without transactional.id fails at once, saying what to set', async () => {
    const p = keep(new Producer({ kafka: { 'bootstrap.servers': brokers() } }));
    let ran = false;
    await expect(p.transaction(() => {
      ran = true;
    })).rejects.toMatchObject({ name: 'KafkaFdError', code: 'ERR__NOT_CONFIGURED', message: expect.stringContaining("'transactional.id'") });
    expect(ran).toBe(false);
    await expect(p.initTransactions()).rejects.toMatchObject({ code: 'ERR__NOT_CONFIGURED' });
  });

  it('initTransactions() fences a predecessor with the same transactional.id at once, before any transaction', async () => {
    const id = `fence-${Date.now()}`;
    const first = keep(new Producer({ kafka: { 'bootstrap.servers': brokers(), 'transactional.id': id } }));
    await first.transaction((tx) => tx.produce({ topic: 'tx-fence', value: 'first' }));
    const second = keep(new Producer({ kafka: { 'bootstrap.servers': brokers(), 'transactional.id': id } }));
    await second.initTransactions();
    await expect(second.initTransactions()).resolves.toBeUndefined(); // once only
    await expect(first.transaction((tx) => tx.produce({ topic: 'tx-fence', value: 'zombie' }))).rejects.toMatchObject({ fatal: true });
    await expect(second.initTransactions({ timeoutMs: -1 })).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
  }, 60000);

  it('ten transactional producers on one poller commit concurrently without blocking the event loop', async () => {
    const topic = uniqueTopic('txn10');
    waitForTopic(topic);
    const poller = new Poller({ name: 'transactions' });
    const producers = Array.from({ length: 10 }, (_, i) => keep(new Producer({
      kafka: { 'bootstrap.servers': brokers(), 'transactional.id': `${topic}-${i}` }, polling: { poller },
    })));
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    await Promise.all(producers.map(async (p, i) => {
      for (let t = 0; t < 5; t++) {
        await p.transaction(async (tx) => {
          tx.produceManyAsync(Array.from({ length: 100 }, (_, k) => ({ topic, value: `p${i}-t${t}-${k}` })));
        });
      }
    }));
    delay.disable();
    expect(poller.metrics().producers).toBe(10);
    // Init, commit (with its flush) and abort run on the threadpool: the loop kept turning meanwhile. Ten
    // init_transactions and fifty commits on the JS thread would stall it for seconds.
    expect(delay.max / 1e6).toBeLessThan(500);
    expect(await consumeCommitted(topic, 5000, 60000)).toHaveLength(5000);
  });

  it('transactional producers in worker threads, each on its own environment\'s poller', async () => {
    const topic = uniqueTopic('txnworkers');
    waitForTopic(topic);
    const run = await runFixture('worker-transactions.ts', [topic, '3'], 120000);
    expect(run.code).toBe(0);
    const results = JSON.parse(run.stdout.trim().split('\n').pop()!) as Array<{ committed: number }>;
    expect(results.map((r) => r.committed)).toEqual([150, 150, 150]);
    expect(await consumeCommitted(topic, 450, 60000)).toHaveLength(450);
  });

  it('a fenced producer gets a fatal error and refuses further work with a clear message', async () => {
    const topic = uniqueTopic('fenced');
    waitForTopic(topic);
    const first = keep(transactional(`${topic}-same`));
    await first.transaction((tx) => tx.produce({ topic, value: 'from the first' }));
    const second = keep(transactional(`${topic}-same`));
    await second.transaction((tx) => tx.produce({ topic, value: 'from the second' }));
    const fenced = await first.transaction((tx) => tx.produce({ topic, value: 'fenced' })).catch((e: unknown) => e);
    expect(fenced).toBeInstanceOf(KafkaFdError);
    expect(fenced).toMatchObject({ fatal: true });
    expect((fenced as KafkaFdError).code).toMatch(/FENCED/);
    expect(first.health.fatal).toBeDefined();
    await expect(first.produce({ topic, value: 'after' })).rejects.toMatchObject({ fatal: true });
    await expect(first.transaction(() => undefined)).rejects.toMatchObject({ fatal: true });
    // The newer producer goes on.
    await second.transaction((tx) => tx.produce({ topic, value: 'still fine' }));
    const seen = (await consumeCommitted(topic, 3)).map((m) => m.payload);
    expect(seen).toEqual(expect.arrayContaining(['from the first', 'from the second', 'still fine']));
    expect(seen).not.toContain('fenced');
  });

  it('close() during an open transaction aborts it, and the transaction rejects', async () => {
    const topic = uniqueTopic('txnclose');
    waitForTopic(topic);
    const p = transactional(`${topic}-c`);
    let closing: Promise<void> | undefined;
    const outcome = p.transaction(async (tx) => {
      await Promise.all(Array.from({ length: 100 }, (_, i) => tx.produce({ topic, value: `open ${i}` })));
      closing = p.close();
      await new Promise((r) => setTimeout(r, 200));
    }).catch((e: unknown) => e);
    const e = await outcome;
    await closing;
    expect(e).toBeInstanceOf(KafkaFdError);
    expect(e).toMatchObject({ code: 'ERR__STATE' });
    expect(p.closed).toBe(true);
    // Nothing of it was committed: a later committed marker from another producer is all a reader sees.
    const marker = keep(transactional(`${topic}-m`));
    await marker.transaction((tx) => tx.produce({ topic, value: 'marker' }));
    expect((await consumeCommitted(topic, 1)).map((m) => m.payload)).toEqual(['marker']);
  });
});
