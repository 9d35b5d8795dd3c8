// signalbox's JSON parser and serializer against JavaScript itself: a
// corpus generated afresh each run (seed printed, and taken from
// JSON_CORPUS_SEED to replay one) goes through json-roundtrip, and each
// line must come out exactly as JSON.stringify(JSON.parse(line)).
//
// The corpus leans on what differs between C and JavaScript: numbers of
// every magnitude (subnormals, -0, powers of two and their neighbours,
// integers past 2^53, overflow and underflow), strings with every escape,
// NUL, lone surrogates and U+2028, and objects with repeated keys.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');

const BIN = process.env.JSON_ROUNDTRIP_BIN;
const SEED = Number(process.env.JSON_CORPUS_SEED || Date.now() % 2147483647);

// A small seeded generator (mulberry32), so a failure can be replayed.
function makeRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = makeRandom(SEED);
const int = (n) => Math.floor(random() * n);
const pick = (list) => list[int(list.length)];

// Any finite double, from its bits: every exponent equally likely.
function randomDouble() {
  const view = new DataView(new ArrayBuffer(8));
  for (;;) {
    view.setUint32(0, int(2 ** 32));
    view.setUint32(4, int(2 ** 32));
    const value = view.getFloat64(0);
    if (Number.isFinite(value)) return value;
  }
}

function randomDigits(n) {
  let text = String(1 + int(9));
  for (let i = 1; i < n; i++) text += String(int(10));
  return text;
}

// A number as JSON text, in the many ways a client may write one.
function numberText() {
  switch (int(10)) {
    case 0: return JSON.stringify(randomDouble());
    case 1: return randomDouble().toExponential(int(20)).replace('e+', pick(['e', 'E', 'e+']));
    case 2: return (int(2) ? '-' : '') + randomDigits(1 + int(30));  // integers, past 2^53 too
    case 3: return JSON.stringify((int(2) ? -1 : 1) * 2 ** (int(2098) - 1074));
    case 4: {  // the neighbours of a power of two
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, 2 ** (int(2098) - 1074));
      view.setBigUint64(0, view.getBigUint64(0) + BigInt(int(3) - 1));
      return JSON.stringify(view.getFloat64(0));
    }
    case 5: return pick(['0', '-0', '0.0', '-0.0e5', '1e400', '-1e400', '1e-400', '-1e-400',
                         '5e-324', '2.2250738585072014e-308', '1.7976931348623157e308',
                         '9007199254740993', '-9007199254740993', '9223372036854775807',
                         '9223372036854775808', '-9223372036854775809', '1e21', '1e-7',
                         '123e-20', '0.000001', '1000000000000000128']);
    case 6: return `${randomDigits(1 + int(8))}.${randomDigits(1 + int(12))}e${int(2) ? '-' : ''}${int(330)}`;
    case 7: return String(int(2 ** 31) - 2 ** 30);
    case 8: return (random() * 10 ** (int(44) - 22)).toPrecision(1 + int(21));
    default: return `0.${'0'.repeat(int(9))}${randomDigits(1 + int(17))}`;
  }
}

// One UTF-16 code unit or character, with what JSON text may say for it.
function stringPiece() {
  switch (int(12)) {
    case 0: return String.fromCharCode(int(0x20));                  // controls, NUL
    case 1: return String.fromCharCode(0xd800 + int(0x800));        // a lone surrogate
    case 2: return pick(['"', '\\', '/', '\u2028', '\u2029', '\u007f', '\ufffd', '\ufeff']);
    case 3: return String.fromCodePoint(0x10000 + int(0x100000));   // astral: a pair
    case 4: return String.fromCharCode(0x80 + int(0xd800 - 0x80));  // two and three bytes
    case 5: return String.fromCharCode(0xd000 + int(0x800));        // Hangul, ED 80..9F
    default: return String.fromCharCode(0x20 + int(0x5f));          // ASCII
  }
}

function escapeUnit(unit) {
  const hex = unit.charCodeAt(0).toString(16).padStart(4, '0');
  return '\\u' + (int(2) ? hex : hex.toUpperCase());
}

