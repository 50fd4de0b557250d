// Consumers in KafkaFdModule on the real broker: an application stopped while messages keep arriving loses
// none and hands none twice to the next instance of its group (its consumers finish their handlers and
// commit in beforeApplicationShutdown, before its producers flush), and what its handlers produced while
// stopping reaches the broker.
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { ConsumedBatch, ConsumedMessage, InjectProducer, KafkaFdHandler, KafkaFdModule, Producer, Transaction } from '../../lib';
import { brokers, consumeAll, consumeCommitted, uniqueTopic, waitForTopic } from '../support/kafka';

describe('KafkaFdModule consumers on the real broker', () => {
  it('app.close() under load: every message handled, none twice across two instances, echoes flushed', async () => {
    const topic = uniqueTopic('nest-in');
    const echoes = uniqueTopic('nest-echo');
    waitForTopic(topic);
    const group = `${topic}-group`;
    const handled: string[] = [];
    @Injectable()
    class Worker {
      constructor(@InjectProducer('echo') private readonly echo: Producer) {}
      @KafkaFdHandler('work')
      async handle(m: ConsumedMessage): Promise<void> {
        await new Promise((r) => setImmediate(r));
        this.echo.produceAsync({ topic: echoes, value: m.value });
        handled.push(String(m.value));
      }
    }
    const app = async (): Promise<TestingModule> => {
      const m = await Test.createTestingModule({
        imports: [KafkaFdModule.forRoot({
          kafka: { 'bootstrap.servers': brokers() },
          producers: [{ name: 'echo' }],
          consumers: [{ name: 'work', topics: [topic], partitionsConcurrently: 3,
            kafka: { 'group.id': group, 'auto.offset.reset': 'earliest', 'partition.assignment.strategy': 'cooperative-sticky' } }],
        })],
        providers: [Worker],
      }).compile();
      await m.init();
      return m;
    };
    const feeder = new Producer({ kafka: { 'bootstrap.servers': brokers(), 'linger.ms': 1 } });
    let sent = 0;
    let feeding = true;
    const feed = (async () => {
      while (feeding) {
        await feeder.produceMany(Array.from({ length: 100 }, () => ({ topic, value: `m${sent++}` })));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const first = await app();
    const deadline = Date.now() + 30000;
    while (handled.length < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await first.close();
    const byFirst = handled.length;
    expect(byFirst).toBeGreaterThan(0);
    feeding = false;
    await feed;
    await feeder.close();
    const second = await app();
    const until = Date.now() + 60000;
    while (new Set(handled).size < sent && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await second.close();
    process.stdout.write(`nest consumers: sent ${sent}, first instance ${byFirst}, second ${handled.length - byFirst}\n`);
    expect(new Set(handled).size).toBe(sent);
    expect(handled.length).toBe(sent);
    // Every handler's echo was flushed, the first instance's included (produced while it was stopping).
    const got = await consumeAll(echoes, sent, 30000);
    expect(got.length).toBe(sent);
  }, 180000);

  it('@KafkaFdHandler(consumer, { transactional }): each batch in a transaction with its position; an aborted batch comes again', async () => {
    const input = uniqueTopic('nest-eos-in');
    const output = uniqueTopic('nest-eos-out');
    waitForTopic(input);
    waitForTopic(output);
    let calls = 0;
    @Injectable()
    class Enricher {
      @KafkaFdHandler('enrich', { transactional: { producer: 'pipe', backoffMs: 10 } })
      enrich(batch: ConsumedBatch, tx: Transaction): void {
        calls++;
        tx.produceManyAsync(batch.messages.map((m) => ({ topic: output, key: m.key, value: `enriched-${String(m.value)}` })));
        if (calls === 1) throw new Error('the first batch fails once');
      }
    }
    const m = await Test.createTestingModule({
      imports: [KafkaFdModule.forRoot({
        kafka: { 'bootstrap.servers': brokers() },
        producers: [{ name: 'pipe', kafka: { 'transactional.id': `${input}-pipe` } }],
        consumers: [{ name: 'enrich', topics: [input], partitionsConcurrently: 3,
          kafka: { 'group.id': `${input}-group`, 'auto.offset.reset': 'earliest', 'enable.auto.commit': false } }],
      })],
      providers: [Enricher],
    }).compile();
    const feeder = new Producer({ kafka: { 'bootstrap.servers': brokers() } });
    try {
      await feeder.produceMany(Array.from({ length: 500 }, (_, i) => ({ topic: input, key: `k${i % 5}`, value: `${i}` })));
      await m.init();
      const got = await consumeCommitted(output, 500, 60000);
      expect(got).toHaveLength(500);
      expect(new Set(got.map((g) => g.payload)).size).toBe(500);
      expect(calls).toBeGreaterThan(1);
    } finally {
      await feeder.close();
      await m.close();
    }
  }, 120000);
});
