// The scenarios of Nest's own Kafka transport e2e tests (nestjs/nest integration/microservices: sum-kafka,
// the Kafka messages controller's payload shapes, concurrent-kafka, errors), run against Nest's ServerKafka and
// against KafkaFdServer side by side on the real broker: the same controller on both, each behind topics of its
// own, called by Nest's ClientKafka and by KafkaFdClient. Every answer must be the one Transport.KAFKA gives.
import 'reflect-metadata';
import { Controller, INestMicroservice, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  ClientKafka, ClientProxy, Ctx, EventPattern, KafkaContext, MessagePattern, Payload, RpcException, Transport,
} from '@nestjs/microservices';
import { from, lastValueFrom, toArray } from 'rxjs';
import { KafkaFdClient, KafkaFdServer } from '../../lib/microservices';
import { brokers, uniqueTopic, waitForTopic } from '../support/kafka';

const SCENARIOS = ['kafka-message', 'plain-object', 'array', 'string', 'number', 'entity', 'stream', 'async', 'rpc-error', 'error'] as const;
type Scenario = (typeof SCENARIOS)[number];

class UserEntity {
  readonly kind = 'user';
  readonly createdAt = new Date(Date.UTC(2026, 0, 2));
  constructor(readonly name: string, readonly tags: string[]) {}
}

/** The same handlers for both servers; `prefix` keeps each server's topics apart. */
function controllerFor(prefix: string, seen: Array<{ data: unknown; headers: unknown; key: unknown }>): Type<unknown> {
  const t = (s: Scenario | 'notify'): string => `${prefix}.${s}`;
  @Controller()
  class ParityController {
    @MessagePattern(t('kafka-message'))
    sumKafkaMessage(@Payload() data: { numbers: number[] }): number {
      return data.numbers.reduce((a, b) => a + b, 0);
    }

    @MessagePattern(t('plain-object'))
    sumPlainObject(@Payload() data: { numbers: number[] }): number {
      return data.numbers.reduce((a, b) => a + b, 0);
    }

    @MessagePattern(t('array'))
    sumArray(@Payload() data: number[]): number {
      return data.reduce((a, b) => a + b, 0);
    }

    @MessagePattern(t('string'))
    sumString(@Payload() data: string): number {
      return data.split(',').map(Number).reduce((a, b) => a + b, 0);
    }

    @MessagePattern(t('number'))
    sumDigits(@Payload() data: unknown): unknown {
      return { type: typeof data, digits: String(data).split('').map(Number).reduce((a, b) => a + b, 0) };
    }

    @MessagePattern(t('entity'))
    async createUser(@Payload() data: { user: { name: string; tags: string[] } }): Promise<UserEntity> {
      return new UserEntity(data.user.name, data.user.tags);
    }

    @MessagePattern(t('stream'))
    stream(@Payload() data: number[]) {
      return from(data.map((n) => n * 10));
    }

    @MessagePattern(t('async'))
    async later(@Payload() data: { ms: number; n: number }): Promise<number> {
      await new Promise((r) => setTimeout(r, data.ms));
      return data.n;
    }

    @MessagePattern(t('rpc-error'))
    rpcError(): never {
      throw new RpcException({ status: 'refused', code: 42 });
    }

    @MessagePattern(t('error'))
    plainError(): never {
      throw new Error('secret detail');
    }

    @EventPattern(t('notify'))
    notify(@Payload() data: unknown, @Ctx() ctx: KafkaContext): void {
      const message = ctx.getMessage();
      seen.push({ data, headers: message.headers, key: message.key });
    }
  }
  return ParityController;
}

