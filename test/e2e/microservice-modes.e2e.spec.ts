// KafkaFdServer and KafkaFdClient on the real broker, the parts a Transport.KAFKA user reaches for past plain
// events and requests: manual commit mode (run.autoCommit false with context.getConsumer().commitOffsets), RegExp
// patterns (Nest 12's Kafka transport has them; ours has them on Nest 11 too), emitBatch, the client's commitOffsets.
import 'reflect-metadata';
import { Controller, INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Ctx, EventPattern, KafkaContext, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { Consumer, ConsumedMessage, KafkaFdError } from '../../lib';
import { KafkaFdClient, KafkaFdServer } from '../../lib/microservices';
import { brokers, uniqueTopic, waitForTopic } from '../support/kafka';

async function until(what: () => boolean, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

describe('KafkaFdServer and KafkaFdClient: commit modes, RegExp patterns, emitBatch (real broker)', () => {
  const MANUAL = uniqueTopic('ms-manual');
  const PREFIX = uniqueTopic('ms-rx');
  const BATCH = uniqueTopic('ms-batch');
  const POISON = uniqueTopic('ms-poison');
  const poisoned: string[] = [];
  const GROUP = `${MANUAL}-group`;
  const manual: number[] = [];
  const matched: Array<{ topic: string; data: unknown }> = [];
  const batch: Array<{ partition: number; data: { key: string; seq: number } }> = [];

  @Controller()
  class ManualController {
    /** Commits itself, after the messages marked `commit` only. */
    @EventPattern(MANUAL)
    async onManual(@Payload() data: { id: number; commit: boolean }, @Ctx() ctx: KafkaContext): Promise<void> {
      manual.push(data.id);
      if (!data.commit) return;
      const { offset } = ctx.getMessage();
      // Exactly what Transport.KAFKA users write (kafkajs's shape: the next offset, as a string).
      await ctx.getConsumer().commitOffsets([{ topic: ctx.getTopic(), partition: ctx.getPartition(), offset: (Number(offset) + 1).toString() }]);
    }
  }

  @Controller()
  class ModesController {
    @EventPattern(new RegExp(`^${PREFIX}-(a|b)$`))
    onMatched(@Payload() data: unknown, @Ctx() ctx: KafkaContext): void {
      matched.push({ topic: ctx.getTopic(), data });
    }

    /** Throws for the message marked `poison`, every time (no retry policy, no dead-letter topic). */
    @EventPattern(POISON)
    onPoison(@Payload() data: { id: string; poison?: boolean }): void {
      if (data.poison) throw new Error(`poison ${data.id}`);
      poisoned.push(data.id);
    }

    @EventPattern(BATCH)
    onBatch(@Payload() data: { key: string; seq: number }, @Ctx() ctx: KafkaContext): void {
      batch.push({ partition: ctx.getPartition(), data });
    }
  }

  let app: INestMicroservice;
  let client: KafkaFdClient;

  beforeAll(async () => {
    for (const t of [MANUAL, `${PREFIX}-a`, `${PREFIX}-b`, `${PREFIX}-c`, BATCH, POISON]) waitForTopic(t);
    const m = await Test.createTestingModule({ controllers: [ModesController] }).compile();
    app = m.createNestMicroservice({
      strategy: new KafkaFdServer({
        client: { brokers: [brokers()], clientId: 'modes' },
        consumer: { groupId: `${GROUP}-auto`, sessionTimeout: 6000, heartbeatInterval: 1000 },
        subscribe: { fromBeginning: true },
        run: { partitionsConsumedConcurrently: 3 },
      }),
    });
    await app.listen();
    client = new KafkaFdClient({ client: { brokers: [brokers()], clientId: 'modes-caller' }, producerOnlyMode: true });
    await client.connect();
  }, 120000);

  afterAll(async () => {
    await client?.close();
    await app?.close();
  });

  it('run.autoCommit false: only what the handler commits is committed, and close() commits nothing more', async () => {
    const m = await Test.createTestingModule({ controllers: [ManualController] }).compile();
    const manualApp = m.createNestMicroservice({
      strategy: new KafkaFdServer({
        client: { brokers: [brokers()], clientId: 'modes-manual' },
        consumer: { groupId: GROUP, sessionTimeout: 6000, heartbeatInterval: 1000 },
        subscribe: { fromBeginning: true },
        run: { autoCommit: false },
        // Auto-commit would have committed the uncommitted messages within this interval; the test waits longer.
        kafka: { 'auto.commit.interval.ms': 200 },
      }),
    });
    await manualApp.listen();
    // One key: one partition, in order. The handler commits after id 3 only.
    for (const id of [1, 2, 3, 4, 5]) await lastValueFrom(client.emit(MANUAL, { key: 'k', value: { id, commit: id === 3 } }));
    await until(() => manual.length >= 5);
    expect(manual).toEqual([1, 2, 3, 4, 5]);
    await new Promise((r) => setTimeout(r, 1000));
    await manualApp.close();
    // The server's group (Nest appends '-server'), read on from its committed position: id 4 is the first.
    const next = new Consumer({ kafka: { 'bootstrap.servers': brokers(), 'group.id': `${GROUP}-server`, 'auto.offset.reset': 'earliest' } });
    const seen: number[] = [];
    try {
      await next.subscribe(MANUAL);
      await next.run({ eachMessage: (msg: ConsumedMessage) => void seen.push((JSON.parse(msg.value!.toString()) as { id: number }).id) });
      await until(() => seen.length >= 2);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await next.close();
    }
    expect(seen).toEqual([4, 5]);
  }, 90000);

  it('a RegExp pattern receives the topics it matches and not the others', async () => {
    expect(matched).toEqual([]);
    for (const suffix of ['a', 'b', 'c']) await lastValueFrom(client.emit(`${PREFIX}-${suffix}`, { value: { suffix } }));
    await until(() => matched.length >= 2);
    await new Promise((r) => setTimeout(r, 500));
    expect(matched.map((m) => m.topic).sort()).toEqual([`${PREFIX}-a`, `${PREFIX}-b`]);
    expect(matched.map((m) => m.data)).toEqual(expect.arrayContaining([{ suffix: 'a' }, { suffix: 'b' }]));
  }, 60000);

  it('emitBatch: 300 events in one call, each key in order', async () => {
    const messages = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 3}`, value: { key: `k${i % 3}`, seq: i } }));
    const report = await lastValueFrom(client.emitBatch(BATCH, { messages }));
    expect(report).toEqual({ delivered: 300 });
    await until(() => batch.length >= 300);
    expect(batch).toHaveLength(300);
    for (const key of ['k0', 'k1', 'k2']) {
      const seqs = batch.filter((b) => b.data.key === key).map((b) => b.data.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs).toHaveLength(100);
    }
    await expect(lastValueFrom(client.emitBatch(BATCH, null as never))).rejects.toThrow();
  }, 60000);

  it('the client\'s commitOffsets needs its reply consumer, and checks what it is given', async () => {
    expect(() => client.commitOffsets([{ topic: BATCH, partition: 0, offset: '1' }])).toThrow(KafkaFdError);
    const caller = new KafkaFdClient({ client: { brokers: [brokers()], clientId: 'modes-rr' }, consumer: { groupId: `${GROUP}-rr` } });
    caller.subscribeToResponseOf(MANUAL);
    try {
      waitForTopic(`${MANUAL}.reply`);
      await caller.connect();
      const [, consumer] = caller.unwrap<[unknown, Consumer]>();
      const tp = consumer.assignment()[0];
      await expect(caller.commitOffsets([{ ...tp, offset: '0' }])).resolves.toBeUndefined();
      await expect(caller.commitOffsets([{ ...tp, offset: '-1' }])).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
      await expect(caller.commitOffsets([{ ...tp, offset: '1e3' }])).rejects.toMatchObject({ code: 'ERR__INVALID_ARG' });
    } finally {
      await caller.close();
    }
  }, 60000);

  it('a handler that throws, without retry or dead-letter topic: its partition stops at the message, the others go on, and the next member reads it again', async () => {
    // One message for each of six keys; two keys on different partitions are the poisoned one and a bystander.
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
    const partitionOf = new Map<string, number>();
    for (const key of keys) partitionOf.set(key, ((await lastValueFrom(client.emit(POISON, { key, value: { id: `${key}-1` } }))) as { partition: number }).partition);
    const a = keys[0];
    const b = keys.find((k) => partitionOf.get(k) !== partitionOf.get(a))!;
    const sameAsA = keys.filter((k) => partitionOf.get(k) === partitionOf.get(a));
    await lastValueFrom(client.emit(POISON, { key: a, value: { id: `${a}-2`, poison: true } }));
    await lastValueFrom(client.emit(POISON, { key: a, value: { id: `${a}-3` } }));
    await lastValueFrom(client.emit(POISON, { key: b, value: { id: `${b}-2` } }));
    const expected = [...keys.map((k) => `${k}-1`), `${b}-2`].sort();
    const deadline = Date.now() + 30000;
    while (poisoned.length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 1000));
    // The third message of `a` waits behind the poison on its partition; `b`'s partition went on.
    expect(poisoned.sort()).toEqual(expected);
    expect(sameAsA).toContain(a);
    await app.close();
    // The server's group resumes at the poison message: its offset was never committed past it.
    const next = new Consumer({ kafka: { 'bootstrap.servers': brokers(), 'group.id': `${GROUP}-auto-server`, 'auto.offset.reset': 'earliest' } });
    const again: string[] = [];
    try {
      await next.subscribe(POISON);
      await next.run({ eachMessage: (msg: ConsumedMessage) => void again.push((JSON.parse(msg.value!.toString()) as { id: string }).id) });
      const until = Date.now() + 30000;
      while (again.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await next.close();
    }
    expect(again).toEqual([`${a}-2`, `${a}-3`]);
  }, 90000);
});
