// Consumer resources come back (real broker): 1,000 consumers created, subscribed, handed a message, committed
// and closed, 20 at a time, leave the process with the fds and threads it had, its heap flat and its RSS
// about flat.
import { Producer } from '../../lib';
import { runFixture } from '../support/child';
import { brokers, uniqueTopic, waitForTopic } from '../support/kafka';

describe('consumer resources', () => {
  it('1,000 create/subscribe/consume/close cycles return fds, threads, heap and RSS to the baseline', async () => {
    const topic = uniqueTopic('consumer-cycles');
    waitForTopic(topic);
    const p = new Producer({ kafka: { 'bootstrap.servers': brokers() } });
    // A message on every partition: whichever a consumer is assigned, it has one to handle.
    await p.produceMany([0, 1, 2].map((partition) => ({ topic, partition, value: 'x' })));
    await p.close();
    const run = await runFixture('consumer-cycles.ts', [brokers(), topic, '1000', '20'], 600000, { MALLOC_ARENA_MAX: '2' });
    if (run.code !== 0) process.stdout.write(`${run.stdout}\n${run.stderr}\n`);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    type Sample = { fds: number; threads: number; rssMb: number; heapMb: number };
    const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as { ms: number; baseline: Sample; mid: Sample; end: Sample };
    process.stdout.write(`consumer resources: ${JSON.stringify(r)}\n`);
    expect(r.end.fds).toBeLessThanOrEqual(r.baseline.fds);
    expect(r.end.threads).toBeLessThanOrEqual(r.baseline.threads);
    expect(r.end.heapMb - r.baseline.heapMb).toBeLessThan(5);
    // A leak grows with every cycle: the second 500 must add little to RSS.
    expect(r.end.rssMb - r.mid.rssMb).toBeLessThan(10);
  }, 660000);
});
