import { KafkaFdError } from '../errors/kafka-fd.error';
import type { KafkaConfig } from '../config/kafka-config';

/**
 * What Nest's `Transport.KAFKA` users pass (its kafkajs-shaped `KafkaOptions['options']`), the part we
 * translate to librdkafka settings, and a `kafka` passthrough for anything else. An option we cannot honour
 * is refused by name, never ignored.
 */
export interface KafkaFdServerOptions {
  client?: { brokers?: string[] | string; clientId?: string; ssl?: never; sasl?: never };
  consumer?: { groupId?: string; sessionTimeout?: number; heartbeatInterval?: number; rebalanceTimeout?: number; maxWaitTimeInMs?: number };
  subscribe?: { fromBeginning?: boolean };
  run?: { partitionsConsumedConcurrently?: number; autoCommit?: boolean };
  producer?: { idempotent?: boolean; transactionalId?: never };
  send?: { acks?: number };
  /** Appended to clientId and groupId, as Nest does (default '-server'; the client's '-client'). */
  postfixId?: string;
  /** Nest's Kafka parser options (`keepBinary`). */
  parser?: { keepBinary?: boolean };
  /** Nest serializer/deserializer, as for Transport.KAFKA. */
  serializer?: unknown;
  deserializer?: unknown;
  /** librdkafka settings over everything above (for the consumer and the producer alike). */
  kafka?: KafkaConfig;
  /** librdkafka settings for the consumer only / the producer only. */
  consumerKafka?: KafkaConfig;
  producerKafka?: KafkaConfig;
  /**
   * Tries again a message whose handler threw (an event handler's error, a request handler's
   * `KafkaRetriableException`): `attempts` more times (default 0), waiting `backoffMs` (default 100) doubled
   * each time, up to 30 s. The partition waits meanwhile (order is kept).
   */
  retry?: { attempts?: number; backoffMs?: number };
  /**
   * Where a message goes once its tries are spent, with `kafka-fd-dlt-*` headers saying why and where it came
   * from; then its offset advances. Without one, the partition stops at the message and its offset stays.
   */
  deadLetterTopic?: string | ((topic: string) => string);
}

const KNOWN: Record<string, readonly string[]> = {
  '': ['client', 'consumer', 'subscribe', 'run', 'producer', 'send', 'postfixId', 'parser', 'serializer', 'deserializer', 'kafka', 'consumerKafka', 'producerKafka',
    'retry', 'deadLetterTopic'],
  client: ['brokers', 'clientId'],
  consumer: ['groupId', 'sessionTimeout', 'heartbeatInterval', 'rebalanceTimeout', 'maxWaitTimeInMs'],
  subscribe: ['fromBeginning'],
  run: ['partitionsConsumedConcurrently', 'autoCommit'],
  producer: ['idempotent'],
  send: ['acks'],
  parser: ['keepBinary'],
  retry: ['attempts', 'backoffMs'],
};

/** Refuses every option we do not translate, naming each (the `kafka` passthrough takes librdkafka's names). */
export function checkOptions(options: KafkaFdServerOptions, extra: readonly string[] = []): void {
  const unknown: string[] = [];
  const known: Record<string, readonly string[]> = { ...KNOWN, '': [...KNOWN[''], ...extra] };
  for (const [section, keys] of Object.entries(known)) {
    const value = section === '' ? options : (options as Record<string, unknown>)[section];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'object') {
      unknown.push(section);
      continue;
    }
    for (const key of Object.keys(value)) if (!keys.includes(key)) unknown.push(section ? `${section}.${key}` : key);
  }
  if (unknown.length > 0) {
    throw new KafkaFdError(
      `KafkaFd transport: option(s) not supported: ${unknown.join(', ')}. Put librdkafka settings in \`kafka\` ` +
        '(e.g. security.protocol, sasl.mechanisms for client.ssl/client.sasl)',
      { code: 'ERR__INVALID_ARG' },
    );
  }
  const { attempts = 0, backoffMs = 100 } = options.retry ?? {};
  if (!Number.isInteger(attempts) || attempts < 0 || attempts > 1000 || !Number.isFinite(backoffMs) || backoffMs < 0) {
    throw new KafkaFdError(`KafkaFd transport: retry.attempts must be an integer 0-1000 and retry.backoffMs a number >= 0, got ${attempts} and ${backoffMs}`, {
      code: 'ERR__INVALID_ARG',
    });
  }
  const dlt = options.deadLetterTopic;
  if (dlt !== undefined && !(typeof dlt === 'function' || (typeof dlt === 'string' && dlt.length > 0))) {
    throw new KafkaFdError('KafkaFd transport: deadLetterTopic must be a topic name or a function of the topic', { code: 'ERR__INVALID_ARG' });
  }
}

/** librdkafka settings shared by the consumer and the producer: brokers and client id. */
export function commonSettings(options: KafkaFdServerOptions, postfix: string): KafkaConfig {
  const brokers = options.client?.brokers ?? ['localhost:9092'];
  return {
    'bootstrap.servers': Array.isArray(brokers) ? brokers.join(',') : brokers,
    'client.id': `${options.client?.clientId ?? 'nestjs-consumer'}${postfix}`,
  };
}

/** The consumer's librdkafka settings from Nest's options. */
export function consumerSettings(options: KafkaFdServerOptions, postfix: string): KafkaConfig {
  const c = options.consumer ?? {};
  return {
    ...commonSettings(options, postfix),
    'group.id': `${c.groupId ?? 'nestjs-group'}${postfix}`,
    'auto.offset.reset': options.subscribe?.fromBeginning ? 'earliest' : 'latest',
    ...(c.sessionTimeout !== undefined ? { 'session.timeout.ms': c.sessionTimeout } : {}),
    ...(c.heartbeatInterval !== undefined ? { 'heartbeat.interval.ms': c.heartbeatInterval } : {}),
    ...(c.rebalanceTimeout !== undefined ? { 'max.poll.interval.ms': Math.max(c.rebalanceTimeout, c.sessionTimeout ?? 0) } : {}),
    ...(c.maxWaitTimeInMs !== undefined ? { 'fetch.wait.max.ms': c.maxWaitTimeInMs } : {}),
    // Manual commit mode: only what handlers commit (context.getConsumer().commitOffsets) is committed.
    ...(options.run?.autoCommit === false ? { 'enable.auto.commit': false } : {}),
    ...options.kafka,
    ...options.consumerKafka,
  };
}

/** The producer's librdkafka settings from Nest's options. */
export function producerSettings(options: KafkaFdServerOptions, postfix: string): KafkaConfig {
  const acks = options.send?.acks;
  return {
    ...commonSettings(options, postfix),
    ...(acks !== undefined ? { acks: acks === -1 ? 'all' : acks } : {}),
    ...(options.producer?.idempotent ? { 'enable.idempotence': true } : {}),
    'linger.ms': 0,
    ...options.kafka,
    ...options.producerKafka,
  };
}
