// browser.mjs -- figures for the in-browser server, printed by `make bench`.
//
// Headless Chromium (Debian's) loads a bench page from the native server.
// The page is controlled by the real service worker (sw/sw.js), wrapped by a
// bench worker that adds one path, /_bench/floor, answered with a constant
// Response: the browser's own page <-> worker cost, which the bridge cannot
// go below. Databases of a given size are made in node with the same wasm
// build (the bridge with persist: false), then imported into the browser.
//
// Figures (targets in brackets):
//   versions through the worker, median minus floor            [<= 0.3 ms]
//   durable message send, median minus floor                   [<= 5 ms]
//   flush after one message, 50 MB database / 1 MB database   [<= 2]
//   cold start to first answer, 10,000 messages                [<= 200 ms]
//   .wasm gzipped                                              [<= 500 KB]
//   wasm memory after 10,000 messages                          [<= 64 MB]
//   the native server over loopback, from the same page

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const BIN = process.env.HOMETAB_BIN;
const WWW = process.env.HOMETAB_WEB_ROOT;
if (!BIN || !WWW) throw new Error('run through `make bench` (HOMETAB_BIN, HOMETAB_WEB_ROOT)');
const N = Number(process.env.BENCH_N ?? 1000);
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const work = mkdtempSync(join(tmpdir(), 'hometab-bench-'));
const cleanups = [() => rmSync(work, { recursive: true, force: true })];
process.on('exit', () => cleanups.reverse().forEach((f) => { try { f(); } catch { /* */ } }));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];
const fmt = (x, d = 2) => x.toFixed(d);
const rows = [];
function report(name, value, target, note = '') {
  rows.push({ name, value, target, note });
  console.log(`${name.padEnd(52)} ${value.padStart(16)}   ${(target ?? '').padEnd(10)} ${note}`);
}

// ---- databases, made in node with the same wasm build -------------------

const { start } = await import(pathToFileURL(join(WWW, 'js-bridge/hometab.js')));
const { default: createHometabCore } = await import(pathToFileURL(join(WWW, 'wasm/hometab-core.js')));
const wasmBinary = readFileSync(join(WWW, 'wasm/hometab-core.wasm'));

// A database with one user ("bench", password "bench-password-1") in one
// room holding `count` messages of about `size` bytes each, or fewer: as
// many as make it `targetBytes` large.
async function makeDatabase(serverName, count, size, targetBytes = Infinity) {
  // A fresh module each time (the bridge loads a module once per factory):
  // wasm memory never shrinks, so each figure starts from an empty heap.
  const server = await start({ createModule: (options) => createHometabCore(options),
    moduleOptions: { wasmBinary }, persist: false, serverName });
  const ask = async (method, path, body, token) => {
    const r = await server.handle(new Request(`http://${serverName}${path}`, { method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: body === undefined ? undefined : JSON.stringify(body) }));
    const json = await r.json();
    if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  const { access_token: token } = await ask('POST', '/_matrix/client/v3/register',
    { username: 'bench', password: 'bench-password-1', auth: { type: 'm.login.dummy' } });
  const { room_id: roomId } = await ask('POST', '/_matrix/client/v3/createRoom', { name: 'Bench' }, token);
  const filler = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(size / 27)).slice(0, size);
  const t0 = performance.now();
  let i = 0;
  for (; i < count && server.status().dbBytes < targetBytes; i++) {
    await ask('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/m${i}`,
      { msgtype: 'm.text', body: `${i} ${filler}` }, token);
  }
  const sendMs = (performance.now() - t0) / Math.max(i, 1);
  const bytes = await server.export();
  const memory = server.status().memoryBytes;
  await server.close();
  return { bytes, roomId, memory, sendMs };
}

// ---- the native server and the bench page -------------------------------

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const port = await freePort();
const serverName = `127.0.0.1:${port}`;
const root = join(work, 'www');
cpSync(WWW, root, { recursive: true });
writeFileSync(join(root, 'bench.html'), '<!doctype html><meta charset="utf-8"><title>bench</title>');
// The real worker, plus one constant answer for the floor. Imports run
// first, so sw.js's fetch listener comes first; it leaves /_bench/ alone.
writeFileSync(join(root, 'bench-sw.js'), `import './sw/sw.js';
self.addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname === '/_bench/floor') {
    event.respondWith((async () => {
      if (event.request.method === 'PUT') await event.request.arrayBuffer();
      return new Response('{}', { headers: { 'content-type': 'application/json' } });
    })());
  }
});
`);
const nativeDb = join(work, 'native.sqlite');
const native = spawn(BIN, ['--listen', `127.0.0.1:${port}`, '--db', nativeDb, '--server-name', serverName,
  '--web-root', root, '--no-rate-limit'], { stdio: ['ignore', 'pipe', 'inherit'] });
