// One measurement of `npm run bench`, in a process of its own (run with --expose-gc): argv[2] is a JSON
// `Job`. Connects the client's producers, runs one scenario and prints one JSON line with what it measured.
// The scenarios are those of issue 4; bench/run.ts says what each one means and runs them all.
import * as fs from 'node:fs';
import { createHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pinJsThread } from './pin';
import { type BenchClient, nowMs, type OnAcked, producerFactory, timeBursts } from './clients';
import { ThreadSched } from './sched';

export interface Job {
  scenario: 'seed' | 'sustained' | 'paced' | 'idle' | 'memory' | 'transactions';
  client: string;
  producers: number;
  topic: string;
  brokers: string;
  /** seed: messages per producer per burst, and bursts. */
  messages?: number;
  rounds?: number;
  /** sustained, paced: messages in all, per send() call, and most unacknowledged at once (0: no limit). */
  total?: number;
  chunk?: number;
  window?: number;
  /** idle: seconds of doing nothing. */
  seconds?: number;
  /** transactions: per producer, and messages in each. */
  transactions?: number;
  size?: number;
}

const threads = (): number => fs.readdirSync('/proc/self/task').length;
const ms = (ns: number): number => ns / 1e6;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * The sustained and paced scenarios: each producer in turn sends `chunk` messages, every round over the
 * producers ends with a `setImmediate` turn, and with a `window` a producer waits for acks first when
 * `window` messages are unacknowledged. Records each message's ack latency, the event-loop delay over the
 * window (enabled before it: the monitor records nothing for its first tick) and, with `probeFs`, the
 * latency of back-to-back `fs.stat` calls (the libuv threadpool's health). A warm-up chunk per producer
 * comes first.
 */
async function stream(c: BenchClient, job: Job, probeFs: boolean): Promise<Record<string, number>> {
  const { producers: n, total = 0, chunk = 100, window = 0 } = job;
  const value = Buffer.alloc(100, 7);
  const latency = createHistogram();
  let acked = 0;
  let waiter: { target: number; resolve: () => void } | undefined;
  const onAcked: OnAcked = (k, sentAt) => {
    const us = Math.max(1, Math.round((nowMs() - sentAt) * 1000));
    for (let j = 0; j < k; j++) latency.record(us);
    acked += k;
    if (waiter && acked >= waiter.target) {
      const w = waiter;
      waiter = undefined;
      w.resolve();
    }
  };
  const until = (target: number): Promise<void> | undefined =>
    acked >= target ? undefined : new Promise((resolve) => (waiter = { target, resolve }));

  // Warm-up, as in the seed: one chunk from every producer, acknowledged, so that JIT compilation of the
  // send and ack paths does not land in the window (the same for every client).
  let warm = n * chunk;
  await new Promise<void>((resolve) => {
    void (async () => {
      for (let i = 0; i < n; i++) await c.send(i, chunk, value, (k) => (warm -= k) === 0 && resolve());
    })();
  });
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  await sleep(50);
  eld.reset();
  const stat = createHistogram();
  let probing = probeFs;
  const probe = (): void => {
    const t = process.hrtime.bigint();
    fs.stat(__filename, () => {
      stat.record(Math.max(1, Number(process.hrtime.bigint() - t)));
      if (probing) probe();
    });
  };
  if (probing) probe();

  const perProducer = Math.floor(total / n);
  let sent = 0;
  // The loop turn's two parts, apart: this benchmark's own sending (a round over the producers) and, for ours
  // in fd mode, the poller's passes (serve and dispatch) from its metrics.
  const rounds = createHistogram();
  // A loop turn (from one round's start to the next: the round, then the poller's passes) split by the kernel's
  // schedstat into the JS thread's time on a CPU and its wait for one: what our code and the benchmark cost,
  // against what the machine's other threads (the broker, librdkafka's) took from it.
  const sched = new ThreadSched();
  const turnWall = createHistogram();
  const turnCpu = createHistogram();
  const turnWait = createHistogram();
  let turnStart: { wall: bigint; s: [number, number] } | undefined;
  const sched0 = sched.read();
  const poller0 = c.pollerMetrics?.();
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  for (let offset = 0; offset < perProducer; offset += chunk) {
    const k = Math.min(chunk, perProducer - offset);
    const r0 = process.hrtime.bigint();
    const s0 = sched.read();
    if (turnStart && s0) {
      turnWall.record(Math.max(1, Number(r0 - turnStart.wall)));
      turnCpu.record(Math.max(1, s0[0] - turnStart.s[0]));
      turnWait.record(Math.max(1, s0[1] - turnStart.s[1]));
    }
    if (s0) turnStart = { wall: r0, s: s0 };
    for (let i = 0; i < n; i++) {
      const room = window ? until(sent + k - window) : undefined;
      if (room) await room;
      const handed = c.send(i, k, value, onAcked);
      if (handed) await handed;
      sent += k;
    }
    rounds.record(Math.max(1, Number(process.hrtime.bigint() - r0)));
    await new Promise(setImmediate);
  }
  await until(sent);
  const elapsed = nowMs() - t0;
  const cpu = process.cpuUsage(cpu0);
  const sched1 = sched.read();
  sched.close();
  const poller1 = c.pollerMetrics?.();
  const passes: Record<string, number> = poller0 && poller1 ? {
    sendRoundP99Ms: ms(rounds.percentile(99)),
    sendRoundMaxMs: ms(rounds.max),
    pollerPasses: poller1.passes - poller0.passes,
    pollerMsPerPass: (poller1.serveMs + poller1.dispatchMs - poller0.serveMs - poller0.dispatchMs) / Math.max(1, poller1.passes - poller0.passes),
    pollerPassMaxMs: poller1.passMaxMs,
    pollerOverBudget: poller1.overBudget - poller0.overBudget,
  } : { sendRoundP99Ms: ms(rounds.percentile(99)), sendRoundMaxMs: ms(rounds.max) };
  probing = false;
  eld.disable();
  const pct = (h: RecordableHistogram, p: number): number => h.percentile(p);
  return {
    msgs: sent,
    ms: elapsed,
    cpuUsPerMsg: (cpu.user + cpu.system) / sent,
    latencyP50Ms: pct(latency, 50) / 1000,
    latencyP99Ms: pct(latency, 99) / 1000,
    latencyMaxMs: latency.max / 1000,
    eldP99Ms: ms(eld.percentile(99)),
    eldMaxMs: ms(eld.max),
    ...passes,
    ...(sched0 && sched1 && turnWall.count > 0 ? {
      turnP99Ms: ms(turnWall.percentile(99)),
      turnCpuP99Ms: ms(turnCpu.percentile(99)),
      turnWaitP99Ms: ms(turnWait.percentile(99)),
      jsThreadCpuMs: ms(sched1[0] - sched0[0]),
      jsThreadWaitMs: ms(sched1[1] - sched0[1]),
    } : {}),
    ...(probeFs ? { statP99Ms: ms(pct(stat, 99)), stats: stat.count } : {}),
  };
}

/**
 * The transactional scenario (ours only: fd or thread mode from the client's name): N producers with a
 * `transactional.id` each commit `transactions` transactions of `size` messages (produceManyAsync inside
 * the transaction, then commit) all at once; commits/s over the window, after one warm-up transaction each
 * (init_transactions among it), with the event-loop delay meanwhile.
 */
async function transactions(job: Job): Promise<Record<string, unknown>> {
  const core = require('../lib/core') as typeof import('../lib/core');
  const mode = job.client.includes(' thread ') ? 'thread' : 'fd';
  const { producers: n, transactions: count = 20, size = 100 } = job;
  const value = Buffer.alloc(100, 7);
  const ps = Array.from({ length: n }, (_, i) => new core.Producer({
    kafka: { 'bootstrap.servers': job.brokers, 'transactional.id': `${job.topic}-${mode}-${i}-${process.pid}` }, polling: { mode },
  }));
  const batch = Array.from({ length: size }, () => ({ topic: job.topic, value }));
  await Promise.all(ps.map((p) => p.transaction((tx) => tx.produceManyAsync(batch))));
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  await sleep(50);
  eld.reset();
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  await Promise.all(ps.map(async (p) => {
    for (let t = 0; t < count; t++) await p.transaction((tx) => tx.produceManyAsync(batch));
  }));
  const elapsed = nowMs() - t0;
  const cpu = process.cpuUsage(cpu0);
  eld.disable();
  const out = {
    commits: n * count, msgs: n * count * size, ms: elapsed, commitsPerSec: (n * count) / (elapsed / 1000),
    cpuUsPerMsg: (cpu.user + cpu.system) / (n * count * size), eldP99Ms: ms(eld.percentile(99)), eldMaxMs: ms(eld.max),
    threads: threads(), librdkafka: core.librdkafkaVersion(),
  };
  await Promise.all(ps.map((p) => p.close()));
  return out;
}

async function run(job: Job): Promise<Record<string, unknown>> {
  if (job.scenario === 'transactions') return transactions(job);
  const c = producerFactory(job.client)(job.brokers, job.topic);
  gc();
  const rssLoaded = process.memoryUsage().rss;
  await c.connect(job.producers);
  let out: Record<string, unknown>;
  switch (job.scenario) {
    case 'seed': {
      const messages = job.messages ?? 1000;
      out = { msgs: job.producers * messages, ...(await timeBursts(c, job.producers, messages, job.rounds ?? 5, Math.min(messages, 100))) };
      break;
    }
    case 'sustained':
    case 'paced': {
      const unpin = process.env.BENCH_PIN ? pinJsThread() : undefined;
      try {
        out = job.scenario === 'sustained' ? await stream(c, job, true) : await stream(c, { ...job, window: 0 }, false);
      } finally {
        unpin?.();
      }
      if (unpin) out.pinned = 1;
      break;
    }
    case 'idle': {
      await sleep(1000); // connections settled, warm-up acked
      const cpu0 = process.cpuUsage();
      const ru0 = process.resourceUsage();
      await sleep((job.seconds ?? 10) * 1000);
      const cpu = process.cpuUsage(cpu0);
      const ru = process.resourceUsage();
      out = {
        cpuMs: (cpu.user + cpu.system) / 1000,
        voluntaryCtxSwitches: ru.voluntaryContextSwitches - ru0.voluntaryContextSwitches,
        threads: threads(),
        rssMb: process.memoryUsage().rss / 1048576,
      };
      break;
    }
    case 'memory':
      await sleep(1000);
      gc();
      out = { rssLoadedMb: rssLoaded / 1048576, rssMb: process.memoryUsage().rss / 1048576, threads: threads() };
      break;
  }
  const librdkafka = c.librdkafka;
  await c.close();
  return { ...out, librdkafka };
}

if (require.main === module) {
  const job = JSON.parse(process.argv[2]) as Job;
  run(job).then((out) => {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(0);
  }, (e) => {
    console.error(e);
    process.exit(1);
  });
}
