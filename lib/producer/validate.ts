import { KafkaFdError } from '../errors/kafka-fd.error';

// The largest time a Date holds; past it a timestamp is a mistake, and the addon's int64 would saturate.
const MAX_DATE_MS = 8.64e15;

// Kafka's own rule for topic names.
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

function invalid(message: string): KafkaFdError {
  return new KafkaFdError(message, { code: 'ERR__INVALID_ARG' });
}

function isBytes(v: unknown): boolean {
  return v === null || v === undefined || typeof v === 'string' || Buffer.isBuffer(v);
}

/** Checks a topic name against Kafka's rules; returns the error or undefined. */
export function checkTopic(topic: unknown): KafkaFdError | undefined {
  if (typeof topic !== 'string') return invalid(`message topic must be a string, got ${describe(topic)}`);
  if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    return invalid(
      `invalid topic name '${topic.slice(0, 300)}': Kafka topic names are 1 to 249 characters of ` +
        'a-z, A-Z, 0-9, ".", "_" and "-", and not "." or ".."',
    );
  }
  return undefined;
}

/**
 * Checks one message's shape; returns the error (never throws) so the hot path allocates nothing when the
 * message is fine. `lastTopic` skips the topic-name check for the topic that passed it last time.
 */
export function checkMessage(m: unknown, lastTopic: string | undefined): KafkaFdError | undefined {
  if (m === null || typeof m !== 'object') return invalid(`a message must be an object, got ${describe(m)}`);
  const msg = m as Record<string, unknown>;
  // lastTopic is undefined until a message passed: then every message is checked (a missing topic too).
  if (msg.topic !== lastTopic || lastTopic === undefined) {
    const bad = checkTopic(msg.topic);
    if (bad) return bad;
  }
  if (!isBytes(msg.value)) return invalid(`message value must be a string, a Buffer or null, got ${describe(msg.value)}`);
  if (!isBytes(msg.key)) return invalid(`message key must be a string, a Buffer or null, got ${describe(msg.key)}`);
  const p = msg.partition;
  if (p !== undefined && !(Number.isInteger(p) && (p as number) >= -1 && (p as number) <= 0x7fffffff)) {
    return invalid(`message partition must be an integer >= 0 (or -1 for any), got ${describe(p)}`);
  }
  const ts = msg.timestamp;
  if (ts !== undefined && !(ts instanceof Date && !Number.isNaN(ts.getTime())) &&
      !(typeof ts === 'number' && ts >= 0 && ts <= MAX_DATE_MS)) {
    return invalid(`message timestamp must be ms since the epoch (a number from 0 to ${MAX_DATE_MS}) or a Date, got ${describe(ts)}`);
  }
  const h = msg.headers;
  if (h !== undefined && h !== null) return checkHeaders(h);
  return undefined;
}

/** Checks messages one by one or as a batch, skipping the topic-name check for the topic that passed last. */
export class MessageChecker {
  private lastTopic: string | undefined;

  one(message: unknown): KafkaFdError | undefined {
    const bad = checkMessage(message, this.lastTopic);
    if (!bad) this.lastTopic = (message as { topic: string }).topic;
    return bad;
  }

  /** The whole batch, before anything of it is sent; the error names the message. */
  batch(messages: unknown): KafkaFdError | undefined {
    if (!Array.isArray(messages)) return invalid('produceMany takes an array of messages');
    for (let i = 0; i < messages.length; i++) {
      const bad = this.one(messages[i]);
      if (bad) return new KafkaFdError(`message ${i} of the batch: ${bad.message}`, { code: bad.code });
    }
    return undefined;
  }
}

function checkHeaders(h: unknown): KafkaFdError | undefined {
  if (typeof h !== 'object') return invalid(`message headers must be an object, a Map or [name, value] pairs, got ${describe(h)}`);
  if (Array.isArray(h)) {
    for (const pair of h) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !isBytes(pair[1])) {
        return invalid('each header pair must be [name: string, value: string | Buffer | null]');
      }
    }
    return undefined;
  }
  if (h instanceof Map) {
    for (const [name, value] of h) {
      if (typeof name !== 'string') return invalid(`header names must be strings, got ${describe(name)} in a Map`);
      const bad = checkHeaderValue(name, value);
      if (bad) return bad;
    }
    return undefined;
  }
  if (Buffer.isBuffer(h)) return invalid('message headers must be an object, a Map or [name, value] pairs, got a Buffer');
  // What is sent is what Object.entries sees: own enumerable string keys (the addon reads the same).
  // Nothing may be dropped silently: other containers and symbol keys are refused.
  if (h instanceof Set || ArrayBuffer.isView(h)) return invalid(`message headers must be an object, a Map or [name, value] pairs, got ${describe(h)}`);
  for (const symbol of Object.getOwnPropertySymbols(h)) {
    if (Object.prototype.propertyIsEnumerable.call(h, symbol)) return invalid(`header names must be strings, got ${String(symbol)}`);
  }
  for (const [name, value] of Object.entries(h as Record<string, unknown>)) {
    const bad = checkHeaderValue(name, value);
    if (bad) return bad;
  }
  return undefined;
}

function checkHeaderValue(name: string, value: unknown): KafkaFdError | undefined {
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (!isBytes(v)) return invalid(`header '${name}' must be a string, a Buffer or null, got ${describe(v)}`);
  }
  return undefined;
}

/** Headers of any accepted shape (a record, a Map, pairs) as [name, value] pairs in order; an array value
 * repeats the name. */
export function headerPairs(h: unknown): Array<[string, unknown]> {
  if (Array.isArray(h)) return h.slice() as Array<[string, unknown]>;
  const pairs: Array<[string, unknown]> = [];
  const entries = h instanceof Map ? (h as Map<string, unknown>) : Object.entries((h ?? {}) as Record<string, unknown>);
  for (const [name, value] of entries) {
    if (Array.isArray(value)) for (const v of value) pairs.push([name, v]);
    else pairs.push([name, value]);
  }
  return pairs;
}

/** Headers as the addon reads them: a Map becomes [name, value] pairs, the other shapes go as they are. */
export function headersForAddon(h: unknown): unknown {
  return h instanceof Map ? headerPairs(h) : h;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'Object'})`;
  return typeof v;
}
