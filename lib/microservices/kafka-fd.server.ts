import { isObservable, lastValueFrom, ReplaySubject } from 'rxjs';
import {
  CustomTransportStrategy, KafkaHeaders, KafkaParser, KafkaRetriableException, MessageHandler, Server, Transport, WritePacket,
} from '@nestjs/microservices';
import { NO_EVENT_HANDLER, NO_MESSAGE_HANDLER } from '@nestjs/microservices/constants';
import { KafkaRequestDeserializer } from '@nestjs/microservices/deserializers/kafka-request.deserializer';
import { KafkaRequestSerializer } from '@nestjs/microservices/serializers/kafka-request.serializer';
import { Consumer } from '../consumer/consumer';
import { annotateProcess } from '../diagnostics/channels';
import type { ConsumedMessage } from '../consumer/types';
import { KafkaFdError } from '../errors/kafka-fd.error';
import { Producer } from '../producer/producer';
import { KafkaFdContext } from './kafka-fd.context';
import { RawMessage, raw } from './raw-message';
import { KafkaFdServerOptions, checkOptions, consumerSettings, producerSettings } from './options';

/** The statuses Nest's Kafka transport reports. */
export type KafkaFdStatus = 'connected' | 'disconnected' | 'rebalancing' | 'crashed' | 'stopped';

/**
 * Nest's Kafka transport on this library's fd-polled consumer and producer: replace
 * `{ transport: Transport.KAFKA, options }` with `{ strategy: new KafkaFdServer(options) }`. Handlers declared
 * with `@EventPattern(topic)` / `@MessagePattern(topic)` bind as they do for Transport.KAFKA (its `transportId`
 * is `Transport.KAFKA`); request-reply speaks Nest's Kafka headers, so Nest's own `ClientKafka` can call it.
 *
 * Differences on purpose: partitions are handled concurrently (`run.partitionsConsumedConcurrently`, order kept
 * per partition), and a handler that throws does not advance its partition's offset: the partition stops and the
 * error is logged (Nest's transport commits and drops the message unless it is a `KafkaRetriableException`),
 * unless `retry` and `deadLetterTopic` say to try again and then set the message aside.
 */
export class KafkaFdServer extends Server<Record<string, never>, KafkaFdStatus> implements CustomTransportStrategy {
  readonly transportId = Transport.KAFKA;
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private readonly parser: KafkaParser;
  /** Topic -> handler (null: none), see getHandlerByPattern. */
  private readonly routes = new Map<string, MessageHandler | null>();
  /** Replies being produced (close waits for them). */
  private readonly replies = new Set<Promise<void>>();

