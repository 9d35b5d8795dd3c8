// SIGTERM while Socket.IO clients are busy: every one of them must be
// told (issue 12, item 14). A websocket client gets `41` then the close
// frame, a polling client gets `41` and the close packet on its pending
// or next GET; socket.io-client reports either as "io server
// disconnect". Before the fix most of them saw "transport close" or
// "transport error" because the daemon exited with their goodbye still
// queued. Runs against signalbox only: the seed replicas do not shut
// down gracefully at all.
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { target, TRANSPORTS, startServer, connect, next } = require('./lib/harness');

const skip = target !== 'signalbox' && 'the seed replicas exit on SIGTERM without a goodbye; signalbox only';

const WEBSOCKET = TRANSPORTS.find((t) => t.name === 'websocket');
const POLLING = TRANSPORTS.find((t) => t.name === 'polling');

// Keeps a client sending offers to itself until it is disconnected.
function keepBusy(socket, id) {
  const sdp = 'v=0 '.repeat(200);
  const tick = () => {
    if (!socket.connected) return;
    for (let i = 0; i < 5; i++) socket.emit('offer_sdp', JSON.stringify({ targetClientId: id, sdp }));
    setTimeout(tick, 2);
  };
  tick();
}

describe('SIGTERM under load', { skip }, () => {
  it('says goodbye to every Socket.IO client before exiting', async () => {
    const server = await startServer('000');
    const clients = [];
    const open = async (transport) => {
      const socket = await connect(server, transport);
      const [id] = await next(socket, 'your_id');
      const reason = new Promise((resolve) => socket.once('disconnect', (why) => resolve(why)));
      clients.push({ socket, transport: transport.name, reason });
      return { socket, id };
    };

    const opened = [];
    for (let i = 0; i < 60; i++) opened.push(open(WEBSOCKET));
    for (let i = 0; i < 20; i++) opened.push(open(POLLING));
    for (const { socket, id } of await Promise.all(opened)) keepBusy(socket, id);

    // Let the traffic build up, then stop the server in the middle of it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exited = new Promise((resolve) => server.child.once('exit', (code, signal) => resolve({ code, signal })));
    server.child.kill('SIGTERM');

    const reasons = await Promise.all(clients.map(async (c) => {
      const timeout = new Promise((resolve) => setTimeout(() => resolve('no disconnect'), 10000));
      return `${c.transport}: ${await Promise.race([c.reason, timeout])}`;
    }));
    clients.forEach((c) => c.socket.close());

    const unclean = reasons.filter((r) => !r.endsWith(': io server disconnect'));
    assert.deepEqual(unclean, [], `${unclean.length} of ${reasons.length} clients saw no clean disconnect`);
    assert.deepEqual(await exited, { code: 0, signal: null });
  });
});
