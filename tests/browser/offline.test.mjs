// offline.test.mjs -- the demo keeps working with no network: the worker
// keeps its build's app shell in Cache Storage, opens the demo from it after a
// browser restart with the server gone, updates once to a new build when the
// server is back (never mixing two builds in one page), refuses a build whose
// files do not match their hashes, and answers what it cannot serve at once.
//
// The tests run in order on one browser profile, as one person's story; the
// web root is a copy, so a test can put a new build in it.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { createRoomInUi, launch, loginInUi, messageLocator, openDemo, registerInUi, sendInUi,
  startNative, tempDir, waitForState } from './lib/harness.mjs';

const root = join(tempDir('hometab-www-'), 'www');
const profile = tempDir('hometab-profile-');
const PASSWORD = 'pw-olive-offline-1';
let native;
let port;
let browser;
let page;
let firstBuild;

// ---- builds

function readVersion() {
  return JSON.parse(readFileSync(join(root, 'version.json'), 'utf8'));
}

// What `make www` writes: the build id and every other file with its SHA-256.
function writeBuild(build) {
  const files = {};
  const walk = (dir) => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const path = dir ? `${dir}/${name}` : name;
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (path !== 'version.json') {
        files[path] = `sha256-${createHash('sha256').update(readFileSync(join(root, path))).digest('base64')}`;
      }
    }
  };
  walk('');
  writeFileSync(join(root, 'version.json'), JSON.stringify({ build, files }));
}

// A new build: index.html names it in a meta element a test can read.
function makeBuild(build) {
  const index = readFileSync(join(root, 'index.html'), 'utf8').replace(/\s*<meta name="test-build"[^>]*>/, '');
  writeFileSync(join(root, 'index.html'),
    index.replace('<meta charset="utf-8">', `<meta charset="utf-8">\n  <meta name="test-build" content="${build}">`));
  writeBuild(build);
}

const pageBuild = (p) => p.evaluate(() => document.querySelector('meta[name="test-build"]')?.content ?? null);
const controllerBuild = (p) => p.evaluate(() =>
  new URL(navigator.serviceWorker.controller?.scriptURL ?? 'x:').searchParams.get('v'));
const cacheNames = (p) => p.evaluate(() => caches.keys());

// Every response a page's documents received (through DevTools, which names
// the document each request belongs to): [{ loader, document, builds }], one
// entry per document load, builds the X-Hometab-Build values of the answers
// the worker made from its cache or its wasm core.
async function recordLoads(p) {
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Network.enable');
  const loads = new Map();
  cdp.on('Network.responseReceived', ({ loaderId, type, response }) => {
    if (!loads.has(loaderId)) loads.set(loaderId, { loader: loaderId, document: null, builds: new Set() });
    const load = loads.get(loaderId);
    if (type === 'Document') load.document = response.url;
    const build = Object.entries(response.headers).find(([k]) => k.toLowerCase() === 'x-hometab-build');
    if (build) load.builds.add(build[1]);
  });
  return { list: () => [...loads.values()], stop: () => cdp.detach().catch(() => {}) };
}

// A listener on the server's port that accepts connections and never
// answers: what a lost network looks like to the browser.
function silentServer(onPort) {
  const sockets = new Set();
  const server = net.createServer((s) => sockets.add(s));
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(onPort, '127.0.0.1', () => resolve({
      close: () => new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(r);
      }),
    }));
  });
}

before(async () => {
  cpSync(process.env.HOMETAB_WEB_ROOT, root, { recursive: true });
  firstBuild = readVersion().build;
  native = await startNative({ webRoot: root });
  port = native.port;
});

after(async () => {
  await browser?.close();
  await native.stop();
});

test('online: the worker keeps exactly its build\'s files in one cache, and the demo is installable', async () => {
  browser = await launch({ userDataDir: profile });
  page = await openDemo(browser, native);
  await registerInUi(page, 'olive', PASSWORD);
  await createRoomInUi(page, 'Field notes');
  await sendInUi(page, 'written while online');
  await page.locator('#reachability[data-reachable="online"]').waitFor();

  const version = readVersion();
  const cached = await page.evaluate(async (name) => {
    const cache = await caches.open(name);
    const out = {};
    for (const request of await cache.keys()) {
      const bytes = await (await cache.match(request)).arrayBuffer();
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      out[new URL(request.url).pathname.slice(1)] = `sha256-${btoa(String.fromCharCode(...digest))}`;
    }
    return out;
  }, `hometab-shell-${firstBuild}`);
  assert.deepEqual(await cacheNames(page), [`hometab-shell-${firstBuild}`]);
  const expected = { ...version.files };
  delete cached['version.json'];
  assert.deepEqual(cached, expected, 'the cache holds every file of version.json, byte for byte');
  assert.ok(Object.keys(expected).includes('wasm/hometab-core.wasm'));

  const cdp = await page.context().newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  const { errors: manifestErrors } = await cdp.send('Page.getAppManifest');
  await cdp.detach();
  assert.deepEqual(installabilityErrors, [], 'Chromium would install the demo as an app');
  assert.deepEqual(manifestErrors, []);
  await browser.close();
});

