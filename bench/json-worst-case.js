#!/usr/bin/env node
// Times signalbox's JSON parser and serializer on the worst bodies a
// client can send, at growing sizes up to the 1 MB polling limit, to
// show the cost grows linearly (doubling the size doubles the time).
//
//   node bench/json-worst-case.js [_build/tests/json-roundtrip]
//
// Each body is one line for json-roundtrip (tests/json-roundtrip.c),
// which parses and serializes it; the time is the best of 5 runs and
// includes starting the program (about a millisecond).
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');

const BIN = process.argv[2] || path.join(__dirname, '..', '_build', 'tests', 'json-roundtrip');

// Objects of up to 1024 members (the parser's limit), as many as fit.
function objects(size, member) {
  const bodies = [];
  let length = 2;
  let object = [];
  for (let i = 0; length < size - 64; i++) {
    const m = member(i, object.length);
    object.push(m);
    length += m.length + 1;
    if (object.length === 1024) {
      bodies.push('{' + object.join(',') + '}');
      object = [];
      length += 3;
    }
  }
  bodies.push('{' + object.join(',') + '}');
  return '[' + bodies.join(',') + ']';
}

// A name that g_str_hash() gives the same hash as 7 others.
function colliding(group, bit) {
  let name = `g${group}_`;
  for (let b = 0; b < 3; b++) name += (bit >> b) & 1 ? 'ab' : 'bA';
  return name;
}

const KINDS = {
  // What stalled the server 10 s: names, then repeats of the last one
  // (1024 names here, the most an object may have; repeats are free).
  'repeated-name': (size) => {
    const parts = [];
    let length = 8;
    for (let i = 0; i < 1024; i++) { parts.push(`"k${i}":0`); length += `"k${i}":0`.length + 1; }
    while (length < size - 16) { parts.push('"k1023":0'); length += 10; }
    return '{' + parts.join(',') + '}';
  },
  'unique-names': (size) => objects(size, (i) => `"k${i}":0`),
  'hash-collisions': (size) => objects(size, (i, n) => `"${colliding(i >> 3, i & 7)}":0`),
  // Not hostile, for comparison: what most messages are, SDP text.
  'sdp-text': (size) => JSON.stringify(Array.from({ length: size / 2048 }, () =>
    ({ type: 'offer', sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\na=candidate:1 1 udp 2122260223 192.168.1.2 54321 typ host\r\n'.repeat(16) }))),
  'escaped-strings': (size) => JSON.stringify(['\u0000\ud800"\\\n'.repeat(size / 32)]),
  'numbers': (size) => '[' + Array.from({ length: size / 24 }, (_, i) => (i * 1.000001e-7).toString()).join(',') + ']',
  'nested-128': (size) => {
    const unit = '['.repeat(127) + ']'.repeat(127);
    return '[' + Array(Math.floor(size / (unit.length + 1))).fill(unit).join(',') + ']';
  },
};

function time(body) {
  let best = Infinity;
  let output = '';
  for (let run = 0; run < 5; run++) {
    const start = process.hrtime.bigint();
    const result = spawnSync(BIN, [], { input: body + '\n', maxBuffer: 1 << 26 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${BIN} failed: ${result.stderr}`);
    output = result.stdout.toString();
    best = Math.min(best, ms);
  }
  return { ms: best, refused: output.startsWith('!') ? output.trim() : null };
}

console.log(`kind              ${[256, 512, 1024].map((k) => `${k} KiB`.padStart(10)).join('')}`);
for (const [kind, make] of Object.entries(KINDS)) {
  const cells = [];
  let note = '';
  for (const kib of [256, 512, 1024]) {
    const body = make(kib * 1024);
    const { ms, refused } = time(body);
    cells.push(`${ms.toFixed(1)} ms`.padStart(10));
    if (refused) note = `  (${refused})`;
  }
  console.log(`${kind.padEnd(18)}${cells.join('')}${note}`);
}
