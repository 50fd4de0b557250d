// The consumer against the real broker (first increment of the consumer issue): a group of one reads a
// 3-partition topic whole, commits, leaves; the next member of the group reads only what came after; two
// members share the partitions; nothing is lost or handled twice while no member leaves.
import { Consumer, Producer } from '../../lib';
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
});
