// The Engine.IO v4 / Socket.IO v5 behaviours that sio-conformance exposes,
// checked with raw HTTP and WebSocket, as the official conformance suites
// do. SIO_CONFORMANCE_BIN is the server program; ws comes from the compat
// suite's lockfile (NODE_PATH).
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const net = require('node:net');
const WebSocket = require('ws');

const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;
const TIMEOUT = 5000;

let server;
let port;
let URL;
let WS_URL;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function nextMessage(ws, skipPings = false) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), TIMEOUT);
    const listener = (data, isBinary) => {
      const value = isBinary ? new Uint8Array(data) : data.toString();
      if (skipPings && value === '2') return;
      clearTimeout(timer);
      ws.off('message', listener);
      resolve(value);
    };
    ws.on('message', listener);
  });
}

function closed(ws) {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) { resolve(); return; }
    const timer = setTimeout(() => reject(new Error('timed out waiting for close')), TIMEOUT);
    ws.on('error', () => {});
    ws.once('close', () => { clearTimeout(timer); resolve(); });
  });
}

function open(path) {
  const ws = new WebSocket(`${WS_URL}${path}`);
  ws.on('error', () => {});
  const first = nextMessage(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, first }));
    ws.once('close', () => reject(new Error('closed before opening')));
  });
}

async function pollingSession(path = '/engine.io/') {
  const response = await fetch(`${URL}${path}?EIO=4&transport=polling`);
  const text = await response.text();
  return JSON.parse(text.substring(1)).sid;
}

