// The consumer against the real broker (first increment of the consumer issue): a group of one reads a
// 3-partition topic whole, commits, leaves; the next member of the group reads only what came after; two
// members share the partitions; nothing is lost or handled twice while no member leaves.
import { createHook } from 'node:async_hooks';
import * as fs from 'node:fs';
import { Consumer, KafkaFdError, Poller, Producer, librdkafkaVersion } from '../../lib';
import { brokers, uniqueTopic, waitForTopic } from '../support/kafka';
import { track } from '../support/track';

describe('Consumer on the real broker', () => {
  const open = track<Consumer>(15000);
  let producer: Producer;
  const consumer = (group: string): Consumer =>
    open.add(new Consumer({ kafka: { 'bootstrap.servers': brokers(), 'group.id': group, 'auto.offset.reset': 'earliest' } }));
  const until = async (done: () => boolean, ms = 60000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };

  beforeAll(() => {
    producer = new Producer({ kafka: { 'bootstrap.servers': brokers() } });
  });
  afterEach(() => open.closeAll());
  afterAll(() => producer.close());

  it('10,000 messages read once, committed; the next member of the group reads only the new one', async () => {
    const topic = uniqueTopic('consume');
    const group = uniqueTopic('group');
    waitForTopic(topic);
    await producer.produceMany(Array.from({ length: 10000 }, (_, i) => ({ topic, key: `k${i % 17}`, value: `v${i}` })));
    const c = consumer(group);
    const values = new Set<string>();
    let handled = 0;
    await c.subscribe(topic);
    await c.run({ partitionsConcurrently: 3, eachMessage: (m) => {
      handled++;
      values.add(String(m.value));
    } });
    await until(() => handled >= 10000);
    expect(handled).toBe(10000);
    expect(values.size).toBe(10000);
    await c.commit();
    await c.close();
    await producer.produce({ topic, value: 'new' });
    const next = consumer(group);
    const later: string[] = [];
    await next.subscribe(topic);
    await next.run({ eachMessage: (m) => void later.push(String(m.value)) });
    await until(() => later.length >= 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(later).toEqual(['new']);
  });

  it('two members of a group share the partitions and together handle every message once', async () => {
    const topic = uniqueTopic('share');
    const group = uniqueTopic('group');
    waitForTopic(topic);
    const a = consumer(group);
    const b = consumer(group);
    const seen = new Map<string, number>();
    const byMember = [0, 0];
    // Both members must hold partitions before the messages go out.
    const assigned = [0, 0];
    a.rebalances$.subscribe((r) => (assigned[0] += r.type === 'assign' ? r.partitions.length : -r.partitions.length));
    b.rebalances$.subscribe((r) => (assigned[1] += r.type === 'assign' ? r.partitions.length : -r.partitions.length));
    await a.subscribe(topic);
    await b.subscribe(topic);
    const handler = (member: number) => (m: { value: Buffer | null }): void => {
      byMember[member]++;
      seen.set(String(m.value), (seen.get(String(m.value)) ?? 0) + 1);
    };
    await a.run({ eachMessage: handler(0) });
    await b.run({ eachMessage: handler(1) });
    await until(() => assigned[0] > 0 && assigned[1] > 0 && assigned[0] + assigned[1] === 3);
    await producer.produceMany(Array.from({ length: 3000 }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` })));
    await until(() => seen.size >= 3000);
    expect(seen.size).toBe(3000);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(byMember[0]).toBeGreaterThan(0);
    expect(byMember[1]).toBeGreaterThan(0);
  });

  it.each([
    ['cooperative', 'cooperative-sticky'],
    ['eager', 'range'],
  ])('a member joins and another leaves mid-stream (%s): nothing lost, duplicates only for handlers in flight at a revoke', async (_, strategy) => {
    const topic = uniqueTopic('churn');
    const group = uniqueTopic('group');
    waitForTopic(topic);
    const seen = new Map<string, number>();
    const running = new Set<string>();
    let inFlightAtRevoke = 0;
    const assigned = [0, 0];
    const member = (id: number): Consumer => {
      const c = open.add(new Consumer({ kafka: {
        'bootstrap.servers': brokers(), 'group.id': group, 'auto.offset.reset': 'earliest', 'partition.assignment.strategy': strategy,
      } }));
      c.rebalances$.subscribe((r) => {
        assigned[id] += r.type === 'assign' ? r.partitions.length : -r.partitions.length;
        if (r.type === 'revoke') for (const tp of r.partitions) if (running.has(`${id}:${tp.partition}`)) inFlightAtRevoke++;
      });
      return c;
    };
    const run = (c: Consumer, id: number): Promise<void> => c.run({
      partitionsConcurrently: 3,
      eachMessage: async (m) => {
        running.add(`${id}:${m.partition}`);
        await new Promise((r) => setImmediate(r));
        const v = String(m.value);
        seen.set(v, (seen.get(v) ?? 0) + 1);
        running.delete(`${id}:${m.partition}`);
      },
    });
    const a = member(0);
    await a.subscribe(topic);
    await run(a, 0);
    await until(() => assigned[0] === 3);
    let sending = true;
    let sent = 0;
    const sender = (async () => {
      while (sending) {
        await producer.produceMany(Array.from({ length: 100 }, (_, i) => ({ topic, key: `k${(sent + i) % 31}`, value: `v${sent + i}` })));
        sent += 100;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, 1000));
    const b = member(1);
    await b.subscribe(topic);
    await run(b, 1);
    await until(() => assigned[1] > 0 && assigned[0] + assigned[1] === 3);
    await new Promise((r) => setTimeout(r, 1000));
    await a.close();
    await until(() => assigned[1] === 3);
    await new Promise((r) => setTimeout(r, 1000));
    sending = false;
    await sender;
    await until(() => seen.size >= sent);
    await new Promise((r) => setTimeout(r, 500));
    expect(assigned).toEqual([0, 3]);
    expect(sent).toBeGreaterThan(1000);
    const missing = Array.from({ length: sent }, (_, i) => `v${i}`).filter((v) => !seen.has(v));
    expect(missing).toEqual([]);
    const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
    expect(duplicates).toBeLessThanOrEqual(inFlightAtRevoke);
  }, 90000);

  it('a subscription to a topic that does not exist is reported on errors$ with a typed error', async () => {
    const topic = uniqueTopic('missing');
    const c = consumer(uniqueTopic('group'));
    const errors: KafkaFdError[] = [];
    c.errors$.subscribe((e) => errors.push(e));
    await c.subscribe(topic);
    await c.run({ eachMessage: () => undefined });
    await until(() => errors.length > 0, 20000);
    expect(errors[0]).toBeInstanceOf(KafkaFdError);
    expect(errors[0].code).toBe('ERR_UNKNOWN_TOPIC_OR_PART');
    expect(errors[0].message).toContain(topic);
  });

  it('20 consumers on one poller: every thread they add is librdkafka\'s, and none of them puts work on the libuv threadpool', async () => {
    const topic = uniqueTopic('twenty');
    waitForTopic(topic);
    const names = (): string[] => fs.readdirSync('/proc/self/task').map((t) => fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim());
    const ours = (list: string[]): number => list.filter((n) => !n.startsWith('rdk:')).length;
    const before = names();
    // Async resources created meanwhile: work queued by the addon (napi_create_async_work) shows up here
    // with its name; fs, dns and crypto work would too.
    const types = new Map<string, number>();
    const hook = createHook({ init: (_id, type) => void types.set(type, (types.get(type) ?? 0) + 1) }).enable();
    const poller = new Poller({ name: 'twenty' });
    const group = uniqueTopic('group');
    let handled = 0;
    const consumers = Array.from({ length: 20 }, (_, i) => open.add(new Consumer({
      kafka: { 'bootstrap.servers': brokers(), 'group.id': i < 10 ? group : `${group}-${i}`, 'auto.offset.reset': 'earliest' },
      polling: { poller },
    })));
    for (const c of consumers) {
      await c.subscribe(topic);
      await c.run({ eachMessage: () => void handled++ });
    }
    await producer.produceMany(Array.from({ length: 2000 }, (_, i) => ({ topic, value: `v${i}` })));
    // One group of 10 reads it once; 10 groups of one read it each.
    await until(() => handled >= 2000 * 11);
    hook.disable();
    const after = names();
    expect(handled).toBe(2000 * 11);
    expect(poller.producerCount).toBe(20);
    expect(ours(after)).toBe(ours(before));
    expect(after.length - before.length).toBeGreaterThanOrEqual(20);
    const addonWork = [...types.keys()].filter((t) => /kafka-fd/i.test(t));
    expect(addonWork).toEqual([]);
    expect(types.get('FSREQCALLBACK') ?? 0).toBe(0);
  }, 90000);

  it('group.protocol consumer (KIP-848): refused by name before librdkafka 2.12, a working member from it', async () => {
    // CI links Debian's 2.0.2; the second branch runs with the addon built against a newer librdkafka
    // (KAFKA_FD_ADDON, see docs/consumer.md), against our Kafka 4 broker.
    const [major, minor] = librdkafkaVersion().split('.').map(Number);
    const topic = uniqueTopic('kip848');
    const kafka = { 'bootstrap.servers': brokers(), 'group.id': uniqueTopic('group'), 'auto.offset.reset': 'earliest', 'group.protocol': 'consumer' };
    if (major === 2 && minor < 12) {
      expect(() => new Consumer({ kafka })).toThrow(KafkaFdError);
      expect(() => new Consumer({ kafka })).toThrow(/group\.protocol/);
      return;
    }
    waitForTopic(topic);
    await producer.produceMany(Array.from({ length: 300 }, (_, i) => ({ topic, value: `v${i}` })));
    const c = open.add(new Consumer({ kafka }));
    const seen = new Set<string>();
    await c.subscribe(topic);
    await c.run({ eachMessage: (m) => void seen.add(String(m.value)) });
    await until(() => seen.size >= 300);
    expect(seen.size).toBe(300);
  });
});
