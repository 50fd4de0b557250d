import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import {
  InjectPoller, InjectProducer, KafkaFdModule, KafkaFdModuleOptions, KafkaFdRegistry, MockCluster, Poller, Producer,
  getPollerToken, getProducerToken,
} from '../../lib';

describe('KafkaFdModule wiring', () => {
  let mock: MockCluster;
  const modules: TestingModule[] = [];
  const compile = async (imports: unknown[]): Promise<TestingModule> => {
    const m = await Test.createTestingModule({ imports: imports as never[] }).compile();
    modules.push(m);
    return m;
  };

  beforeAll(() => {
    mock = MockCluster.start({ brokers: 1, topics: { orders: 2 } });
  });
  afterEach(async () => {
    await Promise.all(modules.splice(0).map((m) => m.close()));
  });
  afterAll(() => mock.close());

  const kafka = (): KafkaFdModuleOptions['kafka'] => ({ 'bootstrap.servers': mock.bootstrapServers });

  it('runs on the Nest major of this jest project', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { version } = require('@nestjs/core/package.json') as { version: string };
    expect(Number(version.split('.')[0])).toBe((globalThis as { NEST_MAJOR?: number }).NEST_MAJOR);
  });

  it('forRoot provides the default producer, root producers and named pollers', async () => {
    const m = await compile([KafkaFdModule.forRoot({
      kafka: kafka(),
      defaultProducer: true,
      pollers: { critical: { maxTimeMs: 200 } },
      producers: [{ name: 'audit', poller: 'critical', kafka: { 'client.id': 'audit-client' } }],
    })]);
    const def = m.get<Producer>(getProducerToken());
    const audit = m.get<Producer>(getProducerToken('audit'));
    const critical = m.get<Poller>(getPollerToken('critical'));
    expect(def).toBeInstanceOf(Producer);
    expect(audit.poller).toBe(critical);
    expect(critical.options.maxTimeMs).toBe(200);
    expect(def.poller).toBe(Poller.global());
    expect(m.get<Poller>(getPollerToken())).toBe(Poller.global());
    // The producer's own kafka settings override the root's.
    expect(audit.name).toMatch(/^audit$/);
    await expect(audit.produce({ topic: 'orders', value: 'x' })).resolves.toMatchObject({ topic: 'orders' });
    await expect(def.produce({ topic: 'orders', value: 'y' })).resolves.toMatchObject({ topic: 'orders' });
  });

  it('merges root kafka defaults under each producer\'s own settings', async () => {
    const m = await compile([KafkaFdModule.forRoot({
      kafka: { ...kafka(), 'client.id': 'root-client', 'message.timeout.ms': 1000 },
      producers: [{ name: 'own', kafka: { 'client.id': 'own-client' } }, { name: 'inherits' }],
    })]);
    const registry = m.get(KafkaFdRegistry);
    expect(registry.describe()).toMatchObject({ producers: ['own', 'inherits'] });
    const own = m.get<Producer>(getProducerToken('own'));
    const inherits = m.get<Producer>(getProducerToken('inherits'));
    // librdkafka names a handle after its client.id.
    expect((own as unknown as { native: { name(): string } }).native.name()).toMatch(/^own-client#producer-/);
    expect((inherits as unknown as { native: { name(): string } }).native.name()).toMatch(/^root-client#producer-/);
  });

  @Injectable()
  class Config {
    brokers = '';
    options(): KafkaFdModuleOptions {
      return { kafka: { 'bootstrap.servers': this.brokers }, defaultProducer: true, pollers: { p1: {} } };
    }
  }
  @Module({ providers: [Config], exports: [Config] })
  class ConfigModule {}

  it.each(['useFactory', 'useClass', 'useExisting'] as const)('forRootAsync works with %s', async (kind) => {
    const brokers = mock.bootstrapServers;
    @Injectable()
    class OptionsFactory {
      create(): KafkaFdModuleOptions {
        return { kafka: { 'bootstrap.servers': brokers }, defaultProducer: true, pollers: { p1: {} } };
      }
    }
    @Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
    class FactoryModule {}
    const async =
      kind === 'useFactory'
        ? { imports: [ConfigModule], inject: [Config], useFactory: (c: Config) => ({ ...c.options(), kafka: { 'bootstrap.servers': brokers } }) }
        : kind === 'useClass'
          ? { useClass: OptionsFactory }
          : { imports: [FactoryModule], useExisting: OptionsFactory };
    const m = await compile([KafkaFdModule.forRootAsync({ ...async, provides: { defaultProducer: true, pollers: ['p1'] } } as never)]);
    const p = m.get<Producer>(getProducerToken());
    expect(m.get<Poller>(getPollerToken('p1'))).toBeInstanceOf(Poller);
    await expect(p.produce({ topic: 'orders', value: kind })).resolves.toMatchObject({ topic: 'orders' });
  });

  it('forFeature registers named producers bound to named pollers, injectable by decorator', async () => {
    @Injectable()
    class Payments {
      constructor(@InjectProducer('payments') readonly producer: Producer, @InjectPoller('critical') readonly poller: Poller) {}
    }
    @Module({ imports: [KafkaFdModule.forFeature([{ name: 'payments', poller: 'critical', kafka: { 'enable.idempotence': true } }])], providers: [Payments] })
    class PaymentsModule {}
    const m = await compile([KafkaFdModule.forRoot({ kafka: kafka(), pollers: { critical: {} } }), PaymentsModule]);
    const payments = m.get(Payments);
    expect(payments.producer.poller).toBe(payments.poller);
    expect(payments.poller.producerCount).toBe(1);
    await expect(payments.producer.produce({ topic: 'orders', value: 'pay' })).resolves.toMatchObject({ topic: 'orders' });
  });

  it('fails at startup when a producer names a poller that was not declared, naming both', async () => {
    @Module({ imports: [KafkaFdModule.forFeature([{ name: 'payments', poller: 'nope' }])] })
    class PaymentsModule {}
    await expect(compile([KafkaFdModule.forRoot({ kafka: kafka(), pollers: { critical: {} } }), PaymentsModule]))
      .rejects.toThrow(/producer 'payments' is bound to poller 'nope', which is not declared.*'critical'/);
  });

  it('two testing modules share no producer and no poller', async () => {
    const options = { kafka: kafka(), defaultProducer: true, pollers: { critical: {} } };
    const a = await compile([KafkaFdModule.forRoot(options)]);
    const b = await compile([KafkaFdModule.forRoot(options)]);
    expect(a.get(getProducerToken())).not.toBe(b.get(getProducerToken()));
    expect(a.get(getPollerToken('critical'))).not.toBe(b.get(getPollerToken('critical')));
    expect(a.get(KafkaFdRegistry)).not.toBe(b.get(KafkaFdRegistry));
    await a.close();
    // Closing one leaves the other working.
    await expect(b.get<Producer>(getProducerToken()).produce({ topic: 'orders', value: 'b' })).resolves.toBeDefined();
  });

  it('app.close() flushes and closes every producer and releases dedicated pollers', async () => {
    const m = await compile([KafkaFdModule.forRoot({ kafka: kafka(), defaultProducer: true, pollers: { critical: {} },
      producers: [{ name: 'c', poller: 'critical' }] })]);
    const app = m.createNestApplication();
    await app.init();
    const p = m.get<Producer>(getProducerToken());
    const c = m.get<Producer>(getProducerToken('c'));
    const critical = m.get<Poller>(getPollerToken('critical'));
    let acked = 0;
    p.acks$.subscribe((r) => r.error === undefined && acked++);
    c.acks$.subscribe((r) => r.error === undefined && acked++);
    for (let i = 0; i < 2000; i++) (i % 2 ? p : c).produceAsync({ topic: 'orders', value: `m${i}` });
    expect(critical.active).toBe(true);
    await app.close();
    expect(acked).toBe(2000);
    expect(p.closed && c.closed).toBe(true);
    expect(critical.active).toBe(false);
    await expect(p.produce({ topic: 'orders', value: 'late' })).rejects.toMatchObject({ code: 'ERR__STATE' });
  });

  it('logs a fatal librdkafka error once', async () => {
    const errors: string[] = [];
    const m = await Test.createTestingModule({
      imports: [KafkaFdModule.forRoot({ kafka: { ...kafka(), 'enable.idempotence': true }, defaultProducer: true, logging: false })],
    }).setLogger({
      log: () => undefined, warn: () => undefined, debug: () => undefined, verbose: () => undefined,
      error: (msg: string) => errors.push(msg),
    }).compile();
    modules.push(m);
    const p = m.get<Producer>(getProducerToken());
    await p.produce({ topic: 'orders', value: 'x' });
    const native = (p as unknown as { native: { testFatalError(code: number, why: string): number } }).native;
    native.testFatalError(45, 'fabricated');
    native.testFatalError(45, 'again');
    const until = Date.now() + 10000;
    while (!p.health.fatal && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const fatal = errors.filter((e) => e.includes('fatal librdkafka error'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain("producer 'default'");
    expect(fatal[0]).toContain('fabricated');
  });

  it('routes librdkafka logs to Nest\'s Logger with matching levels', async () => {
    const lines: Array<[string, string]> = [];
    const m = await Test.createTestingModule({
      imports: [KafkaFdModule.forRoot({ kafka: { ...kafka(), debug: 'broker' }, defaultProducer: true })],
    }).setLogger({
      log: (msg: string, ctx?: string) => lines.push(['log', `${ctx}: ${msg}`]),
      error: (msg: string, ctx?: string) => lines.push(['error', `${ctx}: ${msg}`]),
      warn: (msg: string, ctx?: string) => lines.push(['warn', `${ctx}: ${msg}`]),
      debug: (msg: string, ctx?: string) => lines.push(['debug', `${ctx}: ${msg}`]),
      verbose: (msg: string, ctx?: string) => lines.push(['verbose', `${ctx}: ${msg}`]),
    }).compile();
    modules.push(m);
    await m.get<Producer>(getProducerToken()).produce({ topic: 'orders', value: 'logged' });
    const ours = lines.filter(([, text]) => text.startsWith('KafkaFd:default: '));
    expect(ours.length).toBeGreaterThan(0);
    // librdkafka's debug lines are syslog level 7: Nest's debug.
    expect(ours.every(([level]) => level === 'debug')).toBe(true);
  });
});
