// Starts the server under test and gives tests real socket.io-client sockets.
//
// COMPAT_TARGET=signalbox (with SIGNALBOX_BIN) runs the signalbox daemon,
// which serves both seed vocabularies at once; COMPAT_TARGET=reference runs
// the seed servers' Node replicas in reference/. Every wait has a timeout
// that only guards against hangs; nothing sleeps to synchronize.
'use strict';

const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const assert = require('node:assert/strict');
const { io } = require('socket.io-client');
const WebSocket = require('ws');

const target = process.env.COMPAT_TARGET || (process.env.SIGNALBOX_BIN ? 'signalbox' : 'reference');
const TIMEOUT = 5000;

const TRANSPORTS = [
  { name: 'websocket', options: { transports: ['websocket'] } },
  { name: 'polling then upgrade', options: {}, upgrades: true },
  { name: 'polling', options: { transports: ['polling'], upgrade: false } },
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function waitForPort(port, child, output) {
  const deadline = Date.now() + 10000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        reject(new Error(`server exited (${child.exitCode}): ${output.join('')}`));
        return;
      }
      const socket = net.connect(port, '127.0.0.1');
      socket.on('connect', () => { socket.destroy(); resolve(); });
      socket.on('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`server not listening: ${output.join('')}`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

// seed is '000' or '003': which replica to run for the reference target.
// extraArgs: more signalbox options for this server (ignored by the
// replicas).
async function startServer(seed, extraArgs = []) {
  const port = await freePort();
  let child;
  if (target === 'signalbox') {
    const extra = (process.env.SIGNALBOX_ARGS || '').split(/\s+/).filter(Boolean);
    // A GLib critical or warning anywhere in a test aborts the daemon, and
    // stop() below fails the suite on it.
    child = spawn(process.env.SIGNALBOX_BIN,
      ['--address', '127.0.0.1', '--port', String(port), ...extra, ...extraArgs],
      { env: { ...process.env, G_DEBUG: 'fatal-criticals' }, stdio: ['ignore', 'pipe', 'pipe'] });
  } else {
    child = spawn(process.execPath, [path.join(__dirname, '..', 'reference', `seed${seed}.js`)],
      { env: { ...process.env, PORT: String(port), QUIET: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  }
  const output = [];
  child.stdout.on('data', (d) => output.push(d.toString()));
  child.stderr.on('data', (d) => output.push(d.toString()));
  await waitForPort(port, child, output);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    output,
    child,
    alive: () => child.exitCode === null,
    // Stops the server; for signalbox, fails unless it exited 0 with no
    // critical or warning logged along the way.
    stop: () => new Promise((resolve, reject) => {
      const check = () => {
        const log = output.join('');
        if (target === 'signalbox' && (child.exitCode !== 0 || /-(CRITICAL|WARNING) \*\*/.test(log))) {
          reject(new Error(`signalbox exited with ${child.exitCode ?? child.signalCode}:\n${log.slice(-4000)}`));
        } else {
          resolve();
        }
      };
      if (child.exitCode !== null || child.signalCode !== null) { check(); return; }
      child.on('exit', check);
      child.kill('SIGTERM');
    }),
  };
}

function once(emitter, event, what = event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${what}"`)), TIMEOUT);
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args.length > 1 ? args : args[0]); });
  });
}

// Connects a socket and records every event it receives, in order.
async function connect(server, transport, extra = {}) {
  const socket = io(server.url, {
    forceNew: true,
    reconnection: false,
    timeout: TIMEOUT,
    ...transport.options,
    ...extra,
  });
  socket.received = [];
  socket.onAny((event, ...args) => socket.received.push({ event, args }));
  await once(socket, 'connect');
  if (transport.upgrades) {
    if (socket.io.engine.transport.name !== 'websocket') await once(socket.io.engine, 'upgrade');
  }
  return socket;
}

// Resolves with the args of the next `event` on socket (already-received
// ones included), in the order they came.
function next(socket, event, timeout = TIMEOUT) {
  const index = socket.received.findIndex((r) => r.event === event);
  if (index >= 0) {
    const [record] = socket.received.splice(index, 1);
    return Promise.resolve(record.args);
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.offAny(listener);
      reject(new Error(`timed out waiting for "${event}"; got ${JSON.stringify(socket.received)}`));
    }, timeout);
    const listener = (name) => {
      if (name !== event) return;
      clearTimeout(timer);
      socket.offAny(listener);
      // onAny listeners run in order: ours was added after the recorder.
      const i = socket.received.findIndex((r) => r.event === event);
      const [record] = socket.received.splice(i, 1);
      resolve(record.args);
    };
    socket.onAny(listener);
  });
}

// A native peer of @server, greeted: `id`, `welcome`, and what it hears
// through receive()/expect(); @query, e.g. `?resume=TOKEN`.
function nativeClient(server, query = '') {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`);
    const queue = [];
    const waiters = [];
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      const waiter = waiters.shift();
      if (waiter) waiter(frame); else queue.push(frame);
    });
    ws.on('error', reject);
    ws.receive = (timeout = TIMEOUT) => (queue.length > 0
      ? Promise.resolve(queue.shift())
      : new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error('timed out waiting for a native frame')), timeout);
        waiters.push((frame) => { clearTimeout(timer); res(frame); });
      }));
    // The next frame of `type`, skipping none: anything else first fails.
    ws.expect = async (type) => {
      const frame = await ws.receive();
      assert.equal(frame.type, type, `expected ${type}, got ${JSON.stringify(frame)}`);
      return frame;
    };
    ws.pending = () => queue.slice();
    ws.sendJson = (object) => ws.send(JSON.stringify(object));
    ws.once('open', async () => {
      try {
        let welcome = await ws.receive();
        if (welcome.type === 'error') {
          ws.refused = welcome;  // a resume-failed comes before the welcome
          welcome = await ws.receive();
        }
        assert.equal(welcome.type, 'welcome', `expected a welcome, got ${JSON.stringify(welcome)}`);
        ws.welcome = welcome;
        ws.id = welcome.id;
        resolve(ws);
      } catch (error) {
        reject(error);
      }
    });
  });
}

// A server's /healthz, parsed.
async function health(server) {
  return (await fetch(`${server.url}/healthz`)).json();
}

// Polls /healthz until @predicate holds: e.g. until the server has seen
// a cut (frames written to a transport it has not yet seen broken are
// lost with it).
async function waitFor(server, predicate, what, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const h = await health(server);
    if (predicate(h)) return h;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(h)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

module.exports = { target, TRANSPORTS, startServer, connect, once, next, TIMEOUT, freePort, nativeClient, health, waitFor };
