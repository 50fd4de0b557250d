// nestjs-kafka-fd/otel: OpenTelemetry spans and metrics from this library's tracing channels, per the
// OpenTelemetry messaging semantic conventions for Kafka. `@opentelemetry/api` is an optional peer dependency:
// only this entry point loads it.
import diagnostics_channel from 'node:diagnostics_channel';
import {
  type Attributes, type Context, type Counter, type Histogram, type Link, type Meter, type MeterProvider, type Span, type Tracer,
  type TracerProvider, ROOT_CONTEXT, SpanKind, SpanStatusCode, context, metrics, propagation, trace,
} from '@opentelemetry/api';
import {
  type CommitTraceContext, type ProcessTraceContext, type ProduceTraceContext, TRACING_CHANNELS, setProcessScope, withHeader,
} from '../diagnostics/channels';
import type { ConsumedMessage } from '../consumer/types';

/** Options of {@link instrumentKafkaFd}. */
export interface KafkaFdInstrumentationOptions {
  /** Where spans go (default: the global tracer provider). */
  tracerProvider?: TracerProvider;
  /** Where metrics go (default: the global meter provider). */
  meterProvider?: MeterProvider;
  /** Inject the producing span's context into each message's headers (W3C `traceparent`/`tracestate` with the
   * default propagator), and continue it in the consumer's process span. Default true. */
  propagate?: boolean;
}

/** What {@link instrumentKafkaFd} returns: call `disable()` to unsubscribe. */
export interface KafkaFdInstrumentation {
  disable(): void;
}

const NAME = 'nestjs-kafka-fd';

/** Instruments of the messaging metrics conventions. */
interface Instruments {
  sent: Counter;
  consumed: Counter;
  operationDuration: Histogram;
  processDuration: Histogram;
}

/**
 * Subscribes to `nestjs-kafka-fd:produce`, `:process` and `:commit` and turns them into spans (`send {topic}`
 * PRODUCER, `process {topic}` CONSUMER, `commit` CLIENT) and the messaging metrics
 * (`messaging.client.sent.messages`, `messaging.client.consumed.messages`, `messaging.client.operation.duration`,
 * `messaging.process.duration`, in seconds). A trace crosses Kafka through the messages' headers.
 *
 * ```ts
 * import { instrumentKafkaFd } from 'nestjs-kafka-fd/otel';
 * instrumentKafkaFd(); // after the OpenTelemetry SDK is registered
 * ```
 */
export function instrumentKafkaFd(options: KafkaFdInstrumentationOptions = {}): KafkaFdInstrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(NAME);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(NAME);
  const propagate = options.propagate !== false;
  const instruments = createInstruments(meter);
  const subscriptions = [
    subscribe<ProduceTraceContext>(TRACING_CHANNELS.produce, produceHandlers(tracer, instruments, propagate)),
    subscribe<ProcessTraceContext>(TRACING_CHANNELS.process, processHandlers(tracer, instruments, propagate)),
    subscribe<CommitTraceContext>(TRACING_CHANNELS.commit, commitHandlers(tracer, instruments)),
  ];
  // The handler runs with its process span active: what it produces becomes the span's child.
  const previous = setProcessScope((ctx, run) => {
    const active = spans.get(ctx);
    return active ? context.with(active.context, run) : run();
  });
  return {
    disable() {
      for (const unsubscribe of subscriptions) unsubscribe();
      setProcessScope(previous);
    },
  };
}

/** A traced call's span, the context it runs in, and when it started (for the duration metrics). */
interface Active {
  span: Span;
  context: Context;
  started: number;
}

/** Spans by the channel context they belong to (the contexts are ours, one per traced call). */
const spans = new WeakMap<object, Active>();

type Handlers<C> = Partial<Record<'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error', (ctx: C) => void>>;

