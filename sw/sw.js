// sw.js -- the service worker: the in-browser homeserver's front door.
//
// It knows URLs and lifecycle, not Matrix. Requests for /_matrix/ and
// /.well-known/matrix/ on this origin go to the bridge, which answers them
// with the wasm core. The files of the web root are the app shell
// (sw/shell.js): the page, its scripts and the wasm are answered from this
// build's cache, so the demo opens and the server runs with no network at
// all; /version.json asks the network first (it is how a page learns of a
// newer build) and falls back to the cache; a navigation the cache cannot
// answer tries the network, then gets offline.html. Anything else goes to the
// network untouched.
//
// A browser stops an idle worker after ~30 s and all of this script's state
// vanishes, so the server starts lazily on the first Matrix request after
// every start and restores its database from IndexedDB before answering.
// Pages learn what happens through messages: { type: 'hometab-status', status }
// on the BroadcastChannel 'hometab-status' (see js-bridge/README.md for the
// fields), at most every 50 ms and never ahead of an answer: a save reports
// twice (saving, then ready), and looking up the windows to post to
// (clients.matchAll) cost ~2 ms per send.
//
// Registered as a module worker: /sw/sw.js?v=<build> with scope '/' (the
// native host sends Service-Worker-Allowed: /). Builds never mix: a worker
// installs only if the server still has its build and every file of it
// arrives intact; it activates at once (skipWaiting), deletes the other
// builds' caches and, when it replaces another build's worker, reloads every
// window that was open (they show that build's pages). A worker registered
// without a build (no ?v=) keeps no shell and leaves everything but Matrix to
// the network.
//
// Peer-to-peer mode (?p2p=1 in the worker's URL, which the page chooses): the
// server is named by its key and federates through the transport a page
// carries (js-bridge/p2p/worker-route.js): its outbound requests go to the
// page holding the Web Lock, requests from peers come back from it, and that
// page's timer pumps the outbox. The worker never loads libp2p.

import createHometabCore from '../wasm/hometab-core.js';
import { start } from '../js-bridge/hometab.js';
import { createTransportRoute } from '../js-bridge/p2p/worker-route.js';
import { BUILD_HEADER, Shell } from './shell.js';

const PARAMS = new URL(self.location.href).searchParams;
const BUILD = PARAMS.get('v') ?? 'dev';
// A page may choose, in the worker's URL: durability=relaxed (answer before
// saving; the default durable mode answers a write once it is in IndexedDB)
// and idb=relaxed (IndexedDB's own durability hint; default strict).
const OPTIONS = {
  durability: PARAMS.get('durability') === 'relaxed' ? 'relaxed' : 'durable',
  idbDurability: PARAMS.get('idb') === 'relaxed' ? 'relaxed' : 'strict',
};
const P2P = PARAMS.get('p2p') === '1';
const SCOPE_PREFIXES = ['/_matrix/', '/.well-known/matrix/'];
const shell = PARAMS.has('v') ? new Shell(BUILD) : null;
shell?.load();
// How long the network may take to start answering a navigation or
// /version.json before the cache answers instead: a server that is down
// refuses at once, but a lost network can leave a request hanging for ~20 s.
const NETWORK_WAIT_MS = 3000;
// The most a request of a window being reloaded into this build waits.
const HOLD_MS = 10000;

let server = null; // Promise of the bridge, once started
let statusSeq = 0;

// p2p: the worker's half of the page-carried transport. Requests from peers
// enter the core as ordinary request bytes (the page's guard has already
// refused client paths and forged origins); in durable mode their answer
// leaves only once saved, so a peer never drops what this server did not keep.
const route = P2P ? createTransportRoute({
  onInbound: async (bytes) => (await startServer()).handleBytes(bytes),
  identity: async () => (await startServer()).identity(),
  pump: async () => {
    (await startServer()).pump();
    broadcast((await startServer()).status());
  },
}) : null;

function startServer() {
  server ??= (shell ? shell.bytes('/wasm/hometab-core.wasm') : Promise.resolve(null)).then((wasmBinary) =>
    start({
      createModule: createHometabCore,
      // The wasm of this build's shell; without a shell, the network's.
      moduleOptions: wasmBinary ? { wasmBinary } : {
        locateFile: (path) => new URL(`../wasm/${path}?v=${BUILD}`, self.location.href).href,
      },
      onStatus: broadcast,
      p2p: P2P,
      transport: route && { send: (destination, bytes, options) => route.send(destination, bytes, options) },
      ...OPTIONS,
    })).then((s) => {
    // Started again while a newer worker waits: make way for it at once.
    if (self.registration.waiting) s.release();
    return s;
  });
  return server;
}

// Reports are numbered per worker start, so a page can drop a report that
// arrives after a newer one, and still accept those of a restarted worker.
const INSTANCE = crypto.randomUUID();

// p2p: the transport as the page carrying it last reported it ({ name,
// peers, relayConnected, at } or null: no page carries it).
function describe(status) {
  const transport = route ? { holder: route.holder(), ...route.status() } : null;
  return { ...status, transport, build: BUILD, instance: INSTANCE, seq: ++statusSeq };
}

const statusChannel = new BroadcastChannel('hometab-status');
const STATUS_EVERY_MS = 50;
let latestStatus = null;
let statusTimer = null;
let statusSentAt = 0;

