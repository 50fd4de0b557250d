// nestjs-kafka-fd/otel with the OpenTelemetry SDK's in-memory exporters, on the real broker: one trace from an
// HTTP request through produce, the broker and the consumer's handler (and what the handler produces), with the
// messaging semantic conventions' attributes and metrics. The SDK runs in a child process
// (test/fixtures/otel-trace.ts) so that its http instrumentation loads before `http`, as in an application.
import { runFixture } from '../support/child';
import { brokers, uniqueTopic, waitForTopic } from '../support/kafka';

interface SpanOut {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status: number;
}

// @opentelemetry/api's SpanKind values.
const SERVER = 1;
const CLIENT = 2;
const PRODUCER = 3;
const CONSUMER = 4;

describe('OpenTelemetry (nestjs-kafka-fd/otel) on the real broker', () => {
  it('one trace: HTTP request -> send -> process -> send, with the messaging attributes and metrics', async () => {
    const input = uniqueTopic('otel-in');
    const output = uniqueTopic('otel-out');
    waitForTopic(input);
    waitForTopic(output);
    const run = await runFixture('otel-trace.ts', [brokers(), input, output], 90000);
    if (run.code !== 0) throw new Error(`fixture failed (${run.code ?? run.signal}): ${run.stderr}`);
    const { followed, spans, metrics } = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      followed: boolean; spans: SpanOut[]; metrics: Record<string, number>;
    };
    expect(followed).toBe(true);
    const one = (name: string, kind: number): SpanOut => {
      const found = spans.filter((s) => s.name === name && s.kind === kind);
      expect(found).toHaveLength(1);
      return found[0];
    };
    const httpServer = one('GET', SERVER);
    const httpClient = one('GET', CLIENT);
    const send = one(`send ${input}`, PRODUCER);
    const processing = one(`process ${input}`, CONSUMER);
    const followUp = one(`send ${output}`, PRODUCER);
    const commit = one('commit', CLIENT);
    // One trace, parent to child: the request, its handler's send, the consumer's process, its send.
    for (const s of [httpServer, send, processing, followUp]) expect(s.traceId).toBe(httpClient.traceId);
    expect(httpServer.parentSpanId).toBe(httpClient.spanId);
    expect(send.parentSpanId).toBe(httpServer.spanId);
    expect(processing.parentSpanId).toBe(send.spanId);
    expect(followUp.parentSpanId).toBe(processing.spanId);
    expect(send.attributes).toMatchObject({
      'messaging.system': 'kafka', 'messaging.destination.name': input, 'messaging.operation.type': 'send', 'messaging.operation.name': 'send',
      'messaging.kafka.message.key': 'o1', 'messaging.destination.partition.id': expect.any(String), 'messaging.kafka.offset': 0,
      'messaging.client.id': expect.stringContaining('producer'),
    });
    expect(processing.attributes).toMatchObject({
      'messaging.system': 'kafka', 'messaging.destination.name': input, 'messaging.operation.type': 'process',
      'messaging.consumer.group.name': `${input}-group`, 'messaging.kafka.offset': 0, 'messaging.kafka.message.key': 'o1',
      'messaging.destination.partition.id': send.attributes['messaging.destination.partition.id'],
    });
    expect(commit.attributes).toMatchObject({ 'messaging.operation.type': 'settle', 'messaging.operation.name': 'commit', 'messaging.consumer.group.name': `${input}-group` });
    expect(spans.filter((s) => s.status === 2)).toEqual([]); // no span in error
    expect(metrics['messaging.client.sent.messages']).toBe(2);
    expect(metrics['messaging.client.consumed.messages']).toBe(1);
    expect(metrics['messaging.process.duration']).toBe(1);
    expect(metrics['messaging.client.operation.duration']).toBe(3); // two sends and the commit
  }, 120000);
});
