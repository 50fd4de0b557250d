import { Observable, connectable, defer, mergeMap, Subject, throwError } from 'rxjs';
import { ClientProxy, KafkaHeaders, KafkaParser, ReadPacket, WritePacket } from '@nestjs/microservices';
import { InvalidMessageException } from '@nestjs/microservices/errors/invalid-message.exception';
import { KafkaResponseDeserializer } from '@nestjs/microservices/deserializers/kafka-response.deserializer';
import { KafkaRequestSerializer } from '@nestjs/microservices/serializers/kafka-request.serializer';
import { Consumer } from '../consumer/consumer';
import type { ConsumedMessage, TopicPartitionOffset } from '../consumer/types';
import { KafkaFdError } from '../errors/kafka-fd.error';
import { Producer } from '../producer/producer';
import type { BatchReport } from '../producer/types';
import { raw } from './raw-message';
import type { KafkaFdStatus } from './kafka-fd.server';
import { KafkaFdServerOptions, checkOptions, consumerSettings, producerSettings } from './options';

/** Options of {@link KafkaFdClient}: the server's, and Nest's `producerOnlyMode`. */
export interface KafkaFdClientOptions extends KafkaFdServerOptions {
  /** No reply consumer: emit only (`send` is refused). */
  producerOnlyMode?: boolean;
  /** How long `connect()` waits for the reply consumer to be assigned its reply topics (default 30000 ms). */
  connectTimeoutMs?: number;
}

interface Outgoing { key?: string | Buffer | null; value: string | Buffer | null; headers: Record<string, string | Buffer>; partition?: number }

/**
 * Nest's `ClientKafka` on this library's fd producer (and, for `send`, an fd consumer of the reply topics):
 * `ClientsModule.register([{ name: 'BILLING', customClass: KafkaFdClient, options }])`. `emit` produces an event;
 * `send` produces a request with Nest's Kafka headers and resolves with the reply from `<pattern>.reply`, so it
 * calls a `KafkaFdServer` or a server on Nest's own Kafka transport alike. Call `subscribeToResponseOf(pattern)`
 * for each pattern you `send` to before `connect()`.
 */
// The status is typed as ClientProxy's default (string) so that `customClass: KafkaFdClient` type-checks in
// ClientsModule.register (its Type<ClientProxy> is invariant in it); `status` narrows it back.
export class KafkaFdClient extends ClientProxy {
  private producer: Producer | null = null;
  private consumer: Consumer | null = null;
  private connecting: Promise<Producer> | null = null;
  private readonly replyTopics = new Set<string>();
  private readonly parser: KafkaParser;
  private readonly options: KafkaFdClientOptions;

  constructor(options: KafkaFdClientOptions = {}) {
    super();
    checkOptions(options ?? {}, ['producerOnlyMode', 'connectTimeoutMs']);
    this.options = options ?? {};
    this.parser = new KafkaParser(options?.parser);
    this.serializer = (options?.serializer as never) ?? new KafkaRequestSerializer();
    this.deserializer = (options?.deserializer as never) ?? new KafkaResponseDeserializer();
  }

  /** 'connected' once connect() resolved; 'disconnected' after close(). */
  override get status(): Observable<KafkaFdStatus> {
    return super.status as Observable<KafkaFdStatus>;
  }

  /** Replies to `send(pattern, ...)` come from `<pattern>.reply`: subscribe before `connect()`. */
  subscribeToResponseOf(pattern: unknown): void {
    this.replyTopics.add(`${this.normalizePattern(pattern as string)}.reply`);
  }

  connect(): Promise<Producer> {
    if (!this.connecting) {
      this.connecting = this.doConnect();
      // A failed connect may be retried.
      this.connecting.catch(() => (this.connecting = null));
    }
    return this.connecting;
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    const producer = this.producer;
    this.consumer = null;
    this.producer = null;
    this.connecting = null;
    await consumer?.close();
    await producer?.close();
    for (const callback of this.routingMap.values()) callback({ err: new KafkaFdError('KafkaFdClient closed', { code: 'ERR__DESTROY' }), isDisposed: true });
    this.routingMap.clear();
    this._status$.next('disconnected');
  }

  /**
   * Emits many events to one topic in one produce call, as Nest's `ClientKafka.emitBatch`: each message goes
   * through the serializer; the observable emits once the broker acknowledged them all (hot: it is sent
   * whether or not anyone subscribes).
   */
  emitBatch<TInput = unknown>(pattern: unknown, data: { messages: TInput[] }): Observable<BatchReport> {
    if (pattern === undefined || pattern === null || data === undefined || data === null || !Array.isArray(data.messages)) {
      return throwError(() => new InvalidMessageException());
    }
    const source = defer(() => this.connect()).pipe(mergeMap(() => this.dispatchBatch(pattern, data.messages)));
    const hot = connectable(source, { connector: () => new Subject<BatchReport>(), resetOnDisconnect: false });
    hot.connect();
    return hot;
  }

  /** Commits positions of the reply consumer, as Nest's `ClientKafka.commitOffsets`. */
  commitOffsets(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (!this.consumer) throw new KafkaFdError('KafkaFdClient has no consumer (not connected, or producerOnlyMode)', { code: 'ERR__STATE' });
    return this.consumer.commitOffsets(offsets);
  }

