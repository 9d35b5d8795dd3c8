// Per-address limits (issue 15) as socket.io-client sees them: clients
// from one loopback address (127.0.0.x, through an http.Agent with that
// localAddress) over --max-clients-per-address get a connect_error from
// the 429, while clients from other addresses keep being served and can
// signal each other. signalbox only.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { io } = require('socket.io-client');
const { target, TRANSPORTS, startServer, next, once, TIMEOUT } = require('./lib/harness');

const skip = target !== 'signalbox' && 'the seed servers have no per-address limits; signalbox only';

function envelope(targetId, fields) {
  return JSON.stringify({ targetClientId: targetId, ...fields });
}

describe('per-address limits', { skip }, () => {
  let server;
  const sockets = [];

  before(async () => { server = await startServer('000', ['--max-clients-per-address', '2']); });
  after(async () => { sockets.forEach((s) => s.close()); await server.stop(); });

  const open = (host, transport) => {
    const agent = new http.Agent({ localAddress: `127.0.0.${host}` });
    const socket = io(server.url, { forceNew: true, reconnection: false, timeout: TIMEOUT,
      agent, ...transport.options });
    socket.received = [];
    socket.onAny((event, ...args) => socket.received.push({ event, args }));
    sockets.push(socket);
    return socket;
  };

  TRANSPORTS.forEach((transport, i) => {
    it(`refuses the third client of one address over ${transport.name}, serves others`, async () => {
      const crowded = 10 + 2 * i;
      const first = open(crowded, transport);
      const second = open(crowded, transport);
      const [idA] = await next(first, 'your_id');
      await next(second, 'your_id');

      const third = open(crowded, transport);
      const error = await once(third, 'connect_error');
      assert.ok(error, 'a connect_error');
      assert.equal(third.connected, false);

      const other = open(crowded + 1, transport);
      const [idB] = await next(other, 'your_id');
      other.emit('offer_sdp', envelope(idA, { sdp: 'v=0' }));
      assert.deepEqual(await next(first, 'offer_sdp'), [{ from: idB, sdp: 'v=0' }]);
    });
  });

  it('tells why in the 429 body', async () => {
    // 127.0.0.10 still has two clients.
    const reply = await new Promise((resolve, reject) => {
      http.get(`${server.url}/socket.io/?EIO=4&transport=polling`, { localAddress: '127.0.0.10' }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode, text, retry: res.headers['retry-after'] }));
      }).on('error', reject);
    });
    assert.equal(reply.status, 429);
    assert.equal(reply.retry, '1');
    assert.equal(JSON.parse(reply.text).code, 'too-many-connections');
  });
});
