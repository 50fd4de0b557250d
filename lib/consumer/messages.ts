// Turning what the addon hands over into what handlers get, and the consumer's small checks.
import { KafkaFdError } from '../errors/kafka-fd.error';
import { describeError } from '../native/binding';
import { checkTopic } from '../producer/validate';
import type { ConsumedMessage, TopicPartition } from './types';

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
  if (!tp || typeof tp !== 'object') return new KafkaFdError('pause/resume take { topic, partition } objects', { code: 'ERR__INVALID_ARG' });
  if (!Number.isInteger(tp.partition) || tp.partition < 0 || tp.partition > 0x7fffffff) {
    return new KafkaFdError(`partition must be an integer >= 0, got ${String(tp.partition)}`, { code: 'ERR__INVALID_ARG' });
  }
  return checkTopic(tp.topic);
}
