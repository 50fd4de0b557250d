// Turns the runs of `npm run bench` into the markdown tables of bench/results/<date>.md and the README:
// medians of the repetitions with their spread, and the comparisons issue 4 asks for.
import * as fs from 'node:fs';
import * as os from 'node:os';

export const CEILING = 'C ceiling (raw librdkafka, fd polling)';
export const AT_PEER = ' [peer librdkafka]';

/** One measurement: what bench/measure.ts (or the ceiling) printed, or why it failed. */
export interface Run {
  scenario: string;
  client: string;
  producers: number;
  failed?: string;
  librdkafka?: string;
  [metric: string]: number | string | undefined;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const dec = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
const ratio = (a: number, b: number): string => (a && b ? `${(a / b).toFixed(2)}x` : '-');
const pct = (a: number, b: number): string => (a && b ? `${Math.round((100 * a) / b)}%` : '-');

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, ` +
    `Node ${process.version}; broker: Apache Kafka 4.1.1 (KRaft, one node on 127.0.0.1, on the same cores), ` +
    'topic of 3 partitions, acks=all, 100-byte values';
}

/** The runs of one scenario, client and producer count, with helpers for their metrics. */
function cell(runs: Run[], scenario: string, client: string, producers: number) {
  const ok = runs.filter((r) => r.scenario === scenario && r.client === client && r.producers === producers && !r.failed);
  const failed = runs.filter((r) => r.scenario === scenario && r.client === client && r.producers === producers && r.failed).length;
  const values = (f: (r: Run) => number): number[] => ok.map(f).filter(Number.isFinite);
  const med = (f: (r: Run) => number): number => (ok.length ? median(values(f)) : NaN);
  const rate = (r: Run): number => Number(r.msgs) / (Number(r.ms) / 1000);
  const spread = (f: (r: Run) => number, show = int): string => {
    if (!ok.length) return failed ? `failed (${failed})` : '-';
    const xs = values(f);
    return `${show(median(xs))} (${show(Math.min(...xs))}-${show(Math.max(...xs))})${failed ? ` [${failed} failed]` : ''}`;
  };
  return { ok, med, spread, rate: () => med(rate), rateSpread: () => spread(rate), metric: (k: string) => med((r) => Number(r[k])) };
}

const version = (runs: Run[], client: string): string => runs.find((r) => r.client === client && r.librdkafka)?.librdkafka ?? '-';
const clientsOf = (runs: Run[], scenario: string): string[] => [...new Set(runs.filter((r) => r.scenario === scenario).map((r) => r.client))];
const countsOf = (runs: Run[], scenario: string): number[] =>
  [...new Set(runs.filter((r) => r.scenario === scenario).map((r) => r.producers))].sort((a, b) => a - b);
/** Idle and memory rows are per client and mode; the API in the name means nothing there. */
const resting = (c: string): string => c.replace(' produce()', '');

function seed(runs: Run[], reps: number, bursts: number): { lines: string[]; table: Record<string, Record<number, number>> } {
  const counts = countsOf(runs, 'seed');
  const clients = clientsOf(runs, 'seed');
  const table: Record<string, Record<number, number>> = {};
  const lines = [
    '## Seed: msg/s, bursts of 1000 messages per producer',
    '',
    `msg/s = messages / (first send to last ack); each run is the median of ${bursts} bursts after a warm-up; median of ${reps} runs (min-max).`,
    '',
    `| client | librdkafka | ${counts.map((n) => `${n} producer${n > 1 ? 's' : ''}`).join(' | ')} |`,
    `|---|---|${counts.map(() => '---:').join('|')}|`,
  ];
  for (const c of clients) {
    lines.push(`| ${c} | ${version(runs, c)} | ${counts.map((n) => {
      const x = cell(runs, 'seed', c, n);
      (table[c] ??= {})[n] = x.rate();
      return x.rateSpread();
    }).join(' | ')} |`);
  }
  const peers = clients.filter((c) => !c.startsWith('kafka-fd') && !c.startsWith(CEILING));
  const at = (c: string, n: number): number => table[c]?.[n] ?? NaN;
  lines.push('', '### Seed: how ours compares (medians above)', '',
    '| producers | best peer | produce() / best peer | produceAsync() / best peer | produceMany() / best peer | ' +
    'produce() / C ceiling | produceAsync() / C ceiling | same at peer librdkafka: produce() / ceiling | produceAsync() / ceiling | ' +
    'fd / thread produce() | fd / thread produceAsync() |',
    `|---:|---|${Array(9).fill('---:').join('|')}|`);
  for (const n of counts) {
    const best = peers.reduce((b, c) => (at(c, n) > at(b, n) ? c : b), peers[0]);
    const p = (api: string, suffix = ''): number => at(`kafka-fd fd ${api}()${suffix}`, n);
    lines.push(`| ${n} | ${best === undefined ? '-' : `${best} ${int(at(best, n))}`} | ${ratio(p('produce'), at(best, n))} | ${ratio(p('produceAsync'), at(best, n))} | ` +
      `${ratio(p('produceMany'), at(best, n))} | ${pct(p('produce'), at(CEILING, n))} | ${pct(p('produceAsync'), at(CEILING, n))} | ` +
      `${pct(p('produce', AT_PEER), at(CEILING + AT_PEER, n))} | ${pct(p('produceAsync', AT_PEER), at(CEILING + AT_PEER, n))} | ` +
      `${ratio(p('produce'), at('kafka-fd thread produce()', n))} | ${ratio(p('produceAsync'), at('kafka-fd thread produceAsync()', n))} |`);
  }
  // Where a burst's time goes on the sending thread (ours: the JS thread; the ceiling: its main thread).
  const sched = clients.filter((c) => counts.some((n) => Number.isFinite(cell(runs, 'seed', c, n).metric('jsCpuUsPerMsg'))));
  if (sched.length) {
    lines.push('', '### Seed: the sending thread per message', '',
      'us per message of the thread that sends and serves (ours: the JS thread; the C ceiling: its main thread), from the ' +
      'kernel\'s schedstat over the timed bursts: on a CPU / waiting on the run queue for one (taken by the broker\'s and ' +
      'librdkafka\'s threads on the same cores). Medians of the runs.', '',
      `| client | ${counts.map((n) => `${n} producer${n > 1 ? 's' : ''}`).join(' | ')} |`, `|---|${counts.map(() => '---:').join('|')}|`);
    for (const c of sched) {
      lines.push(`| ${c} | ${counts.map((n) => {
        const x = cell(runs, 'seed', c, n);
        return `${dec(x.metric('jsCpuUsPerMsg'), 2)} / ${dec(x.metric('jsWaitUsPerMsg'), 2)}`;
      }).join(' | ')} |`);
    }
  }
  return { lines, table };
}

function sustained(runs: Run[], reps: number): string[] {
  const lines = ['## Sustained: 200,000 messages, at most 10,000 unacknowledged', '',
    'Sent 100 per call, each round over the producers followed by a setImmediate turn. Ack latency from send to ack ' +
    '(for delivery-report APIs from the report\'s CreateTime, whole ms); event-loop delay from monitorEventLoopDelay ' +
    '(resolution 1 ms) enabled before the window; fs.stat: back-to-back calls during the run (the libuv threadpool). ' +
    `Medians of ${reps} runs; (min-max) for msg/s.`];
  for (const n of countsOf(runs, 'sustained')) {
    lines.push('', `### ${n} producer${n > 1 ? 's' : ''}`, '',
      '| client | librdkafka | msg/s | ack p50 ms | ack p99 ms | ack max ms | event-loop delay p99 ms | fs.stat p99 ms | CPU us/msg |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of clientsOf(runs, 'sustained')) {
      const x = cell(runs, 'sustained', c, n);
      lines.push(`| ${c} | ${version(runs, c)} | ${x.rateSpread()} | ${dec(x.metric('latencyP50Ms'))} | ${dec(x.metric('latencyP99Ms'))} | ` +
        `${dec(x.metric('latencyMaxMs'))} | ${dec(x.metric('eldP99Ms'))} | ${dec(x.metric('statP99Ms'), 2)} | ${dec(x.metric('cpuUsPerMsg'), 2)} |`);
    }
  }
  return lines;
}