cleanups.push(() => native.kill('SIGTERM'));
await new Promise((resolve) => native.stdout.on('data', (d) => /listening/.test(d) && resolve()));
const origin = `http://127.0.0.1:${port}`;

const context = await chromium.launchPersistentContext(join(work, 'profile'), {
  executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });
cleanups.push(() => context.close());
const page = context.pages()[0] ?? await context.newPage();

// Each figure gets a worker of its own (a new script URL); all of them run
// the web root's build, so they keep its app shell and read the wasm from it,
// as the demo's worker does.
const BUILD = JSON.parse(readFileSync(join(WWW, 'version.json'), 'utf8')).build;

async function useWorker(label) {
  const query = `v=${BUILD}&bench=${label}`;
  await page.goto(`${origin}/bench.html`);
  await page.evaluate(async (q) => {
    for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
    await navigator.serviceWorker.register(`/bench-sw.js?${q}`, { type: 'module', scope: '/' });
    if (!navigator.serviceWorker.controller?.scriptURL.endsWith(q)) {
      await new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve));
    }
    const r = await fetch('/_matrix/client/versions');
    if (!r.ok) throw new Error(`the worker answers ${r.status}`);
  }, query);
}

// Asks the worker (through postMessage) for its status, or to import.
function ask(type, fields = {}) {
  return page.evaluate(async ({ type, fields }) => new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = (e) => (e.data.ok ? resolve(e.data.status) : reject(new Error(e.data.error)));
    navigator.serviceWorker.controller.postMessage({ type, ...fields }, [channel.port2]);
  }), { type, fields });
}

// Databases reach the page as files of the web root (50 MB do not fit
// through page.evaluate's arguments).
let dbFiles = 0;
async function importDb(bytes) {
  const name = `bench-db-${dbFiles++}.sqlite`;
  writeFileSync(join(root, name), bytes);
  return page.evaluate(async (url) => {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    return new Promise((resolve, reject) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (e) => (e.data.ok ? resolve(e.data.status) : reject(new Error(e.data.error)));
      navigator.serviceWorker.controller.postMessage({ type: 'import', bytes }, [channel.port2, bytes.buffer]);
    });
  }, `/${name}`);
}

// Times `count` sequential fetches of `url` (with `init`) from the page.
function timeFetches(url, count, init = {}, bodyOf = null) {
  return page.evaluate(async ({ url, count, init, bodyOf }) => {
    const times = [];
    for (let i = 0; i < count; i++) {
      const options = { ...init };
      if (bodyOf) options.body = bodyOf.replace('$i', String(i));
      const u = url.replace('$i', String(i));
      const t0 = performance.now();
      const r = await fetch(u, options);
      await r.arrayBuffer();
      times.push(performance.now() - t0);
      if (!r.ok) throw new Error(`${u}: ${r.status}`);
    }
    return times;
  }, { url, count, init, bodyOf });
}

