// sw.js -- the service worker: the in-browser homeserver's front door.
//
// It knows URLs and lifecycle, not Matrix. Requests for /_matrix/ and
// /.well-known/matrix/ on this origin go to the bridge, which answers them
// with the wasm core; everything else goes to the network untouched.
//
// A browser stops an idle worker after ~30 s and all of this script's state
// vanishes, so the server starts lazily on the first event after every start
// (a fetch, or a page asking for the status) and restores its database from
// IndexedDB before answering. Pages learn what happens through messages:
// { type: 'hometab-status', status } on the BroadcastChannel 'hometab-status'
// (see js-bridge/README.md for the fields), at most every 50 ms and never
// ahead of an answer: a save reports twice (saving, then ready), and looking
// up the windows to post to (clients.matchAll) cost ~2 ms per send.
//
// Registered as a module worker: /sw/sw.js?v=<build> with scope '/' (the
// native host sends Service-Worker-Allowed: /). The build id versions the
// .wasm URL too, so a new build never runs with an old module.

import createHometabCore from '../wasm/hometab-core.js';
import { start } from '../js-bridge/hometab.js';

const PARAMS = new URL(self.location.href).searchParams;
const BUILD = PARAMS.get('v') ?? 'dev';
// A page may choose, in the worker's URL: durability=relaxed (answer before
// saving; the default durable mode answers a write once it is in IndexedDB)
// and idb=relaxed (IndexedDB's own durability hint; default strict).
const OPTIONS = {
  durability: PARAMS.get('durability') === 'relaxed' ? 'relaxed' : 'durable',
  idbDurability: PARAMS.get('idb') === 'relaxed' ? 'relaxed' : 'strict',
};
const SCOPE_PREFIXES = ['/_matrix/', '/.well-known/matrix/'];

let server = null; // Promise of the bridge, once started
let statusSeq = 0;

function startServer() {
  server ??= start({
    createModule: createHometabCore,
    moduleOptions: {
      locateFile: (path) => new URL(`../wasm/${path}?v=${BUILD}`, self.location.href).href,
    },
    onStatus: broadcast,
    ...OPTIONS,
  });
  return server;
}

// Reports are numbered per worker start, so a page can drop a report that
// arrives after a newer one, and still accept those of a restarted worker.
const INSTANCE = crypto.randomUUID();

function describe(status) {
  return { ...status, build: BUILD, instance: INSTANCE, seq: ++statusSeq };
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

// Workers of other builds on this origin: a new one says it is installing,
// and the old one stops parking long-polls. Chromium activates a new worker
// only when the old one has no request in flight, and a parked /sync is one
// for up to 19 s.
const builds = new BroadcastChannel('hometab-service-worker');
builds.onmessage = (event) => {
  if (event.data?.installing && event.data.installing !== BUILD && server) server.then((s) => s.release());
};

self.addEventListener('install', (event) => {
  builds.postMessage({ installing: BUILD });
  event.waitUntil(self.skipWaiting());
});
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// Replaced by a newer worker: let go of the database.
self.serviceWorker?.addEventListener('statechange', () => {
  if (self.serviceWorker.state === 'redundant' && server) server.then((s) => s.close());
});

// ---- requests

function ours(url) {
  return url.origin === self.location.origin &&
    SCOPE_PREFIXES.some((prefix) => url.pathname.startsWith(prefix));
}

self.addEventListener('fetch', (event) => {
  if (!ours(new URL(event.request.url))) return; // the network's
  event.respondWith((async () => {
    const s = await startServer();
    const response = await s.handle(event.request);
    // Relaxed mode answers before saving: keep the worker alive until saved.
    if (s.status().unsaved) event.waitUntil(s.flush());
    return response;
  })());
});

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
  const message = event.data ?? {};
  const port = event.ports[0];
  const command = commands[message.type];
  if (!command || !port) return;
  event.waitUntil((async () => {
    try {
      const { transfer = [], ...answer } = await command(await startServer(), message);
      port.postMessage({ ok: true, ...answer }, transfer);
    } catch (e) {
      port.postMessage({ ok: false, error: e?.message ?? String(e) });
    }
  })());
});