function paced(runs: Run[], reps: number): string[] {
  const lines = ['## Paced: 25 producers, 100 messages each per setImmediate turn, 250,000 in all', '',
    `Medians of ${reps} runs; (min-max) for msg/s and event-loop delay p99. A loop turn runs from one round of sends to ` +
    'the next (the round, then the poller\'s passes); the kernel\'s schedstat splits the JS thread\'s time in it into time on a ' +
    'CPU (our code and the benchmark\'s) and time waiting on the run queue for one (taken by the broker\'s and librdkafka\'s ' +
    'threads). Each column is its own p99, so they need not add up.', '',
    '| client | librdkafka | msg/s | event-loop delay p99 ms | event-loop delay max ms | turn p99 ms | turn on-CPU p99 ms | ' +
    'turn run-queue wait p99 ms | JS thread waiting for a CPU | CPU us/msg |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const c of clientsOf(runs, 'paced')) {
    const x = cell(runs, 'paced', c, 25);
    const waiting = x.metric('jsThreadWaitMs') / (x.metric('jsThreadWaitMs') + x.metric('jsThreadCpuMs'));
    lines.push(`| ${c} | ${version(runs, c)} | ${x.rateSpread()} | ${x.spread((r) => Number(r.eldP99Ms), dec)} | ` +
      `${dec(x.metric('eldMaxMs'))} | ${dec(x.metric('turnP99Ms'))} | ${dec(x.metric('turnCpuP99Ms'))} | ` +
      `${dec(x.metric('turnWaitP99Ms'))} | ${Number.isFinite(waiting) ? `${Math.round(100 * waiting)}%` : '-'} | ${dec(x.metric('cpuUsPerMsg'), 2)} |`);
  }
  return lines;
}

