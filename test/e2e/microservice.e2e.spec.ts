// KafkaFdServer (nestjs-kafka-fd/microservices) on the real broker, called by Nest's own ClientKafka (kafkajs):
// the two-line switch from Transport.KAFKA keeps events, request-reply with Nest's Kafka headers, errors and
// KafkaContext working for the code on either side.
import 'reflect-metadata';
import { Controller, INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ClientKafka, Ctx, EventPattern, KafkaContext, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { KafkaFdError } from '../../lib';
import { KafkaFdClient, KafkaFdContext, KafkaFdServer } from '../../lib/microservices';
import { brokers, consumeAll, uniqueTopic, waitForTopic } from '../support/kafka';

describe('KafkaFdServer with Nest\'s ClientKafka on the real broker', () => {
  const EVENTS = uniqueTopic('ms-events');
  const SUM = uniqueTopic('ms-sum');
  const FAIL = uniqueTopic('ms-fail');
  const FLAKY = uniqueTopic('ms-flaky');
  const calls = new Map<number, number>();
  const done: number[] = [];
  const events: Array<{ data: unknown; ctx: KafkaContext }> = [];

  @Controller()
  class MathController {
    @EventPattern(EVENTS)
    onEvent(@Payload() data: unknown, @Ctx() ctx: KafkaContext): void {
      events.push({ data, ctx });
    }

    @MessagePattern(SUM)
    sum(@Payload() data: number[]): { sum: number } {
      return { sum: data.reduce((a, b) => a + b, 0) };
    }

    @MessagePattern(FAIL)
    fail(): never {
      throw new RpcException('refused on purpose');
    }

    @EventPattern(FLAKY)
    flaky(@Payload() data: { id: number; failTimes: number }): void {
      const n = (calls.get(data.id) ?? 0) + 1;
      calls.set(data.id, n);
      if (n <= data.failTimes) throw new Error(`flaky ${data.id} failed try ${n}`);
      done.push(data.id);
    }
  }

  let app: INestMicroservice;
  let client: ClientKafka;
  let server: KafkaFdServer;

  beforeAll(async () => {
    for (const t of [EVENTS, SUM, `${SUM}.reply`, FAIL, `${FAIL}.reply`, FLAKY, `${FLAKY}.dlt`]) waitForTopic(t);
    const m = await Test.createTestingModule({ controllers: [MathController] }).compile();
    server = new KafkaFdServer({
      client: { brokers: [brokers()], clientId: 'math' },
      consumer: { groupId: `${SUM}-group` },
      subscribe: { fromBeginning: true },
      run: { partitionsConsumedConcurrently: 3 },
      retry: { attempts: 2, backoffMs: 10 },
      deadLetterTopic: (topic) => `${topic}.dlt`,
    });
    app = m.createNestMicroservice({ strategy: server });
    await app.listen();
    client = new ClientKafka({
      client: { brokers: [brokers()], clientId: 'caller' },
      consumer: { groupId: `${SUM}-caller` },
      subscribe: { fromBeginning: true },
    });
    client.subscribeToResponseOf(SUM);
    client.subscribeToResponseOf(FAIL);
    await client.connect();
    // Nest's ClientKafka can resolve connect() before its group join has assigned it the reply topics (seen once
    // on Nest 12: "did not subscribe to the corresponding reply topic"); its send() needs them.
    const assigned = (): Record<string, number> => (client as unknown as { consumerAssignments: Record<string, number> }).consumerAssignments ?? {};
    const deadline = Date.now() + 30000;
    while (!(`${SUM}.reply` in assigned() && `${FAIL}.reply` in assigned()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }, 120000);

  afterAll(async () => {
    await client?.close();
    await app?.close();
  });

  it('request-reply: ClientKafka.send gets what the @MessagePattern handler returned', async () => {
    // Objects cross as JSON (a bare number would come back as the string "6": Nest's Kafka serializer and
    // parser do that for Transport.KAFKA too).
    await expect(lastValueFrom(client.send(SUM, [1, 2, 3]))).resolves.toEqual({ sum: 6 });
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => lastValueFrom(client.send<{ sum: number }>(SUM, [i, 1]))));
    expect(many.map((r) => r.sum)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  }, 60000);

  it('a handler\'s RpcException reaches the caller as an error (kafka_nest-err)', async () => {
    await expect(lastValueFrom(client.send(FAIL, {}))).rejects.toMatchObject({ message: 'refused on purpose' });
  }, 60000);

  it('events: an @EventPattern handler gets the JSON payload and a KafkaContext', async () => {
    await lastValueFrom(client.emit(EVENTS, { key: 'order-1', value: { id: 1, total: 12.5 } }));
    const deadline = Date.now() + 30000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(events).toHaveLength(1);
    expect(events[0].data).toEqual({ id: 1, total: 12.5 });
    const ctx = events[0].ctx;
    expect(ctx).toBeInstanceOf(KafkaContext);
    expect(ctx).toBeInstanceOf(KafkaFdContext);
    expect(ctx.getTopic()).toBe(EVENTS);
    expect(ctx.getPartition()).toBeGreaterThanOrEqual(0);
    expect(ctx.getMessage()).toMatchObject({ key: 'order-1', offset: '0' });
    await expect(ctx.getHeartbeat()()).resolves.toBeUndefined();
    expect(server.unwrap<unknown[]>()).toHaveLength(2);
  }, 60000);

  it('KafkaFdClient calls the same server: send, emit, an RpcException; send without subscribeToResponseOf is refused', async () => {
    const ours = new KafkaFdClient({ client: { brokers: [brokers()], clientId: 'fd-caller' }, consumer: { groupId: `${SUM}-fd-caller` } });
    ours.subscribeToResponseOf(SUM);
    ours.subscribeToResponseOf(FAIL);
    try {
      await ours.connect();
      await expect(lastValueFrom(ours.send(SUM, [4, 5]))).resolves.toEqual({ sum: 9 });
      const many = await Promise.all(Array.from({ length: 100 }, (_, i) => lastValueFrom(ours.send<{ sum: number }>(SUM, [i, i]))));
      expect(many.map((r) => r.sum)).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i));
      await expect(lastValueFrom(ours.send(FAIL, {}))).rejects.toMatchObject({ message: 'refused on purpose' });
      await expect(lastValueFrom(ours.send(EVENTS, {}))).rejects.toThrow(/subscribeToResponseOf/);
      const before = events.length;
      await lastValueFrom(ours.emit(EVENTS, { id: 2 }));
      const deadline = Date.now() + 30000;
      while (events.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(events[before]?.data).toEqual({ id: 2 });
    } finally {
      await ours.close();
    }
  }, 90000);

  it('a failing event handler is tried again (retry), then its message goes to the dead-letter topic and the partition goes on', async () => {
    // One key: one partition, so the third message proves the partition went on past the dead letter.
    for (const data of [{ id: 1, failTimes: 1 }, { id: 2, failTimes: 99 }, { id: 3, failTimes: 0 }]) {
      await lastValueFrom(client.emit(FLAKY, { key: 'same', value: data }));
    }
    const deadline = Date.now() + 30000;
    while (!done.includes(3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(done).toEqual([1, 3]);
    expect(calls.get(1)).toBe(2);
    expect(calls.get(2)).toBe(3); // the first try and two more
    const dead = await consumeAll(`${FLAKY}.dlt`, 1);
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0].payload!)).toEqual({ id: 2, failTimes: 99 });
    expect(dead[0].key).toBe('same');
    const headers = Object.fromEntries(dead[0].headers!.reduce<string[][]>((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v, all[i + 1]]] : acc), []));
    process.stdout.write(`dead letter headers: ${JSON.stringify(headers)}\n`);
    expect(headers).toMatchObject({ 'kafka-fd-dlt-topic': FLAKY, 'kafka-fd-dlt-attempts': '3' });
    // What Nest's exception filter made of the Error the handler threw (it hides the message of a non-RpcException).
    expect(JSON.parse(headers['kafka-fd-dlt-error'])).toMatchObject({ status: 'error' });
    expect(Number(headers['kafka-fd-dlt-offset'])).toBeGreaterThanOrEqual(0);
  }, 60000);

  it('refuses options it cannot honour, by name', () => {
    expect(() => new KafkaFdServer({ client: { brokers: ['x'], retry: { retries: 3 } } as never })).toThrow(KafkaFdError);
    expect(() => new KafkaFdServer({ client: { brokers: ['x'], retry: { retries: 3 } } as never })).toThrow(/client\.retry/);
    expect(() => new KafkaFdServer({ run: { autoCommit: false, eachBatchAutoResolve: true } as never })).toThrow(/run\.eachBatchAutoResolve/);
    expect(() => new KafkaFdServer({ retry: { attempts: -1 } })).toThrow(/retry\.attempts/);
    expect(() => new KafkaFdServer({ deadLetterTopic: '' })).toThrow(/deadLetterTopic/);
  });
});
