// worker-link.js -- the page's side of the service worker.
//
// Registers the worker, waits until it controls this page (only then do
// fetch('/_matrix/...') calls reach it instead of the network), and talks to
// it: status reports arrive on the BroadcastChannel 'hometab-status', export
// and import go over a MessageChannel.

async function buildId() {
  try {
    const response = await fetch('/version.json', { cache: 'no-store' });
    if (response.ok) return (await response.json()).build ?? 'dev';
  } catch { /* a plain folder without a build: fine */ }
  return 'dev';
}

function controlledBy(build) {
  const controller = navigator.serviceWorker.controller;
  return controller && new URL(controller.scriptURL).searchParams.get('v') === build;
}

// Resolves once this page is controlled by the worker of this build.
export async function connectWorker({ onStatus = () => {}, timeoutMs = 15000 } = {}) {
  if (!('serviceWorker' in navigator)) {
    throw new Error('This browser offers no service workers on this page. They need https, ' +
      'or http://localhost / http://127.0.0.1, and are off in some private modes.');
  }
  const build = await buildId();
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
  // `ready` resolves before the page is controlled, even with clients.claim():
  // the controllerchange event is what says the fetches now go to the worker.
  const controlled = new Promise((resolve, reject) => {
    if (controlledBy(build)) return resolve();
    const timer = setTimeout(() => reject(new Error('The service worker did not take control of this page.')),
      timeoutMs);
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (controlledBy(build)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await navigator.serviceWorker.register(`/sw/sw.js?v=${encodeURIComponent(build)}`,
    { type: 'module', scope: '/', updateViaCache: 'none' });
  await controlled;
  return new WorkerLink(build, report);
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