// A string as JSON text, each code unit written raw or escaped, as a
// client may. Lone surrogates and controls have to be escaped; a pair
// may be two escapes, and a lone half may meet its other half.
function stringText() {
  let text = '"';
  const n = int(4) === 0 ? int(40) : int(6);
  for (let i = 0; i < n; i++) {
    const piece = stringPiece();
    for (const unit of piece.length === 2 && int(2) ? [piece[0], piece[1]] : [piece]) {
      const code = unit.charCodeAt(0);
      const mustEscape = code < 0x20 || unit === '"' || unit === '\\' ||
        (unit.length === 1 && code >= 0xd800 && code <= 0xdfff);
      if (mustEscape || int(4) === 0) {
        const short = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f',
                        '\n': '\\n', '\r': '\\r', '\t': '\\t' }[unit];
        text += short && int(2) ? short : [...unit].map((u) => u.length === 1
          ? escapeUnit(u) : escapeUnit(u[0]) + escapeUnit(u[1])).join('');
      } else {
        text += unit;
      }
    }
  }
  return text + '"';
}

const space = () => pick(['', '', '', ' ', '\t', '  ', '\r']);

function valueText(depth) {
  const kind = depth > 4 ? int(4) : int(7);
  switch (kind) {
    case 0: return numberText();
    case 1: return stringText();
    case 2: return pick(['true', 'false', 'null']);
    case 3: return numberText();
    case 4: case 5: {  // an object, maybe with repeated keys
      const keys = [];
      const n = int(6);
      for (let i = 0; i < n; i++) keys.push(keys.length > 0 && int(3) === 0 ? pick(keys) : stringText());
      return '{' + space() + keys.map((key) => key + space() + ':' + space() + valueText(depth + 1))
        .join(space() + ',' + space()) + space() + '}';
    }
    default: {
      const items = [];
      for (let i = int(5); i > 0; i--) items.push(valueText(depth + 1));
      return '[' + space() + items.join(space() + ',' + space()) + space() + ']';
    }
  }
}

function corpus() {
  const lines = [];
  for (let i = 0; i < 3000; i++) lines.push(numberText());
  for (let i = 0; i < 2000; i++) lines.push(stringText());
  for (let i = 0; i < 3000; i++) lines.push(valueText(0));
  // Every power of two, where the shortest digits are hardest to get.
  for (let e = -1074; e <= 1023; e++) lines.push(JSON.stringify(2 ** e));
  return lines;
}

function roundTrip(lines) {
  const result = spawnSync(BIN, [], { input: lines.join('\n') + '\n', maxBuffer: 1 << 28 });
  assert.equal(result.status, 0, `json-roundtrip failed: ${result.stderr}`);
  const output = result.stdout.toString('utf8').split('\n');
  assert.equal(output.pop(), '');
  assert.equal(output.length, lines.length);
  return output;
}

test(`JSON.stringify(JSON.parse(x)) on a generated corpus (JSON_CORPUS_SEED=${SEED})`,
  { skip: BIN ? false : 'JSON_ROUNDTRIP_BIN is not set' }, () => {
    const lines = corpus();
    const output = roundTrip(lines);
    const wrong = [];
    lines.forEach((line, i) => {
      const expected = JSON.stringify(JSON.parse(line));
      if (output[i] !== expected) wrong.push({ input: line, expected, got: output[i] });
    });
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${lines.length} differ`);
  });

test('invalid JSON is refused as JSON.parse refuses it', { skip: BIN ? false : 'no binary' }, () => {
  const bad = ['', '{', '[1,]', '01', '1.', '"\\ud800\\"', '"a\tb"', 'NaN', '"\\x41"', '{"a" 1}'];
  const output = roundTrip(bad);
  bad.forEach((line, i) => {
    assert.throws(() => JSON.parse(line), SyntaxError, line);
    assert.match(output[i], /^! /, `${JSON.stringify(line)} gave ${output[i]}`);
  });
});
