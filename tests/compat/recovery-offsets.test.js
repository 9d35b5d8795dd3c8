// Socket.IO Connection State Recovery with offsets (--recovery-offsets,
// issue 17): every event carries socket.io's offset after its arguments,
// a recovering client names the last one it got, and is sent what came
// after it, what a dead transport swallowed included, once and in order.
// Off by default (docs/design.md says why); signalbox only.
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { target, TRANSPORTS, startServer, connect, next, once, health, waitFor } = require('./lib/harness');

const skip = target !== 'signalbox' && 'recovery offsets are a signalbox setting';
const WEBSOCKET = TRANSPORTS.find((t) => t.name === 'websocket');
const TIMEOUT = 5000;

// A Socket.IO client written by hand over a WebSocket, so that the test
// decides which offset it says it got last. `packets` are the Socket.IO
// packets it heard (Engine.IO messages without their leading "4").
function rawClient(server, auth) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    const packets = [];
    const waiters = [];
    ws.packets = packets;
    ws.on('error', reject);
    ws.on('message', (data) => {
      const text = data.toString();
      if (text[0] === '0') {
        ws.send(auth ? `40${JSON.stringify(auth)}` : '40');
      } else if (text === '2') {
        ws.send('3');
      } else if (text[0] === '4') {
        packets.push(text.slice(1));
        for (const waiter of waiters.splice(0)) waiter();
      }
    });
    ws.nextPacket = async () => {
      const deadline = Date.now() + TIMEOUT;
      while (packets.length === 0) {
        if (Date.now() > deadline) throw new Error('timed out waiting for a Socket.IO packet');
        await new Promise((res) => { waiters.push(res); setTimeout(res, 50); });
      }
      return packets.shift();
    };
    // The next EVENT, as [name, ...args].
    ws.nextEvent = async () => {
      const packet = await ws.nextPacket();
      assert.equal(packet[0], '2', `expected an event, got ${packet}`);
      return JSON.parse(packet.slice(1));
    };
    ws.once('open', async () => {
      try {
        const reply = await ws.nextPacket();
        assert.equal(reply.slice(0, 1), '0', `expected a CONNECT reply, got ${reply}`);
        ws.connected = JSON.parse(reply.slice(1));
        resolve(ws);
      } catch (error) {
        reject(error);
      }
    });
  });
}

function offer(sender, to, sdp) {
  sender.emit('offer_sdp', JSON.stringify({ targetClientId: to, sdp }));
}

describe('Socket.IO recovery offsets', { skip }, () => {
  it('puts an offset after every event, which handlers of one argument ignore', async () => {
    const server = await startServer('000', ['--recovery-offsets']);
    try {
      const a = await connect(server, WEBSOCKET);
      const b = await connect(server, WEBSOCKET);
      const [id, firstOffset] = await next(a, 'your_id');
      assert.equal(id, a.id);
      assert.equal(typeof firstOffset, 'string');
      const [bId] = await next(b, 'your_id');

      const heard = once(b, 'offer_sdp');  // a handler's first argument
      offer(a, bId, 'v=0 offsets');
      assert.deepEqual(await heard, [{ from: a.id, sdp: 'v=0 offsets' }, '1']);
      a.close();
      b.close();
    } finally {
      await server.stop();
    }
  });

  it('replays from the offset the client names, what a dead transport swallowed included', async () => {
    const server = await startServer('000', ['--recovery-offsets']);
    try {
      const sender = await connect(server, WEBSOCKET);
      const first = await rawClient(server);
      const { sid, pid } = first.connected;
      assert.equal(typeof pid, 'string');
      const [, id, offset0] = await first.nextEvent();
      assert.equal(id, sid);
      for (let i = 0; i < 3; i++) offer(sender, sid, `live ${i}`);
      const live = [];
      for (let i = 0; i < 3; i++) live.push(await first.nextEvent());
      assert.deepEqual(live.map((e) => e[1].sdp), ['live 0', 'live 1', 'live 2']);

      // The client says it got only the first offer: the two after it
      // reached a transport that (for all the client knows) was dead.
      first.terminate();
      await waitFor(server, (h) => h.waitingForResume === 1, 'the server to see the cut');
      offer(sender, sid, 'gap');
      await new Promise((resolve) => setTimeout(resolve, 100));

      const again = await rawClient(server, { pid, offset: live[0][2] });
      assert.deepEqual(again.connected, { sid, pid });
      const replayed = [];
      for (let i = 0; i < 3; i++) replayed.push(await again.nextEvent());
      assert.deepEqual(replayed.map((e) => e[1].sdp), ['live 1', 'live 2', 'gap']);
      assert.deepEqual(replayed.slice(0, 2), live.slice(1));  // with their own offsets
      assert.notEqual(offset0, live[0][2]);

      // Nothing twice: the next event is a new one.
      offer(sender, sid, 'after');
      const after = await again.nextEvent();
      assert.equal(after[1].sdp, 'after');
      assert.deepEqual(again.packets, []);

      const h = await health(server);
      assert.equal(h.resumed, 1);
      assert.equal(h.resumeFailed, 0);
      again.close();
      sender.close();
    } finally {
      await server.stop();
    }
  });

  it('gives a new socket for an offset older than what was kept', async () => {
    const server = await startServer('000', ['--recovery-offsets', '--resume-buffer=400']);
    try {
      const sender = await connect(server, WEBSOCKET);
      const first = await rawClient(server);
      const { sid, pid } = first.connected;
      const [, , offset0] = await first.nextEvent();
      for (let i = 0; i < 10; i++) offer(sender, sid, `event ${i} ${'x'.repeat(40)}`);
      for (let i = 0; i < 10; i++) await first.nextEvent();
      first.terminate();
      await waitFor(server, (h) => h.waitingForResume === 1, 'the server to see the cut');

      const again = await rawClient(server, { pid, offset: offset0 });
      assert.notEqual(again.connected.sid, sid);
      assert.notEqual(again.connected.pid, pid);
      const h = await health(server);
      assert.equal(h.resumed, 0);
      assert.equal(h.resumeFailed, 1);
      again.close();
      sender.close();
    } finally {
      await server.stop();
    }
  });

  it('recovers a real socket.io-client, each event once', async () => {
    const server = await startServer('000', ['--recovery-offsets']);
    try {
      const a = await connect(server, WEBSOCKET);
      const b = await connect(server, WEBSOCKET, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 });
      const [bId] = await next(b, 'your_id');
      offer(a, bId, 'before');
      assert.equal((await next(b, 'offer_sdp'))[0].sdp, 'before');

      b.io.reconnection(false);
      const dropped = once(b, 'disconnect');
      b.io.engine.close();
      await dropped;
      await waitFor(server, (h) => h.waitingForResume === 1, 'the server to see the cut');
      offer(a, bId, 'gap');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const reconnected = once(b, 'connect');
      b.io.reconnection(true);
      b.connect();
      await reconnected;

      assert.equal(b.recovered, true);
      assert.equal(b.id, bId);
      assert.equal((await next(b, 'offer_sdp'))[0].sdp, 'gap');
      offer(a, bId, 'after');
      assert.equal((await next(b, 'offer_sdp'))[0].sdp, 'after');
      assert.deepEqual(b.received.filter((r) => r.event === 'offer_sdp'), []);  // "before" not again
      a.close();
      b.close();
    } finally {
      await server.stop();
    }
  });
});
