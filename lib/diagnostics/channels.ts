// Node's diagnostics_channel tracing channels this library publishes on, so that any tracer (OpenTelemetry,
// an APM agent, a test) can follow produce, process and commit without a dependency on us, as undici, pg,
// mysql2 and ioredis let them. Nothing is published, and no context object built, while a channel has no
// subscriber: the produce path then costs one property read.
import diagnostics_channel from 'node:diagnostics_channel';
import type { ConsumedMessage } from '../consumer/types';
import type { BatchReport, DeliveryReport, Message, MessageHeaders } from '../producer/types';
import { headerPairs } from '../producer/validate';

/** What `nestjs-kafka-fd:produce` carries, from the call to the broker's acknowledgement. */
export interface ProduceTraceContext {
  /** The producer's name (librdkafka's `client.id#producer-N`, or the `name` option). */
  clientId: string;
  /** The messages' topic (the first message's, for a batch across topics). */
  topic: string;
  /** The partition asked for, when one was. */
  partition?: number;
  /** The key of a single message. */
  key?: Message['key'];
  /** How many messages the call produces (1 for `produce`). */
  messageCount: number;
  /** `produce` and `produceMany` wait for the delivery: their trace ends at `asyncEnd`, with the report. The
   * others (`produceAsync`, `produceManyAsync`) end at `end`, once the messages are queued. */
  awaitsDelivery: boolean;
  /**
   * The messages as they will be sent: copies of the caller's, so that a `start` subscriber may set their
   * headers (a trace context, with {@link withHeader}) without touching the caller's objects.
   */
  messages: Message[];
  /** `produce`: its delivery report; `produceMany`: its batch report. Set before `asyncEnd`. */
  result?: DeliveryReport | BatchReport;
  /** Set before `error` when the call or the delivery failed. */
  error?: unknown;
}

/** What `nestjs-kafka-fd:process` carries, around one call of a consumer's handler. */
export interface ProcessTraceContext {
  /** The consumer's name. */
  clientId: string;
  /** The consumer group (`group.id`). */
  group: string;
  topic: string;
  partition: number;
  /** The first message's offset (the only one for `eachMessage`). */
  offset: number;
  /** How many messages the handler got (1 for `eachMessage`). */
  messageCount: number;
  /** The first message's key and headers (the only message's, for `eachMessage`). */
  key: ConsumedMessage['key'];
  headers: ConsumedMessage['headers'];
  /** The messages handed to the handler (their `headers` carry a producer's trace context, if any). */
  messages: readonly ConsumedMessage[];
  /** Set by the Nest transport for the handler it routes to: the pattern, and a request's correlation id. */
  pattern?: string;
  correlationId?: string;
  error?: unknown;
}

/** What `nestjs-kafka-fd:commit` carries, around a consumer's commit. */
export interface CommitTraceContext {
  clientId: string;
  group: string;
  /** The offsets given to `commit({ offsets })`; absent when committing what was stored. */
  offsets?: ReadonlyArray<{ topic: string; partition: number; offset: number | string | bigint }>;
  error?: unknown;
}

/** The channels' names, for `diagnostics_channel.tracingChannel(name)` in a subscriber. */
export const TRACING_CHANNELS = {
  produce: 'nestjs-kafka-fd:produce',
  process: 'nestjs-kafka-fd:process',
  commit: 'nestjs-kafka-fd:commit',
} as const;

/** `nestjs-kafka-fd:produce`: produce, produceAsync, produceMany, produceManyAsync (the async ones end at the enqueue). */
export const produceChannel = diagnostics_channel.tracingChannel<ProduceTraceContext, ProduceTraceContext>(TRACING_CHANNELS.produce);
/** `nestjs-kafka-fd:process`: each call of `eachMessage`/`eachBatch`, and so each Nest transport handler. */
export const processChannel = diagnostics_channel.tracingChannel<ProcessTraceContext, ProcessTraceContext>(TRACING_CHANNELS.process);
/** `nestjs-kafka-fd:commit`: `Consumer.commit()` and `commitOffsets()`. */
export const commitChannel = diagnostics_channel.tracingChannel<CommitTraceContext, CommitTraceContext>(TRACING_CHANNELS.commit);

