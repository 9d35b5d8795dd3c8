// The demo page at / (data/demo) in two headless Chromium pages with
// fake camera devices: both join one room through the page's own form,
// the second calls the first over the native protocol, the call
// reaches `connected` and a chat message crosses the data channel each
// way; the signaling log shows the messages. Saves a screenshot
// (DEMO_SCREENSHOT, default demo.png here) of the caller's page.
// Also: --no-demo serves no page, and the page loads nothing from
// elsewhere (it works without internet).
//
// Skipped when no Chromium is installed (./run.sh test installs it).
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startServer } = require('./compat/lib/harness');

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
  .find((path) => fs.existsSync(path));
const skip = !CHROMIUM && 'Chromium is not installed';
const DEMO_DIR = process.env.DEMO_DIR;
const SCREENSHOT = process.env.DEMO_SCREENSHOT || 'demo.png';
const CALL_TIMEOUT = 45000;

describe('the demo page', { skip }, () => {
  let browser;
  let launchError;
  let server;

  before(async () => {
    const { chromium } = require('playwright-core');
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        // Root in CI has no user namespaces for the sandbox; plain IPs in
        // candidates rather than mDNS names; a fake camera, allowed
        // without asking.
        args: ['--no-sandbox', '--disable-features=WebRtcHideLocalIpsWithMdns',
          '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
      });
    } catch (error) {
      launchError = error.message.split('\n')[0];
    }
  });
  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  it('calls between two tabs, with a message each way on the data channel', { timeout: 150000 }, async (t) => {
    if (launchError) {
      t.skip(`Chromium could not start: ${launchError}`);
      return;
    }
    server = await startServer('000', ['--demo-dir', DEMO_DIR]);
    const foreign = [];
    const pages = [];
    for (let i = 0; i < 2; i++) {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      const page = await context.newPage();
      // Anything not from the server fails the test: no CDN.
      page.on('request', (request) => {
        if (!request.url().startsWith(server.url) && !request.url().startsWith(server.url.replace('http', 'ws'))
            && !request.url().startsWith('data:') && !request.url().startsWith('blob:')) {
          foreign.push(request.url());
        }
      });
      const errors = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.errors = errors;
      const response = await page.goto(`${server.url}/`);
      assert.equal(response.status(), 200);
      assert.match(response.headers()['content-security-policy'] || '', /default-src 'self'/);
      await page.waitForFunction(() => document.getElementById('status-state').textContent === 'ok', null, { polling: 50 });
      pages.push(page);
    }
    const [callee, caller] = pages;

    // The status box reads /healthz.
    assert.match(await callee.textContent('#status-version'), /^\d+\.\d+/);

    const room = `room-${process.pid}`;
    for (const page of [callee, caller]) await page.fill('#room', room);
    await callee.click('#join');
    await callee.waitForFunction(() => document.querySelector('#log').textContent.includes('"type":"joined"'), null, { polling: 50 });
    await caller.click('#join');

    for (const page of pages) {
      await page.waitForFunction(() => document.getElementById('connection-state').textContent === 'connected',
        null, { polling: 100, timeout: CALL_TIMEOUT });
      await page.waitForFunction(() => document.getElementById('channel-state').textContent === 'open',
        null, { polling: 100, timeout: CALL_TIMEOUT });
    }

    await caller.fill('#chat-input', 'hello from caller');
    await caller.click('#chat-send');
    await callee.fill('#chat-input', 'hello from callee');
    await callee.click('#chat-send');
    await callee.waitForFunction(() => document.getElementById('chat').textContent.includes('peer: hello from caller'),
      null, { polling: 50, timeout: 10000 });
    await caller.waitForFunction(() => document.getElementById('chat').textContent.includes('peer: hello from callee'),
      null, { polling: 50, timeout: 10000 });

    // The fake camera's video reached the other side.
    await callee.waitForFunction(() => document.getElementById('remote-video').videoWidth > 0,
      null, { polling: 100, timeout: 10000 });

    // The log shows the signaling as it passed: the caller sent the
    // offer and candidates and received the answer.
    const log = await caller.textContent('#log');
    for (const fragment of ['"type":"welcome"', '"type":"join"', '"type":"offer"', '"type":"answer"', '"type":"candidate"']) {
      assert.ok(log.includes(fragment), `the caller's log shows ${fragment}`);
    }

    // The status box counts both peers and their room.
    await caller.waitForFunction(() => document.getElementById('status-clients').textContent === '2'
      && document.getElementById('status-rooms').textContent === '1', null, { polling: 50, timeout: 10000 });
    await caller.screenshot({ path: SCREENSHOT, fullPage: true });
    t.diagnostic(`screenshot: ${SCREENSHOT}`);

    assert.deepEqual(foreign, [], 'the page loads nothing from elsewhere');
    for (const page of pages) assert.deepEqual(page.errors, [], 'no script error');

    // Hanging up closes the other side's call.
    await caller.click('#hangup');
    await callee.waitForFunction(() => document.getElementById('connection-state').textContent !== 'connected',
      null, { polling: 100, timeout: 10000 });
  });

  it('serves no page with --no-demo, and nothing but its files', { timeout: 30000 }, async () => {
    const demo = await startServer('000', ['--demo-dir', DEMO_DIR]);
    try {
      for (const [path, status] of [['/', 200], ['/demo.js', 200], ['/demo.css', 200], ['/index.html', 200],
        ['/../meson.build', 404], ['/meson.build', 404], ['/nothing', 404]]) {
        const response = await fetch(`${demo.url}${path}`);
        assert.equal(response.status, status, path);
      }
      assert.match((await fetch(`${demo.url}/demo.js`)).headers.get('content-type'), /^text\/javascript/);
    } finally {
      await demo.stop();
    }

    const none = await startServer('000', ['--demo-dir', DEMO_DIR, '--no-demo']);
    try {
      assert.equal((await fetch(`${none.url}/`)).status, 404);
      assert.equal((await fetch(`${none.url}/healthz`)).status, 200);
    } finally {
      await none.stop();
    }
  });
});
