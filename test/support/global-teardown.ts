import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** Stops the broker only if the setup started it. */
export default async function globalTeardown(): Promise<void> {
  if (process.env.KAFKA_FD_TEST_STARTED_BROKER !== '1') return;
  spawnSync('bash', [path.resolve(__dirname, '..', '..', 'scripts', 'kafka.sh'), 'stop'], { stdio: 'inherit' });
}
