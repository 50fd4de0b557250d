// Consumers in KafkaFdModule on the real broker: an application stopped while messages keep arriving loses
// none and hands none twice to the next instance of its group (its consumers finish their handlers and
// commit in beforeApplicationShutdown, before its producers flush), and what its handlers produced while
// stopping reaches the broker.
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { ConsumedMessage, InjectProducer, KafkaFdHandler, KafkaFdModule, Producer } from '../../lib';
import { brokers, consumeAll, uniqueTopic, waitForTopic } from '../support/kafka';

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
});
