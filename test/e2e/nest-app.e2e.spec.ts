import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { KafkaFdModule, Producer, getProducerToken } from '../../lib';
import { brokers, consumeAll, uniqueTopic } from '../support/kafka';

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
});
