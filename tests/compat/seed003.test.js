// Seed 003's client flow: JoinSocket/LeaveSocket rooms, and offer, answer,
// candidate and hangup delivered io.to(room)-style. Runs against signalbox
// and against the seed replica; the assertions are the seed's behaviour.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { TRANSPORTS, startServer, connect, next } = require('./lib/harness');

// signalbox serves seed 000 too, so every client also gets seed 000's
// `your_id` on connect; seed 003 clients have no listener for it.
function unexpected(socket) {
  return socket.received.filter((r) => r.event !== 'your_id');
}

const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const CANDIDATE = { candidate: 'candidate:1 1 UDP 2122252543 192.0.2.1 54400 typ host', sdpMid: '0', sdpMLineIndex: 0 };

let counter = 0;
function userId(name) { counter += 1; return `${name}-${process.pid}-${counter}`; }

// A seed 003 user joins the room named by its own user id, as the seed's
// README shows.
async function user(server, transport, name) {
  const socket = await connect(server, transport);
  const id = userId(name);
  socket.emit('JoinSocket', id);
  return { socket, id };
}

// Seed 003 sends nothing back on join; a round trip through the room
// proves the join has been processed before the test goes on.
async function settle(u) {
  u.socket.emit('hangup', { to: u.id, from: u.id });
  assert.deepEqual(await next(u.socket, 'hangup'), [{ from: u.id }]);
}

for (const transport of TRANSPORTS) {
  describe(`seed 003 over ${transport.name}`, () => {
    let server;
    const sockets = [];
    const make = async (name) => { const u = await user(server, transport, name); sockets.push(u.socket); await settle(u); return u; };

    before(async () => { server = await startServer('003'); });
    after(async () => { sockets.forEach((s) => s.close()); await server.stop(); });

    it('relays offer, answer, candidate and hangup to the peer room', async () => {
      const alice = await make('alice');
      const bob = await make('bob');

      alice.socket.emit('offer', { to: bob.id, offer: OFFER, from: alice.id });
      assert.deepEqual(await next(bob.socket, 'offer'), [{ offer: OFFER, from: alice.id }]);

      bob.socket.emit('answer', { to: alice.id, answer: ANSWER, from: bob.id });
      assert.deepEqual(await next(alice.socket, 'answer'), [{ answer: ANSWER, from: bob.id }]);

      alice.socket.emit('candidate', { to: bob.id, candidate: CANDIDATE, from: alice.id });
      assert.deepEqual(await next(bob.socket, 'candidate'), [{ candidate: CANDIDATE, from: alice.id }]);

      bob.socket.emit('candidate', { to: alice.id, candidate: CANDIDATE, from: bob.id });
      assert.deepEqual(await next(alice.socket, 'candidate'), [{ candidate: CANDIDATE, from: bob.id }]);

      alice.socket.emit('hangup', { to: bob.id, from: alice.id });
      assert.deepEqual(await next(bob.socket, 'hangup'), [{ from: alice.id }]);
    });

    it('delivers to every member of the room, the sender included, and nobody else', async () => {
      const a = await make('a');
      const b = await make('b');
      const c = await make('c');
      const room = userId('room');

      a.socket.emit('JoinSocket', room);
      b.socket.emit('JoinSocket', room);
      await settle(a);
      await settle(b);

      a.socket.emit('offer', { to: room, offer: OFFER, from: a.id });
      assert.deepEqual(await next(a.socket, 'offer'), [{ offer: OFFER, from: a.id }]);
      assert.deepEqual(await next(b.socket, 'offer'), [{ offer: OFFER, from: a.id }]);

      // C is not in the room: the next thing C gets is what A sends it.
      a.socket.emit('offer', { to: c.id, offer: { type: 'offer', sdp: 'marker' }, from: a.id });
      assert.deepEqual(await next(c.socket, 'offer'), [{ offer: { type: 'offer', sdp: 'marker' }, from: a.id }]);
      assert.deepEqual(unexpected(c.socket), []);
    });

    it('stops delivering after LeaveSocket', async () => {
      const a = await make('a');
      const b = await make('b');
      const room = userId('room');

      b.socket.emit('JoinSocket', room);
      await settle(b);
      a.socket.emit('candidate', { to: room, candidate: CANDIDATE, from: a.id });
      assert.deepEqual(await next(b.socket, 'candidate'), [{ candidate: CANDIDATE, from: a.id }]);

      b.socket.emit('LeaveSocket', room);
      await settle(b);
      a.socket.emit('candidate', { to: room, candidate: CANDIDATE, from: a.id });
      a.socket.emit('hangup', { to: b.id, from: a.id });
      assert.deepEqual(await next(b.socket, 'hangup'), [{ from: a.id }]);
      assert.deepEqual(unexpected(b.socket), []);
    });

    it('does nothing for an empty room and keeps serving', async () => {
      const a = await make('a');
      a.socket.emit('offer', { to: userId('nobody'), offer: OFFER, from: a.id });
      a.socket.emit('hangup', { to: a.id, from: a.id });
      assert.deepEqual(await next(a.socket, 'hangup'), [{ from: a.id }]);
      assert.deepEqual(unexpected(a.socket), []);
    });

    it('lets a peer rejoin after reconnecting', async () => {
      const a = await make('a');
      const b = await make('b');
      b.socket.close();
      const again = await connect(server, transport);
      sockets.push(again);
      again.emit('JoinSocket', b.id);
      await settle({ socket: again, id: b.id });
      a.socket.emit('offer', { to: b.id, offer: OFFER, from: a.id });
      assert.deepEqual(await next(again, 'offer'), [{ offer: OFFER, from: a.id }]);
    });
  });
}
