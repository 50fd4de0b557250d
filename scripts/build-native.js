#!/usr/bin/env node
// Builds the addon with node-gyp against the system librdkafka (pkg-config) and this Node's own headers,
// so that nothing is downloaded: node-gyp is pointed at the headers next to the running node binary.
//   LIBRDKAFKA_PREFIX=/opt/librdkafka  build against another librdkafka (its include/ and lib/ folders)
//   --force                            rebuild even when build/Release/kafka_fd.node exists
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const force = process.argv.includes('--force');
const out = path.join(root, 'build', 'Release', 'kafka_fd.node');

function fail(message) {
  console.error(`nestjs-kafka-fd: ${message}`);
  process.exit(1);
}

function haveLibrdkafka() {
  if (process.env.LIBRDKAFKA_PREFIX) {
    const header = path.join(process.env.LIBRDKAFKA_PREFIX, 'include', 'librdkafka', 'rdkafka.h');
    if (!fs.existsSync(header)) fail(`LIBRDKAFKA_PREFIX=${process.env.LIBRDKAFKA_PREFIX} has no ${header}`);
    return true;
  }
  return spawnSync('pkg-config', ['--exists', 'rdkafka']).status === 0;
}

if (!force && fs.existsSync(out)) process.exit(0);

if (!haveLibrdkafka()) {
  const setup = spawnSync('bash', [path.join(__dirname, 'setup-librdkafka.sh')], { stdio: 'inherit' });
  if (setup.status !== 0 || !haveLibrdkafka()) {
    fail('librdkafka was not found by pkg-config. Install its headers (Debian/Ubuntu: apt-get install ' +
      'librdkafka-dev pkg-config) or set LIBRDKAFKA_PREFIX to a librdkafka install, then run npm rebuild.');
  }
}

// node-gyp wants a folder holding include/node; an installed Node has one next to its binary.
const nodedir = path.resolve(path.dirname(process.execPath), '..');
const args = ['rebuild'];
if (fs.existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
else console.warn(`nestjs-kafka-fd: no Node headers under ${nodedir}/include/node; node-gyp will try to download them`);

// npm sets npm_config_node_gyp to its bundled node-gyp; outside npm, use the one that comes with npm.
let gyp = process.env.npm_config_node_gyp;
if (!gyp || !fs.existsSync(gyp)) {
  const npmRoot = execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['root', '-g']).toString().trim();
  gyp = path.join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}
const build = spawnSync(process.execPath, [gyp, ...args], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) fail('the native build failed (see above).');
