import { Worker } from 'node:worker_threads';

/**
 * For fixtures that run their work in worker threads: starts one worker of `file` per job (as workerData),
 * collects what each posts, and prints them all as one JSON line when the last has exited. A worker error
 * or a non-zero exit sets the process's exit code.
 */
export function runWorkers(file: string, jobs: object[]): void {
  const results: unknown[] = [];
  let exited = 0;
  for (const job of jobs) {
    const w = new Worker(file, { workerData: job, execArgv: process.execArgv });
    w.on('message', (m) => results.push(m));
    w.on('error', (e) => {
      process.stdout.write(`worker error ${e.message}\n`);
      process.exitCode = 4;
    });
    w.on('exit', (code) => {
      if (code !== 0) process.exitCode = 5;
      if (++exited === jobs.length) process.stdout.write(`${JSON.stringify(results)}\n`);
    });
  }
}
