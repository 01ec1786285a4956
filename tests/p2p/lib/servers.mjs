// servers.mjs -- browser servers with the real core: the demo in p2p mode,
// served by the native hometab, in Chromium profiles that can close and
// reopen; and the client-server calls their pages make (through their own
// service worker). For browser-servers.test.mjs and tests/bench/p2p-chat.mjs;
// everything started is stopped by peers.mjs's cleanupAll().
//
//   const relay = await startRelay();
//   const native = await startNative({ relay });     // web root + /p2p.json
//   const browser = await launchBrowser();            // own profile folder
//   const page = await openP2p(browser, native);      // ?p2p=1, transport ready
//   const alice = await register(page, 'alice');
//   await api(page, 'POST', '/_matrix/client/v3/createRoom', { token, body });

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { onCleanup, tempDir } from './peers.mjs';

const CHROMIUM = process.env.HOMETAB_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const WAIT_MS = 90000; // two browsers, a relay and a server on 2 shared cores

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through \`make test-p2p\` or \`make bench-p2p\``);
  return value;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The native server with a copy of the web root holding the relay's
// address (/p2p.json), as `make run` writes it. It logs its own Matrix
// requests (--log-requests): the demo's must all stay in the browsers.
// args: more flags (--federation, --p2p-gateway...); limits: the pages'
// transport limits, in /p2p.json. Its name is its address.
export async function startNative({ relay, args: more = [], limits }) {
  const root = tempDir('hometab-p2p-www-');
  cpSync(env('HOMETAB_WEB_ROOT'), root, { recursive: true });
  writeFileSync(join(root, 'p2p.json'), `${JSON.stringify({ relay: relay.relay, peerId: relay.peerId, limits })}\n`);
  const port = await freePort();
  const args = ['--listen', `127.0.0.1:${port}`, '--db', join(tempDir('hometab-p2p-native-'), 'native.sqlite'),
    '--server-name', `127.0.0.1:${port}`, '--web-root', root, '--log-requests', '--no-rate-limit', ...more];
  const proc = spawn(env('HOMETAB_BIN'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve(code ?? signal)));
  const deadline = Date.now() + 15000;
  while (!/listening on/.test(stdout)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`hometab did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const native = {
    url: `http://127.0.0.1:${port}`,
    serverName: `127.0.0.1:${port}`,
    get log() { return stderr; },
    matrixRequests: () => stderr.split('\n').filter((l) => / \/(_matrix|\.well-known)\//.test(l)),
    // Stops it (SIGTERM: a graceful exit, code 0) and resolves with its exit code.
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 15000))]);
      if (code === 'timeout') proc.kill('SIGKILL');
      return code;
    },
  };
  onCleanup(() => native.stop());
  return native;
}

// A Chromium with a persistent profile: relaunched on the same folder, it
// is the same browser with the same storage (its server, its key).
export async function launchBrowser({ userDataDir = tempDir('hometab-p2p-profile-'), args = [] } = {}) {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...args], viewport: { width: 1280, height: 800 },
  });
  const browser = { context, userDataDir, errors: [], close: () => context.close().catch(() => {}) };
  context.on('weberror', (e) => browser.errors.push(e.error().message));
  onCleanup(() => browser.close());
  return browser;
}

// Opens the demo in p2p mode (relayed only, ?webrtc=0, unless webrtc) and
// waits until its server is ready and this tab carries the transport
// (reserved on the relay).
export async function openP2p(browser, native, { webrtc = false } = {}) {
  const page = await browser.context.newPage();
  page.on('dialog', (d) => d.accept());
  await page.goto(`${native.url}/?p2p=1${webrtc ? '' : '&webrtc=0'}`);
  await page.waitForFunction(() => globalThis.hometabDemo?.transport, null, { timeout: WAIT_MS });
  await page.locator('#status-state[data-state="ready"]').waitFor({ state: 'attached', timeout: WAIT_MS });
  await page.locator('#status-carrier[data-state="ready"]').waitFor({ state: 'attached', timeout: WAIT_MS });
  return page;
}

// One client-server call made by the page: answered by its service worker.
export function api(page, method, path, { token, body } = {}) {
  return page.evaluate(async ({ method, path, token, body }) => {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, json: await r.json().catch(() => null) };
  }, { method, path, token, body });
}

export async function register(page, username) {
  const body = { username, password: `pw-${username}-123456`, auth: { type: 'm.login.dummy' } };
  const r = await api(page, 'POST', '/_matrix/client/v3/register', { body });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
}

export async function until(what, check, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const room = (roomId) => `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;

// The bodies of the room's messages as a user sees them, oldest first.
export async function bodies(page, token, roomId) {
  const r = await api(page, 'GET', `${room(roomId)}/messages?dir=b&limit=100`, { token });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body).reverse();
}

export async function say(page, token, roomId, text) {
  const txn = `t${Date.now()}${Math.random().toString(36).slice(2)}`;
  const r = await api(page, 'PUT', `${room(roomId)}/send/m.room.message/${txn}`,
    { token, body: { msgtype: 'm.text', body: text } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
}

export async function stateOf(page, token, roomId, type) {
  const r = await api(page, 'GET', `${room(roomId)}/state/${type}/`, { token });
  return r.status === 200 ? r.json : null;
}

export const statusOf = (page) => page.evaluate(() => globalThis.hometabDemo.link.status());

// Alice on A makes a private room and invites bob of B; bob joins. Returns the room id.
export async function shareRoom(pageA, alice, pageB, bob, name = 'Across browsers') {
  const created = await api(pageA, 'POST', '/_matrix/client/v3/createRoom',
    { token: alice.access_token, body: { preset: 'private_chat', name } });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  const roomId = created.json.room_id;
  const invited = await api(pageA, 'POST', `${room(roomId)}/invite`, { token: alice.access_token, body: { user_id: bob.user_id } });
  assert.equal(invited.status, 200, JSON.stringify(invited.json));
  await until('the invite on B', async () => {
    const r = await api(pageB, 'GET', '/_matrix/client/v3/sync?timeout=0', { token: bob.access_token });
    return r.json?.rooms?.invite?.[roomId];
  });
  const joined = await api(pageB, 'POST', `${room(roomId)}/join`, { token: bob.access_token, body: {} });
  assert.equal(joined.status, 200, JSON.stringify(joined.json));
  return roomId;
}
