import { spawn } from 'node:child_process';
import * as path from 'node:path';

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a fixture script (TypeScript, via ts-node) in its own Node process. */
export function runFixture(name: string, args: string[], timeoutMs = 60000, env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  const script = path.resolve(__dirname, '..', 'fixtures', name);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script, ...args], {
      cwd: path.resolve(__dirname, '..', '..'),
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}
