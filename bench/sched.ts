import * as fs from 'node:fs';

/**
 * The JS thread's time on a CPU and waiting on the run queue for one, in ns, from the kernel's
 * /proc/thread-self/schedstat (Linux; undefined elsewhere). A loop turn's wall time beyond the two is time
 * the thread slept (a lock, a syscall). Read with pread on a descriptor opened once: about 10 us a read.
 */
export class ThreadSched {
  private readonly fd: number | undefined;
  private readonly buf = Buffer.alloc(96);

  constructor() {
    try {
      this.fd = fs.openSync('/proc/thread-self/schedstat', 'r');
    } catch {
      this.fd = undefined;
    }
  }

  /** [run ns, run-queue wait ns] so far, or undefined without schedstat. */
  read(): [number, number] | undefined {
    if (this.fd === undefined) return undefined;
    const n = fs.readSync(this.fd, this.buf, 0, this.buf.length, 0);
    const [run, wait] = this.buf.toString('latin1', 0, n).split(' ').map(Number);
    return [run, wait];
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
  }
}
