// A full server (--max-clients reached) turns Socket.IO clients away in
// words they understand (issue 12, item 13): a polling handshake gets
// 503 with an Engine.IO error body, a websocket client a Socket.IO
// CONNECT_ERROR that socket.io-client reports as `connect_error` with
// the server's message. Before, a session opened and then ended.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { io } = require('socket.io-client');
const { target, startServer, TIMEOUT } = require('./lib/harness');

const skip = target !== 'signalbox' && 'max-clients is a signalbox option';

describe('a full server', { skip }, () => {
  let server;
  let native;

  before(async () => {
    server = await startServer('000', ['--max-clients', '1']);
    native = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    await new Promise((resolve, reject) => { native.once('message', resolve); native.once('error', reject); });
  });
  after(async () => { native.close(); await server.stop(); });

  it('answers a polling handshake with 503 and an Engine.IO error', async () => {
    const response = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.equal(body.code, 4);
    assert.match(body.message, /limit of 1 clients/);
  });

  it('refuses a websocket client with a connect_error carrying the reason', async () => {
    const socket = io(server.url, { forceNew: true, reconnection: false, transports: ['websocket'] });
    const outcome = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve('nothing'), TIMEOUT);
      socket.once('connect', () => { clearTimeout(timer); resolve('connected'); });
      socket.once('connect_error', (error) => { clearTimeout(timer); resolve(error.message); });
    });
    socket.close();
    assert.match(outcome, /limit of 1 clients/);
  });

  it('keeps serving the client it has', async () => {
    native.send(JSON.stringify({ type: 'ping', rid: 1 }));
    const reply = await new Promise((resolve) => native.once('message', (data) => resolve(JSON.parse(data))));
    assert.deepEqual(reply, { type: 'pong', rid: 1 });
    assert.ok(server.alive());
  });
});