async function login() {
  return page.evaluate(async () => {
    const r = await fetch('/_matrix/client/v3/login', { method: 'POST', body: JSON.stringify({
      type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bench' }, password: 'bench-password-1' }) });
    return (await r.json()).access_token;
  });
}

function sendUrl(roomId, tag) {
  return `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${tag}-$i`;
}

console.log(`hometab browser figures (Chromium, ${N} sequential fetches per latency figure)\n`);
console.log(`${'figure'.padEnd(52)} ${'measured'.padStart(16)}   ${'target'.padEnd(10)} note`);

// BENCH_ONLY=sends: only the durable-send part (quicker, for tuning).
const ONLY = process.env.BENCH_ONLY ?? '';

// 1. Latency: the floor, /versions through the worker, native over loopback.
await useWorker('floor');
const putFloor = await timeFetches('/_bench/floor', Math.min(N, 300), { method: 'PUT' },
  JSON.stringify({ msgtype: 'm.text', body: 'a new message $i' }));
report('worker floor: PUT with a message body (median)', `${fmt(median(putFloor))} ms`, '', '');
let floorMedian;
if (ONLY !== 'sends') {
const floor = await timeFetches('/_bench/floor', N);
const versions = await timeFetches('/_matrix/client/versions', N);
floorMedian = median(floor);
report('worker floor: constant Response (median / p99)', `${fmt(floorMedian)} / ${fmt(p99(floor))} ms`, '', '');
report('/versions through the worker (median / p99)', `${fmt(median(versions))} / ${fmt(p99(versions))} ms`, '', '');
report('  /versions median minus floor', `${fmt(median(versions) - floorMedian)} ms`, '<= 0.3 ms');
const nativeOrigin = `http://localhost:${port}`; // another origin: the worker lets it pass
const nativeTimes = await timeFetches(`${nativeOrigin}/_matrix/client/versions`, N);
report('native server over loopback, same page (median / p99)', `${fmt(median(nativeTimes))} / ${fmt(p99(nativeTimes))} ms`, '',
  'cross-origin, passes the worker');
const bare = await context.newPage();
await bare.goto(`${nativeOrigin}/version.json`); // an origin with no worker
const bareTimes = await bare.evaluate(async (n) => {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await (await fetch('/_matrix/client/versions')).arrayBuffer();
    times.push(performance.now() - t0);
  }
  return times;
}, N);
await bare.close();
report('native server over loopback, page without worker', `${fmt(median(bareTimes))} / ${fmt(p99(bareTimes))} ms`, '');
}
if (ONLY === 'sends') floorMedian = median(await timeFetches('/_bench/floor', 300));

// 2. Durable sends and flushes, in a 1 MB and a 50 MB database, for both
// IndexedDB durability hints.
const small = await makeDatabase(serverName, 100000, 2000, 1e6);
const large = await makeDatabase(serverName, 100000, 2000, 50e6);
const SENDS = Number(process.env.BENCH_SENDS ?? 100);
const flushFigures = {};
for (const idb of ['strict', 'relaxed']) {
  await useWorker(`${idb}&idb=${idb}`);
  for (const [label, db] of [['1 MB', small], ['50 MB', large]]) {
    const status = await importDb(db.bytes);
    const token = await login();
    const flushes = [];
    const sends = [];
    for (let i = 0; i < SENDS; i++) {
      const [t] = await timeFetches(sendUrl(db.roomId, `${idb}-${label}-${i}`), 1,
        { method: 'PUT', headers: { authorization: `Bearer ${token}` } },
        JSON.stringify({ msgtype: 'm.text', body: `a new message $i` }));
      sends.push(t);
      flushes.push((await ask('status')).lastFlush);
    }
    flushFigures[`${idb} ${label}`] = { flush: median(flushes.map((f) => f.ms)), send: median(sends),
      chunks: median(flushes.map((f) => f.chunks)), dbBytes: status.dbBytes };
  }
}
for (const idb of ['strict', 'relaxed']) {
  const s = flushFigures[`${idb} 1 MB`];
  const l = flushFigures[`${idb} 50 MB`];
  report(`durable send, idb ${idb}, 1 MB db (median minus floor)`, `${fmt(s.send - floorMedian)} ms`,
    idb === 'strict' ? '<= 5 ms' : '', `send ${fmt(s.send)} ms; minus the PUT floor ${fmt(s.send - median(putFloor))} ms`);
  report(`flush after one message, idb ${idb}: 1 MB db`, `${fmt(s.flush)} ms`, '',
    `${s.chunks} chunk(s), db ${(s.dbBytes / 1e6).toFixed(1)} MB`);
  report(`flush after one message, idb ${idb}: 50 MB db`, `${fmt(l.flush)} ms`, '',
    `${l.chunks} chunk(s), db ${(l.dbBytes / 1e6).toFixed(1)} MB; send ${fmt(l.send)} ms`);
  report(`  flush 50 MB / flush 1 MB, idb ${idb}`, fmt(l.flush / s.flush), '<= 2');
}

if (ONLY === 'sends') {
  await context.close();
  native.kill('SIGTERM');
  process.exit(0);
}

// 3. Cold start with 10,000 messages: stop the worker, time the first answer.
await useWorker('cold');
const tenk = await makeDatabase(serverName, 10000, 60);
await importDb(tenk.bytes);
const cdp = await context.newCDPSession(page);
await cdp.send('ServiceWorker.enable');
const colds = [];
let coldStatus;
for (let i = 0; i < 7; i++) {
  await cdp.send('ServiceWorker.stopAllWorkers');
  await new Promise((r) => setTimeout(r, 300));
  colds.push(await page.evaluate(async () => {
    const t0 = performance.now();
    await (await fetch('/_matrix/client/versions')).arrayBuffer();
    return performance.now() - t0;
  }));
  coldStatus = await ask('status');
}
report('cold start to first answer, 10,000 messages (median)', `${fmt(median(colds), 1)} ms`, '<= 200 ms',
  `restore ${fmt(coldStatus.restored.ms, 1)} ms, ${coldStatus.restored.chunks} chunks, db ${(coldStatus.dbBytes / 1e6).toFixed(1)} MB`);

// 4. Size and memory.
const wasm = readFileSync(join(WWW, 'wasm/hometab-core.wasm'));
report('.wasm size, gzip -9', `${(gzipSync(wasm, { level: 9 }).length / 1024).toFixed(0)} KB`, '<= 500 KB',
  `${(wasm.length / 1024).toFixed(0)} KB raw`);
report('wasm memory after 10,000 messages sent (node)', `${(tenk.memory / 1048576).toFixed(0)} MB`, '<= 64 MB',
  `${fmt(tenk.sendMs, 3)} ms per send in node`);
report('wasm memory after a cold start with them (browser)', `${(coldStatus.memoryBytes / 1048576).toFixed(0)} MB`,
  '<= 64 MB');

await context.close();
native.kill('SIGTERM');
