import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/**
 * The e2e tests need a real Kafka broker. KAFKA_BROKERS names one that already runs; otherwise our script
 * starts one (and the teardown stops it). If it cannot start, the run fails: it never skips.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS) return;
  const kafka = path.join(root, 'scripts', 'kafka.sh');
  if (spawnSync('bash', [kafka, 'status']).status !== 0) {
    const started = spawnSync('bash', [kafka, 'start'], { stdio: 'inherit' });
    if (started.status !== 0) {
      throw new Error('The real Kafka broker could not start (scripts/kafka.sh start failed, see above); the e2e tests cannot run.');
    }
    process.env.KAFKA_FD_TEST_STARTED_BROKER = '1';
  }
  process.env.KAFKA_BROKERS = `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`;
}
