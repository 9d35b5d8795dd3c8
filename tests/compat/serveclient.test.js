// socket.io serves its client bundle at /socket.io/socket.io.js (and
// its .min, .esm, .msgpack and .map variants) unless told not to; pages
// written for the seed servers may load it from there. signalbox does
// the same from a socket.io-client dist folder (--client-script-dir).
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const vm = require('node:vm');
const { startServer } = require('./lib/harness');

describe('the client bundle at /socket.io/socket.io.js', () => {
  let server;
  before(async () => { server = await startServer('000'); });
  after(async () => { await server.stop(); });

  it('is served as JavaScript, and defines io()', async () => {
    const response = await fetch(`${server.url}/socket.io/socket.io.js`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/javascript; charset=utf-8');
    assert.ok(response.headers.get('etag'));
    const source = await response.text();
    assert.match(source, /^\/\*!\n \* Socket\.IO v4/);

    const module = { exports: {} };
    vm.runInNewContext(source, { module, exports: module.exports, setTimeout, clearTimeout });
    assert.equal(typeof module.exports, 'function');
    assert.equal(typeof module.exports.connect, 'function');
  });

  it('answers a matching If-None-Match with 304', async () => {
    const first = await fetch(`${server.url}/socket.io/socket.io.min.js`);
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    const again = await fetch(`${server.url}/socket.io/socket.io.min.js`,
      { headers: { 'If-None-Match': first.headers.get('etag') } });
    assert.equal(again.status, 304);
  });

  it('serves the source maps as JSON', async () => {
    const response = await fetch(`${server.url}/socket.io/socket.io.min.js.map`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(JSON.parse(await response.text()).version, 3);
  });
});
