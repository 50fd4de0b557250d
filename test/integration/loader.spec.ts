import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

describe('loading the addon', () => {
  it('says what to install when the addon cannot be loaded', () => {
    const root = path.resolve(__dirname, '..', '..');
    const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e',
      "const { Producer } = require('./lib'); try { new Producer({ kafka: {} }); } catch (e) { console.log(e.name, e.code, e.message); }"],
    { cwd: root, env: { ...process.env, KAFKA_FD_ADDON: '/nonexistent/kafka_fd.node' } });
    const out = r.stdout.toString();
    expect(out).toMatch(/^KafkaFdError /);
    expect(out).toContain('apt-get install librdkafka-dev pkg-config');
    expect(out).toContain('npm rebuild nestjs-kafka-fd');
  });
});
