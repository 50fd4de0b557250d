import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { Injectable } from '@nestjs/common';
import { Consumer, KafkaFdHandler, KafkaFdModule, MockCluster, Producer, getConsumerToken, getProducerToken } from '../../lib';
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

  it('reports each consumer\'s assignment and lag, and is down past maxLag', async () => {
    const mock = MockCluster.start({ brokers: 1, topics: { work: 1 } });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let handled = 0;
    @Injectable()
    class Worker {
      // The first 5 go through, the sixth waits at the gate: the rest stays behind.
      @KafkaFdHandler('work')
      async handle(): Promise<void> {
        if (handled >= 5) await gate;
        handled++;
      }
    }
    const m = await Test.createTestingModule({
      imports: [
        KafkaFdModule.forRoot({
          kafka: { 'bootstrap.servers': mock.bootstrapServers },
          defaultProducer: true,
          consumers: [{ name: 'work', topics: ['work'], kafka: { 'group.id': 'work', 'auto.offset.reset': 'earliest', 'statistics.interval.ms': 100 } }],
        }),
        KafkaFdHealthModule,
      ],
      providers: [Worker],
    }).compile();
    try {
      await m.init();
      const health = m.get(KafkaFdHealthIndicator);
      const consumer = m.get<Consumer>(getConsumerToken('work'));
      await m.get<Producer>(getProducerToken()).produceMany(Array.from({ length: 45 }, (_, i) => ({ topic: 'work', value: `${i}` })));
      const until = Date.now() + 30000;
      while (handled < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await consumer.commit();
      while (consumer.lag()?.total !== 40 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(health.isHealthy('kafka').kafka).toMatchObject({ status: 'up', consumers: { work: 'up: 1 partition(s) assigned, lag 40' } });
      const behind = health.isHealthy('kafka', { maxLag: 10 }).kafka;
      expect(behind).toMatchObject({ status: 'down', consumers: { work: 'down: lag 40 above 10' } });
      expect(behind.reason).toContain('work: lag 40 above 10');
      expect(health.isHealthy('kafka', { maxLag: 40 }).kafka.status).toBe('up');
    } finally {
      release();
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
