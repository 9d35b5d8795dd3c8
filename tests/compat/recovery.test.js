// Socket.IO Connection State Recovery (issue 17): a real socket.io-client
// 4.8 whose transport is cut reconnects with `socket.recovered`, the same
// `socket.id`, its rooms and what was sent to it in the gap, once and in
// order, while the others in its room see no leave. signalbox keeps the
// socket as it keeps a native session (resume-window, resume-buffer) and
// by default resumes by the CONNECT reply's `pid` alone (docs/design.md
// says why; recovery-offsets.test.js has the offsets). signalbox only:
// the seed replicas do not turn recovery on.
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const { target, TRANSPORTS, startServer, connect, next, once, health, waitFor } = require('./lib/harness');

const skip = target !== 'signalbox' && 'the seed replicas do not enable connection state recovery; signalbox only';

const WEBSOCKET = TRANSPORTS.find((t) => t.name === 'websocket');
const POLLING = TRANSPORTS.find((t) => t.name === 'polling');
const RECONNECTING = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 };

function token(claims, secret) {
  const b64url = (data) => Buffer.from(data).toString('base64url');
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const signature = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

let counter = 0;
function name(what) { counter += 1; return `${what}-${process.pid}-${counter}`; }

// A seed 003 room round trip, so that a join has been processed.
async function settle(socket, room, from) {
  socket.emit('hangup', { to: room, from });
  await next(socket, 'hangup');
}

// A native peer in @room, recording what it hears.
async function nativePeer(server, room) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
  ws.heard = [];
  ws.on('message', (data) => ws.heard.push(JSON.parse(data.toString())));
  await once(ws, 'open');
  ws.send(JSON.stringify({ type: 'join', room }));
  const deadline = Date.now() + 5000;
  while (!ws.heard.some((m) => m.type === 'joined')) {
    if (Date.now() > deadline) throw new Error(`native peer not joined: ${JSON.stringify(ws.heard)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return ws;
}

const CUTS = {
  // socket.io's own way to drop the transport from the client side.
  'client side (engine.close())': (socket) => socket.io.engine.close(),
  // The TCP connection dies without a close frame or packet, as when
  // the network goes: the server sees EOF.
  'TCP connection killed': (socket) => {
    const transport = socket.io.engine.transport;
    if (transport.ws) transport.ws._socket.destroy();
    else socket.io.engine.close();
  },
};

describe('Socket.IO connection state recovery', { skip }, () => {
  for (const transport of [WEBSOCKET, POLLING]) {
    for (const [cutName, cut] of Object.entries(CUTS)) {
      it(`recovers id, rooms and missed events (${transport.name}, ${cutName})`, async () => {
        const server = await startServer('003');
        try {
          const room = name('room');
          const a = await connect(server, transport);
          const b = await connect(server, transport, RECONNECTING);
          const native = await nativePeer(server, room);
          a.emit('JoinSocket', room);
          b.emit('JoinSocket', room);
          await settle(a, room, 'a');
          await settle(b, room, 'b');
          const id = b.id;
          assert.deepEqual(await next(b, 'your_id'), [id]);
          assert.equal(b.recovered, false);

          // Held back until the gap is over: socket.io-client reconnects
          // in a few milliseconds, before anything could be sent.
          b.io.reconnection(false);
          const dropped = once(b, 'disconnect');
          cut(b);
          await dropped;
          await waitFor(server, (h) => h.waitingForResume === 1, 'the server to see the cut');
          for (let i = 0; i < 3; i++) a.emit('offer', { to: room, offer: { type: 'offer', sdp: `gap ${i}` }, from: 'a' });
          const sent = [];  // a is in the room too: what it got is what b must get
          for (let i = 0; i < 3; i++) sent.push(await next(a, 'offer'));
          const reconnected = once(b, 'connect');
          b.io.reconnection(true);
          b.connect();
          await reconnected;

          assert.equal(b.recovered, true);
          assert.equal(b.id, id);
          for (let i = 0; i < 3; i++) {
            assert.equal(sent[i][0].offer.sdp, `gap ${i}`);
            assert.deepEqual(await next(b, 'offer'), sent[i]);
          }
          // Still in the room, and nothing twice.
          a.emit('offer', { to: room, offer: { type: 'offer', sdp: 'after' }, from: 'a' });
          assert.deepEqual(await next(b, 'offer'), await next(a, 'offer'));
          assert.deepEqual(b.received.filter((r) => r.event === 'offer'), []);
          assert.deepEqual(b.received.filter((r) => r.event === 'your_id'), []);  // same id: not said again

          const h = await health(server);
          assert.equal(h.resumed, 1);
          assert.equal(h.resumeFailed, 0);
          assert.equal(h.waitingForResume, 0);
          assert.equal(h.clients, 3);
          assert.deepEqual(native.heard.filter((m) => m.type === 'peer-left'), []);
          native.close();
          a.close();
          b.close();
        } finally {
          await server.stop();
        }
      });
    }
  }

  it('gives a new socket after the window', async () => {
    const server = await startServer('003', ['--resume-window=1']);
    try {
      const native = await nativePeer(server, 'window');
      const b = await connect(server, WEBSOCKET, RECONNECTING);
      b.emit('JoinSocket', 'window');
      await settle(b, 'window', 'b');
      const id = b.id;
      b.io.reconnection(false);
      b.io.engine.close();
      await waitFor(server, (h) => h.waitingForResume === 1, 'the server to see the cut');
      await waitFor(server, (h) => h.waitingForResume === 0, 'the window to end');
      const reconnected = once(b, 'connect');
      b.connect();
      await reconnected;
      assert.equal(b.recovered, false);
      assert.notEqual(b.id, id);
      const left = native.heard.filter((m) => m.type === 'peer-left');
      assert.equal(left.length, 1);
      assert.equal(left[0].id ?? left[0].from ?? left[0].peer, id);
      assert.equal((await health(server)).resumeFailed, 1);
      native.close();
      b.close();
    } finally {
      await server.stop();
    }
  });

  it('gives a new socket when the buffer overflows', async () => {
    const server = await startServer('003', ['--resume-buffer=300']);
    try {
      const a = await connect(server, WEBSOCKET);
      const b = await connect(server, WEBSOCKET, RECONNECTING);
      a.emit('JoinSocket', 'full');
      b.emit('JoinSocket', 'full');
      await settle(a, 'full', 'a');
      await settle(b, 'full', 'b');
      const id = b.id;
      b.io.reconnection(false);
      b.io.engine.close();
      await waitFor(server, (h) => h.waitingForResume === 1, 'the server to see the cut');
      a.emit('offer', { to: 'full', offer: { type: 'offer', sdp: 'x'.repeat(400) }, from: 'a' });
      await waitFor(server, (h) => h.waitingForResume === 0, 'the overflow to end the socket');
      const reconnected = once(b, 'connect');
      b.connect();
      await reconnected;
      assert.equal(b.recovered, false);
      assert.notEqual(b.id, id);
      a.close();
      b.close();
    } finally {
      await server.stop();
    }
  });

  it('refuses forged pids, and pids of sockets that have ended', async () => {
    const server = await startServer('003');
    try {
      const forged = await connect(server, WEBSOCKET, { auth: { pid: 'forged', offset: 'x' } });
      assert.equal(forged.recovered, false);
      assert.equal((await health(server)).resumeFailed, 1);

      const b = await connect(server, WEBSOCKET, RECONNECTING);
      const id = b.id;
      const pid = b._pid;
      assert.equal(typeof pid, 'string');
      const reconnected = once(b, 'connect');
      b.io.engine.close();
      await reconnected;
      assert.equal(b.recovered, true);
      assert.equal(b._pid, pid);  // socket.io keeps the pid for the socket's life

      // A client's leave ends the socket: its pid recovers nothing more.
      b.close();
      await waitFor(server, (h) => h.clients === 1, 'b to leave');
      const replayed = await connect(server, WEBSOCKET, { auth: { pid, offset: 'x' } });
      assert.equal(replayed.recovered, false);
      assert.notEqual(replayed.id, id);
      const h = await health(server);
      assert.equal(h.resumed, 1);
      assert.equal(h.resumeFailed, 2);
      forged.close();
      replayed.close();
    } finally {
      await server.stop();
    }
  });
  it('takes over a socket whose old transport the server still thinks open', async () => {
    const server = await startServer('003');
    try {
      const native = await nativePeer(server, 'takeover');
      const old = await connect(server, WEBSOCKET);
      old.emit('JoinSocket', 'takeover');
      await settle(old, 'takeover', 'old');
      const oldGone = once(old, 'disconnect');
      // The same client on a new transport, before any cut was seen.
      const taken = await connect(server, WEBSOCKET, { auth: { pid: old._pid, offset: 'x' } });
      // A new io() has no _pid of its own, so it cannot say `recovered`;
      // the id says it.
      assert.equal(taken.id, old.id);
      assert.equal(taken._pid, old._pid);
      await oldGone;
      await settle(taken, 'takeover', 'taken');  // still in the room
      const h = await health(server);
      assert.equal(h.clients, 2);
      assert.equal(h.resumed, 1);
      assert.deepEqual(native.heard.filter((m) => m.type === 'peer-left'), []);
      native.close();
      taken.close();
    } finally {
      await server.stop();
    }
  });

  it('with tokens on, recovers a socket only for its own peer', async () => {
    const secret = 'recovery-secret';
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signalbox-recovery-'));
    fs.writeFileSync(path.join(dir, 'auth'), `${secret}\n`, { mode: 0o600 });
    const server = await startServer('003', ['--auth-secret-file', path.join(dir, 'auth')]);
    try {
      const exp = Math.floor(Date.now() / 1000) + 60;
      const alice = { token: token({ sub: 'alice', exp }, secret) };
      const mallory = { token: token({ sub: 'mallory', exp }, secret) };
      const a = await connect(server, WEBSOCKET, { ...RECONNECTING, auth: alice });
      const pid = a._pid;
      a.io.reconnection(false);
      a.io.engine.close();
      await waitFor(server, (h) => h.waitingForResume === 1, 'the server to see the cut');

      const m = await connect(server, WEBSOCKET, { auth: { ...mallory, pid, offset: 'x' } });
      assert.equal(m.recovered, false);
      assert.notEqual(m.id, a.id);
      m.close();

      const reconnected = once(a, 'connect');
      a.connect();
      await reconnected;
      assert.equal(a.recovered, false);  // mallory spent the pid
      a.close();
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