test('server stopped: a relaunched browser opens the demo from the cache, signs in, reads and sends', async () => {
  await native.stop();
  browser = await launch({ userDataDir: profile });
  page = await browser.context.newPage();
  const response = await page.goto(`${native.url}/`);
  assert.equal(response.status(), 200);
  assert.ok(response.fromServiceWorker(), 'the page came from the service worker');
  assert.equal(response.headers()['x-hometab-build'], firstBuild, 'from the cache of the build installed');
  await openDemo(browser, native, { page });
  assert.equal(await controllerBuild(page), firstBuild);
  await page.locator('#reachability[data-reachable="offline"]').waitFor();

  await loginInUi(page, 'olive', PASSWORD);
  await messageLocator(page, 'written while online').waitFor({ timeout: 10000 });
  await sendInUi(page, 'written with the server gone');

  // A reload and a new tab open from the cache too.
  await page.reload();
  await waitForState(page, 'ready');
  await messageLocator(page, 'written with the server gone').waitFor({ timeout: 10000 });
  const tab = await openDemo(browser, native);
  assert.equal(await controllerBuild(tab), firstBuild);
  await tab.locator('#login-view').waitFor({ state: 'visible' });
  assert.deepEqual(native.matrixRequests(), []);
});

test('a navigation nothing can answer gets a clear page at once, never a hang', async () => {
  const tab = await browser.context.newPage();
  const refused = await tab.goto(`${native.url}/rooms/elsewhere`);
  assert.equal(refused.status(), 503);
  assert.match(await tab.locator('#offline-title').textContent(), /not available offline/);

  // A network that swallows requests: the worker stops waiting after its
  // 3 s, well before the ~20 s a browser would hang.
  const silent = await silentServer(port);
  try {
    const started = Date.now();
    const swallowed = await tab.goto(`${native.url}/rooms/elsewhere-again`);
    assert.equal(swallowed.status(), 503);
    assert.ok(Date.now() - started < 10000, `answered after ${Date.now() - started} ms`);
    await tab.goto(`${native.url}/`);
    await waitForState(tab, 'ready');
    await tab.locator('#reachability[data-reachable="offline"]').waitFor();
  } finally {
    await silent.close();
    await tab.close();
  }
});

test('the server back with a new build: each open page updates once, and no page mixes two builds', async () => {
  const loads = await recordLoads(page);
  const tab = browser.context.pages().find((p) => p !== page && p.url().startsWith(native.url));
  assert.equal(await pageBuild(page), null);
  const nextBuild = `${firstBuild}-next`;
  makeBuild(nextBuild);
  native = await startNative({ webRoot: root, port });

  // The page notices the server (web/reachability.js), registers the new
  // build's worker, which installs and reloads the page into its build.
  await page.waitForFunction(() => document.querySelector('meta[name="test-build"]'), null, { timeout: 45000 });
  await waitForState(page, 'ready');
  assert.equal(await pageBuild(page), nextBuild);
  assert.equal(await controllerBuild(page), nextBuild);
  await messageLocator(page, 'written while online').waitFor({ timeout: 10000 });
  await messageLocator(page, 'written with the server gone').waitFor();
  await sendInUi(page, 'written by the new build');

  const documents = loads.list().filter((l) => l.document);
  assert.equal(documents.length, 1, 'one reload');
  for (const load of loads.list()) {
    assert.ok(load.builds.size <= 1, `one document saw one build, not ${[...load.builds].join(' and ')}`);
  }
  assert.deepEqual([...documents[0].builds], [nextBuild]);
  await loads.stop();

  await tab.waitForFunction(() => document.querySelector('meta[name="test-build"]'), null, { timeout: 10000 });
  assert.equal(await controllerBuild(tab), nextBuild);
  assert.deepEqual(await cacheNames(page), [`hometab-shell-${nextBuild}`], 'the old build\'s cache is gone');
  const registrations = await page.evaluate(async () =>
    (await navigator.serviceWorker.getRegistrations()).map((r) => r.active?.scriptURL));
  assert.equal(registrations.length, 1);
  assert.match(registrations[0], new RegExp(`v=${nextBuild}$`));
  assert.deepEqual(native.matrixRequests(), []);
});

test('a build whose files do not match version.json never installs; the running build stays', async () => {
  const running = readVersion().build;
  makeBuild(`${firstBuild}-broken`);
  writeFileSync(join(root, 'app.js'), `${readFileSync(join(root, 'app.js'), 'utf8')}\n// changed after hashing\n`);

  const tried = new Promise((resolve) => browser.context.on('serviceworker', (w) => {
    if (w.url().endsWith('-broken')) resolve();
  }));
  await page.reload();
  await tried; // the page asked for the broken build...
  await waitForState(page, 'ready');
  // ...and went on with its own once that build's worker was refused.
  assert.equal(await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).installing), null);
  assert.equal(await controllerBuild(page), running);
  assert.equal(await pageBuild(page), running);
  assert.deepEqual(await cacheNames(page), [`hometab-shell-${running}`], 'nothing of the broken build is kept');
  await messageLocator(page, 'written by the new build').waitFor({ timeout: 10000 });
  await sendInUi(page, 'still on the build that works');
});

test('nothing cached and the server down: the worker answers a clear page at once', async () => {
  await native.stop();
  await page.evaluate(async () => {
    for (const name of await caches.keys()) await caches.delete(name);
  });
  const response = await page.goto(`${native.url}/`);
  assert.equal(response.status(), 503);
  assert.match(await page.textContent('body'), /not stored in this browser, and its server cannot be reached/);
});

test('a fresh profile with the server down fails at once with the browser\'s clear error', async () => {
  await browser.close();
  browser = await launch();
  const fresh = await browser.context.newPage();
  const started = Date.now();
  await assert.rejects(fresh.goto(`${native.url}/`), /ERR_CONNECTION_REFUSED/);
  assert.ok(Date.now() - started < 10000, `failed after ${Date.now() - started} ms`);
});