type AnyTracingChannel = typeof produceChannel | typeof processChannel | typeof commitChannel;

/** Whether anyone listens on a tracing channel (any of its five events). */
export function traced(channel: AnyTracingChannel): boolean {
  // TracingChannel.hasSubscribers is Node >= 20.13; its channels' flags are everywhere.
  return channel.start.hasSubscribers || channel.end.hasSubscribers || channel.asyncStart.hasSubscribers ||
    channel.asyncEnd.hasSubscribers || channel.error.hasSubscribers;
}

/**
 * A produce call published on `nestjs-kafka-fd:produce`: the context holds copies of the messages, which a
 * `start` subscriber may give headers (a trace context); `run` then sends the copies. The promise forms end
 * at the delivery, the others at the enqueue.
 */
export function traceProduce<T>(clientId: string, messages: readonly Message[], sync: boolean, run: (messages: Message[]) => T): T {
  const first = messages[0] as Message | undefined;
  const context: ProduceTraceContext = {
    clientId,
    topic: typeof first?.topic === 'string' ? first.topic : '',
    partition: first?.partition,
    key: messages.length === 1 ? first?.key : undefined,
    messageCount: messages.length,
    awaitsDelivery: !sync,
    // Copies only of what can be copied: anything else goes through as it is, to be refused by name.
    messages: messages.map((m) => (m !== null && typeof m === 'object' ? { ...m } : m)),
  };
  return sync
    ? produceChannel.traceSync(() => run(context.messages), context)
    : (produceChannel.tracePromise(() => run(context.messages) as Promise<unknown>, context) as T);
}

/** The process context of each message handed to a traced handler (for the transport's pattern). */
const processing = new WeakMap<object, ProcessTraceContext>();

/**
 * How a traced handler runs: directly, or inside a scope a subscriber provides (the OpenTelemetry module runs
 * it with the process span active, so that what the handler produces is its child). One at a time.
 */
let processScope: ((context: ProcessTraceContext, run: () => unknown) => unknown) | undefined;

/** Sets (or, with undefined, clears) the scope traced handlers run in; returns the one it replaced. */
export function setProcessScope(scope: typeof processScope): typeof processScope {
  const before = processScope;
  processScope = scope;
  return before;
}

/** A handler call published on `nestjs-kafka-fd:process`. */
export function traceProcess(
  clientId: string, group: string, topic: string, partition: number, messages: readonly ConsumedMessage[], run: () => unknown,
): Promise<unknown> {
  const first = messages[0];
  const context: ProcessTraceContext = {
    clientId, group, topic, partition, offset: first.offset, messageCount: messages.length, key: first.key, headers: first.headers, messages,
  };
  for (const m of messages) processing.set(m, context);
  return processChannel.tracePromise(async () => (processScope ? processScope(context, run) : run()), context);
}

/** The Nest transport says which pattern (and request) a traced message went to. */
export function annotateProcess(message: ConsumedMessage, pattern: string, correlationId: string | undefined): void {
  const context = processing.get(message);
  if (!context) return;
  context.pattern = pattern;
  if (correlationId !== undefined) context.correlationId = correlationId;
}

/** A commit published on `nestjs-kafka-fd:commit`. */
export function traceCommit(clientId: string, group: string, offsets: CommitTraceContext['offsets'], run: () => Promise<void>): Promise<void> {
  return commitChannel.tracePromise(run, { clientId, group, offsets });
}

/**
 * Headers with one more (name, value): whatever shape `headers` has (a record, a Map, pairs or none), the
 * result is `[name, value]` pairs in the same order with the new one last. For `start` subscribers of
 * `nestjs-kafka-fd:produce` that add a trace context: `m.headers = withHeader(m.headers, 'traceparent', tp)`.
 */
export function withHeader(headers: MessageHeaders | undefined, name: string, value: string | Buffer): Array<[string, string | Buffer | null]> {
  const pairs = headerPairs(headers) as Array<[string, string | Buffer | null]>;
  pairs.push([name, value]);
  return pairs;
}
