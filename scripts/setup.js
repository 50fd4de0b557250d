#!/usr/bin/env node
// Makes a fresh clone ready, so that `npm test` and `npm run sample` work as the first command:
// system packages (librdkafka's headers, and for tests kcat, Java and Maven), `npm ci` when node_modules
// is missing or older than the lock file (for tests also in test/nest12, Nest 12 for the second Nest run),
// and the native build when the addon is missing.
// Uses nothing but Node itself: it runs before any dependency is installed.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const forTests = process.argv.includes('--tests');

function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`nestjs-kafka-fd: \`${command} ${args.join(' ')}\` failed`);
    process.exit(r.status ?? 1);
  }
}

run('bash', [path.join(__dirname, forTests ? 'setup-test-tools.sh' : 'setup-librdkafka.sh')]);

const marker = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');
if (!fs.existsSync(marker) || fs.statSync(marker).mtimeMs < fs.statSync(lock).mtimeMs) {
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
// The tests run the Nest suites a second time on Nest 12, installed in a folder of its own.
if (forTests) {
  const dir = path.join(root, 'test', 'nest12');
  const marker12 = path.join(dir, 'node_modules', '.package-lock.json');
  const lock12 = path.join(dir, 'package-lock.json');
  if (!fs.existsSync(marker12) || fs.statSync(marker12).mtimeMs < fs.statSync(lock12).mtimeMs) {
    run('npm', ['ci', '--no-audit', '--no-fund', '--prefix', dir]);
  }
}
if (!fs.existsSync(path.join(root, 'build', 'Release', 'kafka_fd.node'))) {
  run(process.execPath, [path.join(__dirname, 'build-native.js')]);
}
