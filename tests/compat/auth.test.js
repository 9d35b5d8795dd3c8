// Signed tokens and TURN credentials with real socket.io-client 4.x
// (issue 15): `io(url, {auth: {token}})` and `?token=` connect as the
// token's `sub`; a bad or missing token gets `connect_error` with
// "unauthorized", or HTTP 401 with a JSON body before any upgrade;
// joining a room the token does not list gets the `error` event; every
// peer receives `ice_servers` with TURN credentials of its own.
//
// Tokens are made here with node:crypto (HS256 by hand is a few lines),
// a second implementation beside the libjwt signalbox checks them with.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { io } = require('socket.io-client');
const WebSocket = require('ws');
const { target, TRANSPORTS, startServer, connect, next, TIMEOUT } = require('./lib/harness');

const skip = target !== 'signalbox' && 'tokens are a signalbox feature';
const SECRET = 'compat-token-secret';
const TURN_SECRET = 'compat-turn-secret';

const b64url = (data) => Buffer.from(data).toString('base64url');

function token(claims, secret = SECRET) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const signature = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

// The outcome of a connection attempt: 'connected' or the error message.
function attempt(url, options) {
  const socket = io(url, { forceNew: true, reconnection: false, timeout: TIMEOUT, ...options });
  return new Promise((resolve) => {
    const timer = setTimeout(() => { socket.close(); resolve('nothing'); }, TIMEOUT);
    socket.once('connect', () => { clearTimeout(timer); socket.close(); resolve('connected'); });
    socket.once('connect_error', (error) => { clearTimeout(timer); socket.close(); resolve(error.message); });
  });
}

describe('signed tokens and TURN credentials', { skip }, () => {
  let server;
  let dir;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signalbox-auth-'));
    fs.writeFileSync(path.join(dir, 'auth'), `${SECRET}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'turn'), `${TURN_SECRET}\n`, { mode: 0o600 });
    server = await startServer('000', [
      '--auth-secret-file', path.join(dir, 'auth'),
      '--turn-secret-file', path.join(dir, 'turn'),
      '--turn-uri', 'turn:127.0.0.1:3478?transport=udp',
      '--ice-server', 'stun:stun.example.org:3478',
    ]);
  });
  after(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const transport of TRANSPORTS) {
    describe(transport.name, () => {
      it('connects with auth: {token} as the token\'s sub, and hands out TURN credentials', async () => {
        const sub = `alice-${transport.name.replace(/\W/g, '')}`;
        const socket = await connect(server, transport, { auth: { token: token({ sub, exp: inAMinute() }) } });
        try {
          const [id] = await next(socket, 'your_id');
          assert.equal(id, sub);
          const [servers] = await next(socket, 'ice_servers');
          assert.deepEqual(servers[0], { urls: 'stun:stun.example.org:3478' });
          const turn = servers[1];
          assert.deepEqual(turn.urls, ['turn:127.0.0.1:3478?transport=udp']);
          const [expiry, user] = turn.username.split(':');
          assert.equal(user, sub);
          assert.ok(Number(expiry) > Date.now() / 1000);
          const expected = crypto.createHmac('sha1', TURN_SECRET).update(turn.username).digest('base64');
          assert.equal(turn.credential, expected);
        } finally {
          socket.close();
        }
      });

      it('connects with ?token= in the query', async () => {
        const sub = `qbob-${transport.name.replace(/\W/g, '')}`;
        const socket = await connect(server, transport, { query: { token: token({ sub, exp: inAMinute() }) } });
        try {
          const [id] = await next(socket, 'your_id');
          assert.equal(id, sub);
        } finally {
          socket.close();
        }
      });

      it('refuses a bad, expired or missing token in the CONNECT payload with "unauthorized"', async () => {
        const cases = [
          { auth: { token: token({ sub: 'mallory', exp: inAMinute() }, 'wrong-secret') } },
          { auth: { token: token({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 10 }) } },
          { auth: { token: token({ exp: inAMinute() }) } },
          { auth: { token: 42 } },
          {},
        ];
        for (const extra of cases) {
          assert.equal(await attempt(server.url, { ...transport.options, ...extra }), 'unauthorized',
            JSON.stringify(extra));
        }
      });
    });
  }

  it('answers a bad token in the query with 401 and a JSON body, before any session', async () => {
    const bad = token({ sub: 'mallory', exp: inAMinute() }, 'wrong-secret');
    const response = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&token=${bad}`);
    assert.equal(response.status, 401);
    const body = await response.json();
    assert.equal(body.error, 'unauthorized');
    // socket.io-client sees its transport fail, and never connects.
    assert.notEqual(await attempt(server.url, { query: { token: bad }, transports: ['websocket'] }), 'connected');
  });

  it('answers a native /ws handshake without a token with 401', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    const status = await new Promise((resolve) => {
      ws.once('unexpected-response', (request, response) => resolve(response.statusCode));
      ws.once('open', () => resolve('open'));
      ws.once('error', () => {});
    });
    ws.terminate();
    assert.equal(status, 401);
  });

  it('sends the error event for a room the token does not list, and relays as the sub', async () => {
    const transport = TRANSPORTS[0];
    const limited = await connect(server, transport,
      { auth: { token: token({ sub: 'carol', exp: inAMinute(), rooms: ['lobby'] }) } });
    const other = await connect(server, transport,
      { auth: { token: token({ sub: 'dave', exp: inAMinute() }) } });
    try {
      limited.emit('JoinSocket', 'secret-room');
      const [error] = await next(limited, 'error');
      assert.match(error.message, /secret-room/);

      // The refusal after the join tells that the join has been done.
      limited.emit('JoinSocket', 'lobby');
      limited.emit('JoinSocket', 'not-listed');
      await next(limited, 'error');
      other.emit('JoinSocket', 'lobby');
      // Seed 003 keeps a claimed "from" naming a room the sender is in;
      // a token holder is who its token says, whatever it joined.
      other.emit('JoinSocket', 'eve');
      other.emit('offer', { to: 'lobby', offer: { sdp: 'v=0' }, from: 'eve' });
      const [offer] = await next(limited, 'offer');
      assert.equal(offer.from, 'dave');
    } finally {
      limited.close();
      other.close();
    }
  });

  it('serves /ice-servers to a token holder only', async () => {
    const denied = await fetch(`${server.url}/ice-servers`);
    assert.equal(denied.status, 401);
    const response = await fetch(`${server.url}/ice-servers`,
      { headers: { Authorization: `Bearer ${token({ sub: 'erin', exp: inAMinute() })}` } });
    assert.equal(response.status, 200);
    const { iceServers } = await response.json();
    assert.equal(iceServers[1].username.split(':')[1], 'erin');
  });
});