function subscribe<C extends object>(name: string, handlers: Handlers<C>): () => void {
  const channel = diagnostics_channel.tracingChannel<C, C>(name);
  const all = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop, ...handlers } as Required<Handlers<C>>;
  channel.subscribe(all);
  return () => channel.unsubscribe(all);
}

function noop(): void {}

function createInstruments(meter: Meter): Instruments {
  return {
    sent: meter.createCounter('messaging.client.sent.messages', { unit: '{message}', description: 'Messages a producer attempted to send.' }),
    consumed: meter.createCounter('messaging.client.consumed.messages', { unit: '{message}', description: 'Messages handed to a consumer\'s handler.' }),
    operationDuration: meter.createHistogram('messaging.client.operation.duration', { unit: 's', description: 'Duration of a send or a commit.' }),
    processDuration: meter.createHistogram('messaging.process.duration', { unit: 's', description: 'Duration of a handler call.' }),
  };
}

const seconds = (active: Active): number => (performance.now() - active.started) / 1000;

/** `error.type`: a KafkaFdError's code (`ERR__MSG_TIMED_OUT`), else the error's class name. */
function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return (error as Error | null)?.constructor?.name ?? '_OTHER';
}

function fail(active: Active, error: unknown, attributes: Attributes): void {
  attributes['error.type'] = errorType(error);
  active.span.setAttribute('error.type', attributes['error.type']);
  if (error instanceof Error) active.span.recordException(error);
  active.span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error | null)?.message });
}

function keyAttribute(key: unknown): string | undefined {
  if (typeof key === 'string') return key;
  return Buffer.isBuffer(key) ? key.toString() : undefined;
}

function produceHandlers(tracer: Tracer, instruments: Instruments, propagate: boolean): Handlers<ProduceTraceContext> {
  const common = (ctx: ProduceTraceContext): Attributes => ({
    'messaging.system': 'kafka',
    'messaging.destination.name': ctx.topic,
    'messaging.operation.name': 'send',
    'messaging.operation.type': 'send',
  });
  const finish = (ctx: ProduceTraceContext): void => {
    const active = spans.get(ctx);
    if (!active) return;
    spans.delete(ctx);
    const attributes = common(ctx);
    if (ctx.error !== undefined) fail(active, ctx.error, attributes);
    const report = ctx.result as { partition?: number; offset?: number } | undefined;
    if (report?.partition !== undefined && report.partition >= 0) active.span.setAttribute('messaging.destination.partition.id', String(report.partition));
    if (report?.offset !== undefined && report.offset >= 0) active.span.setAttribute('messaging.kafka.offset', report.offset);
    instruments.sent.add(ctx.messageCount, attributes);
    instruments.operationDuration.record(seconds(active), attributes);
    active.span.end();
  };
  return {
    start(ctx) {
      const attributes: Attributes = { ...common(ctx), 'messaging.client.id': ctx.clientId };
      if (ctx.messageCount !== 1) attributes['messaging.batch.message_count'] = ctx.messageCount;
      if (ctx.partition !== undefined) attributes['messaging.destination.partition.id'] = String(ctx.partition);
      const key = keyAttribute(ctx.key);
      if (key !== undefined) attributes['messaging.kafka.message.key'] = key;
      const span = tracer.startSpan(`send ${ctx.topic}`, { kind: SpanKind.PRODUCER, attributes });
      const spanContext = trace.setSpan(context.active(), span);
      spans.set(ctx, { span, context: spanContext, started: performance.now() });
      if (!propagate) return;
      const carrier: Record<string, string> = {};
      propagation.inject(spanContext, carrier);
      for (const m of ctx.messages) {
        if (m === null || typeof m !== 'object') continue;
        for (const [name, value] of Object.entries(carrier)) m.headers = withHeader(m.headers, name, value);
      }
    },
    end(ctx) {
      // produceAsync and produceManyAsync end once queued; a refusal sets ctx.error before this.
      if (!ctx.awaitsDelivery) finish(ctx);
    },
    // A failure (refused, or not delivered) publishes `error` before these: ctx.error is set by then.
    asyncEnd: finish,
  };
}

