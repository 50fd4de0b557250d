// npm run soak — a bounded soak on the rig's real broker: 5 fd producers on the global poller stream
// messages for SOAK_SECONDS (600; CI runs 60) at SOAK_RATE msg/s (20,000: steady load, not the most the
// machine can do, which would write ~5 GB a minute to the broker's disk), at most 100 per producer per loop
// turn and at most 20,000 unacknowledged, while 2 consumers of one group (same process, same poller) read
// them. Every 10 s it prints msg/s sent and consumed, the consumers' lag, RSS and heap; at the end a verdict.
// It fails (exit 1) when a delivery fails, when an interval falls below a quarter of the median rate (a
// stall), when RSS in the last third grew more than 10% + 16 MB over the end of the first third (a leak),
// when the consumers' lag ever passed 10 s of messages, or when they have not read everything 30 s after the end.
import { Consumer, Producer } from '../lib/core';

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
  // The consumers read from the start: the 5 warm-up messages too.
  const WARM = producers.length;
  let consumed = 0;
  let maxLag = 0;
  const consumers = [0, 1].map(() => new Consumer({ kafka: { 'bootstrap.servers': brokers, 'group.id': `${topic}-readers`, 'auto.offset.reset': 'earliest' } }));
  for (const c of consumers) {
    await c.subscribe(topic);
    await c.run({ partitionsConcurrently: 3, eachMessage: () => void consumed++ });
  }
  let lastConsumed = 0;
  const value = Buffer.alloc(100, 7);
  const intervals: Interval[] = [];
  const started = Date.now();
  let lastAcked = 0;
  const ticker = setInterval(() => {
    const m = process.memoryUsage();
    const row = { at: Math.round((Date.now() - started) / 1000), rate: (acked - lastAcked) / INTERVAL_S, rssMb: m.rss / 1048576, heapMb: m.heapUsed / 1048576 };
    const readRate = (consumed - lastConsumed) / INTERVAL_S;
    const lag = acked + WARM - consumed;
    maxLag = Math.max(maxLag, lag);
    lastAcked = acked;
    lastConsumed = consumed;
    intervals.push(row);
    console.log(`${String(row.at).padStart(5)} s  ${Math.round(row.rate).toLocaleString('en-US').padStart(9)} msg/s  ` +
      `read ${Math.round(readRate).toLocaleString('en-US').padStart(9)} msg/s  lag ${lag.toLocaleString('en-US')}  ` +
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
  const drainStart = Date.now();
  while (consumed < acked + WARM && Date.now() - drainStart < 30000) await new Promise((r) => setTimeout(r, 20));
  const drainMs = Date.now() - drainStart;
  await Promise.all(consumers.map((c) => c.close()));

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
    ...(maxLag > RATE * 10 ? [`the consumers fell ${maxLag} messages behind (more than 10 s)`] : []),
    ...(consumed < acked + WARM ? [`the consumers read ${consumed} of ${acked + WARM} within 30 s of the end`] : []),
  ];
  console.log(`\nsoak: ${SECONDS} s at ${RATE.toLocaleString('en-US')} msg/s, ${sent.toLocaleString('en-US')} messages sent, ${acked.toLocaleString('en-US')} acked, ` +
    `${failed} failed; msg/s per ${INTERVAL_S} s: median ${Math.round(median).toLocaleString('en-US')}, ` +
    `min ${Math.round(rates[0]).toLocaleString('en-US')}, max ${Math.round(rates.at(-1)!).toLocaleString('en-US')}; ` +
    `RSS end of first third ${rssEarly.toFixed(1)} MB, most in last third ${rssLate.toFixed(1)} MB`);
  console.log(`soak: consumers read ${consumed.toLocaleString('en-US')} of ${(acked + WARM).toLocaleString('en-US')} ` +
    `(${(consumed - acked - WARM).toLocaleString('en-US')} more than sent: redeliveries), most lag ${maxLag.toLocaleString('en-US')} messages, ` +
    `the rest read ${drainMs} ms after the producers stopped`);
  if (problems.length) {
    console.log(`soak: FAILED: ${problems.join('; ')}`);
    process.exit(1);
  }
  console.log('soak: passed (steady msg/s, flat RSS, every message reported, every message read)');
}

void main();
