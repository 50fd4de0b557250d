// OpenTelemetry in a few lines: a tracer provider whose spans are logged one line each, W3C propagation, and
// nestjs-kafka-fd/otel. A real application registers its SDK and exporter here instead (OTLP, Jaeger...).
// Call before the Nest app is created.
import { Logger } from '@nestjs/common';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { instrumentKafkaFd } from '../../lib/otel';

/** Logs each finished span: its trace id shows one trace crossing Kafka (send, then process). */
class LogSpans implements SpanProcessor {
  private readonly logger = new Logger('Trace');
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    const ms = span.duration[0] * 1e3 + span.duration[1] / 1e6;
    this.logger.log(`trace ${span.spanContext().traceId.slice(0, 8)}: ${span.name} (${ms.toFixed(1)} ms)`);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export function startTracing(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new LogSpans()] }));
  instrumentKafkaFd();
}