/** The trace context a producer put into a consumed message's headers. */
function extracted(m: ConsumedMessage | undefined): Context {
  if (!m) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, m.headers, {
    keys: (carrier) => Object.keys(carrier),
    get: (carrier, key) => {
      const value = (carrier as ConsumedMessage['headers'])[key];
      const last = Array.isArray(value) ? value[value.length - 1] : value;
      return last === undefined || last === null ? undefined : last.toString();
    },
  });
}

function processHandlers(tracer: Tracer, instruments: Instruments, propagate: boolean): Handlers<ProcessTraceContext> {
  const common = (ctx: ProcessTraceContext): Attributes => ({
    'messaging.system': 'kafka',
    'messaging.destination.name': ctx.topic,
    'messaging.destination.partition.id': String(ctx.partition),
    'messaging.consumer.group.name': ctx.group,
    'messaging.operation.name': 'process',
    'messaging.operation.type': 'process',
  });
  return {
    start(ctx) {
      const attributes: Attributes = { ...common(ctx), 'messaging.client.id': ctx.clientId, 'messaging.kafka.offset': ctx.offset };
      if (ctx.messageCount !== 1) attributes['messaging.batch.message_count'] = ctx.messageCount;
      const key = ctx.messageCount === 1 ? keyAttribute(ctx.messages[0]?.key) : undefined;
      if (key !== undefined) attributes['messaging.kafka.message.key'] = key;
      // The first message's producer is the parent (a trace crosses Kafka); the others of a batch are links.
      const parent = propagate ? extracted(ctx.messages[0]) : context.active();
      const links: Link[] = [];
      if (propagate) {
        for (const m of ctx.messages.slice(1, 128)) {
          const linked = trace.getSpanContext(extracted(m));
          if (linked) links.push({ context: linked });
        }
      }
      const span = tracer.startSpan(`process ${ctx.topic}`, { kind: SpanKind.CONSUMER, attributes, links }, parent);
      spans.set(ctx, { span, context: trace.setSpan(parent, span), started: performance.now() });
    },
    asyncEnd(ctx) {
      const active = spans.get(ctx);
      if (!active) return;
      spans.delete(ctx);
      const attributes = common(ctx);
      if (ctx.pattern !== undefined) active.span.setAttribute('nestjs.pattern', ctx.pattern);
      if (ctx.correlationId !== undefined) active.span.setAttribute('messaging.message.conversation_id', ctx.correlationId);
      if (ctx.error !== undefined) fail(active, ctx.error, attributes);
      instruments.consumed.add(ctx.messageCount, attributes);
      instruments.processDuration.record(seconds(active), attributes);
      active.span.end();
    },
  };
}

function commitHandlers(tracer: Tracer, instruments: Instruments): Handlers<CommitTraceContext> {
  return {
    start(ctx) {
      const attributes: Attributes = {
        'messaging.system': 'kafka',
        'messaging.operation.name': 'commit',
        'messaging.operation.type': 'settle',
        'messaging.consumer.group.name': ctx.group,
        'messaging.client.id': ctx.clientId,
      };
      const span = tracer.startSpan('commit', { kind: SpanKind.CLIENT, attributes });
      spans.set(ctx, { span, context: trace.setSpan(context.active(), span), started: performance.now() });
    },
    asyncEnd(ctx) {
      const active = spans.get(ctx);
      if (!active) return;
      spans.delete(ctx);
      const attributes: Attributes = { 'messaging.system': 'kafka', 'messaging.operation.name': 'commit', 'messaging.consumer.group.name': ctx.group };
      if (ctx.error !== undefined) fail(active, ctx.error, attributes);
      instruments.operationDuration.record(seconds(active), attributes);
      active.span.end();
    },
  };
}