function idle(runs: Run[], reps: number): string[] {
  const lines = ['## Idle: 25 connected producers, 10 s of nothing', '',
    `Whole process: CPU time, threads, voluntary context switches (getrusage), RSS. Medians of ${reps} runs; (min-max) for CPU.`, '',
    '| client | librdkafka | CPU ms in 10 s | threads | voluntary context switches | RSS MB |', '|---|---|---:|---:|---:|---:|'];
  for (const c of clientsOf(runs, 'idle')) {
    const x = cell(runs, 'idle', c, 25);
    lines.push(`| ${resting(c)} | ${version(runs, c)} | ${x.spread((r) => Number(r.cpuMs))} | ${int(x.metric('threads'))} | ` +
      `${int(x.metric('voluntaryCtxSwitches'))} | ${int(x.metric('rssMb'))} |`);
  }
  return lines;
}

function memory(runs: Run[], reps: number): string[] {
  const lines = ['## Memory: RSS with 1 and with 25 connected producers', '',
    `After a warm-up message each, 1 s of rest and a full GC. Medians of ${reps} runs.`, '',
    '| client | librdkafka | RSS, client loaded, MB | RSS 1 producer MB | RSS 25 producers MB | MB per added producer | threads at 25 |',
    '|---|---|---:|---:|---:|---:|---:|'];
  for (const c of clientsOf(runs, 'memory')) {
    const [one, many] = [cell(runs, 'memory', c, 1), cell(runs, 'memory', c, 25)];
    const per = (many.metric('rssMb') - one.metric('rssMb')) / 24;
    lines.push(`| ${resting(c)} | ${version(runs, c)} | ${dec(one.metric('rssLoadedMb'))} | ${dec(one.metric('rssMb'))} | ` +
      `${dec(many.metric('rssMb'))} | ${dec(per, 2)} | ${int(many.metric('threads'))} |`);
  }
  return lines;
}

function transactionsTable(runs: Run[], reps: number): string[] {
  const lines = ['## Transactions: 20 transactions of 100 messages per producer, all producers at once', '',
    `Ours only, fd vs thread mode; produceManyAsync() inside each transaction, then commit. Medians of ${reps} runs; (min-max) for commits/s.`, '',
    '| mode | producers | librdkafka | commits/s | msg/s | event-loop delay p99 ms | CPU us/msg | threads |', '|---|---:|---|---:|---:|---:|---:|---:|'];
  for (const n of countsOf(runs, 'transactions')) {
    for (const c of clientsOf(runs, 'transactions')) {
      const x = cell(runs, 'transactions', c, n);
      lines.push(`| ${resting(c)} | ${n} | ${version(runs, c)} | ${x.spread((r) => Number(r.commitsPerSec), (v) => dec(v, 1))} | ` +
        `${int(x.rate())} | ${dec(x.metric('eldP99Ms'))} | ${dec(x.metric('cpuUsPerMsg'), 2)} | ${int(x.metric('threads'))} |`);
    }
  }
  return lines;
}

/** The whole results file; `seedTable` (client to msg/s per producer count) feeds the chart. */
export function report(runs: Run[], opts: { reps: number; brokers: string; bursts: number }): { markdown: string; seedTable?: Record<string, Record<number, number>> } {
  const has = (s: string): boolean => runs.some((r) => r.scenario === s);
  const parts = [`# Benchmarks, ${new Date().toISOString().slice(0, 10)}`, '', `Machine: ${machine()}.`, '',
    'Every measurement ran in a process of its own, clients interleaved (the order rotates every repetition), ' +
    'the broker restarted clean before each scenario. Ours runs at Debian\'s librdkafka and, marked ' +
    `"${AT_PEER.trim()}", built against @confluentinc/kafka-javascript's. Reproduce: \`npm run bench:setup && npm run bench\`.`];
  let seedTable: Record<string, Record<number, number>> | undefined;
  if (has('seed')) {
    const s = seed(runs, opts.reps, opts.bursts);
    seedTable = s.table;
    parts.push('', ...s.lines);
  }
  if (has('sustained')) parts.push('', ...sustained(runs, opts.reps));
  if (has('paced')) parts.push('', ...paced(runs, opts.reps));
  if (has('idle')) parts.push('', ...idle(runs, opts.reps));
  if (has('memory')) parts.push('', ...memory(runs, opts.reps));
  if (has('transactions')) parts.push('', ...transactionsTable(runs, opts.reps));
  const failures = runs.filter((r) => r.failed);
  if (failures.length) parts.push('', '## Failed runs', '', ...failures.map((r) => `- ${r.scenario} ${r.client} x${r.producers}: ${r.failed}`));
  return { markdown: `${parts.join('\n')}\n`, seedTable };
}

/** Re-renders a results .json (after editing the report code): `node -r ts-node/register bench/report.ts <json>`. */
if (require.main === module) {
  const data = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as { reps: number; runs: Run[]; plan?: { seed?: { job?: { rounds?: number } } } };
  console.log(report(data.runs, { reps: data.reps, brokers: '', bursts: data.plan?.seed?.job?.rounds ?? 5 }).markdown);
}
