// harness.mjs -- the browser tests' tools: a native hometab serving the web
// root, Debian's Chromium driven by playwright-core, and the demo's steps.
//
//   const native = await startNative();            // --web-root, --log-requests
//   const browser = await launch();                 // fresh --user-data-dir
//   const page = await openDemo(browser, native);   // controlled, worker ready
//   await registerInUi(page, 'alice', 'secret');
//   assert.equal(native.matrixRequests().length, 0);
//
// The native server runs with --log-requests, which prints one stderr line
// per Matrix request it answers: the demo's traffic must produce none, since
// every /_matrix request of a controlled page is answered by the worker.
// Never downloads a browser: /usr/bin/chromium, Debian's.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.HOMETAB_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

export function tempDir(prefix = 'hometab-browser-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
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

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests through \`make test-browser\``);
  return value;
}

// Starts the native server with the demo's web root. serverName defaults to
// the address the browser sees (the in-browser server names itself after
// location.host), so a database exported from the browser opens natively
// with the same ids.
export async function startNative({ db, serverName, port, webRoot = env('HOMETAB_WEB_ROOT') } = {}) {
  const dir = tempDir('hometab-native-');
  for (let attempt = 0; ; attempt++) {
    const p = port ?? await freePort();
    const args = ['--listen', `127.0.0.1:${p}`, '--db', db ?? join(dir, 'native.sqlite'),
      '--server-name', serverName ?? `127.0.0.1:${p}`, '--web-root', webRoot, '--log-requests',
      '--no-rate-limit'];
    const proc = spawn(env('HOMETAB_BIN'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve(code ?? signal)));
    const started = await Promise.race([
      new Promise((resolve) => {
        const poll = setInterval(() => {
          if (/listening on/.test(stdout)) {
            clearInterval(poll);
            resolve(true);
          }
        }, 20);
        exited.then(() => clearInterval(poll));
      }),
      exited.then(() => false),
      new Promise((resolve) => setTimeout(() => resolve(false), 10000)),
    ]);
    if (!started) {
      proc.kill('SIGKILL');
      if (attempt < 3 && /already in use/.test(stderr)) continue;
      throw new Error(`hometab did not start: ${args.join(' ')}\n${stderr}`);
    }
    const native = {
      url: `http://127.0.0.1:${p}`,
      port: p,
      serverName: serverName ?? `127.0.0.1:${p}`,
      get stderr() { return stderr; },
      // The Matrix requests this server answered itself (one --log-requests
      // line each).
      matrixRequests: () => stderr.split('\n').filter((l) => / \/(_matrix|\.well-known)\//.test(l)),
      async fetchJson(path, { method = 'GET', body, token } = {}) {
        const headers = {};
        if (token) headers.authorization = `Bearer ${token}`;
        if (body !== undefined) headers['content-type'] = 'application/json';
        const r = await fetch(`${native.url}${path}`, { method, headers,
          body: body === undefined ? undefined : JSON.stringify(body) });
        return { status: r.status, json: await r.json().catch(() => null) };
      },
      async stop() {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.kill('SIGTERM');
        const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
        if (code === 'timeout') proc.kill('SIGKILL');
      },
    };
    cleanups.push(() => native.stop());
    return native;
  }
}

// A Chromium with a persistent profile (the folder survives close(), so a
// relaunch on the same folder is the same browser with the same storage).
export async function launch({ userDataDir = tempDir('hometab-profile-') } = {}) {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, acceptDownloads: true,
    viewport: { width: 1280, height: 800 },
  });
  const browser = {
    context,
    userDataDir,
    errors: [],
    async close() {
      await context.close().catch(() => {});
    },
  };
  context.on('weberror', (e) => browser.errors.push(e.error().message));
  cleanups.push(() => browser.close());
  return browser;
}

// Opens the demo and waits until the worker controls the page and reports a
// settled state ('ready' by default).
export async function openDemo(browser, native, { state = 'ready', page } = {}) {
  page ??= await browser.context.newPage();
  page.matrixResponses = [];
  page.on('response', (r) => {
    if (/\/(_matrix|\.well-known\/matrix)\//.test(new URL(r.url()).pathname)) page.matrixResponses.push(r);
  });
  page.on('dialog', (d) => d.accept());
  await page.goto(`${native.url}/`);
  await waitForState(page, state);
  return page;
}

export async function waitForState(page, state, timeout = 20000) {
  await page.waitForFunction(() => globalThis.hometabDemo, null, { timeout });
  await page.locator(`#status-state[data-state="${state}"]`).waitFor({ timeout });
}

// Stops every service worker at once, as a crash or the browser's idle
// timer would: no waitUntil is honoured.
export async function stopWorkers(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
}

// ---- the demo, as a person uses it

export async function registerInUi(page, user, password = `pw-${user}-123456`) {
  await page.fill('#login-username', user);
  await page.fill('#login-password', password);
  await page.click('#register-button');
  await page.locator('#chat-view').waitFor({ state: 'visible', timeout: 20000 });
  return password;
}

export async function loginInUi(page, user, password) {
  await page.fill('#login-username', user);
  await page.fill('#login-password', password);
  await page.click('#login-button');
  await page.locator('#chat-view').waitFor({ state: 'visible', timeout: 20000 });
}

export async function createRoomInUi(page, name, alias) {
  await page.fill('#create-room-name', name);
  if (alias) await page.fill('#create-room-alias', alias);
  await page.click('#create-room-button');
  await page.locator('#room-name', { hasText: name }).waitFor();
  return page.locator('#room-id').textContent();
}

export async function sendInUi(page, text) {
  await page.fill('#composer-input', text);
  await page.press('#composer-input', 'Enter');
  await messageLocator(page, text).waitFor({ timeout: 10000 });
}

// A message in the open room's timeline that came back from the server
// (a local echo has no event id).
export function messageLocator(page, text) {
  return page.locator('#events li.message[data-event-id] .body', { hasText: text });
}

export function assertAllFromWorker(page) {
  assert.ok(page.matrixResponses.length > 0, 'the page made Matrix requests');
  const fromNetwork = page.matrixResponses.filter((r) => !r.fromServiceWorker()).map((r) => r.url());
  assert.deepEqual(fromNetwork, [], 'every Matrix response came from the service worker');
}

// Reads the demo's IndexedDB store from the page: { meta, chunks: {index:
// base64} } -- enough to compare before and after.
export function readStore(page) {
  return page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('hometab');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const tx = db.transaction(['meta', 'chunks'], 'readonly');
    const get = (req) => new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const [meta, keys, values] = await Promise.all([get(tx.objectStore('meta').get('file')),
      get(tx.objectStore('chunks').getAllKeys()), get(tx.objectStore('chunks').getAll())]);
    db.close();
    const chunks = {};
    keys.forEach((k, i) => {
      const bytes = new Uint8Array(values[i]);
      let text = '';
      for (let j = 0; j < bytes.length; j += 0x8000) text += String.fromCharCode(...bytes.subarray(j, j + 0x8000));
      chunks[k] = btoa(text);
    });
    return { meta, chunks };
  });
}
