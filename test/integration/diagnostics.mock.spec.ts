// The tracing channels (node:diagnostics_channel) on the mock cluster: what each publishes, that a start
// subscriber's header reaches the consumer, errors, and the Nest transport's pattern on the process context.
import 'reflect-metadata';
import diagnostics_channel from 'node:diagnostics_channel';
import { Controller, INestMicroservice } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import {
  CommitTraceContext, ConsumedMessage, Consumer, MockCluster, ProcessTraceContext, ProduceTraceContext, Producer, TRACING_CHANNELS, withHeader,
} from '../../lib';
import { KafkaFdServer } from '../../lib/microservices';
import { track } from '../support/track';

type Events<C> = Array<[string, C]>;

/** Subscribes to every event of a tracing channel, recording (event, a snapshot of the context's fields). */
function record<C extends object>(name: string, onStart?: (ctx: C) => void): { events: Events<C>; stop(): void } {
  const channel = diagnostics_channel.tracingChannel<C, C>(name);
  const events: Events<C> = [];
  const handlers = {
    start: (ctx: C) => {
      onStart?.(ctx);
      events.push(['start', { ...ctx }]);
    },
    end: (ctx: C) => void events.push(['end', { ...ctx }]),
    asyncStart: (ctx: C) => void events.push(['asyncStart', { ...ctx }]),
    asyncEnd: (ctx: C) => void events.push(['asyncEnd', { ...ctx }]),
    error: (ctx: C) => void events.push(['error', { ...ctx }]),
  };
  channel.subscribe(handlers);
  return { events, stop: () => channel.unsubscribe(handlers) };
}

