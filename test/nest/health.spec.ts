import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { KafkaFdModule, MockCluster, Producer, getProducerToken } from '../../lib';
import { KafkaFdHealthIndicator, KafkaFdHealthModule } from '../../lib/health';

describe('KafkaFdHealthIndicator', () => {
  it('is up with working producers and down with a reason when one is closed or cut off', async () => {
    const mock = MockCluster.start({ brokers: 1, topics: { orders: 1 } });
    const m = await Test.createTestingModule({
      imports: [
        KafkaFdModule.forRoot({
          kafka: { 'bootstrap.servers': mock.bootstrapServers },
          defaultProducer: true,
          producers: [{ name: 'lost', kafka: { 'bootstrap.servers': '127.0.0.1:1' } }],
        }),
        KafkaFdHealthModule,
      ],
    }).compile();
    try {
      const health = m.get(KafkaFdHealthIndicator);
      const ok = m.get<Producer>(getProducerToken());
      await ok.produce({ topic: 'orders', value: 'x' });
      const lost = m.get<Producer>(getProducerToken('lost'));
      const until = Date.now() + 30000;
      while (!lost.health.brokersDown && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const result = health.isHealthy('kafka');
      expect(result.kafka.status).toBe('down');
      expect(result.kafka.producers).toEqual({ default: 'up', lost: 'down: all brokers are down' });
      expect(result.kafka.reason).toContain('lost: all brokers are down');

      await m.close();
      const closed = health.isHealthy('kafka');
      expect(closed.kafka.producers.default).toBe('down: closed');
    } finally {
      await m.close();
      await mock.close();
    }
  });

  it('is up when every producer is open and has reached a broker', async () => {
    const mock = MockCluster.start({ brokers: 1 });
    const m = await Test.createTestingModule({
      imports: [KafkaFdModule.forRoot({ kafka: { 'bootstrap.servers': mock.bootstrapServers }, defaultProducer: true }), KafkaFdHealthModule],
    }).compile();
    try {
      await m.get<Producer>(getProducerToken()).produce({ topic: 'orders', value: 'x' });
      expect(m.get(KafkaFdHealthIndicator).isHealthy('kafka')).toEqual({ kafka: { status: 'up', producers: { default: 'up' } } });
    } finally {
      await m.close();
      await mock.close();
    }
  });
});
