// Resume across cluster nodes (issue 17): a peer whose connection to one
// node drops resumes on another node through Redis (a real redis-server
// started here on a free loopback port) with its id and rooms, then gets
// every message sent to it in the gap, from peers of both nodes, exactly
// once and in order; members on either node see no leave or join. The
// window still ends a session that is not resumed, and a forged or spent
// token gets `resume-failed` on the other node too. The same for a real
// socket.io-client 4.8 (websocket and polling) whose Manager reconnects
// to the other node with its pid: `recovered`, the same id and rooms,
// and the events it missed.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { skip, startRedis, startNode, waitForCluster, nativeClient } = require('./compat/lib/cluster');
const { TRANSPORTS, connect, next, once, health, waitFor: waitForHealth } = require('./compat/lib/harness');

const WINDOW = 4;  // --resume-window, seconds

let counter = 0;
function name(what) { counter += 1; return `${what}-${process.pid}-${counter}`; }

// Cluster moves take longer than one server's waits.
const waitFor = (node, predicate, what, timeout = 10000) => waitForHealth(node, predicate, what, timeout);

// Frames that arrive until @count match @predicate (all of them kept).
async function collect(ws, predicate, count, timeout = 10000) {
  const frames = [];
  const deadline = Date.now() + timeout;
  while (frames.filter(predicate).length < count) {
    try {
      frames.push(await ws.receive(Math.max(deadline - Date.now(), 1)));
    } catch (error) {
      // Short: x3d is the 3rd direct message from x, y4r a room one.
      const brief = frames.map((f) => (f.data && f.data.i !== undefined
        ? `${f.data.from}${f.data.i}${f.data.direct ? 'd' : 'r'}` : JSON.stringify(f)));
      throw new Error(`${error.message}: ${count} wanted by ${predicate}; got ${brief.join(' ')}`);
    }
  }
  return frames;
}

const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

// Records every frame a peer hears, to look for leaves and joins later.
function record(ws) {
  ws.heard = [];
  const receive = ws.receive;
  ws.receive = async (timeout) => {
    const frame = await receive(timeout);
    ws.heard.push(frame);
    return frame;
  };
  return ws;
}

// @members: how many the `joined` lists, when known (members of another
// node may reach this one's cache a moment after their join).
async function joinRoom(ws, room, members) {
  ws.sendJson({ type: 'join', room });
  const joined = await collect(ws, (f) => f.type === 'joined', 1);
  if (members !== undefined) assert.equal(joined.find((f) => f.type === 'joined').members.length, members);
}

// Until every `peer-joined` of @ids reached @ws.
async function heardJoins(ws, ids) {
  await collect(ws, (f) => f.type === 'peer-joined' && ids.includes(f.id), ids.length);
}

// Two nodes and their redis-server, for the tests of one describe().
function twoNodes(prefix, args) {
  const cluster = {};
  before(async () => {
    cluster.redis = await startRedis();
    cluster.nodes = await Promise.all(['a', 'b'].map((n) => startNode(cluster.redis, `${prefix}-${n}`, args)));
    await waitForCluster(cluster.nodes, 2);
  });
  after(async () => {
    if (cluster.nodes) await Promise.all(cluster.nodes.map((n) => n.stop()));
    if (cluster.redis) await cluster.redis.stop();
  });
  return cluster;
}

const CUTS = {
  // The server's read fails (the TCP connection is reset).
  'connection reset': (ws) => ws._socket.resetAndDestroy(),
  // The client goes without a close frame (FIN only): the server sees EOF.
  'closed without a close frame': (ws) => ws._socket.destroy(),
};