before(async () => {
  port = await freePort();
  URL = `http://127.0.0.1:${port}`;
  WS_URL = `ws://127.0.0.1:${port}`;
  server = spawn(process.env.SIO_CONFORMANCE_BIN, [String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => server.stdout.once('data', resolve));
});

after(() => { server.kill('SIGTERM'); });

describe('Engine.IO handshake', () => {
  it('opens a polling session with the reference keys, in order', async () => {
    const response = await fetch(`${URL}/engine.io/?EIO=4&transport=polling`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.equal(text[0], '0');
    const open = JSON.parse(text.substring(1));
    assert.deepEqual(Object.keys(open), ['sid', 'upgrades', 'pingInterval', 'pingTimeout', 'maxPayload']);
    assert.deepEqual(open.upgrades, ['websocket']);
    assert.equal(open.pingInterval, PING_INTERVAL);
    assert.equal(open.pingTimeout, PING_TIMEOUT);
    assert.equal(open.maxPayload, 1000000);
  });

  it('opens a WebSocket session with no upgrades', async () => {
    const { ws, first } = await open('/engine.io/?EIO=4&transport=websocket');
    const open0 = JSON.parse((await first).substring(1));
    assert.deepEqual(open0.upgrades, []);
    ws.close();
  });

  it('answers 400 to a bad EIO, transport, sid or method', async () => {
    for (let [query, method, code] of [
      ['transport=polling', 'GET', 5],
      ['EIO=3&transport=polling', 'GET', 5],
      ['EIO=abc&transport=polling', 'GET', 5],
      ['EIO=4', 'GET', 0],
      ['EIO=4&transport=abc', 'GET', 0],
      ['EIO=4&transport=polling&sid=nope', 'GET', 1],
      ['EIO=4&transport=polling', 'PUT', 2],
      // A session of its own, made just before: unpolled, it expires
      // after pingInterval + pingTimeout (500 ms here), which a loaded
      // machine can spend on the requests above.
      [async () => `EIO=4&transport=polling&sid=${await pollingSession()}`, 'PUT', 3],
    ]) {
      if (typeof query === 'function') query = await query();
      const response = await fetch(`${URL}/engine.io/?${query}`, { method });
      assert.equal(response.status, 400, `${method} ${query}`);
      assert.equal((await response.json()).code, code, `${method} ${query}`);
    }
  });
});

describe('Engine.IO polling', () => {
  it('echoes text and binary packets batched with the record separator', async () => {
    const sid = await pollingSession();
    const push = await fetch(`${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`,
      { method: 'POST', body: '4hello\x1ebAQIDBA==' });
    assert.equal(push.status, 200);
    assert.equal(await push.text(), 'ok');
    const poll = await fetch(`${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(await poll.text(), '4hello\x1ebAQIDBA==');
  });

  it('closes the session on a concurrent GET', async () => {
    const sid = await pollingSession();
    const first = fetch(`${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    // The first GET is parked once the server answered a POST sent after it.
    await fetch(`${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '6' });
    const second = await fetch(`${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(second.status, 400);
    assert.equal(await (await first).text(), '1');
    const after = await fetch(`${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(after.status, 400);
  });

  it('answers the last GET of a client that closed with a noop', async () => {
    const sid = await pollingSession();
    const url = `${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`;
    // The close comes first here; the reference server still answers a
    // GET sent along with it (it reads POST bodies later).
    await fetch(url, { method: 'POST', body: '1' });
    const last = await fetch(url);
    assert.equal(last.status, 200);
    assert.equal(await last.text(), '6');
    assert.equal((await fetch(url)).status, 400);
  });

  it('closes a polling session that sent close, even without a last GET', async () => {
    const sid = await pollingSession();
    const url = `${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`;
    await fetch(url, { method: 'POST', body: '1' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await fetch(url)).status, 400);
  });

  it('pings every pingInterval and closes a session that does not answer', async () => {
    const sid = await pollingSession();
    const started = Date.now();
    const poll = await fetch(`${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(await poll.text(), '2');
    assert.ok(Date.now() - started >= PING_INTERVAL - 50, 'pinged too early');
    // No pong: within pingTimeout the session is gone.
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i++) {
      const r = await fetch(`${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '6' });
      status = r.status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(status, 400);
  });
});

describe('Engine.IO upgrade', () => {
  it('probes, sends a noop to the parked GET, then switches to WebSocket', async () => {
    const sid = await pollingSession();
    const parked = fetch(`${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    await fetch(`${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: '6' });
    const { ws, first } = await open(`/engine.io/?EIO=4&transport=websocket&sid=${sid}`);
    ws.send('2probe');
    assert.equal(await first, '3probe');
    assert.equal(await (await parked).text(), '6');
    ws.send('5');
    ws.send('4hello');
    assert.equal(await nextMessage(ws, true), '4hello');

    // Polling is over for this session, and a second WebSocket is closed.
    const poll = await fetch(`${URL}/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(poll.status, 400);
    const second = new WebSocket(`${WS_URL}/engine.io/?EIO=4&transport=websocket&sid=${sid}`);
    await closed(second);
    ws.send('4still here');
    assert.equal(await nextMessage(ws, true), '4still here');
    ws.close();
  });
});

async function socketio(nsp = '', auth = '') {
  const { ws, first } = await open('/socket.io/?EIO=4&transport=websocket');
  await first;
  const replies = nextMessage(ws);
  ws.send(`40${nsp}${nsp ? ',' : ''}${auth}`);
  const connect = await replies;
  const authEvent = await nextMessage(ws);
  return { ws, connect, authEvent };
}

describe('WebSocket compression', () => {
  it('is off for Engine.IO unless the server turns it on', async () => {
    const { ws, first } = await open('/engine.io/?EIO=4&transport=websocket');
    await first;
    assert.equal(ws.extensions, '');
    ws.close();
    // sio-conformance turns it on for /socket.io/ (the Socket.IO suite
    // wants each packet in its own read, which async inflate gives).
    const sio = await open('/socket.io/?EIO=4&transport=websocket');
    await sio.first;
    assert.match(sio.ws.extensions, /permessage-deflate/);
    sio.ws.close();
  });
});

describe('Socket.IO', () => {
  it('connects to the main and a custom namespace with the auth payload', async () => {
    const main = await socketio();
    assert.match(main.connect, /^40\{"sid":"[^"]+"\}$/);
    assert.equal(main.authEvent, '42["auth",{}]');
    main.ws.close();

    const custom = await socketio('/custom', '{"token":"abc"}');
    assert.match(custom.connect, /^40\/custom,\{"sid":"[^"]+"\}$/);
    assert.equal(custom.authEvent, '42/custom,["auth",{"token":"abc"}]');
    custom.ws.close();
  });

  it('refuses an unknown namespace', async () => {
    const { ws, first } = await open('/socket.io/?EIO=4&transport=websocket');
    await first;
    ws.send('40/random');
    assert.equal(await nextMessage(ws), '44/random,{"message":"Invalid namespace"}');
    ws.close();
  });

  it('echoes events, binary attachments and acknowledgements', async () => {
    const { ws } = await socketio();
    ws.send('42["message",1,"2",{"3":[true]}]');
    assert.equal(await nextMessage(ws, true), '42["message-back",1,"2",{"3":[true]}]');

    ws.send('42456["message-with-ack",1,"2",{"3":[false]}]');
    assert.equal(await nextMessage(ws, true), '43456[1,"2",{"3":[false]}]');

    ws.send('452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    ws.send(Uint8Array.from([1, 2, 3]));
    ws.send(Uint8Array.from([4, 5, 6]));
    assert.equal(await nextMessage(ws, true), '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    assert.deepEqual(await nextMessage(ws, true), Uint8Array.from([1, 2, 3]));
    assert.deepEqual(await nextMessage(ws, true), Uint8Array.from([4, 5, 6]));
    ws.close();
  });

  it('closes the session on malformed packets', async () => {
    for (const packet of ['4abc', '42{}', '42abc["message-with-ack",1]', '49', '451-["m",{"_placeholder":true,"num":9}]']) {
      const { ws } = await socketio();
      ws.send(packet);
      if (packet.startsWith('451-')) ws.send(Uint8Array.from([1]));
      await closed(ws);
    }
  });

  it('closes a session that never connects to a namespace', async () => {
    const { ws, first } = await open('/socket.io/?EIO=4&transport=websocket');
    await first;
    await closed(ws);
  });

  it('keeps the session after leaving the main namespace', async () => {
    const { ws } = await socketio();
    ws.send('41');
    assert.equal(await nextMessage(ws), '2');
    ws.close();
  });
});
