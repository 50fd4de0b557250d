// Turning what the addon hands over into what handlers get, and the consumer's small checks.
import { KafkaFdError } from '../errors/kafka-fd.error';
import { describeError } from '../native/binding';
import { checkTopic } from '../producer/validate';
import type { ConsumedMessage, TopicPartition, TopicPartitionOffset } from './types';

/** Numbers per message in the addon's batches (see NativeConsumerSink.onMessages). */
export const META_FIELDS = 8;

function headersOf(pairs: Array<[string, Buffer | null]> | undefined): ConsumedMessage['headers'] {
  const out: ConsumedMessage['headers'] = {};
  if (!pairs) return out;
  for (const [name, value] of pairs) {
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}

/** The message whose numbers start at `meta[at]`: its key and value are views of the batch's `bytes`. */
export function messageAt(bytes: Buffer, meta: Float64Array, at: number, topic: string,
  headers: Array<[string, Buffer | null]> | undefined): ConsumedMessage {
  const keyLength = meta[at + 5];
  const valueLength = meta[at + 7];
  return {
    topic,
    partition: meta[at + 1],
    offset: meta[at + 2],
    timestamp: meta[at + 3],
    key: keyLength < 0 ? null : bytes.subarray(meta[at + 4], meta[at + 4] + keyLength),
    value: valueLength < 0 ? null : bytes.subarray(meta[at + 6], meta[at + 6] + valueLength),
    headers: headersOf(headers),
  };
}

/** A librdkafka error code from a call of ours, named, as a KafkaFdError. */
export function nativeError(err: number, what: string): KafkaFdError {
  const [name, description] = describeError(err);
  return new KafkaFdError(`${what}: ${name}: ${description}`, { code: name });
}

export function checkTopicPartition(tp: TopicPartition): KafkaFdError | undefined {
  if (!tp || typeof tp !== 'object') return new KafkaFdError('expected { topic, partition } objects', { code: 'ERR__INVALID_ARG' });
  if (!Number.isInteger(tp.partition) || tp.partition < 0 || tp.partition > 0x7fffffff) {
    return new KafkaFdError(`partition must be an integer >= 0, got ${String(tp.partition)}`, { code: 'ERR__INVALID_ARG' });
  }
  return checkTopic(tp.topic);
}

/** Offsets to commit as the addon takes them (parallel arrays), or why not. */
export function offsetColumns(list: readonly TopicPartitionOffset[], what = 'commit offsets'): { topics: string[]; partitions: number[]; offsets: number[] } | KafkaFdError {
  if (!Array.isArray(list) || list.length === 0) {
    return new KafkaFdError(`${what}: a non-empty array of { topic, partition, offset }`, { code: 'ERR__INVALID_ARG' });
  }
  const topics: string[] = [];
  const partitions: number[] = [];
  const offsets: number[] = [];
  for (const tpo of list) {
    const refused = checkTopicPartition(tpo);
    if (refused) return refused;
    const raw = tpo.offset;
    // A string or bigint must be an exact integer: Number('') is 0 and Number('1e3') is 1000.
    const offset = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : typeof raw === 'bigint' ? Number(raw) : raw;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || (typeof raw === 'bigint' && BigInt(offset) !== raw)) {
      return new KafkaFdError(
        `${what}: offset must be an integer >= 0 up to 2^53 (a number, a string of digits or a bigint), got ${String(raw)} for ${tpo.topic} [${tpo.partition}]`,
        { code: 'ERR__INVALID_ARG' },
      );
    }
    topics.push(tpo.topic);
    partitions.push(tpo.partition);
    offsets.push(offset);
  }
  return { topics, partitions, offsets };
}

/**
 * A subscription as librdkafka takes it: topic names as they are, a RegExp as librdkafka's regex form (a
 * string starting with `^`, matched against every topic in the cluster's metadata). librdkafka's regex engine
 * (MuJS's) takes JavaScript's syntax but no flags; an unanchored RegExp matches anywhere in the name, as
 * `RegExp.test` does.
 */
export function subscription(topics: ReadonlyArray<string | RegExp>): string[] | KafkaFdError {
  const out: string[] = [];
  for (const t of topics) {
    if (t instanceof RegExp) {
      const flags = t.flags.replace(/[gyd]/g, '');
      if (flags) return new KafkaFdError(`subscribe: RegExp flags '${flags}' are not supported by librdkafka's regex engine (${String(t)})`, { code: 'ERR__INVALID_ARG' });
      out.push(t.source.startsWith('^') ? t.source : `^.*(?:${t.source})`);
      continue;
    }
    const refused = checkTopic(t);
    if (refused) return refused;
    out.push(t);
  }
  return out;
}
