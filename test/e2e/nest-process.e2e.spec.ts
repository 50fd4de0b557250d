import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { runFixture } from '../support/child';
import { consumeAll, uniqueTopic } from '../support/kafka';

// Nest apps in processes of their own (they run on the project's own Nest, 11).
describe('Nest processes on the real broker', () => {
  it('SIGTERM with enableShutdownHooks loses no accepted message', async () => {
    const topic = uniqueTopic('nest-sigterm');
    const r = await runFixture('nest-sigterm.ts', [topic, '10000'], 60000);
    expect(r.stdout).toMatch(/accepted 10000, in flight [1-9]/);
    // Nest re-raises the signal once its shutdown hooks are done, so the process ends by SIGTERM, after them.
    expect(r.signal).toBe('SIGTERM');
    expect(r.stdout + r.stderr).toMatch(/closing 1 producer\(s\): default/);
    const got = await consumeAll(topic, 10000);
    expect(got).toHaveLength(10000);
  });

  it('the sample app: npm run sample starts, takes an order, logs its acks, the billing consumer\'s and the shipping microservice\'s handling, answers a Kafka request-reply quote, and stops on SIGTERM', async () => {
    const root = path.resolve(__dirname, '..', '..');
    // A free port chosen by the OS (a random one could be in use: the sample then exited at once).
    const env = { ...process.env, PORT: '0', FORCE_COLOR: '0', NO_COLOR: '1' };
    delete (env as Record<string, string | undefined>).KAFKA_BROKERS; // the embedded broker
    const child = spawn('npm', ['run', 'sample'], { cwd: root, env, detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let gone = false;
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => {
      gone = true;
      resolve(code);
    }));
    const waitFor = async (re: RegExp, ms: number): Promise<void> => {
      const until = Date.now() + ms;
      while (!re.test(out)) {
        if (gone) throw new Error(`the sample exited while we waited for ${re}:\n${out}`);
        if (Date.now() > until) throw new Error(`timed out waiting for ${re} in:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    let port = '';
    try {
      await waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/, 60000);
      port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1];
      // The next log line may come in a later chunk of output.
      await waitFor(/send an order: curl/, 5000);
      const res = await fetch(`http://127.0.0.1:${port}/orders`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'o-1', total: 42 }),
      });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { order: { topic: string; offset: number } };
      expect(body.order).toMatchObject({ topic: 'orders', offset: 0 });
      await waitFor(/ack orders\[\d\]@0/, 10000);
      await waitFor(/ack payments\[\d\]@0/, 10000);
      // The billing consumer (KafkaFdModule consumer with a @KafkaFdHandler) handles the payment request.
      await waitFor(/billing: payment for o-1 \(42\) handled, payments\[\d\]@0/, 30000);
      // The hybrid app's microservice side (KafkaFdServer) handles the order as an event, and a request-reply
      // call through KafkaFdClient comes back over Kafka.
      await waitFor(/shipping: order o-1 scheduled, orders\[\d\]@0/, 30000);
      const quote = await fetch(`http://127.0.0.1:${port}/shipping/quote?total=42`);
      expect(quote.status).toBe(200);
      await expect(quote.json()).resolves.toEqual({ cost: 4.9 });
      const bad = await fetch(`http://127.0.0.1:${port}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(bad.status).toBe(400);
      // Observability: one trace from the order's send to the shipping handler's process (OpenTelemetry, ids
      // carried in the headers); the monitor's count of handled messages (a diagnostics_channel subscriber);
      // the Prometheus metrics of the producers, consumers and pollers (statistics every second).
      await waitFor(/trace ([0-9a-f]{8}): send orders[\s\S]*trace \1: process orders/, 10000);
      await waitFor(/[1-9]\d* handled/, 10000);
      let metrics = '';
      const metricsBy = Date.now() + 10000;
      while (!/rdkafka_txmsgs_total\{handle="[^"]+",type="producer"\} [1-9]/.test(metrics) && Date.now() < metricsBy) {
        metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(metrics).toMatch(/rdkafka_txmsgs_total\{handle="[^"]+",type="producer"\} [1-9]/);
      expect(metrics).toMatch(/kafka_fd_poller_wakeups_total\{poller="critical"\} \d+/);
      expect(metrics).toMatch(/rdkafka_cgrp_assignment_size\{handle="[^"]+",type="consumer"\} \d+/);
    } finally {
      // Already gone (it failed): the error above says why; do not hide it behind ESRCH.
      if (!gone) process.kill(-child.pid!, 'SIGTERM');
    }
    await exited;
    expect(out).toMatch(/closing 1 consumer\(s\): billing[\s\S]*closing 2 producer\(s\)/);
    expect(out).not.toMatch(/Segmentation|Assertion|FATAL/);
  });
});
