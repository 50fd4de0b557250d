// SASL/PLAIN on the rig broker's SASL_PLAINTEXT listener: the right credentials deliver; wrong ones give an
// authentication error on errors$ and failed promises; no secret shows in any error, log line or stats.
import { DeliveryReport, KafkaFdError, KafkaLog, Producer } from '../../lib';
import { saslBrokers, uniqueTopic, waitForTopic } from '../support/kafka';

const sasl = (password: string) => ({
  'bootstrap.servers': saslBrokers(),
  'security.protocol': 'sasl_plaintext',
  'sasl.mechanisms': 'PLAIN',
  'sasl.username': 'tester',
  'sasl.password': password,
  'statistics.interval.ms': 100,
  debug: 'security,broker,protocol',
});

/** Everything a producer told us, as one text to search for secrets. */
function watch(p: Producer): { text: () => string; errors: KafkaFdError[] } {
  const seen: unknown[] = [];
  const errors: KafkaFdError[] = [];
  p.logs$.subscribe((l: KafkaLog) => seen.push(l));
  p.stats$.subscribe((s) => seen.push(s));
  p.errors$.subscribe((e) => {
    errors.push(e);
    seen.push({ message: e.message, code: e.code, stack: e.stack });
  });
  p.acks$.subscribe((r: DeliveryReport) => seen.push({ ...r, error: r.error && { message: r.error.message, stack: r.error.stack } }));
  return { text: () => JSON.stringify(seen), errors };
}

describe('SASL/PLAIN on the real broker', () => {
  it('the right credentials connect and deliver, and the password appears nowhere', async () => {
    const topic = uniqueTopic('sasl');
    waitForTopic(topic);
    const p = new Producer({ kafka: sasl('tester-secret') });
    const seen = watch(p);
    try {
      const reports = await Promise.all(Array.from({ length: 50 }, (_, i) => p.produce({ topic, value: `s${i}` })));
      expect(reports.every((r) => r.topic === topic && r.offset >= 0)).toBe(true);
      await new Promise((r) => setTimeout(r, 300)); // a few stats$ payloads
    } finally {
      await p.close();
    }
    expect(seen.text()).toContain('"type":"producer"'); // stats arrived
    expect(seen.text()).toContain('SASL'); // security logs arrived
    expect(seen.text()).not.toContain('tester-secret');
  });

  it('wrong credentials: an authentication error on errors$, failed promises, no secret anywhere', async () => {
    const p = new Producer({ kafka: { ...sasl('wrong-secret-4711'), 'message.timeout.ms': 3000 } });
    const seen = watch(p);
    let failure: unknown;
    try {
      failure = await p.produce({ topic: uniqueTopic('sasl-denied'), value: 'x' }).catch((e: unknown) => e);
    } finally {
      await p.close({ timeoutMs: 1000 });
    }
    expect(failure).toBeInstanceOf(KafkaFdError);
    expect(seen.errors.some((e) => e.code === 'ERR__AUTHENTICATION')).toBe(true);
    expect(seen.errors.find((e) => e.code === 'ERR__AUTHENTICATION')!.message).toMatch(/Authentication failed|SASL/i);
    expect(`${seen.text()} ${String((failure as Error).stack)}`).not.toContain('wrong-secret-4711');
  });
});
