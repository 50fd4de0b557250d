// The real broker stops answering in the middle of a stream (SIGSTOP): back within message.timeout.ms,
// everything is delivered once; past it, every undelivered message fails on its promise and on acks$.
// And a broker that never answers: errors$ says so, promises fail, close() keeps its timeout.
import { firstValueFrom } from 'rxjs';
import { DeliveryReport, KafkaFdError, Producer } from '../../lib';
import { brokerPid, brokers, consumeAll, uniqueTopic, waitForTopic } from '../support/kafka';
import { checkOffsets, checkReadback, streamMessages } from '../support/stream';
import { track } from '../support/track';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Pauses the rig broker for `ms`; always resumes it, even when the test fails. */
async function pauseBroker(ms: number): Promise<void> {
  const pid = brokerPid();
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

describe('broker faults on the real broker', () => {
  const open = track<Producer>(5000);
  afterEach(async () => {
    await open.closeAll();
  });

  it('a broker paused for 3 s mid-stream and back within message.timeout.ms: all 20,000 delivered once, in order', async () => {
    const topic = uniqueTopic('paused');
    waitForTopic(topic);
    const p = new Producer({ kafka: { 'bootstrap.servers': brokers(), 'enable.idempotence': true, 'message.timeout.ms': 60000 } });
    open.add(p);
    let paused: Promise<void> | undefined;
    const outcome = await streamMessages([p], topic, 20000, (sent) => {
      if (sent >= 5000) paused ??= pauseBroker(3000);
    });
    await paused;
    expect(outcome.failures).toEqual([]);
    expect(outcome.delivered).toBe(20000);
    // The pause was felt: the stream took at least its length.
    expect(outcome.ms).toBeGreaterThanOrEqual(3000);
    const read = await consumeAll(topic, 20000, 60000);
    expect(checkReadback(read, 1, 20000)).toEqual({ read: 20000, missing: 0, duplicates: 0, outOfOrder: 0, duplicatesIn: {} });
    // Each report named the offset its message is at (an implicit ack has none; Kafka makes it right).
    expect(checkOffsets(read, outcome.reports)).toMatchObject({ misplaced: 0, missingWithOffset: 0 });
  }, 120000);

  it('paused past message.timeout.ms: every message sent meanwhile fails on its promise and on acks$, none dropped', async () => {
    const topic = uniqueTopic('timedout');
    waitForTopic(topic);
    const p = new Producer({
      kafka: { 'bootstrap.servers': brokers(), 'message.timeout.ms': 2000, 'request.timeout.ms': 1000, 'socket.timeout.ms': 3000, 'linger.ms': 5 },
    });
    open.add(p);
    await p.produce({ topic, value: 'connected' });
    const reports: DeliveryReport[] = [];
    p.acks$.subscribe((r) => reports.push(r));
    const pid = brokerPid();
    process.kill(pid, 'SIGSTOP');
    let outcomes: Array<KafkaFdError | undefined>;
    try {
      const sent = Array.from({ length: 1000 }, (_, i) => p.produce({ topic, value: `lost ${i}` }).then(() => undefined, (e: KafkaFdError) => e));
      outcomes = await Promise.all(sent);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const failed = outcomes.filter((e) => e !== undefined) as KafkaFdError[];
    expect(failed).toHaveLength(1000);
    expect(new Set(failed.map((e) => e.code))).toEqual(new Set(['ERR__MSG_TIMED_OUT']));
    expect(failed.every((e) => e instanceof KafkaFdError && e.retriable)).toBe(true);
    expect(reports).toHaveLength(1000);
    expect(reports.every((r) => r.error?.code === 'ERR__MSG_TIMED_OUT')).toBe(true);
    // Resumed, the same producer delivers again.
    await expect(p.produce({ topic, value: 'after' })).resolves.toMatchObject({ topic });
  }, 120000);

  it('a broker unreachable from the start: errors$ says so, promises fail at message.timeout.ms, close() keeps its timeout', async () => {
    const p = new Producer({ kafka: { 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 1500 } });
    const told = firstValueFrom(p.errors$);
    const started = Date.now();
    const early = p.produce({ topic: 'nowhere', value: 'x' }).catch((e: KafkaFdError) => e);
    expect(['ERR__TRANSPORT', 'ERR__ALL_BROKERS_DOWN']).toContain((await told).code);
    expect(await early).toMatchObject({ code: 'ERR__MSG_TIMED_OUT' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    const late = Array.from({ length: 100 }, () => p.produce({ topic: 'nowhere', value: 'y' }).catch((e: KafkaFdError) => e));
    const closing = Date.now();
    await p.close({ timeoutMs: 300 });
    expect(Date.now() - closing).toBeLessThan(5000);
    for (const e of await Promise.all(late)) expect(e).toBeInstanceOf(KafkaFdError);
  });
});
