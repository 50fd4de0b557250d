// npm run soak — a bounded soak on the rig's real broker: 5 fd producers on the global poller stream
// messages for SOAK_SECONDS (600; CI runs 60) at SOAK_RATE msg/s (20,000: steady load, not the most the
// machine can do, which would write ~5 GB a minute to the broker's disk), at most 100 per producer per loop
// turn and at most 20,000 unacknowledged. Every 10 s it prints msg/s, RSS and heap; at the end a verdict. It fails (exit 1) when a delivery
// fails, when an interval falls below a quarter of the median rate (a stall), or when RSS in the last
// third grew more than 10% + 16 MB over the end of the first third (a leak).
import { Producer } from '../lib/core';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const INTERVAL_S = Number(process.env.SOAK_INTERVAL_SECONDS ?? 10);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const RATE = Number(process.env.SOAK_RATE ?? 20000);
const WINDOW = 20000;
const PER_TURN = 100;

interface Interval { at: number; rate: number; rssMb: number; heapMb: number }

async function main(): Promise<void> {
  const topic = `soak-${Date.now()}`;
  const producers = Array.from({ length: 5 }, () => new Producer({ kafka: { 'bootstrap.servers': brokers, acks: 'all' } }));
  await Promise.all(producers.map((p) => p.produce({ topic, value: 'warm-up' })));
  let acked = 0;
  let failed = 0;
  let sent = 0;
  for (const p of producers) p.acks$.subscribe((r) => (r.error ? failed++ : acked++));
  const value = Buffer.alloc(100, 7);
  const intervals: Interval[] = [];
  const started = Date.now();
  let lastAcked = 0;
  const ticker = setInterval(() => {
    const m = process.memoryUsage();
    const row = { at: Math.round((Date.now() - started) / 1000), rate: (acked - lastAcked) / INTERVAL_S, rssMb: m.rss / 1048576, heapMb: m.heapUsed / 1048576 };
    lastAcked = acked;
    intervals.push(row);
    console.log(`${String(row.at).padStart(5)} s  ${Math.round(row.rate).toLocaleString('en-US').padStart(9)} msg/s  ` +
      `RSS ${row.rssMb.toFixed(1)} MB  heap ${row.heapMb.toFixed(1)} MB  failed ${failed}`);
  }, INTERVAL_S * 1000);
  while (Date.now() - started < SECONDS * 1000) {
    const due = Math.min(RATE * ((Date.now() - started) / 1000) - sent, WINDOW - (sent - acked - failed));
    const each = Math.min(PER_TURN, Math.floor(due / producers.length));
    if (each > 0) {
      for (const p of producers) for (let i = 0; i < each; i++) p.produceAsync({ topic, value });
      sent += producers.length * each;
      await new Promise(setImmediate);
    } else {
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  clearInterval(ticker);
  await Promise.all(producers.map((p) => p.close()));

  const rates = intervals.map((i) => i.rate).sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  const third = Math.max(1, Math.floor(intervals.length / 3));
  const rssEarly = intervals[third - 1].rssMb;
  const rssLate = Math.max(...intervals.slice(-third).map((i) => i.rssMb));
  const problems = [
    ...(failed ? [`${failed} deliveries failed`] : []),
    ...(acked + failed !== sent ? [`${sent - acked - failed} messages without a report`] : []),
    ...(rates[0] < median / 4 ? [`an interval ran at ${Math.round(rates[0])} msg/s, under a quarter of the median`] : []),
    ...(rssLate > rssEarly * 1.1 + 16 ? [`RSS grew from ${rssEarly.toFixed(1)} to ${rssLate.toFixed(1)} MB`] : []),
  ];
  console.log(`\nsoak: ${SECONDS} s at ${RATE.toLocaleString('en-US')} msg/s, ${sent.toLocaleString('en-US')} messages sent, ${acked.toLocaleString('en-US')} acked, ` +
    `${failed} failed; msg/s per ${INTERVAL_S} s: median ${Math.round(median).toLocaleString('en-US')}, ` +
    `min ${Math.round(rates[0]).toLocaleString('en-US')}, max ${Math.round(rates.at(-1)!).toLocaleString('en-US')}; ` +
    `RSS end of first third ${rssEarly.toFixed(1)} MB, most in last third ${rssLate.toFixed(1)} MB`);
  if (problems.length) {
    console.log(`soak: FAILED: ${problems.join('; ')}`);
    process.exit(1);
  }
  console.log('soak: passed (steady msg/s, flat RSS, every message reported)');
}

void main();