  /** `[producer, consumer]` (the consumer is null in producer-only mode or before connect). */
  unwrap<T>(): T {
    if (!this.producer) throw new Error('Not initialized. Please call the "connect" method first.');
    return [this.producer, this.consumer] as T;
  }

  on(): never {
    throw new Error('Method is not supported in Kafka mode.');
  }

  protected publish(partial: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const packet = this.assignPacketId(partial);
    this.routingMap.set(packet.id, callback);
    const cleanup = (): void => void this.routingMap.delete(packet.id);
    const fail = (err: unknown): void => {
      cleanup();
      callback({ err });
    };
    try {
      const pattern = this.normalizePattern(partial.pattern);
      const replyTopic = `${pattern}.reply`;
      const replyPartition = this.replyPartition(replyTopic);
      Promise.resolve(this.serializer.serialize(packet.data, { pattern }) as Outgoing)
        .then((out) => this.producerOrFail().produce({
          topic: pattern, value: out.value ?? null, key: out.key ?? undefined, partition: out.partition,
          headers: {
            ...out.headers,
            [KafkaHeaders.CORRELATION_ID]: packet.id,
            [KafkaHeaders.REPLY_TOPIC]: replyTopic,
            [KafkaHeaders.REPLY_PARTITION]: String(replyPartition),
          },
        }))
        .catch(fail);
    } catch (e) {
      fail(e);
    }
    return cleanup;
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const pattern = this.normalizePattern(packet.pattern);
    const out = (await this.serializer.serialize(packet.data, { pattern })) as Outgoing;
    return (await this.producerOrFail().produce({
      topic: pattern, value: out.value ?? null, key: out.key ?? undefined, headers: out.headers, partition: out.partition,
    })) as T;
  }

  private async dispatchBatch(pattern: unknown, messages: unknown[]): Promise<BatchReport> {
    const topic = this.normalizePattern(pattern as string);
    const outs = await Promise.all(messages.map((m) => this.serializer.serialize(m as never, { pattern: topic }) as Outgoing));
    return this.producerOrFail().produceMany(
      outs.map((out) => ({ topic, value: out.value ?? null, key: out.key ?? undefined, headers: out.headers, partition: out.partition })),
    );
  }

  private async doConnect(): Promise<Producer> {
    const postfix = this.options.postfixId ?? '-client';
    const producer = new Producer({ kafka: producerSettings(this.options, postfix) });
    this.producer = producer;
    if (!this.options.producerOnlyMode && this.replyTopics.size > 0) {
      // A reply may come before this member's first fetch position is known: start from the beginning of a
      // fresh group's reply partitions (replies nobody waits for are skipped) rather than lose one.
      const consumer = new Consumer({ kafka: { ...consumerSettings(this.options, postfix), 'auto.offset.reset': 'earliest' } });
      this.consumer = consumer;
      await consumer.subscribe([...this.replyTopics]);
      await consumer.run({ partitionsConcurrently: 1, eachMessage: (m) => this.onReply(m) });
      await this.assigned(consumer);
    }
    this._status$.next('connected');
    return producer;
  }

  /** Until every reply topic has a partition assigned to this member: a request names one. */
  private async assigned(consumer: Consumer): Promise<void> {
    const limit = this.options.connectTimeoutMs ?? 30000;
    const deadline = Date.now() + limit;
    const missing = (): string[] => [...this.replyTopics].filter((t) => !consumer.assignment().some((tp) => tp.topic === t));
    while (missing().length > 0) {
      if (Date.now() >= deadline) {
        throw new KafkaFdError(`KafkaFdClient: no partition of ${missing().join(', ')} was assigned within ${limit} ms (does the topic exist?)`, {
          code: 'ERR__TIMED_OUT',
        });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private replyPartition(topic: string): number {
    if (this.options.producerOnlyMode) {
      throw new KafkaFdError('KafkaFdClient in producerOnlyMode has no reply consumer: use emit(), not send()', { code: 'ERR__STATE' });
    }
    const partitions = (this.consumer?.assignment() ?? []).filter((tp) => tp.topic === topic).map((tp) => tp.partition);
    if (partitions.length === 0) {
      throw new KafkaFdError(
        `KafkaFdClient: no reply partition for ${topic}: call subscribeToResponseOf('${topic.slice(0, -'.reply'.length)}') before connect()`,
        { code: 'ERR__INVALID_ARG' },
      );
    }
    return Math.min(...partitions);
  }

  private async onReply(m: ConsumedMessage): Promise<void> {
    const message = this.parser.parse(raw(m) as never) as unknown as { headers: Record<string, unknown> };
    if (message.headers[KafkaHeaders.CORRELATION_ID] === undefined) return;
    const { err, response, isDisposed, id } = (await this.deserializer.deserialize(message)) as WritePacket & { id: string };
    const callback = this.routingMap.get(id);
    if (!callback) return;
    callback(err || isDisposed ? { err, response, isDisposed } : { err, response });
  }

  private producerOrFail(): Producer {
    if (!this.producer) throw new KafkaFdError('KafkaFdClient is not connected: call connect() first', { code: 'ERR__STATE' });
    return this.producer;
  }
}