function broadcast(status) {
  latestStatus = status;
  if (statusTimer) return;
  const wait = Math.max(0, statusSentAt + STATUS_EVERY_MS - Date.now());
  statusTimer = setTimeout(() => {
    statusTimer = null;
    statusSentAt = Date.now();
    statusChannel.postMessage({ type: 'hometab-status', status: describe(latestStatus) });
  }, wait);
}

// ---- lifecycle: take over at once, so even the first page load is served

// Workers of other builds on this origin: a new one says when it has
// installed (it then takes over as soon as it can), and the one running stops
// parking long-polls. Chromium activates a new worker only once the old one
// has been idle for a moment, and a parked /sync keeps it busy for up to 19 s
// (the pages of the old build meanwhile hold their requests: web/worker-link.js).
// Not at the start of an install: one that fails would leave this worker
// answering every long-poll at once for good.
const builds = new BroadcastChannel('hometab-service-worker');
builds.onmessage = (event) => {
  if (event.data?.installed && event.data.installed !== BUILD && server) server.then((s) => s.release());
};

// Whether this worker replaces one of another build (then the windows open
// when it takes over show that build's pages), and those windows until they
// reload: nothing they ask is answered, or they would mix two builds.
let replacing = false;
const olderPages = new Set();

self.addEventListener('install', (event) => {
  const active = self.registration.active;
  replacing = active !== null && new URL(active.scriptURL).searchParams.get('v') !== BUILD;
  event.waitUntil((async () => {
    await shell?.install();
    builds.postMessage({ installed: BUILD });
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => event.waitUntil((async () => {
  await shell?.dropOthers();
  const windows = replacing ? await self.clients.matchAll({ type: 'window', includeUncontrolled: true }) : [];
  for (const w of windows) olderPages.add(w.id);
  await self.clients.claim();
  // Not awaited: the reloads are fetches this worker answers once active.
  for (const w of windows) w.navigate(w.url).catch(() => olderPages.delete(w.id));
})()));

// Replaced by a newer worker: let go of the database.
self.serviceWorker?.addEventListener('statechange', () => {
  if (self.serviceWorker.state === 'redundant' && server) server.then((s) => s.close());
});

// ---- requests

function isMatrix(url) {
  return SCOPE_PREFIXES.some((prefix) => url.pathname.startsWith(prefix));
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin) return; // the network's
  // (A navigation's clientId is the window it leaves: it is the reload.)
  if (olderPages.has(event.clientId) && event.request.mode !== 'navigate') {
    event.respondWith(new Promise((resolve) => setTimeout(() => resolve(Response.error()), HOLD_MS)));
  } else if (isMatrix(url)) {
    event.respondWith(answerMatrix(event));
  } else if (shell && event.request.method === 'GET') {
    if (url.pathname === '/version.json') event.respondWith(latestVersion(event.request));
    else if (event.request.mode === 'navigate' || shell.covers(url)) event.respondWith(fromShell(event.request, url));
    // Any other file: the network's.
  }
});

async function answerMatrix(event) {
  const s = await startServer();
  const response = await s.handle(event.request);
  // Relaxed mode answers before saving: keep the worker alive until saved.
  if (s.status().unsaved) event.waitUntil(s.flush());
  response.headers.set(BUILD_HEADER, BUILD);
  return response;
}

// Resolves with the network's answer, or rejects once it has not started
// within NETWORK_WAIT_MS.
function network(request) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('the network did not answer in time')), NETWORK_WAIT_MS);
  });
  return Promise.race([fetch(request), timeout]).finally(() => clearTimeout(timer));
}

// The server's version.json names the newest build; when the server cannot
// be reached (or fails), the cached one names this worker's.
async function latestVersion(request) {
  try {
    const response = await network(request);
    if (response.status < 500) return response;
  } catch { /* unreachable: the cache answers */ }
  return (await shell.match(new URL('/version.json', self.location.origin))) ?? Response.error();
}

async function fromShell(request, url) {
  const cached = await shell.match(url);
  if (cached) return cached;
  if (request.mode !== 'navigate') return fetch(request);
  try {
    return await network(request);
  } catch {
    return offlinePage();
  }
}

// A navigation that neither the cache nor the network can answer: a page
// that says so at once, rather than a load that hangs.
async function offlinePage() {
  const page = await shell.match(new URL('/offline.html', self.location.origin));
  if (page) return new Response(page.body, { status: 503, statusText: 'Offline', headers: page.headers });
  return new Response('This page is not stored in this browser, and its server cannot be reached.\n',
    { status: 503, statusText: 'Offline', headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

// ---- what pages ask: { type, ... } with a MessagePort for the answer

const commands = {
  async status(s) {
    return { status: describe(s.status()) };
  },
  async export(s) {
    const bytes = await s.export();
    return { bytes, transfer: [bytes.buffer] };
  },
  async import(s, message) {
    await s.import(message.bytes);
    return { status: describe(s.status()) };
  },
};

self.addEventListener('message', (event) => {
  if (route?.handleMessage(event)) {
    // A page's report of its peers: every page's status bar shows it.
    if (event.data?.type === 'p2p-status' && server) event.waitUntil(server.then((s) => broadcast(s.status())));
    return;
  }
  const message = event.data ?? {};
  const port = event.ports[0];
  const command = commands[message.type];
  if (!command || !port || olderPages.has(event.source?.id)) return;
  event.waitUntil((async () => {
    try {
      const { transfer = [], ...answer } = await command(await startServer(), message);
      port.postMessage({ ok: true, ...answer }, transfer);
    } catch (e) {
      port.postMessage({ ok: false, error: e?.message ?? String(e) });
    }
  })());
});
