// worker-link.js -- the page's side of the service worker.
//
// Registers the worker, waits until it controls this page (only then do
// fetch('/_matrix/...') calls reach it instead of the network), and talks to
// it: status reports arrive on the BroadcastChannel 'hometab-status', export
// and import go over a MessageChannel.
//
// A page talks only to the worker of its own build. A page the worker served
// from its cache is of that worker's build; when the server has a newer one,
// the page registers it, and the new worker, once installed, takes over and
// reloads every open page into its build (sw/sw.js).
//
// The mode is part of the worker's URL too (&p2p=1: peer-to-peer mode, see
// sw/sw.js): a page that wants the other mode registers that worker, which
// takes over at once, like a new build.

async function buildId() {
  try {
    const response = await fetch('/version.json', { cache: 'no-store' });
    if (response.ok) return (await response.json()).build ?? 'dev';
  } catch { /* a plain folder without a build: fine */ }
  return 'dev';
}

function buildOf(worker) {
  return worker ? new URL(worker.scriptURL).searchParams.get('v') : null;
}

let p2pMode = false; // the mode this page asks its worker for

function controlledBy(build) {
  const worker = navigator.serviceWorker.controller;
  return buildOf(worker) === build && (new URL(worker.scriptURL).searchParams.get('p2p') === '1') === p2pMode;
}

// Registers the worker of `build`; resolves true once it controls this page,
// false if it cannot install (the server has another build by then, or a file
// did not arrive intact) or has not taken over within timeoutMs.
function takeOver(build, timeoutMs) {
  return new Promise((resolve, reject) => {
    if (controlledBy(build)) return resolve(true);
    const check = () => controlledBy(build) && done(true);
    const done = (ok) => {
      clearTimeout(timer);
      navigator.serviceWorker.removeEventListener('controllerchange', check);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    // `ready` resolves before the page is controlled, even with clients.claim():
    // the controllerchange event is what says the fetches now go to the worker.
    navigator.serviceWorker.addEventListener('controllerchange', check);
    navigator.serviceWorker.register(`/sw/sw.js?v=${encodeURIComponent(build)}${p2pMode ? '&p2p=1' : ''}`,
      { type: 'module', scope: '/', updateViaCache: 'none' }).then((registration) => {
      const worker = registration.installing ?? registration.waiting;
      worker?.addEventListener('statechange', () => worker.state === 'redundant' && done(controlledBy(build)));
      check();
    }, (e) => {
      done(false);
      reject(e);
    });
  });
}

// Resolves once this page is controlled by the worker of this build.
// p2p: the worker of peer-to-peer mode.
export async function connectWorker({ onStatus = () => {}, timeoutMs = 15000, p2p = false } = {}) {
  p2pMode = p2p;
  if (!('serviceWorker' in navigator)) {
    throw new Error('This browser offers no service workers on this page. They need https, ' +
      'or http://localhost / http://127.0.0.1, and are off in some private modes.');
  }
  const latest = await buildId();
  const current = buildOf(navigator.serviceWorker.controller);
  let build = latest;
  if (current && current !== latest) {
    // This page came from the cache of an older build. Once the newer
    // worker has taken over, it reloads this page (should it not, this page
    // does); if it cannot install, this page goes on with its own build.
    if (await takeOver(latest, timeoutMs).catch(() => false)) return awaitReload();
    build = current;
  }
  let last = { instance: null, seq: 0 };
  // Drops a report overtaken by a newer one of the same worker start.
  const report = (status) => {
    if (status.build !== build) return;
    if (status.instance === last.instance && status.seq <= last.seq) return;
    last = { instance: status.instance, seq: status.seq };
    onStatus(status);
  };
  new BroadcastChannel('hometab-status').addEventListener('message', (event) => {
    if (event.data?.type === 'hometab-status') report(event.data.status);
  });
  if (!await takeOver(build, timeoutMs)) throw new Error('The service worker did not take control of this page.');
  followNewBuilds(build, latest, timeoutMs);
  return new WorkerLink(build, report);
}

// A newer build that web/reachability.js sees once the server answers again:
// its worker installs and, on taking over, reloads this page. A build whose
// worker could not install is not tried again by this page. Once a newer
// build's worker has installed (by this page or another), this page waits
// for that reload.
async function followNewBuilds(build, latest, timeoutMs) {
  const tried = new Set([build, latest]);
  document.addEventListener('hometab-reachability', (event) => {
    const { reachable, build: newest } = event.detail ?? {};
    if (!reachable || !newest || tried.has(newest)) return;
    tried.add(newest);
    takeOver(newest, timeoutMs).catch(() => {});
  });
  const registration = await navigator.serviceWorker.getRegistration('/');
  const watch = (worker) => worker?.addEventListener('statechange', () => {
    if (worker.state === 'installed' && buildOf(worker) !== build) awaitReload();
  });
  registration?.addEventListener('updatefound', () => watch(registration.installing));
  watch(registration?.installing);
  if (registration?.waiting && buildOf(registration.waiting) !== build) awaitReload();
}

// This page is of an older build than the worker that is about to control
// it, which reloads it into its own build (sw/sw.js). Until then the page's
// reads wait, unsent: Chromium activates the new worker only once the old one
// has been idle for a moment, and the sync loop would keep it busy (or, once
// the new one is active, mix two builds). Writes still go out: the old
// worker saves them until the moment the new one takes over. Should the
// reload not come, the page reloads itself.
const RELOAD_WAIT_MS = 15000;
let reloading = null;

function awaitReload() {
  if (reloading) return reloading;
  reloading = new Promise(() => {});
  const send = globalThis.fetch;
  const methodOf = (input, init) => (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  globalThis.fetch = (input, init) => (['GET', 'HEAD'].includes(methodOf(input, init)) ? reloading : send(input, init));
  setTimeout(() => location.reload(), RELOAD_WAIT_MS);
  return reloading;
}

class WorkerLink {
  constructor(build, report) {
    this.build = build;
    this.report = report;
  }

  // Sends { type, ...fields } and resolves with the worker's answer.
  ask(type, fields = {}, transfer = []) {
    return new Promise((resolve, reject) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => {
        const answer = event.data;
        if (answer.status) this.report(answer.status);
        if (answer.ok) resolve(answer);
        else reject(new Error(answer.error));
      };
      const worker = navigator.serviceWorker.controller;
      if (!worker) return reject(new Error('The service worker does not control this page any more.'));
      worker.postMessage({ type, ...fields }, [channel.port2, ...transfer]);
    });
  }

  async status() {
    return (await this.ask('status')).status;
  }

  async exportDatabase() {
    return (await this.ask('export')).bytes;
  }

  async importDatabase(bytes) {
    const copy = bytes.slice();
    return (await this.ask('import', { bytes: copy }, [copy.buffer])).status;
  }
}