async function until(what: () => boolean, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

describe('tracing channels (diagnostics_channel) on the mock cluster', () => {
  let mock: MockCluster;
  const producers = track<Producer>(2000);
  const consumers = track<Consumer>(10000);
  let group = 0;
  const consumer = (extra: Record<string, string | number | boolean> = {}): Consumer =>
    consumers.add(new Consumer({
      kafka: { 'bootstrap.servers': mock.bootstrapServers, 'group.id': `diag-${++group}`, 'auto.offset.reset': 'earliest', 'session.timeout.ms': 6000, ...extra },
    }));

  beforeAll(() => {
    mock = MockCluster.start({ topics: { d1: 1, d2: 2, d3: 1, d4: 1 } });
  });
  afterEach(async () => {
    await consumers.closeAll();
    await producers.closeAll();
  });
  afterAll(() => mock.close());

  it('produce: start with the call, asyncEnd with the delivery report; a start subscriber\'s header reaches the consumer', async () => {
    const p = producers.add(new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers } }));
    const caller = { topic: 'd1', key: 'k', value: 'v', headers: { a: '1' } };
    const trace = record<ProduceTraceContext>(TRACING_CHANNELS.produce, (ctx) => {
      for (const m of ctx.messages) m.headers = withHeader(m.headers, 'traceparent', '00-abc-def-01');
    });
    try {
      const report = await p.produce(caller);
      await p.produceMany([{ topic: 'd2', value: 'x' }, { topic: 'd2', value: 'y' }]);
      p.produceAsync({ topic: 'd1', value: 'async' });
      await p.flush();
      expect(trace.events.map(([e]) => e)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd', 'start', 'end', 'asyncStart', 'asyncEnd', 'start', 'end']);
      const [[, start], , , [, end]] = trace.events;
      expect(start).toMatchObject({ clientId: p.name, topic: 'd1', key: 'k', messageCount: 1 });
      expect(end.result).toEqual(report);
      expect(trace.events[4][1]).toMatchObject({ topic: 'd2', messageCount: 2 });
      expect(trace.events[7][1].result).toEqual({ delivered: 2 });
      // The caller's message is untouched: the header went on the copy that was sent.
      expect(caller.headers).toEqual({ a: '1' });
    } finally {
      trace.stop();
    }
    const c = consumer();
    const got: ConsumedMessage[] = [];
    await c.subscribe('d1');
    await c.run({ eachMessage: (m) => void got.push(m) });
    await until(() => got.length >= 2);
    expect(String(got[0].headers.a)).toBe('1');
    expect(String(got[0].headers.traceparent)).toBe('00-abc-def-01');
    expect(String(got[1].headers.traceparent)).toBe('00-abc-def-01');
  });

  it('produce: a refused message and a failed delivery publish error', async () => {
    const p = producers.add(new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers, 'message.timeout.ms': 1000 } }));
    const trace = record<ProduceTraceContext>(TRACING_CHANNELS.produce);
    try {
      await p.produce({ topic: '', value: 'bad topic' }).catch(() => undefined);
      expect(() => p.produceAsync({ topic: 'd1', value: 'x', partition: 1.5 })).toThrow();
      await p.produce({ topic: 'd1', value: 'x', partition: 7 }).catch(() => undefined);
    } finally {
      trace.stop();
    }
    const errors = trace.events.filter(([e]) => e === 'error').map(([, ctx]) => (ctx.error as { code?: string }).code);
    expect(errors).toEqual(['ERR__INVALID_ARG', 'ERR__INVALID_ARG', 'ERR__UNKNOWN_PARTITION']);
  });

  it('process: each handler call, with its messages, group and offset; a throwing handler publishes error; commit is traced', async () => {
    const p = producers.add(new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers } }));
    await p.produceMany(Array.from({ length: 3 }, (_, i) => ({ topic: 'd3', key: `k${i}`, value: `m${i}`, headers: { h: `${i}` } })));
    const process = record<ProcessTraceContext>(TRACING_CHANNELS.process);
    const commits = record<CommitTraceContext>(TRACING_CHANNELS.commit);
    try {
      const c = consumer();
      let calls = 0;
      await c.subscribe('d3');
      await c.run({
        eachMessage: async (m) => {
          calls++;
          if (m.offset === 2) throw new Error('the third fails');
        },
      });
      await until(() => calls >= 3 && process.events.some(([e]) => e === 'error'));
      await c.commit();
      const starts = process.events.filter(([e]) => e === 'start').map(([, ctx]) => ctx);
      expect(starts.map((ctx) => ctx.offset)).toEqual([0, 1, 2]);
      expect(starts[0]).toMatchObject({ clientId: c.name, group: c.group, topic: 'd3', partition: 0, messageCount: 1 });
      expect(String(starts[0].messages[0].value)).toBe('m0');
      expect(String(starts[0].key)).toBe('k0');
      expect(String(starts[0].headers.h)).toBe('0');
      const failed = process.events.filter(([e]) => e === 'error');
      expect(failed).toHaveLength(1);
      expect((failed[0][1].error as Error).message).toBe('the third fails');
      expect(commits.events.map(([e]) => e)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
      expect(commits.events[0][1]).toMatchObject({ clientId: c.name, group: c.group });
    } finally {
      process.stop();
      commits.stop();
    }
  });

  it('the Nest transport names the pattern it routed a message to on the process context', async () => {
    const handled: unknown[] = [];
    @Controller()
    class EventsController {
      @EventPattern('d4')
      on(@Payload() data: unknown): void {
        handled.push(data);
      }
    }
    const moduleRef = await Test.createTestingModule({ controllers: [EventsController] }).compile();
    const app: INestMicroservice = moduleRef.createNestMicroservice({
      strategy: new KafkaFdServer({ client: { brokers: [mock.bootstrapServers] }, consumer: { groupId: 'diag-nest' }, subscribe: { fromBeginning: true } }),
    });
    await app.listen();
    const process = record<ProcessTraceContext>(TRACING_CHANNELS.process);
    try {
      const p = producers.add(new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers } }));
      await p.produce({ topic: 'd4', value: JSON.stringify({ hello: 'nest' }) });
      await until(() => handled.length >= 1 && process.events.some(([e]) => e === 'asyncEnd'));
      expect(handled).toEqual([{ hello: 'nest' }]);
      const done = process.events.find(([e]) => e === 'asyncEnd')![1];
      expect(done).toMatchObject({ topic: 'd4', group: 'diag-nest-server', pattern: 'd4' }); // Nest's -server suffix, as ServerKafka's
    } finally {
      process.stop();
      await app.close();
    }
  });
});
