// A consumer group on the real broker when the broker stops answering (SIGSTOP) for longer than
// session.timeout.ms in the middle of the stream, with eager and with cooperative rebalancing: every message is
// handled, and the duplicates (at-least-once) are counted.
import { Consumer, ConsumedMessage, Producer, Rebalance } from '../../lib';
import { brokerPid, brokers, createTopic, uniqueTopic } from '../support/kafka';

const TOTAL = 20000;

describe('consumer group with the broker paused past session.timeout.ms (real broker)', () => {
  it.each([['eager (range,roundrobin)', 'range,roundrobin'], ['cooperative-sticky', 'cooperative-sticky']])(
    '%s: two members, the broker paused 9 s mid-stream: every message handled, duplicates counted',
    async (name, strategy) => {
      const topic = uniqueTopic('group-pause');
      await createTopic(topic, 6);
      const feeder = new Producer({ kafka: { 'bootstrap.servers': brokers(), 'linger.ms': 5 } });
      for (let i = 0; i < TOTAL; i += 5000) {
        await feeder.produceMany(Array.from({ length: 5000 }, (_, j) => ({ topic, key: `k${(i + j) % 60}`, value: `${i + j}` })));
      }
      await feeder.close();
      const handled: number[] = [];
      const rebalances: Rebalance[] = [];
      const members = [0, 1].map(() => new Consumer({
        kafka: { 'bootstrap.servers': brokers(), 'group.id': `${topic}-group`, 'auto.offset.reset': 'earliest', 'session.timeout.ms': 6000,
          'heartbeat.interval.ms': 1000, 'partition.assignment.strategy': strategy, 'auto.commit.interval.ms': 500 },
        maxInFlight: 200,
      }));
      const pid = brokerPid();
      let paused = false;
      try {
        for (const c of members) {
          c.rebalances$.subscribe((r) => rebalances.push(r));
          c.errors$.subscribe(() => undefined); // expected while the broker is away
          await c.subscribe(topic);
          // About 1 ms per message per partition, 3 partitions at once per member: the stream lasts seconds.
          await c.run({ partitionsConcurrently: 3, eachMessage: async (m: ConsumedMessage) => {
            await new Promise((r) => setTimeout(r, 1));
            handled.push(Number(String(m.value)));
          } });
        }
        const deadline = Date.now() + 120000;
        while (new Set(handled).size < TOTAL * 0.3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        process.kill(pid, 'SIGSTOP');
        paused = true;
        await new Promise((r) => setTimeout(r, 9000));
        process.kill(pid, 'SIGCONT');
        paused = false;
        while (new Set(handled).size < TOTAL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 2000));
      } finally {
        if (paused) process.kill(pid, 'SIGCONT');
        await Promise.all(members.map((c) => c.close()));
      }
      const unique = new Set(handled).size;
      process.stdout.write(`group pause, ${name}: ${JSON.stringify({ handled: handled.length, unique, duplicates: handled.length - unique,
        rebalances: rebalances.length, lost: rebalances.filter((r) => r.lost).length })}\n`);
      expect(unique).toBe(TOTAL);
      // At-least-once: everything handled after the last commit before the pause comes again once the group
      // re-forms. A member keeps handling what it had prefetched until librdkafka's own session timeout revokes
      // its partitions (about 6 s into the pause), none of which can be committed, so on a slow machine that is
      // most of the topic (CI: 12,424 and 5,916 eager, 6,586 and 465 cooperative; here 892 and 448).
      expect(handled.length - unique).toBeLessThanOrEqual(TOTAL);
    },
    240000,
  );
});
