// Where a consumer of a group reads, on the mock cluster: lag() from librdkafka's statistics, seek() from a
// handler and after a failed one, and what subscribe(), run(), commit() and seek() refuse.
import { firstValueFrom } from 'rxjs';
import { KafkaFdError } from '../../lib';
import { consumerOnMock } from '../support/consumer-on-mock';

describe('Consumer position on the mock cluster', () => {
  const { consumer, fill, until } = consumerOnMock({ c12: 1, c13: 1, c14: 1, c15: 2 });

  it('lag(): the committed position\'s distance from the partition\'s end, from librdkafka\'s statistics', async () => {
    const plain = consumer();
    expect(plain.lag()).toBeUndefined();
    await plain.close();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let handled = 0;
    const c = consumer({ 'statistics.interval.ms': 100 });
    await fill('c12', 30);
    await c.subscribe('c12');
    await c.run({
      eachMessage: async () => {
        // The first 5 go through; the sixth waits at the gate.
        if (handled >= 5) await gate;
        handled++;
      },
    });
    await until(() => handled >= 5);
    await c.commit();
    await until(() => c.lag()?.total === 25);
    expect(c.lag()).toMatchObject({ total: 25, partitions: [{ topic: 'c12', partition: 0, lag: 25 }] });
    release();
    await until(() => handled >= 30);
    await c.commit();
    await until(() => c.lag()?.total === 0);
    expect(c.lag()?.total).toBe(0);
    expect(c.lag()!.at).toBeGreaterThan(Date.now() - 60000);
  });

  it('seek() from inside a handler: the partition goes on from the offset sought, the message whose handler sought stores nothing', async () => {
    await fill('c13', 20);
    const c = consumer();
    const seen: number[] = [];
    let sought = false;
    await c.subscribe('c13');
    await c.run({
      eachMessage: async (m) => {
        seen.push(m.offset);
        if (m.offset === 10 && !sought) {
          sought = true;
          c.seek({ topic: 'c13', partition: 0, offset: 3 });
        }
      },
    });
    await until(() => seen.length >= 28);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([...Array.from({ length: 11 }, (_, i) => i), ...Array.from({ length: 17 }, (_, i) => 3 + i)]);
  });

  it('seek() restarts a partition stopped by a failed handler; seeking another member\'s partition or a bad offset is refused', async () => {
    await fill('c14', 20);
    const c = consumer();
    const seen: number[] = [];
    let failed = false;
    await c.subscribe('c14');
    const failure = firstValueFrom(c.errors$);
    await c.run({
      eachMessage: async (m) => {
        if (m.offset === 5 && !failed) {
          failed = true;
          throw new Error('not yet');
        }
        seen.push(m.offset);
      },
    });
    expect((await failure).code).toBe('ERR__APPLICATION');
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    c.seek({ topic: 'c14', partition: 0, offset: '5' });
    await until(() => seen.length >= 20);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(() => c.seek({ topic: 'c15', partition: 0, offset: 0 })).toThrow(expect.objectContaining({ code: 'ERR__STATE' }));
    for (const offset of [-1, 1.5, '1e3', NaN]) {
      expect(() => c.seek({ topic: 'c14', partition: 0, offset })).toThrow(expect.objectContaining({ code: 'ERR__INVALID_ARG' }));
    }
    await c.close();
    expect(() => c.seek({ topic: 'c14', partition: 0, offset: 0 })).toThrow(KafkaFdError);
  });

  it('refuses a bad subscription, a bad run() and a bad commit timeout with ERR__INVALID_ARG', async () => {
    const c = consumer();
    await expect(c.commit({ timeoutMs: NaN })).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(c.subscribe([])).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(c.subscribe('bad topic')).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(c.subscribe(/orders/i)).rejects.toThrow(/flags 'i'/);
    for (const offset of [-1, 1.5, NaN, '', '1e3', ' 1', 2 ** 53 + 2, '9007199254740993', BigInt(2) ** BigInt(60), null]) {
      await expect(c.commitOffsets([{ topic: 'c', partition: 0, offset: offset as never }])).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    }
    await expect(c.commit({ offsets: [] })).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(c.commit({ offsets: [{ topic: 'bad topic', partition: 0, offset: 1 }] })).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(c.commit({ offsets: [{ topic: 'c', partition: -1, offset: 1 }] })).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(c.run({})).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await expect(c.run({ eachMessage: () => undefined, partitionsConcurrently: 0 })).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    await c.run({ eachMessage: () => undefined });
    await expect(c.run({ eachMessage: () => undefined })).rejects.toMatchObject({ code: 'ERR__STATE' });
  });
});
