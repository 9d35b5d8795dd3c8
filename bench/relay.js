#!/usr/bin/env node
// Relay benchmark: pairs of peers play offer/answer ping-pong through a
// server for a fixed time: socket.io-client with seed 000's vocabulary,
// or (--protocol native, signalbox only) raw WebSockets on /ws.
// Reports round trips per second, latency percentiles, and the server's
// CPU time and peak memory, so signalbox and the Node replica of the
// seed server can be compared on the same machine.
//
//   node bench/relay.js --server signalbox|seed000 [--pairs 50]
//                       [--seconds 10] [--sdp-bytes 2000]
//                       [--transport websocket|polling] [--protocol socket.io|native]
//
// Needs tests/compat/node_modules (npm ci there) and, for signalbox,
// a build in _build (or SIGNALBOX_BIN).
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const root = path.join(__dirname, '..');
const { io } = require(path.join(root, 'tests/compat/node_modules/socket.io-client'));
const WebSocket = require(path.join(root, 'tests/compat/node_modules/ws'));

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : fallback;
}

const serverKind = option('server', 'signalbox');
const pairs = Number(option('pairs', 50));
const seconds = Number(option('seconds', 10));
const sdpBytes = Number(option('sdp-bytes', 2000));
const transport = option('transport', 'websocket');
const protocol = option('protocol', 'socket.io');

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port) {
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('connect', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('server did not start');
}

function startServer(port) {
  if (serverKind === 'signalbox') {
    const bin = process.env.SIGNALBOX_BIN || path.join(root, '_build/src/daemon/signalbox');
    return spawn(bin, ['--no-dbus', '--address', '127.0.0.1', '--port', String(port)],
      { stdio: 'ignore' });
  }
  return spawn(process.execPath, [path.join(root, 'tests/compat/reference/seed000.js')],
    { env: { ...process.env, PORT: String(port), QUIET: '1' }, stdio: 'ignore' });
}

// utime + stime in seconds, and peak resident memory in KiB.
function usage(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)[1]);
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return { cpu: ticks / 100, hwm, rss };
}

function connectSocketIO(url) {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      forceNew: true, reconnection: false,
      transports: transport === 'polling' ? ['polling'] : ['websocket'],
    });
    socket.once('your_id', (id) => resolve({ socket, id }));
    socket.once('connect_error', reject);
  });
}

// A native /ws peer made to look like a socket.io-client one to the
// loop below: emit(event, jsonString) and on(event, handler(object)).
function connectNative(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { perMessageDeflate: false });
    const handlers = {};
    const kinds = { offer_sdp: 'offer', answer_sdp: 'answer' };
    const events = { offer: 'offer_sdp', answer: 'answer_sdp', error: 'error' };
    const socket = {
      on: (event, handler) => { handlers[event] = handler; },
      emit: (event, text) => {
        const { targetClientId, sdp } = JSON.parse(text);
        ws.send(JSON.stringify({ type: kinds[event], to: targetClientId, sdp }));
      },
      close: () => ws.close(),
    };
    ws.on('message', (data) => {
      const message = JSON.parse(data);
      if (message.type === 'welcome') { resolve({ socket, id: message.id }); return; }
      const handler = handlers[events[message.type]];
      if (handler) handler(message);
    });
    ws.once('error', reject);
  });
}

function connect(url) {
  return protocol === 'native' ? connectNative(url) : connectSocketIO(url);
}

async function main() {
  const port = await freePort();
  const child = startServer(port);
  await waitForPort(port);
  const url = `http://127.0.0.1:${port}`;

  const idle = usage(child.pid);
  const peers = [];
  for (let i = 0; i < pairs * 2; i++) peers.push(await connect(url));
  const connected = usage(child.pid);

  const sdp = 'v=0 '.padEnd(sdpBytes, 'a');
  const latencies = [];
  let running = true;
  let errors = 0;

  for (let i = 0; i < pairs; i++) {
    const a = peers[2 * i];
    const b = peers[2 * i + 1];
    const sentAt = new Map();
    let seq = 0;
    const offer = () => {
      if (!running) return;
      const n = seq++;
      sentAt.set(n, process.hrtime.bigint());
      a.socket.emit('offer_sdp', JSON.stringify({ targetClientId: b.id, sdp: `${n} ${sdp}` }));
    };
    b.socket.on('offer_sdp', ({ from, sdp: received }) => {
      b.socket.emit('answer_sdp', JSON.stringify({ targetClientId: from, sdp: received }));
    });
    a.socket.on('answer_sdp', ({ sdp: received }) => {
      const n = Number(received.slice(0, received.indexOf(' ')));
      latencies.push(Number(process.hrtime.bigint() - sentAt.get(n)) / 1e6);
      sentAt.delete(n);
      offer();
    });
    a.socket.on('error', () => { errors++; });
    offer();
  }

  const before = usage(child.pid);
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  running = false;
  const elapsed = (Date.now() - started) / 1000;
  const after = usage(child.pid);

  latencies.sort((x, y) => x - y);
  const pct = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2) : 'n/a';
  const result = {
    server: serverKind,
    protocol,
    transport,
    clients: pairs * 2,
    seconds: elapsed,
    round_trips_per_s: Math.round(latencies.length / elapsed),
    relayed_messages_per_s: Math.round((2 * latencies.length) / elapsed),
    latency_ms: { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: pct(1) },
    server_cpu_s: Number((after.cpu - before.cpu).toFixed(2)),
    server_rss_kib: { idle: idle.rss, connected: connected.rss, peak: after.hwm },
    errors,
  };
  console.log(JSON.stringify(result));

  peers.forEach(({ socket }) => socket.close());
  child.kill('SIGTERM');
  process.exit(0);
}

main().catch((error) => { console.error(error); process.exit(1); });
