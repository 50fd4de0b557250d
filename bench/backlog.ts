// npm run bench:backlog — queueFull: 'wait' under a flood: BACKLOG_MESSAGES (200,000) produceAsync() calls in
// one synchronous loop into a producer whose librdkafka queue holds BACKLOG_QUEUE (1,000) messages, so nearly
// all of them wait in our backlog and move in as acks make room. Prints, per run and as medians of
// BACKLOG_RUNS (5) runs, each in a fresh process: msg/s from the first call to the last ack, the event-loop
// delay max and p99 (perf_hooks, enabled before the loop), and how many loop turns it took. On the rig's
// broker when KAFKA_BROKERS is set, else on the embedded mock cluster (faster acks: the backlog is the
// bottleneck there).
import { spawnSync } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MockCluster, Producer } from '../lib/core';

const MESSAGES = Number(process.env.BACKLOG_MESSAGES ?? 200000);
const QUEUE = Number(process.env.BACKLOG_QUEUE ?? 1000);
const RUNS = Number(process.env.BACKLOG_RUNS ?? 5);

interface Run { msgPerS: number; delayMaxMs: number; delayP99Ms: number; turns: number; ms: number }

async function once(): Promise<Run> {
  const mock = process.env.KAFKA_BROKERS ? undefined : MockCluster.start({ topics: { backlog: 1 } });
  const brokers = process.env.KAFKA_BROKERS ?? mock!.bootstrapServers;
  const topic = mock ? 'backlog' : `backlog-${Date.now()}`;
  const p = new Producer({ kafka: { 'bootstrap.servers': brokers, 'queue.buffering.max.messages': QUEUE, 'linger.ms': 5 } });
  await p.produce({ topic, value: 'warm-up' });
  let failed = 0;
  p.errors$.subscribe(() => failed++);
  const value = Buffer.alloc(100, 7);
  let turns = 0;
  let counting = true;
  const tick = (): void => {
    turns++;
    if (counting) setTimeout(tick, 0);
  };
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // The first tick after enable() is its baseline: let one pass before the measured window.
  await new Promise((r) => setTimeout(r, 5));
  tick();
  const started = process.hrtime.bigint();
  for (let i = 0; i < MESSAGES; i++) p.produceAsync({ topic, value });
  await p.flush(Infinity);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  counting = false;
  delay.disable();
  await p.close();
  await mock?.close();
  if (failed) throw new Error(`${failed} messages failed`);
  return { msgPerS: MESSAGES / (ms / 1000), delayMaxMs: delay.max / 1e6, delayP99Ms: delay.percentile(99) / 1e6, turns, ms };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(): void {
  if (process.argv[2] === '--once') {
    once().then((r) => console.log(JSON.stringify(r)), (e) => {
      console.error(e);
      process.exit(1);
    });
    return;
  }
  const where = process.env.KAFKA_BROKERS ? `broker ${process.env.KAFKA_BROKERS}` : 'embedded mock cluster';
  console.log(`backlog: ${MESSAGES.toLocaleString('en-US')} produceAsync() in one loop through a ${QUEUE.toLocaleString('en-US')}-message queue, ${where}, ${RUNS} runs\n`);
  console.log('| run | msg/s | event-loop delay max ms | p99 ms | loop turns (timer ticks) | s |');
  console.log('|---|---|---|---|---|---|');
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, '--once'], { encoding: 'utf8', env: process.env });
    if (child.status !== 0) throw new Error(`run ${i + 1} failed: ${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as Run;
    runs.push(r);
    console.log(`| ${i + 1} | ${Math.round(r.msgPerS).toLocaleString('en-US')} | ${r.delayMaxMs.toFixed(1)} | ${r.delayP99Ms.toFixed(1)} | ${r.turns} | ${(r.ms / 1000).toFixed(2)} |`);
  }
  const m = (f: (r: Run) => number): number => median(runs.map(f));
  console.log(`| median | ${Math.round(m((r) => r.msgPerS)).toLocaleString('en-US')} | ${m((r) => r.delayMaxMs).toFixed(1)} | ` +
    `${m((r) => r.delayP99Ms).toFixed(1)} | ${m((r) => r.turns)} | ${(m((r) => r.ms) / 1000).toFixed(2)} |`);
}

main();
