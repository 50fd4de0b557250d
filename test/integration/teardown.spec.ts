// worker.terminate() with messages in flight: every kind of client (global and dedicated pollers, thread
// mode, pending produce() promises, produceMany, a transaction, the queue-full backlog, a close in progress, a consumer)
// is terminated at
// random points of a 20,000-message send loop, round after round. The process survives (before the fix it
// aborted within a few rounds: node-addon-api's error construction is fatal once JS cannot run), and its
// fds and threads come back to the baseline.
import { runFixture } from '../support/child';

describe('teardown', () => {
  it('workers terminated mid-flight, 12 rounds of 9 kinds: the process survives, fds and threads return', async () => {
    const seed = String(Date.now() % 100000);
    const run = await runFixture('worker-terminate.ts', ['12', seed], 240000);
    const summary = run.stdout.trim().split('\n').pop() ?? '';
    process.stdout.write(`teardown (seed ${seed}): ${summary}\n`);
    if (run.code !== 0 || run.signal) process.stdout.write(`stdout:\n${run.stdout.slice(-3000)}\nstderr:\n${run.stderr.slice(-3000)}\n`);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    const r = JSON.parse(summary) as { terminated: number; midBatch: number; baseline: { fds: number; threads: number }; end: { fds: number; threads: number } };
    expect(r.terminated).toBe(108);
    // Consumers cut with a batch in their handler (after their first batch began): most rounds.
    expect(r.midBatch).toBeGreaterThan(0);
    expect(r.end.fds).toBeLessThanOrEqual(r.baseline.fds);
    expect(r.end.threads).toBeLessThanOrEqual(r.baseline.threads);
  }, 300000);
});
