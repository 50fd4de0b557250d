// Exactly-once consume-transform-produce on the real broker: a consumer's positions commit in the producer's
// transaction (send_offsets_to_transaction), so the output and the input position commit together or not at all.
import { Consumer, ConsumedMessage, KafkaFdError, Producer, runPipeline } from '../../lib';
import { brokers, consumeCommitted, uniqueTopic, waitForTopic } from '../support/kafka';

async function until(what: () => boolean, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

describe('exactly-once pipeline: consumer offsets in the producer\'s transaction (real broker)', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  const consumer = (group: string, extra: Record<string, string | number | boolean> = {}): Consumer => {
    const c = new Consumer({
      kafka: { 'bootstrap.servers': brokers(), 'group.id': group, 'auto.offset.reset': 'earliest', 'enable.auto.commit': false,
        'session.timeout.ms': 6000, 'heartbeat.interval.ms': 1000, ...extra },
    });
    open.push(c);
    return c;
  };
  const producer = (id: string): Producer => {
    const p = new Producer({ kafka: { 'bootstrap.servers': brokers(), 'transactional.id': id } });
    open.push(p);
    return p;
  };
  afterEach(async () => {
    while (open.length > 0) await open.pop()!.close();
  });

  it('1,000 messages through batches in transactions: the output holds each once, and the group resumes after them', async () => {
    const input = uniqueTopic('eos-in');
    const output = uniqueTopic('eos-out');
    const group = `${input}-group`;
    waitForTopic(input);
    waitForTopic(output);
    const feeder = producer(`${input}-feeder`);
    await feeder.transaction((tx) => tx.produceMany(Array.from({ length: 1000 }, (_, i) => ({ topic: input, key: `k${i % 9}`, value: `${i}` }))));
    const out = producer(`${input}-pipeline`);
    const c = consumer(group);
    let handled = 0;
    await c.subscribe(input);
    await c.run({
      partitionsConcurrently: 3,
      eachBatch: async (batch) => {
        // One producer, one transaction at a time: the batches of the partitions take turns.
        await out.transaction((tx) => {
          tx.produceManyAsync(batch.messages.map((m) => ({ topic: output, key: m.key, value: `out-${String(m.value)}` })));
          tx.sendConsumed(c, batch.messages);
        });
        handled += batch.messages.length;
      },
    });
    await until(() => handled >= 1000, 60000);
    expect(handled).toBe(1000);
    const got = await consumeCommitted(output, 1000);
    expect(got).toHaveLength(1000);
    expect(new Set(got.map((m) => m.payload)).size).toBe(1000);
    await c.close();

    // The group's position is after the 1,000: a new member reads only what comes next.
    await feeder.transaction((tx) => tx.produceMany(Array.from({ length: 10 }, (_, i) => ({ topic: input, value: `late-${i}` }))));
    const next = consumer(group);
    const seen: string[] = [];
    await next.subscribe(input);
    await next.run({ eachMessage: (m: ConsumedMessage) => void seen.push(String(m.value)) });
    await until(() => seen.length >= 10);
    await new Promise((r) => setTimeout(r, 1000));
    expect(seen.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `late-${i}`).sort());
  }, 120000);

  it('an aborted transaction commits neither output nor positions, and its partition rewinds in the same member: each message once in the output', async () => {
    const input = uniqueTopic('eos-abort-in');
    const output = uniqueTopic('eos-abort-out');
    const group = `${input}-group`;
    waitForTopic(input);
    waitForTopic(output);
    const feeder = producer(`${input}-feeder`);
    await feeder.transaction((tx) => tx.produceMany(Array.from({ length: 20 }, (_, i) => ({ topic: input, key: 'one', value: `${i}` }))));
    const out = producer(`${input}-pipeline`);
    const c = consumer(group);
    const attempted: number[] = [];
    const rebalances: string[] = [];
    const errors: KafkaFdError[] = [];
    c.rebalances$.subscribe((r) => rebalances.push(r.type));
    c.errors$.subscribe((e) => errors.push(e));
    await c.subscribe(input);
    await c.run({
      eachMessage: async (m) => {
        attempted.push(m.offset);
        await out.transaction((tx) => {
          tx.sendConsumed(c, [m]);
          tx.produceAsync({ topic: output, value: `out-${String(m.value)}` });
          // The 11th message's transform fails twice after producing: aborted, then its partition rewinds.
          if (m.offset === 10 && attempted.filter((o) => o === 10).length <= 2) throw new Error('transform failed');
        });
      },
    });
    await until(() => attempted.length >= 22);
    await new Promise((r) => setTimeout(r, 500));
    // Offsets 0-9 once, 10 three times (two aborts), then 11-19 once: no new member, no rebalance needed.
    expect(attempted).toEqual([...Array.from({ length: 11 }, (_, i) => i), 10, 10, ...Array.from({ length: 9 }, (_, i) => 11 + i)]);
    expect(rebalances).toEqual(['assign']);
    expect(errors.filter((e) => /rewound to offset 10/.test(e.message))).toHaveLength(2);
    const got = await consumeCommitted(output, 20);
    expect(got.map((m) => m.payload).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `out-${i}`).sort());
    await c.close();
    // The group's position is after the 20: a new member reads nothing of them.
    const next = consumer(group);
    const seen: number[] = [];
    await next.subscribe(input);
    await next.run({ eachMessage: (m: ConsumedMessage) => void seen.push(m.offset) });
    await new Promise((r) => setTimeout(r, 3000));
    expect(seen).toEqual([]);
  }, 120000);

  it('after an abort, a transaction that would commit the input after the aborted one is refused; a message that always aborts backs off', async () => {
    const input = uniqueTopic('eos-skip-in');
    const output = uniqueTopic('eos-skip-out');
    waitForTopic(input);
    waitForTopic(output);
    const feeder = producer(`${input}-feeder`);
    await feeder.transaction((tx) => tx.produceMany(Array.from({ length: 5 }, (_, i) => ({ topic: input, key: 'one', value: `${i}` }))));
    const out = producer(`${input}-pipeline`);
    const c = consumer(`${input}-group`);
    const tries: number[] = [];
    let skipped: unknown;
    await c.subscribe(input);
    await c.run({
      eachBatch: async ({ messages }) => {
        const poison = messages.find((m) => m.offset === 2);
        if (!poison) return;
        tries.push(Date.now());
        await out.transaction((tx) => {
          tx.sendConsumed(c, messages.filter((m) => m.offset <= 2));
          throw new Error('poison');
        }).catch(() => undefined);
        // Swallowing the abort and committing what follows would skip offsets 0-2: refused.
        skipped = await out.transaction((tx) => tx.sendConsumed(c, messages.filter((m) => m.offset > 2))).catch((e: unknown) => e);
      },
    });
    await until(() => tries.length >= 4, 10000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(skipped).toMatchObject({ code: 'ERR__STATE', message: expect.stringContaining('goes back to offset 0') });
    // Back-off 100, 200, 400, 800 ms...: each wait at least its back-off (the refetch after a seek also waits
    // for the fetch in flight: fetch.wait.max.ms, 500 by default), so within ~3 s at most 6 tries.
    expect(tries.length).toBeLessThanOrEqual(6);
    const waits = tries.slice(1).map((t, i) => t - tries[i]);
    expect(waits.every((w, i) => w >= 100 * 2 ** i - 10)).toBe(true);
  }, 60000);

  it('refuses a consumer that commits by itself, calls outside a transaction and bad offsets, with a KafkaFdError', async () => {
    const id = uniqueTopic('eos-refuse');
    const p = producer(id);
    const auto = consumer(`${id}-a`, { 'enable.auto.commit': true });
    const manual = consumer(`${id}-m`);
    let tx!: Parameters<Parameters<Producer['transaction']>[0]>[0];
    await p.transaction((t) => {
      tx = t;
      expect(() => t.sendOffsets(auto, [{ topic: 'x', partition: 0, offset: 1 }])).toThrow(/enable\.auto\.commit/);
      expect(() => t.sendOffsets({} as Consumer, [{ topic: 'x', partition: 0, offset: 1 }])).toThrow(KafkaFdError);
      expect(() => t.sendOffsets(manual, [{ topic: 'x', partition: 0, offset: -1 }])).toThrow(KafkaFdError);
      expect(() => t.sendConsumed(manual, [{ topic: 'x' } as ConsumedMessage])).toThrow(KafkaFdError);
      t.sendConsumed(manual, []); // nothing to send: allowed
    });
    expect(() => tx.sendOffsets(manual, [{ topic: 'x', partition: 0, offset: 1 }])).toThrow(/no transaction is open/);
  }, 60000);

  it('runPipeline: an aborted batch is tried again (rewound to the committed position), the output holds each message once', async () => {
    const input = uniqueTopic('eos-pipe-in');
    const output = uniqueTopic('eos-pipe-out');
    waitForTopic(input);
    waitForTopic(output);
    const feeder = producer(`${input}-feeder`);
    await feeder.transaction((tx) => tx.produceMany(Array.from({ length: 300 }, (_, i) => ({ topic: input, key: `k${i % 3}`, value: `${i}` }))));
    const out = producer(`${input}-pipeline`);
    await out.initTransactions();
    const c = consumer(`${input}-group`);
    let calls = 0;
    let failed = 0;
    await c.subscribe(input);
    await runPipeline(c, out, (batch, tx) => {
      calls++;
      tx.produceManyAsync(batch.messages.map((m) => ({ topic: output, key: m.key, value: `out-${String(m.value)}` })));
      // Every third call fails after producing: its output is aborted and the batch comes again.
      if (calls % 3 === 1) {
        failed++;
        throw new Error('transient');
      }
    }, { partitionsConcurrently: 3, backoffMs: 10 });
    const got = await consumeCommitted(output, 300);
    await new Promise((r) => setTimeout(r, 1000));
    expect(failed).toBeGreaterThan(0);
    expect(got).toHaveLength(300);
    expect(new Set(got.map((m) => m.payload)).size).toBe(300);
  }, 120000);

  it('runPipeline: fenced by a newer instance with its transactional.id, the old one stops and its consumer leaves the group', async () => {
    const input = uniqueTopic('eos-fence-in');
    const output = uniqueTopic('eos-fence-out');
    waitForTopic(input);
    waitForTopic(output);
    const feeder = producer(`${input}-feeder`);
    const id = `${input}-worker-0`;
    const old = producer(id);
    await old.initTransactions();
    const c = consumer(`${input}-group`);
    const errors: KafkaFdError[] = [];
    c.errors$.subscribe((e) => errors.push(e));
    let handled = 0;
    await c.subscribe(input);
    await runPipeline(c, old, (batch, tx) => {
      handled += batch.messages.length;
      tx.produceManyAsync(batch.messages.map((m) => ({ topic: output, value: m.value })));
    });
    await feeder.transaction((tx) => tx.produce({ topic: input, value: 'before' }));
    await until(() => handled >= 1);
    const newer = producer(id);
    await newer.initTransactions();
    await feeder.transaction((tx) => tx.produce({ topic: input, value: 'after' }));
    await until(() => c.health.closed);
    expect(c.health.closed).toBe(true);
    expect(old.health.fatal).toMatch(/fenced|FENCED/i);
    expect(errors.some((e) => /fenced/i.test(String((e.cause as Error | undefined)?.message ?? e.message)))).toBe(true);
  }, 120000);

  it('runPipeline with a poison message: tried, then alone, then to the dead-letter topic; every other message once, the partition goes on', async () => {
    const input = uniqueTopic('eos-poison-in');
    const output = uniqueTopic('eos-poison-out');
    const dead = `${input}.dlt`;
    for (const t of [input, output, dead]) waitForTopic(t);
    const feeder = producer(`${input}-feeder`);
    // One key: one partition, one batch holding the poison among good messages.
    await feeder.transaction((tx) => tx.produceMany(Array.from({ length: 50 }, (_, i) => ({ topic: input, key: 'one', value: i === 20 ? 'poison' : `${i}` }))));
    const out = producer(`${input}-pipeline`);
    await out.initTransactions();
    const c = consumer(`${input}-group`);
    const errors: Error[] = [];
    c.errors$.subscribe((e) => errors.push(e));
    let calls = 0;
    await c.subscribe(input);
    await runPipeline(c, out, (batch, tx) => {
      calls++;
      tx.produceManyAsync(batch.messages.map((m) => ({ topic: output, value: `out-${String(m.value)}` })));
      if (batch.messages.some((m) => String(m.value) === 'poison')) throw new Error('cannot transform poison');
    }, { attempts: 2, backoffMs: 10, deadLetterTopic: (topic) => `${topic}.dlt` });
    const got = await consumeCommitted(output, 49);
    const dlt = await consumeCommitted(dead, 1);
    expect(errors.map((e) => `${e.message} ${String((e.cause as Error | undefined)?.stack)}`)).toEqual([]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(got.map((m) => m.payload).sort()).toEqual(Array.from({ length: 50 }, (_, i) => i).filter((i) => i !== 20).map((i) => `out-${i}`).sort());
    expect(dlt).toHaveLength(1);
    expect(dlt[0].payload).toBe('poison');
    const headers = Object.fromEntries(dlt[0].headers!.reduce<string[][]>((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v, all[i + 1]]] : acc), []));
    expect(headers).toMatchObject({ 'kafka-fd-dlt-error': 'cannot transform poison', 'kafka-fd-dlt-topic': input, 'kafka-fd-dlt-offset': '20' });
    // Bounded: the batch 3 times (1 + 2 attempts), then the poison alone 3 times, not a tight loop.
    expect(calls).toBeLessThan(200);
    // The partition went on: a message produced after the poison is transformed too.
    await feeder.transaction((tx) => tx.produce({ topic: input, key: 'one', value: 'after' }));
    const more = await consumeCommitted(output, 50);
    expect(more.map((m) => m.payload)).toContain('out-after');
  }, 120000);
});
