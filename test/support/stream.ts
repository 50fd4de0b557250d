import type { KafkaFdError, Producer } from '../../lib';
import type { ConsumedMessage } from './kafka';

export interface StreamOutcome {
  delivered: number;
  failures: KafkaFdError[];
  ms: number;
  /** Where each delivered message's report put it, by value. */
  reports: Map<string, { partition: number; offset: number }>;
}

/**
 * The fault tests' load: producer i sends `perProducer` messages valued `p<i>:<seq>` under 16 keys (so that
 * each producer spreads over the partitions), `perTurn` per loop turn as an application would; after each
 * turn `onProgress(sent)` may inject a fault. Resolves once every message has its report.
 */
export async function streamMessages(producers: Producer[], topic: string, perProducer: number,
  onProgress: (sent: number) => void | Promise<void> = () => undefined, perTurn = 500): Promise<StreamOutcome> {
  const started = Date.now();
  const outcomes: Array<Promise<KafkaFdError | undefined>> = [];
  const reports = new Map<string, { partition: number; offset: number }>();
  let sent = 0;
  for (let seq = 0; seq < perProducer; seq += perTurn) {
    producers.forEach((p, i) => {
      for (let k = seq; k < Math.min(seq + perTurn, perProducer); k++) {
        const value = `p${i}:${k}`;
        outcomes.push(p.produce({ topic, key: `p${i}-${k % 16}`, value }).then(({ partition, offset }) => {
          reports.set(value, { partition, offset });
          return undefined;
        }, (e: KafkaFdError) => e));
        sent++;
      }
    });
    await onProgress(sent);
    await new Promise(setImmediate);
  }
  const failures = (await Promise.all(outcomes)).filter((e): e is KafkaFdError => e !== undefined);
  return { delivered: outcomes.length - failures.length, failures, ms: Date.now() - started, reports };
}

export interface OffsetCheck {
  /** Reports with an offset where the log holds another message, or none. */
  misplaced: number;
  /** Reports without an offset: librdkafka's implicit acks (a later request to the partition succeeded, so
   * an earlier one whose outcome was unknown is taken as persisted; rd_kafka_dr_implicit_ack). */
  withoutOffset: number;
  /** Messages not in the log whose report gave an offset. */
  missingWithOffset: number;
}

/** Checks each delivery report of {@link streamMessages} against the log read back: the message is where its
 * report said. */
export function checkOffsets(messages: ConsumedMessage[], reports: StreamOutcome['reports']): OffsetCheck {
  const at = new Map<string, string | null>();
  const seen = new Set<string>();
  for (const m of messages) {
    at.set(`${m.partition}/${m.offset}`, m.payload);
    seen.add(m.payload ?? '');
  }
  let misplaced = 0;
  let withoutOffset = 0;
  let missingWithOffset = 0;
  for (const [value, r] of reports) {
    if (r.offset < 0) withoutOffset++;
    else if (at.get(`${r.partition}/${r.offset}`) !== value) misplaced++;
    if (!seen.has(value) && r.offset >= 0) missingWithOffset++;
  }
  return { misplaced, withoutOffset, missingWithOffset };
}

export interface ReadbackCheck {
  read: number;
  missing: number;
  /** Copies of a message read before (each is counted here only, not as out of order). */
  duplicates: number;
  /** First copies of one producer's messages found after a later message of it in the same partition. */
  outOfOrder: number;
  /** Duplicates by partition (partitions without any are absent). */
  duplicatesIn: Record<number, number>;
}

/** Checks a topic read back after {@link streamMessages}: every message there, the first copies of each producer in
 * order per partition, and the copies (a message read again) counted apart, by partition. */
export function checkReadback(messages: ConsumedMessage[], producers: number, perProducer: number): ReadbackCheck {
  const seen = new Set<string>();
  let duplicates = 0;
  let outOfOrder = 0;
  const duplicatesIn: Record<number, number> = {};
  const last = new Map<string, number>(); // "<partition>/<producer>" -> last seq
  for (const m of [...messages].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const value = m.payload ?? '';
    if (seen.has(value)) {
      duplicates++;
      duplicatesIn[m.partition] = (duplicatesIn[m.partition] ?? 0) + 1;
      continue;
    }
    seen.add(value);
    const [producer, seq] = value.split(':');
    const key = `${m.partition}/${producer}`;
    if ((last.get(key) ?? -1) >= Number(seq)) outOfOrder++;
    last.set(key, Number(seq));
  }
  let missing = 0;
  for (let i = 0; i < producers; i++) for (let k = 0; k < perProducer; k++) if (!seen.has(`p${i}:${k}`)) missing++;
  return { read: messages.length, missing, duplicates, outOfOrder, duplicatesIn };
}

/** What librdkafka's statistics say of retries, summed over the producers (latest stats$ payload of each). */
export interface RetryWatch {
  /** Requests retried (librdkafka counts them per broker). */
  retriedRequests(): number;
  /** Messages transmitted: a message sent again after a failed request counts again. */
  transmitted(): number;
}

/** Follows each producer's stats$ (needs `statistics.interval.ms`) for {@link RetryWatch}. */
export function watchRetries(producers: Producer[]): RetryWatch {
  const retries = producers.map(() => 0);
  const transmitted = producers.map(() => 0);
  producers.forEach((p, i) => p.stats$.subscribe((s) => {
    retries[i] = Object.values(s.brokers).reduce((sum, b) => sum + Number(b.txretries ?? 0), 0);
    transmitted[i] = s.txmsgs;
  }));
  const total = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  return { retriedRequests: () => total(retries), transmitted: () => total(transmitted) };
}
