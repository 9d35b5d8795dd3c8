#!/usr/bin/env node
// One native client floods the server as fast as loopback carries its
// frames (messages to a room it is alone in, which nobody receives)
// while another measures ping round trips. Reports the prober's
// latency and what became of the flooder.
//
//   node bench/flood.js [--bin PATH] [--seconds S] [-- signalbox options...]
'use strict';

const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const modules = path.join(__dirname, '..', 'tests', 'compat', 'node_modules');
const WebSocket = require(path.join(modules, 'ws'));

const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const extra = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
const opt = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && (dashdash < 0 || i < dashdash) ? argv[i + 1] : fallback;
};
const bin = opt('--bin', path.join(__dirname, '..', '_build', 'src', 'daemon', 'signalbox'));
const seconds = Number(opt('--seconds', '5'));
const port = 20000 + Math.floor(Math.random() * 20000);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function frame(text) {
  const payload = Buffer.from(text);
  // FIN + text, masked with a zero key; payloads here are < 126 bytes.
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

async function flooder() {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
               'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  const state = { sent: 0, received: 0, closeCode: null, open: true };
  socket.on('data', (data) => {
    state.received += data.length;
    const i = data.indexOf(Buffer.from([0x88]));
    if (i >= 0 && i + 3 < data.length && state.closeCode === null) state.closeCode = data.readUInt16BE(i + 2);
  });
  socket.on('close', () => { state.open = false; });
  socket.on('error', () => { state.open = false; });
  socket.write(frame(JSON.stringify({ type: 'join', room: 'flood' })));
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => frame('{"type":"message","to":"flood","data":1}')));
  state.stop = () => { state.open = false; socket.destroy(); };
  (async () => {
    while (state.open) {
      state.sent += 1000;
      if (!socket.write(batch)) await new Promise((resolve) => socket.once('drain', resolve));
    }
  })().catch(() => {});
  return state;
}

async function main() {
  const child = spawn(bin, ['--no-dbus', '--address', '127.0.0.1', '--port', String(port), ...extra],
                      { stdio: ['ignore', 'ignore', 'pipe'] });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(50);
  }

  const prober = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await new Promise((resolve) => prober.once('message', resolve));
  const flood = await flooder();
  const rtts = [];
  const end = Date.now() + seconds * 1000;
  let rid = 0;
  while (Date.now() < end) {
    const start = process.hrtime.bigint();
    prober.send(JSON.stringify({ type: 'ping', rid: ++rid }));
    // A pong that does not come within 5 s counts as 5 s (and ends the run).
    const answered = await Promise.race([
      new Promise((resolve) => prober.once('message', () => resolve(true))),
      sleep(5000).then(() => false),
    ]);
    rtts.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (!answered) break;
    await sleep(10);
  }
  flood.stop();
  prober.close();
  child.kill('SIGKILL');

  rtts.sort((a, b) => a - b);
  const pct = (p) => rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * p))].toFixed(1);
  console.log(JSON.stringify({
    options: extra.join(' ') || '(defaults)',
    pings: rtts.length, p50_ms: pct(0.5), p99_ms: pct(0.99), max_ms: rtts[rtts.length - 1].toFixed(1),
    flooder_frames_written: flood.sent, flooder_close_code: flood.closeCode,
  }));
}

main().then(() => process.exit(0));
