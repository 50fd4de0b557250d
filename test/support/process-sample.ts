// What the resource-cycle fixtures measure of their own process: open fds, threads, RSS and V8 heap, after a
// garbage collection they can force.
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

export interface ProcessSample { fds: number; threads: number; rssMb: number; heapMb: number }

const count = (dir: string): number => fs.readdirSync(dir).length;
v8.setFlagsFromString('--expose-gc');
/** A full garbage collection (the fixtures run without --expose-gc on the command line). */
export const gc = vm.runInNewContext('gc') as () => void;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function sample(): ProcessSample {
  return {
    fds: count('/proc/self/fd'),
    threads: count('/proc/self/task'),
    rssMb: process.memoryUsage().rss / 1048576,
    heapMb: process.memoryUsage().heapUsed / 1048576,
  };
}

/** Threads and fds of closed clients go as librdkafka's threads end: waits (10 s at most) for the counts to
 * come back to `target`. */
export async function settle(target: { fds: number; threads: number }): Promise<void> {
  for (let i = 0; i < 100; i++) {
    gc();
    const now = sample();
    if (now.fds <= target.fds && now.threads <= target.threads) return;
    await sleep(100);
  }
}
