import type { ConsumedMessage } from '../consumer/types';

/** A message in kafkajs's shape, as Nest's Kafka parser and handlers expect it. */
export interface RawMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | undefined>;
  timestamp: string;
  offset: string;
  size: number;
  attributes: number;
  topic: string;
  partition: number;
}

export function raw(m: ConsumedMessage): RawMessage {
  const headers: RawMessage['headers'] = {};
  for (const [name, value] of Object.entries(m.headers)) {
    // kafkajs keeps the last value of a repeated header; so does Nest's parser after it.
    const v = Array.isArray(value) ? value[value.length - 1] : value;
    headers[name] = v ?? undefined;
  }
  return {
    key: m.key, value: m.value, headers, timestamp: String(m.timestamp), offset: String(m.offset),
    size: 0, attributes: 0, topic: m.topic, partition: m.partition,
  };
}
