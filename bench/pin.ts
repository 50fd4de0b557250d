// BENCH_PIN=1 (sustained and paced): the JS thread gets CPU 0 to itself; every other thread of this process
// (librdkafka's, V8's, libuv's) and the broker's JVM share CPU 1. On two cores shared by all of them the JS
// thread waits for a CPU 35-54% of a paced run (schedstat). Pinned, that wait is gone (0-1%) but the delay
// did not fall: the thread then blocks on what runs on the crowded CPU (librdkafka's locks, V8's GC helpers;
// bench/results/produce-2026-12-03.md). Threads started later inherit the mask of the thread that starts
// them. An experiment of the benchmark only: nothing in the library pins.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const brokerPidFile = path.join(__dirname, '..', '.kafka', 'kafka.pid');

function taskset(args: string[]): void {
  execFileSync('taskset', args, { stdio: 'ignore' });
}

/** Pins as above; returns the undo (the broker back on every CPU; this process ends after its run). */
export function pinJsThread(): () => void {
  const main = process.pid; // the main thread's tid is the pid
  for (const tid of fs.readdirSync('/proc/self/task')) {
    if (Number(tid) !== main) taskset(['-p', '-c', '1', tid]);
  }
  taskset(['-p', '-c', '0', String(main)]);
  const broker = fs.existsSync(brokerPidFile) ? fs.readFileSync(brokerPidFile, 'utf8').trim() : undefined;
  if (broker) taskset(['-a', '-p', '-c', '1', broker]);
  return () => {
    if (broker) taskset(['-a', '-p', '-c', '0-1', broker]);
  };
}