describe('Nest\'s Kafka e2e scenarios: KafkaFdServer answers as Transport.KAFKA does (real broker)', () => {
  const base = uniqueTopic('parity');
  const NEST = `${base}-nest`;
  const FD = `${base}-fd`;
  const seen: Record<string, Array<{ data: unknown; headers: unknown; key: unknown }>> = { [NEST]: [], [FD]: [] };
  const apps: INestMicroservice[] = [];
  let nestClient: ClientKafka;
  let fdClient: KafkaFdClient;

  const serverOptions = (prefix: string): Record<string, unknown> => ({
    client: { brokers: [brokers()], clientId: prefix },
    consumer: { groupId: prefix, sessionTimeout: 6000, heartbeatInterval: 1000 },
    subscribe: { fromBeginning: true },
  });

  beforeAll(async () => {
    for (const prefix of [NEST, FD]) {
      for (const s of [...SCENARIOS, 'notify']) {
        waitForTopic(`${prefix}.${s}`);
        if (s !== 'notify') waitForTopic(`${prefix}.${s}.reply`);
      }
    }
    for (const prefix of [NEST, FD]) {
      const m = await Test.createTestingModule({ controllers: [controllerFor(prefix, seen[prefix])] }).compile();
      const app = m.createNestMicroservice(
        prefix === NEST
          ? { transport: Transport.KAFKA, options: serverOptions(prefix) as never }
          : { strategy: new KafkaFdServer(serverOptions(prefix) as never) },
      );
      app.useLogger(false);
      await app.listen();
      apps.push(app);
    }
    const clientOptions = (id: string): Record<string, unknown> => ({
      client: { brokers: [brokers()], clientId: id },
      consumer: { groupId: id, sessionTimeout: 6000, heartbeatInterval: 1000 },
    });
    nestClient = new ClientKafka(clientOptions(`${base}-nest-caller`) as never);
    fdClient = new KafkaFdClient(clientOptions(`${base}-fd-caller`) as never);
    for (const client of [nestClient, fdClient] as Array<ClientKafka | KafkaFdClient>) {
      for (const prefix of [NEST, FD]) for (const s of SCENARIOS) client.subscribeToResponseOf(`${prefix}.${s}`);
      await client.connect();
    }
    // Nest's ClientKafka can resolve connect() before its reply topics are assigned (see microservice.e2e.spec.ts).
    const assigned = (): Record<string, number> => (nestClient as unknown as { consumerAssignments: Record<string, number> }).consumerAssignments ?? {};
    const deadline = Date.now() + 60000;
    while (Object.keys(assigned()).length < 2 * SCENARIOS.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }, 180000);

  afterAll(async () => {
    await nestClient?.close();
    await fdClient?.close();
    for (const app of apps) await app.close();
  });

  // ClientKafka's status type makes it no ClientProxy<.., string> to the compiler; both have send and emit.
  const callers = (): Array<[string, ClientProxy]> => [['ClientKafka', nestClient as unknown as ClientProxy], ['KafkaFdClient', fdClient]];

  /** What each server answered, through each client: `{ 'ClientKafka->nest': ..., ... }`. */
  async function ask(scenario: Scenario, payload: unknown, collect: 'last' | 'all' | 'error' = 'last'): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [name, client] of callers()) {
      for (const [server, prefix] of [['nest', NEST], ['fd', FD]]) {
        const reply$ = client.send(`${prefix}.${scenario}`, payload);
        out[`${name}->${server}`] = collect === 'all'
          ? await lastValueFrom(reply$.pipe(toArray()))
          : collect === 'error'
            ? await lastValueFrom(reply$).then(() => 'no error', (e: unknown) => e)
            : await lastValueFrom(reply$);
      }
    }
    return out;
  }

  /** Every client and server gave `expected`. */
  function expectAll(answers: Record<string, unknown>, expected: unknown): void {
    expect(Object.keys(answers)).toHaveLength(4);
    for (const [who, answer] of Object.entries(answers)) expect({ who, answer }).toEqual({ who, answer: expected });
  }

  // A bare number in a reply arrives as a string: Nest's Kafka serializer writes it as text and its parser
  // decodes only JSON objects and arrays. Both servers must do the same.
  it('a payload in Kafka message shape ({ key, value }), with and without a key', async () => {
    expectAll(await ask('kafka-message', { key: '1', value: { numbers: [1, 2, 3] } }), '6');
    expectAll(await ask('kafka-message', { value: { numbers: [4, 5] } }), '9');
  }, 60000);

  it('a plain object, an array and a string as the payload', async () => {
    expectAll(await ask('plain-object', { numbers: [1, 2, 3, 4, 5] }), '15');
    expectAll(await ask('array', [1, 2, 3]), '6');
    expectAll(await ask('string', '1,2,3'), '6');
  }, 60000);

  it('a bare number: both servers hand the handler the same type', async () => {
    const answers = await ask('number', 123);
    expectAll(answers, answers['ClientKafka->nest']);
    expect((answers['ClientKafka->nest'] as { digits: number }).digits).toBe(6);
  }, 60000);

  it('a class instance with a Date comes back as the same JSON', async () => {
    expectAll(await ask('entity', { user: { name: 'ada', tags: ['a', 'b'] } }), { kind: 'user', createdAt: '2026-01-02T00:00:00.000Z', name: 'ada', tags: ['a', 'b'] });
  }, 60000);

  it('an Observable handler streams every value, then completes', async () => {
    expectAll(await ask('stream', [1, 2, 3], 'all'), ['10', '20', '30']);
  }, 60000);

  it('an RpcException reaches the caller as its error object; a plain Error as Nest\'s "Internal server error"', async () => {
    expectAll(await ask('rpc-error', {}, 'error'), { status: 'refused', code: 42 });
    const plain = await ask('error', {}, 'error');
    expectAll(plain, plain['ClientKafka->nest']);
    expect(plain['ClientKafka->nest']).toMatchObject({ status: 'error', message: 'Internal server error' });
  }, 60000);

  it('concurrent requests: 3 callers x 100 in flight over slow and fast handlers, each gets its own answer', async () => {
    const extra = new KafkaFdClient({ client: { brokers: [brokers()], clientId: `${base}-extra` }, consumer: { groupId: `${base}-extra` } });
    for (const prefix of [NEST, FD]) extra.subscribeToResponseOf(`${prefix}.async`);
    await extra.connect();
    try {
      for (const prefix of [NEST, FD]) {
        const all = await Promise.all([nestClient, fdClient, extra].flatMap((client, c) => Array.from({ length: 100 }, (_, i) => {
          const n = c * 1000 + i;
          return lastValueFrom(client.send<string>(`${prefix}.async`, { ms: i % 7 === 0 ? 50 : 0, n })).then((r) => [n, r] as const);
        })));
        expect(all.filter(([n, r]) => String(n) !== r)).toEqual([]);
        expect(all).toHaveLength(300);
      }
    } finally {
      await extra.close();
    }
  }, 90000);

  it('events: the payload, the key and the headers reach the handler alike', async () => {
    for (const [, client] of callers()) {
      for (const prefix of [NEST, FD]) {
        await lastValueFrom(client.emit(`${prefix}.notify`, { key: 'n-1', value: { notify: true }, headers: { 'x-trace': 'abc' } }));
      }
    }
    const deadline = Date.now() + 30000;
    while ((seen[NEST].length < 2 || seen[FD].length < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(seen[FD]).toHaveLength(2);
    expect(seen[FD]).toEqual(seen[NEST]);
    expect(seen[FD][0]).toMatchObject({ data: { notify: true }, key: 'n-1', headers: { 'x-trace': 'abc' } });
  }, 60000);
});
