import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { Module } from '@nestjs/common';
import { KafkaFdError, KafkaFdModule, Producer, getProducerToken } from '../../lib';
import { brokers, consumeAll, consumeCommitted, uniqueTopic, waitForTopic } from '../support/kafka';

describe('KafkaFdModule on the real broker', () => {
  it('app.close() right after 10,000 produceAsync calls loses none of them', async () => {
    const topic = uniqueTopic('nest-close');
    const m = await Test.createTestingModule({
      imports: [KafkaFdModule.forRoot({ kafka: { 'bootstrap.servers': brokers(), acks: 'all' }, defaultProducer: true })],
    }).compile();
    const app = m.createNestApplication();
    await app.init();
    const p = app.get<Producer>(getProducerToken());
    for (let i = 0; i < 10000; i++) p.produceAsync({ topic, key: `k${i}`, value: `v${i}` });
    expect(p.inFlightCount).toBeGreaterThan(0);
    await app.close();
    const got = await consumeAll(topic, 10000);
    expect(got).toHaveLength(10000);
    expect(new Set(got.map((g) => g.payload)).size).toBe(10000);
  });

  it('a forFeature producer can be transactional; shutdown aborts its open transaction, then closes it', async () => {
    const topic = uniqueTopic('nest-txn');
    waitForTopic(topic);
    @Module({ imports: [KafkaFdModule.forFeature([{ name: 'ledger', kafka: { 'transactional.id': `${topic}-ledger` } }])] })
    class LedgerModule {}
    const m = await Test.createTestingModule({
      imports: [KafkaFdModule.forRoot({ kafka: { 'bootstrap.servers': brokers() } }), LedgerModule],
    }).compile();
    const app = m.createNestApplication();
    await app.init();
    const ledger = app.get<Producer>(getProducerToken('ledger'));
    await ledger.transaction(async (tx) => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => tx.produce({ topic, value: `committed ${i}` })));
    });
    let release!: () => void;
    const open = ledger.transaction(async (tx) => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => tx.produce({ topic, value: `open ${i}` })));
      await new Promise<void>((resolve) => (release = resolve));
    }).catch((e: unknown) => e);
    while (!release) await new Promise((r) => setTimeout(r, 10));
    await app.close();
    release();
    expect(await open).toMatchObject({ name: 'KafkaFdError', code: 'ERR__STATE' });
    expect(await open).toBeInstanceOf(KafkaFdError);
    expect(ledger.closed).toBe(true);
    // A committed marker from another producer closes the topic: a read_committed reader sees the first
    // transaction and the marker, nothing of the aborted one.
    const marker = new Producer({ kafka: { 'bootstrap.servers': brokers(), 'transactional.id': `${topic}-marker` } });
    await marker.transaction((tx) => tx.produce({ topic, value: 'marker' }));
    await marker.close();
    const seen = (await consumeCommitted(topic, 21)).map((r) => r.payload);
    expect(seen).toHaveLength(21);
    expect(seen.filter((v) => v?.startsWith('open'))).toEqual([]);
  });
});
