// KafkaFdServer stopped under load on the real broker: events keep arriving and requests are in flight while the
// first instance closes; the next instance of the group takes over. Nothing is lost, nothing handled twice
// (close finishes the handlers in flight, their replies go out, their offsets are committed, then it leaves).
import 'reflect-metadata';
import { Controller, INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';
import { Producer } from '../../lib';
import { KafkaFdClient, KafkaFdServer } from '../../lib/microservices';
import { brokers, uniqueTopic, waitForTopic } from '../support/kafka';

describe('KafkaFdServer closed under load (real broker)', () => {
  it('app.close() with events arriving and requests in flight: every event and request handled once, every request answered', async () => {
    const EVENTS = uniqueTopic('ms-load');
    const ASK = uniqueTopic('ms-load-ask');
    for (const t of [EVENTS, ASK, `${ASK}.reply`]) waitForTopic(t);
    const events: string[] = [];
    const asked: number[] = [];
    let instance = 0;
    const byInstance = [0, 0];

    @Controller()
    class LoadController {
      @EventPattern(EVENTS)
      async onEvent(@Payload() data: { id: string }): Promise<void> {
        await new Promise((r) => setImmediate(r));
        events.push(data.id);
        byInstance[instance]++;
      }

      @MessagePattern(ASK)
      async onAsk(@Payload() data: { n: number }): Promise<{ n: number }> {
        await new Promise((r) => setTimeout(r, 2));
        asked.push(data.n);
        return { n: data.n * 2 };
      }
    }
    const start = async (): Promise<INestMicroservice> => {
      const m = await Test.createTestingModule({ controllers: [LoadController] }).compile();
      const app = m.createNestMicroservice({
        strategy: new KafkaFdServer({
          client: { brokers: [brokers()], clientId: 'load' },
          consumer: { groupId: `${EVENTS}-group`, sessionTimeout: 6000, heartbeatInterval: 1000 },
          subscribe: { fromBeginning: true },
          run: { partitionsConsumedConcurrently: 3 },
          kafka: { 'partition.assignment.strategy': 'cooperative-sticky' },
        }),
      });
      await app.listen();
      return app;
    };

    const feeder = new Producer({ kafka: { 'bootstrap.servers': brokers(), 'linger.ms': 1 } });
    let sent = 0;
    let feeding = true;
    const feed = (async () => {
      while (feeding) {
        await feeder.produceMany(Array.from({ length: 50 }, () => ({ topic: EVENTS, key: `k${sent % 7}`, value: JSON.stringify({ id: `e${sent++}` }) })));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const caller = new KafkaFdClient({ client: { brokers: [brokers()], clientId: 'load-caller' }, consumer: { groupId: `${ASK}-caller` } });
    caller.subscribeToResponseOf(ASK);
    await caller.connect();

    const first = await start();
    const deadline = Date.now() + 30000;
    while (events.length < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // 200 requests go out; the first instance is closed while they are being handled.
    const answers = Promise.all(Array.from({ length: 200 }, (_, n) => lastValueFrom(caller.send<{ n: number }>(ASK, { n }).pipe(timeout(60000)))));
    while (asked.length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await first.close();
    const handledByFirst = events.length;
    expect(handledByFirst).toBeGreaterThan(0);
    feeding = false;
    await feed;
    await feeder.close();
    instance = 1;
    const second = await start();
    try {
      const replies = await answers;
      expect(replies.map((r) => r.n)).toEqual(Array.from({ length: 200 }, (_, n) => 2 * n));
      const until = Date.now() + 60000;
      while (new Set(events).size < sent && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await second.close();
      await caller.close();
    }
    process.stdout.write(`transport shutdown: sent ${sent}, first instance ${byInstance[0]}, second ${byInstance[1]}; requests handled ${asked.length}\n`);
    expect(new Set(events).size).toBe(sent);
    expect(events).toHaveLength(sent);
    expect([...asked].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(byInstance[1]).toBeGreaterThan(0);
  }, 180000);
});