  constructor(private readonly options: KafkaFdServerOptions = {}) {
    super();
    checkOptions(options);
    this.parser = new KafkaParser(options.parser);
    // Nest's Kafka serializer and deserializer unless the options bring their own, as Transport.KAFKA does.
    this.serializer = (options.serializer as never) ?? new KafkaRequestSerializer();
    this.deserializer = (options.deserializer as never) ?? new KafkaRequestDeserializer();
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      const postfix = this.options.postfixId ?? '-server';
      this.producer = new Producer({ kafka: producerSettings(this.options, postfix) });
      this.consumer = new Consumer({ kafka: consumerSettings(this.options, postfix) });
      this.consumer.rebalances$.subscribe((r) => this._status$.next(r.type === 'assign' ? 'connected' : 'rebalancing'));
      this.consumer.errors$.subscribe((e) => {
        if (e.fatal) this._status$.next('crashed');
        this.logger.error(e.message);
      });
      // Topic names, and Nest 12's RegExp patterns (every topic they match, as Transport.KAFKA subscribes).
      const topics = [...this.messageHandlers.keys()] as Array<string | RegExp>;
      if (topics.length > 0) await this.consumer.subscribe(topics);
      await this.consumer.run({
        partitionsConcurrently: this.options.run?.partitionsConsumedConcurrently ?? 1,
        // Without a retry policy or a dead-letter topic there is nothing to wrap each message in.
        eachMessage: this.options.retry?.attempts || this.options.deadLetterTopic !== undefined
          ? (m) => this.handleWithRetries(m)
          : (m) => this.handleMessage(m),
      });
      this._status$.next('connected');
      callback();
    } catch (e) {
      callback(e);
    }
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    const producer = this.producer;
    // The consumer first: it stops taking messages and waits for the handlers in flight, whose replies go out
    // through the producer; then those replies; then the producer flushes and closes.
    await consumer?.close();
    while (this.replies.size > 0) await Promise.allSettled([...this.replies]);
    if (this.consumer === consumer) this.consumer = null;
    if (this.producer === producer) this.producer = null;
    await producer?.close();
    this._status$.next('stopped');
  }

  /** `[consumer, producer]`: this library's clients. */
  unwrap<T>(): T {
    if (!this.consumer || !this.producer) {
      throw new Error('Not initialized. Please call the "listen"/"startAllMicroservices" method before accessing the server.');
    }
    return [this.consumer, this.producer] as T;
  }

  on(): never {
    throw new Error('Method is not supported for Kafka server');
  }

  /** A RegExp pattern is kept as it is (Nest 12's Kafka transport does the same); the rest as Nest does. */
  override addHandler(pattern: unknown, callback: MessageHandler, isEventHandler = false, extras: Record<string, unknown> = {}): void {
    this.routes.clear();
    if (!(pattern instanceof RegExp)) return super.addHandler(pattern, callback, isEventHandler, extras);
    callback.isEventHandler = isEventHandler;
    callback.extras = extras;
    const handlers = this.messageHandlers as unknown as Map<unknown, MessageHandler>;
    const head = handlers.get(pattern);
    if (head && isEventHandler) {
      // Several event handlers of one pattern run one after another, as for string patterns.
      let tail = head;
      while (tail.next) tail = tail.next;
      tail.next = callback;
    } else {
      handlers.set(pattern, callback);
    }
  }

  /**
   * The handler of a topic: its own, or the first RegExp pattern that matches it. Remembered per topic: Nest's
   * lookup tries `JSON.parse` on the pattern first, and a topic name makes it throw (14% of the CPU of an
   * event, profiled).
   */
  override getHandlerByPattern(pattern: string): MessageHandler | null {
    let handler = this.routes.get(pattern);
    if (handler !== undefined) return handler;
    handler = super.getHandlerByPattern(pattern) ?? this.matchRegExp(pattern);
    this.routes.set(pattern, handler);
    return handler;
  }

  private matchRegExp(topic: string): MessageHandler | null {
    for (const [registered, candidate] of this.messageHandlers as unknown as Map<unknown, MessageHandler>) {
      if (!(registered instanceof RegExp)) continue;
      registered.lastIndex = 0;
      const match = registered.test(topic);
      registered.lastIndex = 0;
      if (match) return candidate;
    }
    return null;
  }

  /**
   * A message, tried again as `retry` says while its handler throws; once the tries are spent it goes to the
   * dead-letter topic (and the offset advances) or, without one, the error stops the partition.
   */
  private async handleWithRetries(m: ConsumedMessage): Promise<void> {
    const { attempts = 0, backoffMs = 100 } = this.options.retry ?? {};
    for (let attempt = 0; ; attempt++) {
      try {
        await this.handleMessage(m);
        return;
      } catch (e) {
        if (attempt < attempts && this.consumer) {
          await new Promise((r) => setTimeout(r, Math.min(30000, backoffMs * 2 ** attempt)));
          continue;
        }
        if (this.options.deadLetterTopic === undefined || !this.producer) throw e;
        await this.toDeadLetter(m, e, attempt + 1);
        return;
      }
    }
  }

  /** Produces the failed message to the dead-letter topic and waits for the broker's ack. */
  private async toDeadLetter(m: ConsumedMessage, error: unknown, tries: number): Promise<void> {
    const dlt = this.options.deadLetterTopic!;
    const topic = typeof dlt === 'function' ? dlt(m.topic) : dlt;
    const headers: Record<string, Buffer | string> = {};
    // The original headers as the handler saw them (raw(): the last value of a repeated one), and why.
    for (const [name, value] of Object.entries(raw(m).headers)) if (value !== undefined) headers[name] = value;
    Object.assign(headers, {
      // Nest's exception filter turns what a handler threw into a plain object ({ status, message }).
      'kafka-fd-dlt-error': error instanceof Error ? error.message : typeof error === 'object' ? JSON.stringify(error) : String(error),
      'kafka-fd-dlt-topic': m.topic,
      'kafka-fd-dlt-partition': String(m.partition),
      'kafka-fd-dlt-offset': String(m.offset),
      'kafka-fd-dlt-attempts': String(tries),
    });
    await this.producer!.produce({ topic, key: m.key ? Buffer.from(m.key) : undefined, value: m.value ? Buffer.from(m.value) : null, headers });
    this.logger.warn(`${m.topic} [${m.partition}] @${m.offset}: handler failed ${tries} time(s), sent to ${topic}`);
  }

  /** One message: an event, or a request whose reply goes to its reply topic. Resolves once handled. */
  async handleMessage(m: ConsumedMessage): Promise<void> {
    const rawMessage = this.parser.parse(raw(m) as never) as unknown as RawMessage;
    const headers = rawMessage.headers as Record<string, string | undefined>;
    const correlationId = headers[KafkaHeaders.CORRELATION_ID];
    const replyTopic = headers[KafkaHeaders.REPLY_TOPIC];
    const replyPartition = headers[KafkaHeaders.REPLY_PARTITION];
    // Nest's deserializers answer synchronously; a custom one may return a promise.
    const deserialized = this.deserializer.deserialize(rawMessage, { channel: m.topic });
    const packet = deserialized instanceof Promise ? await deserialized : deserialized;
    annotateProcess(m, typeof packet.pattern === 'string' ? packet.pattern : JSON.stringify(packet.pattern), correlationId);
    const context = new KafkaFdContext([
      rawMessage as never, m.partition, m.topic, this.consumer as never, () => Promise.resolve(), this.producer as never,
    ]);
    const handler = this.getHandlerByPattern(packet.pattern);
    if (handler?.isEventHandler || !correlationId || !replyTopic) {
      return this.handleEvent(packet.pattern, packet, context);
    }
    const publish = (data: WritePacket): Promise<unknown> => this.reply(data, replyTopic, replyPartition, correlationId, context);
    if (!handler) {
      await publish({ id: correlationId, err: NO_MESSAGE_HANDLER } as WritePacket);
      return;
    }
    return this.onProcessingStartHook(this.transportId, context, async () => {
      const response$ = this.transformToObservable(await handler(packet.data, context));
      const replay$ = new ReplaySubject<unknown>();
      // The first value (or the error) is awaited, so the message counts as handled only once its reply
      // is under way; a KafkaRetriableException fails the message (its partition stops, its offset stays).
      await new Promise<void>((resolve, reject) => {
        let settled = false;
        response$.subscribe({
          next: (v) => {
            replay$.next(v);
            if (!settled) (settled = true), resolve();
          },
          error: (err) => {
            if (!settled) {
              settled = true;
              if (err instanceof KafkaRetriableException) reject(err);
              else resolve();
            }
            replay$.error(err);
          },
          complete: () => {
            replay$.complete();
            if (!settled) (settled = true), resolve();
          },
        });
      });
      this.send(replay$, publish);
    }) as unknown as Promise<void>;
  }

  override async handleEvent(pattern: string, packet: { data: unknown }, context: KafkaFdContext): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) {
      this.logger.error(`${NO_EVENT_HANDLER} ${pattern}`);
      return;
    }
    return this.onProcessingStartHook(this.transportId, context, async () => {
      const resultOrStream = await handler(packet.data, context);
      if (isObservable(resultOrStream)) {
        await lastValueFrom(resultOrStream);
        this.onProcessingEndHook?.(this.transportId, context);
      }
    }) as unknown as Promise<void>;
  }

  /** Sends a reply; close() waits for every reply under way (registered before anything is awaited). */
  private reply(data: WritePacket, topic: string, partition: string | undefined, correlationId: string, context: KafkaFdContext): Promise<void> {
    const sending = this.sendReply(data, topic, partition, correlationId).finally(() => {
      this.replies.delete(sending);
      this.onProcessingEndHook?.(this.transportId, context);
    });
    this.replies.add(sending);
    return sending;
  }

  private async sendReply(data: WritePacket, topic: string, partition: string | undefined, correlationId: string): Promise<void> {
    const out = (await this.serializer.serialize((data as { response?: unknown }).response as never)) as {
      key?: string | Buffer | null; value: string | Buffer | null; headers: Record<string, string | Buffer>;
    };
    const headers: Record<string, string | Buffer> = { ...out.headers, [KafkaHeaders.CORRELATION_ID]: correlationId };
    if (data.err) headers[KafkaHeaders.NEST_ERR] = typeof data.err === 'object' ? JSON.stringify(data.err) : String(data.err);
    if (data.isDisposed) headers[KafkaHeaders.NEST_IS_DISPOSED] = Buffer.alloc(1);
    const producer = this.producer;
    if (!producer) throw new KafkaFdError(`KafkaFdServer is closed: no reply to ${topic} for ${correlationId}`, { code: 'ERR__STATE' });
    await producer.produce({
      topic, value: out.value ?? null, key: out.key ?? undefined, headers,
      ...(partition !== undefined && partition !== null ? { partition: Number(partition) } : {}),
    });
  }
}
