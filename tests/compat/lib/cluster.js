// Clusters for the tests: a real redis-server started on a free loopback
// port (nothing saved), and signalbox nodes through it. Used by
// tests/cluster.test.js and tests/cluster-resume.test.js.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const net = require('node:net');
const { startServer, freePort, nativeClient } = require('./harness');

const REDIS = process.env.REDIS_SERVER || '/usr/bin/redis-server';
const HEARTBEAT = 3;  // --cluster-timeout for these tests, seconds

function whySkip() {
  if (!process.env.SIGNALBOX_BIN) return 'SIGNALBOX_BIN is not set';
  if (process.env.SIGNALBOX_REDIS !== '1') return 'signalbox built without Redis support (-Dredis)';
  if (spawnSync(REDIS, ['--version']).status !== 0) return `no ${REDIS} (./run.sh test installs redis-server)`;
  return false;
}
const skip = whySkip();

async function startRedis(port) {
  port = port || await freePort();
  const child = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  child.stdout.on('data', (d) => output.push(d.toString()));
  child.stderr.on('data', (d) => output.push(d.toString()));
  const deadline = Date.now() + 10000;
  for (;;) {
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('connect', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => { socket.destroy(); resolve(false); });
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server: ${output.join('')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.on('exit', resolve);
      child.kill('SIGKILL');
    }),
  };
}

function startNode(redis, name, extra = []) {
  return startServer('000', ['--no-dbus', '--redis', redis.url, '--node-id', name,
    '--cluster-timeout', String(HEARTBEAT), ...extra]);
}

// Waits until every node's /healthz reports the cluster connected with
// all `count` nodes.
async function waitForCluster(nodes, count) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const reports = await Promise.all(nodes.map(async (node) => {
      const response = await fetch(`${node.url}/healthz`);
      return response.json();
    }));
    if (reports.every((r) => r.cluster && r.cluster.state === 'connected' && r.cluster.nodes.length === count)) {
      return reports;
    }
    if (Date.now() > deadline) throw new Error(`cluster not formed: ${JSON.stringify(reports)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

module.exports = { REDIS, HEARTBEAT, skip, freePort, startRedis, startNode, waitForCluster, nativeClient };