describe('native resume on another node', { skip }, () => {
  const cluster = twoNodes('resume', ['--resume-window', String(WINDOW)]);

  for (const [cutName, cut] of Object.entries(CUTS)) {
    it(`resumes on B after a cut on A (${cutName}): the gap once, in order, nobody saw it go`, async () => {
      const [a, b] = cluster.nodes;
      const room = name('room');
      const p = record(await nativeClient(a));
      const x = record(await nativeClient(a));  // on p's node
      const y = record(await nativeClient(b));  // on the other node
      await joinRoom(p, room, 0);
      await joinRoom(x, room, 1);
      await heardJoins(p, [x.id]);
      await joinRoom(y, room);
      await heardJoins(p, [y.id]);
      await heardJoins(x, [y.id]);
      const token = p.welcome.resume;
      const before = await health(b);
      // What x and y hear from here on (y may hear p join late: B learns
      // of A's members through Redis).
      await settle();
      const heardBefore = new Map();
      for (const peer of [x, y]) {
        while (peer.pending().length > 0) await peer.receive();
        heardBefore.set(peer, peer.heard.length);
      }

      // Mid-exchange: one message through, then the cut.
      x.sendJson({ type: 'message', to: p.id, data: { from: 'x', i: 0 } });
      assert.deepEqual((await p.expect('message')).data, { from: 'x', i: 0 });
      cut(p);
      await waitFor(a, (h) => h.waitingForResume === 1, 'A to see the cut');

      // Direct and room messages from both nodes: some in the gap, some
      // while the session moves, some after.
      const send = (from, i) => {
        const sender = from === 'x' ? x : y;
        sender.sendJson({ type: 'message', to: p.id, data: { from, i, direct: true } });
        sender.sendJson({ type: 'message', to: room, data: { from, i, direct: false } });
      };
      for (let i = 1; i <= 10; i++) { send('x', i); send('y', i); }
      await settle();
      const resuming = nativeClient(b, `?resume=${encodeURIComponent(token)}`);
      for (let i = 11; i <= 20; i++) {
        send('x', i); send('y', i);
        await new Promise((r) => setImmediate(r));
      }
      const q = record(await resuming);
      assert.equal(q.refused, undefined, `resume refused: ${JSON.stringify(q.refused)}`);
      assert.equal(q.welcome.resumed, true);
      assert.equal(q.id, p.id, 'the same id');
      assert.notEqual(q.welcome.resume, token, 'a new token');
      for (let i = 21; i <= 30; i++) { send('x', i); send('y', i); }

      const isGap = (f) => f.type === 'message' && f.data && f.data.i >= 1;
      const frames = await collect(q, isGap, 4 * 30);
      await settle(500);
      while (q.pending().length > 0) frames.push(await q.receive());
      for (const from of ['x', 'y']) {
        for (const direct of [true, false]) {
          const seen = frames.filter((f) => isGap(f) && f.data.from === from && f.data.direct === direct)
            .map((f) => f.data.i);
          assert.deepEqual(seen, Array.from({ length: 30 }, (_, k) => k + 1),
            `${direct ? 'direct' : 'room'} messages from ${from}: exactly once, in order`);
        }
      }
      assert.deepEqual(frames.filter((f) => f.type !== 'message'), [], 'nothing else in the gap');

      // It is B's peer now, in its room, for peers of both nodes.
      const h = await waitFor(b, (r) => r.clients === before.clients + 1, 'B to count it');
      assert.equal(h.resumed, before.resumed + 1);
      const ha = await waitFor(a, (r) => r.waitingForResume === 0, 'A to let it go');
      assert.equal(ha.clients, 1);
      q.sendJson({ type: 'message', to: room, data: 'after' });
      for (const peer of [x, y]) {
        const frames2 = await collect(peer, (f) => f.type === 'message' && f.data === 'after', 1);
        assert.equal(frames2.find((f) => f.data === 'after').from, q.id);
      }
      x.sendJson({ type: 'message', to: q.id, data: 'direct after' });
      assert.equal((await collect(q, (f) => f.data === 'direct after', 1)).length, 1);

      // Nobody saw it leave or come back.
      for (const peer of [x, y]) {
        while (peer.pending().length > 0) await peer.receive();
        assert.deepEqual(peer.heard.slice(heardBefore.get(peer))
          .filter((f) => (f.type === 'peer-left' || f.type === 'peer-joined') && f.id === p.id),
        [], 'no leave or join for the gap');
      }

      // The old token is spent, on either node.
      for (const node of [a, b]) {
        const again = await nativeClient(node, `?resume=${encodeURIComponent(token)}`);
        assert.equal(again.refused && again.refused.code, 'resume-failed');
        assert.notEqual(again.id, p.id);
        again.close();
      }

      // And when it leaves for good, both see it once.
      q.close();
      for (const peer of [x, y]) {
        const left = await collect(peer, (f) => f.type === 'peer-left' && f.id === p.id, 1);
        assert.equal(left.filter((f) => f.type === 'peer-left' && f.id === p.id).length, 1);
      }
      x.close();
      y.close();
      await waitFor(a, (r) => r.clients === 0, 'A to empty');
      await waitFor(b, (r) => r.clients === 0, 'B to empty');
    });
  }

  it('ends a session not resumed within the window: peer-left on both nodes, then resume-failed on B', async () => {
    const [a, b] = cluster.nodes;
    const room = name('room');
    const p = record(await nativeClient(a));
    const x = record(await nativeClient(a));
    const y = record(await nativeClient(b));
    await joinRoom(p, room, 0);
    await joinRoom(x, room, 1);
    await joinRoom(y, room);
    await heardJoins(p, [x.id, y.id]);
    const token = p.welcome.resume;
    const before = await health(b);
    const cutAt = Date.now();
    CUTS['connection reset'](p);
    await waitFor(a, (h) => h.waitingForResume === 1, 'A to see the cut');
    for (const peer of [x, y]) {
      await collect(peer, (f) => f.type === 'peer-left' && f.id === p.id, 1, (WINDOW + 5) * 1000);
    }
    assert.ok(Date.now() - cutAt >= (WINDOW - 0.5) * 1000, 'not before the window ends');

    const late = await nativeClient(b, `?resume=${encodeURIComponent(token)}`);
    assert.equal(late.refused && late.refused.code, 'resume-failed');
    assert.notEqual(late.id, p.id);
    assert.notEqual(late.welcome.resumed, true);
    assert.equal((await health(b)).resumeFailed, before.resumeFailed + 1);
    late.close();
    x.close();
    y.close();
    await waitFor(a, (r) => r.clients === 0, 'A to empty');
    await waitFor(b, (r) => r.clients === 0, 'B to empty');
  });

  it('refuses a forged token on B, and the token of a session that ended cleanly', async () => {
    const [a, b] = cluster.nodes;
    const before = await health(b);
    const forged = await nativeClient(b, '?resume=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    assert.equal(forged.refused && forged.refused.code, 'resume-failed');
    assert.ok(forged.id);

    // A clean close (a close frame) ends the session at once.
    const p = await nativeClient(a);
    const token = p.welcome.resume;
    p.close();
    await waitFor(a, (h) => h.clients === 0, 'A to see the close');
    const replayed = await nativeClient(b, `?resume=${encodeURIComponent(token)}`);
    assert.equal(replayed.refused && replayed.refused.code, 'resume-failed');
    assert.notEqual(replayed.id, p.id);
    assert.equal((await health(b)).resumeFailed, before.resumeFailed + 2);
    forged.close();
    replayed.close();
    await waitFor(b, (r) => r.clients === 0, 'B to empty');
  });

  for (const transport of TRANSPORTS.filter((t) => ['websocket', 'polling'].includes(t.name))) {
    it(`Socket.IO recovery on B of a socket cut on A (${transport.name})`, async () => {
      const [a, b] = cluster.nodes;
      const room = name('room');
      const before = await health(b);
      const x = await connect(a, transport);  // on the socket's node
      const y = await connect(b, transport);  // on the other node
      const s = await connect(a, transport, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 });
      const n = record(await nativeClient(b));
      await joinRoom(n, room, 0);
      for (const socket of [x, y, s]) socket.emit('JoinSocket', room);
      for (const [socket, who] of [[x, 'x'], [y, 'y'], [s, 's']]) {
        // A room round trip: the join has been processed.
        socket.emit('hangup', { to: room, from: who });
        await next(socket, 'hangup');
      }
      await heardJoins(n, [x.id, y.id, s.id]);
      while (n.pending().length > 0) await n.receive();
      const heardBefore = n.heard.length;
      const id = s.id;
      assert.deepEqual(await next(s, 'your_id'), [id]);
      assert.equal(s.recovered, false);

      // Held back until the gap is over, then pointed at B.
      s.io.reconnection(false);
      const dropped = once(s, 'disconnect');
      s.io.engine.close();
      await dropped;
      await waitFor(a, (h) => h.waitingForResume === 1, 'A to see the cut');
      for (let i = 0; i < 5; i++) {
        x.emit('offer', { to: room, offer: { type: 'offer', sdp: `x ${i}` }, from: 'x' });
        y.emit('offer', { to: room, offer: { type: 'offer', sdp: `y ${i}` }, from: 'y' });
      }
      for (const socket of [x, y]) {
        for (let i = 0; i < 10; i++) await next(socket, 'offer');
      }
      s.io.uri = b.url;
      const reconnected = once(s, 'connect');
      s.io.reconnection(true);
      s.connect();
      await reconnected;
      assert.equal(s.recovered, true, 'socket.recovered');
      assert.equal(s.id, id, 'the same id');
      assert.equal(s.io.engine.transport.name, transport.name);

      const offers = [];
      for (let k = 0; k < 10; k++) offers.push((await next(s, 'offer'))[0].offer.sdp.split(' '));
      for (const from of ['x', 'y']) {
        assert.deepEqual(offers.filter(([who]) => who === from).map(([, i]) => Number(i)), [0, 1, 2, 3, 4],
          `from ${from}: once and in order`);
      }
      // Still in the room, on B now, and nothing twice.
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(s.received.filter((r) => r.event === 'offer'), []);
      x.emit('offer', { to: room, offer: { type: 'offer', sdp: 'after' }, from: 'x' });
      assert.equal((await next(s, 'offer'))[0].offer.sdp, 'after');
      await next(x, 'offer');
      await next(y, 'offer');
      assert.deepEqual(s.received.filter((r) => r.event === 'your_id'), [], 'same id: not said again');

      const h = await waitFor(b, (r) => r.resumed === before.resumed + 1, 'B to count the recovery');
      assert.equal(h.resumeFailed, before.resumeFailed);
      assert.equal((await health(a)).waitingForResume, 0);
      while (n.pending().length > 0) await n.receive();
      assert.deepEqual(n.heard.slice(heardBefore)
        .filter((f) => f.id === id && (f.type === 'peer-left' || f.type === 'peer-joined')), []);

      s.close();
      await collect(n, (f) => f.type === 'peer-left' && f.id === id, 1);
      for (const peer of [x, y, n]) peer.close();
      await waitFor(a, (r) => r.clients === 0, 'A to empty');
      await waitFor(b, (r) => r.clients === 0, 'B to empty');
    });
  }

  it('Socket.IO: a forged pid on B gives a new socket', async () => {
    const [, b] = cluster.nodes;
    const before = await health(b);
    const forged = await connect(b, TRANSPORTS.find((t) => t.name === 'websocket'),
      { auth: { pid: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', offset: 'x' } });
    assert.equal(forged.recovered, false);
    assert.ok(forged.id);
    assert.equal((await health(b)).resumeFailed, before.resumeFailed + 1);
    forged.close();
    await waitFor(b, (r) => r.clients === 0, 'B to empty');
  });
});

describe('Socket.IO recovery offsets on another node', { skip }, () => {
  const cluster = twoNodes('offsets', ['--resume-window', String(WINDOW), '--recovery-offsets']);

  it('replays on B from the offset the client got last on A, each event once', async () => {
    const [a, b] = cluster.nodes;
    const websocket = TRANSPORTS.find((t) => t.name === 'websocket');
    const x = await connect(a, websocket);
    const s = await connect(a, websocket, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 });
    const [id] = await next(s, 'your_id');
    const offerTo = (sdp) => x.emit('offer_sdp', JSON.stringify({ targetClientId: id, sdp }));
    offerTo('before');
    const [heard, offset] = await next(s, 'offer_sdp');
    assert.equal(heard.sdp, 'before');
    assert.equal(typeof offset, 'string');

    s.io.reconnection(false);
    const dropped = once(s, 'disconnect');
    s.io.engine.close();
    await dropped;
    await waitFor(a, (h) => h.waitingForResume === 1, 'A to see the cut');
    for (let i = 0; i < 3; i++) offerTo(`gap ${i}`);
    await settle();
    s.io.uri = b.url;
    const reconnected = once(s, 'connect');
    s.io.reconnection(true);
    s.connect();
    await reconnected;
    assert.equal(s.recovered, true, 'socket.recovered');
    assert.equal(s.id, id);

    for (let i = 0; i < 3; i++) assert.equal((await next(s, 'offer_sdp'))[0].sdp, `gap ${i}`);
    offerTo('after');
    const [after, afterOffset] = await next(s, 'offer_sdp');
    assert.equal(after.sdp, 'after');
    assert.notEqual(afterOffset, offset);
    assert.deepEqual(s.received.filter((r) => r.event === 'offer_sdp'), [], '"before" not again');
    s.close();
    x.close();
    await waitFor(a, (r) => r.clients === 0, 'A to empty');
    await waitFor(b, (r) => r.clients === 0, 'B to empty');
  });
});
