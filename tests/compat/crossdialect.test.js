// A native WebSocket client (/ws) and Socket.IO clients of both seed
// vocabularies signalling each other through signalbox. The translation
// table is in docs/protocol.md. signalbox only: the seeds had no native
// protocol.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { target, TRANSPORTS, startServer, connect, next, nativeClient } = require('./lib/harness');

const skip = target !== 'signalbox' && 'the seed servers have no native protocol; signalbox only';

for (const transport of TRANSPORTS) {
  describe(`native ↔ Socket.IO over ${transport.name}`, { skip }, () => {
    let server;
    before(async () => { server = await startServer('000'); });
    after(async () => { await server.stop(); });

    it('native ↔ seed 000: offer_sdp, answer_sdp and send_ice', async () => {
      const native = await nativeClient(server);
      const sio = await connect(server, transport);
      const [sioId] = await next(sio, 'your_id');

      native.sendJson({ type: 'offer', to: sioId, sdp: 'v=0 native offer' });
      assert.deepEqual(await next(sio, 'offer_sdp'), [{ from: native.id, sdp: 'v=0 native offer' }]);

      sio.emit('answer_sdp', JSON.stringify({ targetClientId: native.id, sdp: 'v=0 sio answer' }));
      assert.deepEqual(await native.receive(), { type: 'answer', to: native.id, sdp: 'v=0 sio answer', from: sioId });

      native.sendJson({ type: 'candidate', to: sioId, candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } });
      assert.deepEqual(await next(sio, 'send_ice'), [{ from: native.id, candidate: 'candidate:1', mid: '0' }]);

      sio.emit('send_ice', JSON.stringify({ targetClientId: native.id, candidate: 'candidate:2', mid: 'a' }));
      assert.deepEqual(await native.receive(),
        { type: 'candidate', to: native.id, candidate: { candidate: 'candidate:2', sdpMid: 'a' }, from: sioId });

      native.close();
      sio.close();
    });

    it('native ↔ seed 003: offer, answer, candidate and hangup through rooms', async () => {
      const native = await nativeClient(server);
      const sio = await connect(server, transport);
      sio.emit('JoinSocket', 'sio-user');
      native.sendJson({ type: 'join', room: 'native-user' });
      assert.equal((await native.receive()).type, 'joined');
      // Let the JoinSocket land: a seed 003 round trip through its room.
      sio.emit('hangup', { to: 'sio-user', from: 'sio-user' });
      await next(sio, 'hangup');

      native.sendJson({ type: 'offer', to: 'sio-user', sdp: 'v=0 o' });
      assert.equal((await native.receive()).type, 'error', 'native peers must join a room to send to it');

      native.sendJson({ type: 'offer', to: sio.id, sdp: 'v=0 o' });
      assert.deepEqual(await next(sio, 'offer'), [{ offer: { type: 'offer', sdp: 'v=0 o' }, from: native.id }]);

      sio.emit('answer', { to: 'native-user', answer: { type: 'answer', sdp: 'v=0 a' }, from: 'sio-user' });
      assert.deepEqual(await native.receive(), { type: 'answer', to: 'native-user', sdp: 'v=0 a', from: sio.id });

      const candidate = { candidate: 'candidate:3', sdpMid: '0', sdpMLineIndex: 0 };
      sio.emit('candidate', { to: 'native-user', candidate, from: 'sio-user' });
      assert.deepEqual(await native.receive(), { type: 'candidate', to: 'native-user', candidate, from: sio.id });

      sio.emit('hangup', { to: 'native-user', from: 'sio-user' });
      assert.deepEqual(await native.receive(), { type: 'hangup', to: 'native-user', from: sio.id });

      native.close();
      sio.close();
    });
  });
}
