// nestjs-kafka-fd/prometheus on the mock cluster: librdkafka's statistics and the poller's metrics in a
// prom-client registry, named rdkafka_* / kafka_fd_poller_*, in base units; gone when a client closes; the Nest
// module exposes a KafkaFdModule's clients on the registry it is given.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { Consumer, MockCluster, Poller, Producer } from '../../lib';
import { KafkaFdModule, getProducerToken } from '../../lib/nest';
import { KafkaFdPrometheus } from '../../lib/prometheus';
import { KafkaFdPrometheusModule } from '../../lib/prometheus/nest';
import { track } from '../support/track';

async function until(what: () => boolean | Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** A metric's value in the exposition text for labels containing all of `has`. */
function value(text: string, name: string, has: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(has).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('Prometheus metrics (nestjs-kafka-fd/prometheus) on the mock cluster', () => {
  let mock: MockCluster;
  const clients = track<Producer | Consumer>(10000);

  beforeAll(() => {
    mock = MockCluster.start({ topics: { p1: 2 } });
  });
  afterEach(() => clients.closeAll());
  afterAll(() => mock.close());

  it('statistics of a producer and a consumer, the poller\'s metrics; a closed client\'s go away', async () => {
    const registry = new Registry();
    const metrics = new KafkaFdPrometheus({ registry });
    const poller = new Poller({ name: 'metered' });
    const producer = new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers, 'statistics.interval.ms': 100 }, polling: { poller } });
    const consumer = new Consumer({
      kafka: { 'bootstrap.servers': mock.bootstrapServers, 'group.id': 'prom', 'auto.offset.reset': 'earliest', 'statistics.interval.ms': 100, 'session.timeout.ms': 6000 },
      polling: { poller },
    });
    clients.add(consumer);
    clients.add(producer);
    metrics.watch(producer);
    metrics.watch(consumer);
    metrics.watch(poller);
    await producer.produceMany(Array.from({ length: 50 }, (_, i) => ({ topic: 'p1', key: `k${i}`, value: `m${i}` }))); // keys: both partitions
    let read = 0;
    await consumer.subscribe('p1');
    await consumer.run({ eachMessage: () => void read++ });
    await until(() => read >= 50);
    await consumer.commit();
    const p = { handle: producer.name, type: 'producer' };
    const c = { handle: consumer.name, type: 'consumer' };
    let text = '';
    await until(async () => {
      text = await registry.metrics();
      return value(text, 'rdkafka_txmsgs_total', p) === 50 && value(text, 'rdkafka_rxmsgs_total', c) === 50 &&
        value(text, 'rdkafka_topic_partition_consumer_lag', { ...c, topic: 'p1', partition: '0' }) === 0;
    });
    expect(value(text, 'rdkafka_txmsgs_total', p)).toBe(50);
    expect(value(text, 'rdkafka_rxmsgs_total', c)).toBe(50);
    expect(value(text, 'rdkafka_msg_cnt', p)).toBe(0);
    expect(value(text, 'rdkafka_topic_partition_consumer_lag', { ...c, topic: 'p1', partition: '1' })).toBe(0);
    expect(value(text, 'rdkafka_cgrp_assignment_size', c)).toBe(2);
    expect(value(text, 'rdkafka_cgrp_rebalances_total', c)).toBeGreaterThanOrEqual(1);
    // Seconds, not librdkafka's microseconds (a window with requests in it: the consumer's fetches).
    let rtt: number | undefined;
    await until(async () => (rtt = value(await registry.metrics(), 'rdkafka_broker_rtt_seconds', { ...c, quantile: '0.99' })) !== undefined);
    expect(rtt).toBeGreaterThan(0);
    expect(rtt).toBeLessThan(2);
    expect(text).toContain('# TYPE rdkafka_txmsgs_total counter');
    expect(value(text, 'kafka_fd_poller_wakeups_total', { poller: 'metered' })).toBeGreaterThan(0);
    expect(value(text, 'kafka_fd_poller_reports_total', { poller: 'metered' })).toBeGreaterThanOrEqual(100);
    expect(value(text, 'kafka_fd_poller_clients', { poller: 'metered' })).toBe(2);
    await producer.close();
    text = await registry.metrics();
    expect(value(text, 'rdkafka_txmsgs_total', p)).toBeUndefined();
    expect(value(text, 'rdkafka_rxmsgs_total', c)).toBe(50);
    metrics.close();
    expect(await registry.metrics()).not.toContain('rdkafka_');
  });

  it('KafkaFdPrometheusModule: the KafkaFdModule\'s producers and pollers on the given registry', async () => {
    const registry = new Registry();
    @Module({
      imports: [
        KafkaFdModule.forRoot({ kafka: { 'bootstrap.servers': mock.bootstrapServers, 'statistics.interval.ms': 100 }, defaultProducer: true }),
        KafkaFdPrometheusModule.register({ registry }),
      ],
    })
    class AppModule {}
    const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await app.init();
    try {
      const producer = app.get<Producer>(getProducerToken());
      await producer.produce({ topic: 'p1', value: 'x' });
      await until(async () => (await registry.metrics()).includes('rdkafka_msg_cnt{handle='));
      const text = await registry.metrics();
      // The handle label is librdkafka's name of the handle (rdkafka#producer-N), not the Nest name.
      expect(text).toMatch(/rdkafka_msg_cnt\{handle="rdkafka#producer-\d+",type="producer"\} 0/);
      expect(value(text, 'kafka_fd_poller_clients', { poller: 'global' })).toBeGreaterThanOrEqual(1);
    } finally {
      await app.close();
    }
    expect(await registry.metrics()).not.toContain('rdkafka_');
  });
});
