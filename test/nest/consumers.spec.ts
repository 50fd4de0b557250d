// Consumers in KafkaFdModule (issue 13, part 2), on the embedded broker: declared at the root and in feature
// modules, injected by name, started with their @KafkaFdHandler method once the application has bootstrapped,
// closed before producers flush, refused by name when declared wrong.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import {
  ConsumedBatch, ConsumedMessage, Consumer, InjectConsumer, InjectProducer, KafkaFdError, KafkaFdHandler, KafkaFdModule,
  KafkaFdRegistry, MockCluster, Producer, getConsumerToken,
} from '../../lib';

describe('KafkaFdModule consumers', () => {
  let mock: MockCluster;
  let feeder: Producer;
  let group = 0;
  const modules: TestingModule[] = [];
  const kafka = (): Record<string, string | number> => ({
    'bootstrap.servers': mock.bootstrapServers, 'group.id': `nest-g${++group}`, 'auto.offset.reset': 'earliest',
    'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500,
  });
  const start = async (imports: unknown[], providers: unknown[] = []): Promise<TestingModule> => {
    const m = await Test.createTestingModule({ imports: imports as never[], providers: providers as never[] }).compile();
    try {
      await m.init();
    } catch (e) {
      // A module whose bootstrap failed rethrows that failure from close(), after closing what it opened.
      await m.close().catch(() => undefined);
      throw e;
    }
    modules.push(m);
    return m;
  };
  const until = async (done: () => boolean, ms = 20000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };

  beforeAll(() => {
    mock = MockCluster.start({ brokers: 1, topics: { n1: 2, n2: 1, n3: 2, n4: 1 } });
    feeder = new Producer({ kafka: { 'bootstrap.servers': mock.bootstrapServers } });
  });
  afterEach(async () => {
    await Promise.all(modules.splice(0).map((m) => m.close()));
  });
  afterAll(async () => {
    await feeder.close();
    await mock.close();
  });

  it('declared at the root and in a feature, injected by name; without a handler a consumer waits for your run()', async () => {
    @Injectable()
    class Uses {
      constructor(@InjectConsumer('audit') readonly audit: Consumer, @InjectConsumer('root') readonly root: Consumer) {}
    }
    @Module({
      imports: [KafkaFdModule.forFeature({ consumers: [{ name: 'audit', topics: ['n2'] }], producers: [{ name: 'p' }] })],
      providers: [Uses],
    })
    class AuditModule {}
    const m = await start([KafkaFdModule.forRoot({ kafka: kafka(), consumers: [{ name: 'root' }], isGlobal: true }), AuditModule]);
    const uses = m.get(Uses);
    expect(uses.audit).toBeInstanceOf(Consumer);
    expect(uses.audit).toBe(m.get(getConsumerToken('audit'), { strict: false }));
    expect(uses.root.name).toBe('root');
    expect(m.get(KafkaFdRegistry).describe()).toMatchObject({ consumers: ['root', 'audit'], producers: ['p'] });
    // Not started: nothing subscribed, so a run() of our own works.
    await feeder.produce({ topic: 'n2', value: 'by hand' });
    const got: string[] = [];
    await uses.audit.subscribe('n2');
    await uses.audit.run({ eachMessage: (msg) => void got.push(String(msg.value)) });
    await until(() => got.length > 0);
    expect(got).toEqual(['by hand']);
  });

  it('a @KafkaFdHandler method gets every message of its consumer\'s topics once the app has bootstrapped', async () => {
    await feeder.produceMany(Array.from({ length: 300 }, (_, i) => ({ topic: 'n1', key: `k${i % 7}`, value: `v${i}` })));
    @Injectable()
    class Billing {
      readonly seen: ConsumedMessage[] = [];
      @KafkaFdHandler('billing')
      async onOrder(msg: ConsumedMessage): Promise<void> {
        this.seen.push(msg);
      }
    }
    @Injectable()
    class Batches {
      readonly batches: ConsumedBatch[] = [];
      @KafkaFdHandler('batches', { batch: true })
      onBatch(batch: ConsumedBatch): void {
        this.batches.push(batch);
      }
    }
    const m = await start([KafkaFdModule.forRoot({
      kafka: kafka(),
      consumers: [
        { name: 'billing', topics: ['n1'], partitionsConcurrently: 2 },
        { name: 'batches', topics: ['n1'], kafka: { 'group.id': `nest-batches-${group}` } },
      ],
    })], [Billing, Batches]);
    const billing = m.get(Billing);
    const batches = m.get(Batches);
    await until(() => billing.seen.length >= 300 && batches.batches.reduce((n, b) => n + b.messages.length, 0) >= 300);
    expect(billing.seen).toHaveLength(300);
    expect(new Set(billing.seen.map((s) => String(s.value))).size).toBe(300);
    for (const partition of [0, 1]) {
      const offsets = billing.seen.filter((s) => s.partition === partition).map((s) => s.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    expect(batches.batches.reduce((n, b) => n + b.messages.length, 0)).toBe(300);
    expect(m.get<Consumer>(getConsumerToken('billing')).assignment()).toHaveLength(2);
  });

  it('shutdown: a running handler finishes, its offset is committed, what it produced is flushed; the next app reads nothing old', async () => {
    await feeder.produceMany(Array.from({ length: 5 }, (_, i) => ({ topic: 'n3', value: `m${i}` })));
    const settings = kafka();
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const handled: string[] = [];
    @Injectable()
    class Slow {
      constructor(@InjectProducer('out') private readonly out: Producer) {}
      @KafkaFdHandler('slow')
      async handle(msg: ConsumedMessage): Promise<void> {
        entered();
        await new Promise((r) => setTimeout(r, 300));
        // Produced while the app shuts down: producers flush after consumers close.
        this.out.produceAsync({ topic: 'n4', value: `echo ${String(msg.value)}` });
        handled.push(String(msg.value));
      }
    }
    const root = () => KafkaFdModule.forRoot({ kafka: settings, producers: [{ name: 'out' }], consumers: [{ name: 'slow', topics: ['n3'] }] });
    const first = await start([root()], [Slow]);
    await inHandler;
    await first.close();
    modules.splice(modules.indexOf(first), 1);
    expect(handled.length).toBeGreaterThanOrEqual(1);
    const echoed = handled.length;
    // Every message handled was committed: a second app of the group starts after them.
    const again: string[] = [];
    @Injectable()
    class Next {
      @KafkaFdHandler('slow')
      handle(msg: ConsumedMessage): void {
        again.push(String(msg.value));
      }
    }
    await start([KafkaFdModule.forRoot({ kafka: settings, consumers: [{ name: 'slow', topics: ['n3'] }] })], [Next]);
    await until(() => handled.length + again.length >= 5);
    await new Promise((r) => setTimeout(r, 500));
    expect([...handled, ...again].sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    // What the first app's handlers produced during shutdown reached the broker.
    const echoes: string[] = [];
    const reader = new Consumer({ kafka: { ...kafka(), 'group.id': `echo-${group}` } });
    await reader.subscribe('n4');
    await reader.run({ eachMessage: (msg) => void echoes.push(String(msg.value)) });
    await until(() => echoes.length >= echoed);
    await reader.close();
    expect(echoes.sort()).toEqual(handled.map((h) => `echo ${h}`).sort());
  });

  it('refuses by name: a handler of an undeclared consumer, two handlers for one, a handler with no topics, no group.id', async () => {
    @Injectable()
    class Stray {
      @KafkaFdHandler('nobody')
      handle(): void {}
    }
    await expect(start([KafkaFdModule.forRoot({ kafka: kafka() })], [Stray])).rejects.toThrow(/no consumer named 'nobody'/);
    @Injectable()
    class One {
      @KafkaFdHandler('twice')
      a(): void {}
    }
    @Injectable()
    class Two {
      @KafkaFdHandler('twice')
      b(): void {}
    }
    await expect(start([KafkaFdModule.forRoot({ kafka: kafka(), consumers: [{ name: 'twice', topics: ['n1'] }] })], [One, Two]))
      .rejects.toThrow(/consumer 'twice' has two handlers \(One\.a and Two\.b\)/);
    @Injectable()
    class NoTopics {
      @KafkaFdHandler('bare')
      a(): void {}
    }
    await expect(start([KafkaFdModule.forRoot({ kafka: kafka(), consumers: [{ name: 'bare' }] })], [NoTopics]))
      .rejects.toThrow(/consumer 'bare' has a handler \(NoTopics\.a\) but no topics/);
    const { 'group.id': _dropped, ...noGroup } = kafka();
    const refused = start([KafkaFdModule.forRoot({ kafka: noGroup, consumers: [{ name: 'nogroup' }] })]);
    await expect(refused).rejects.toThrow(KafkaFdError);
    await expect(refused).rejects.toThrow(/consumer 'nogroup' needs a 'group.id'/);
  });
});
