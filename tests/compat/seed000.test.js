// Seed 000's client flow: ids from `your_id`, SDP and ICE relayed to a
// target id given in a JSON string. Runs against signalbox and against the
// seed replica; the assertions are the seed's real behaviour.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { TRANSPORTS, startServer, connect, next } = require('./lib/harness');

const SDP_OFFER = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
const SDP_ANSWER = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
const CANDIDATE = 'candidate:842163049 1 udp 1677729535 192.0.2.7 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0';

function envelope(target, fields) {
  return JSON.stringify({ targetClientId: target, ...fields });
}

async function peer(server, transport) {
  const socket = await connect(server, transport);
  const [id] = await next(socket, 'your_id');
  return { socket, id };
}

for (const transport of TRANSPORTS) {
  describe(`seed 000 over ${transport.name}`, () => {
    let server;
    const sockets = [];
    const join = async () => { const p = await peer(server, transport); sockets.push(p.socket); return p; };

    before(async () => { server = await startServer('000'); });
    after(async () => { sockets.forEach((s) => s.close()); await server.stop(); });

    it('sends your_id equal to the socket id on connect', async () => {
      const a = await join();
      assert.equal(typeof a.id, 'string');
      assert.equal(a.id, a.socket.id);
    });

    it('relays offer, answer and ICE between two peers with the sender id', async () => {
      const a = await join();
      const b = await join();

      a.socket.emit('offer_sdp', envelope(b.id, { sdp: SDP_OFFER }));
      assert.deepEqual(await next(b.socket, 'offer_sdp'), [{ from: a.id, sdp: SDP_OFFER }]);

      b.socket.emit('answer_sdp', envelope(a.id, { sdp: SDP_ANSWER }));
      assert.deepEqual(await next(a.socket, 'answer_sdp'), [{ from: b.id, sdp: SDP_ANSWER }]);

      a.socket.emit('send_ice', envelope(b.id, { candidate: CANDIDATE, mid: '0' }));
      assert.deepEqual(await next(b.socket, 'send_ice'), [{ from: a.id, candidate: CANDIDATE, mid: '0' }]);

      b.socket.emit('send_ice', envelope(a.id, { candidate: CANDIDATE, mid: 'audio' }));
      assert.deepEqual(await next(a.socket, 'send_ice'), [{ from: b.id, candidate: CANDIDATE, mid: 'audio' }]);
    });

    it('tells the sender when the target is not connected', async () => {
      const a = await join();
      a.socket.emit('offer_sdp', envelope('no-such-client', { sdp: SDP_OFFER }));
      assert.deepEqual(await next(a.socket, 'error'), [{ message: 'Target client not connected' }]);
      a.socket.emit('send_ice', envelope('no-such-client', { candidate: CANDIDATE, mid: '0' }));
      assert.deepEqual(await next(a.socket, 'error'), [{ message: 'Target client not connected' }]);
    });

    it('delivers only to the target among three peers', async () => {
      const a = await join();
      const b = await join();
      const c = await join();

      a.socket.emit('offer_sdp', envelope(b.id, { sdp: 'for b' }));
      assert.deepEqual(await next(b.socket, 'offer_sdp'), [{ from: a.id, sdp: 'for b' }]);
      // A's next message goes to C; had C got B's offer, it would come first.
      a.socket.emit('offer_sdp', envelope(c.id, { sdp: 'for c' }));
      assert.deepEqual(await next(c.socket, 'offer_sdp'), [{ from: a.id, sdp: 'for c' }]);
      assert.deepEqual(c.socket.received, []);

      // And C can answer A while B offers to C.
      c.socket.emit('answer_sdp', envelope(a.id, { sdp: 'c answers' }));
      b.socket.emit('offer_sdp', envelope(c.id, { sdp: 'b offers' }));
      assert.deepEqual(await next(a.socket, 'answer_sdp'), [{ from: c.id, sdp: 'c answers' }]);
      assert.deepEqual(await next(c.socket, 'offer_sdp'), [{ from: b.id, sdp: 'b offers' }]);
    });

    it('forgets a disconnected client and serves it again after reconnecting', async () => {
      const a = await join();
      const b = await join();
      const oldId = b.id;

      b.socket.close();
      // The server learns of the close on another connection than A's,
      // so ask again until it has: a bounded number of tries.
      let reply = null;
      for (let attempt = 0; attempt < 20 && reply === null; attempt++) {
        a.socket.emit('offer_sdp', envelope(oldId, { sdp: SDP_OFFER }));
        reply = await next(a.socket, 'error', 250).catch(() => null);
      }
      assert.deepEqual(reply, [{ message: 'Target client not connected' }]);

      const again = await join();
      assert.notEqual(again.id, oldId);
      a.socket.emit('offer_sdp', envelope(again.id, { sdp: SDP_OFFER }));
      assert.deepEqual(await next(again.socket, 'offer_sdp'), [{ from: a.id, sdp: SDP_OFFER }]);
    });
  });
}
