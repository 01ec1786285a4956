// tab.js -- the page's side of the transport: one tab per origin holds the
// Web Lock 'hometab-transport' and runs the peer-to-peer node (peer.js, in
// the bundle /vendor/p2p.js, loaded only here, only in p2p mode); every
// other tab waits in the lock's queue and takes over when the holder closes.
// The holder carries bytes between the node and the service worker (see
// worker-route.js for the messages): the core's outbound requests go out,
// peers' requests come in, and a timer pumps the worker's outbox (a worker
// keeps no timers).
//
//   const transport = carryTransport({ relayAddr, onState });
//   // onState({ state: 'waiting' | 'starting' | 'ready' | 'offline' | 'stopped', name, error })
//   transport.peers(); transport.stop();
//
// The seed comes from the worker (p2p-identity), never from an HTTP endpoint.

import { LOCK_NAME, wholeBuffer } from './worker-route.js';

export function carryTransport({ relayAddr, loadPeer = () => import('/vendor/p2p.js'), webrtc = true, iceServers = [],
  limits, pumpEveryMs = 10000, onState = () => {}, log = () => {} }) {
  const stopped = new AbortController();
  let peer = null;
  let state = 'waiting';
  let lastError = null;
  const setState = (next, error = null) => {
    state = next;
    lastError = error;
    onState({ state, name: peer?.name ?? null, error });
  };

  const worker = () => {
    const controller = navigator.serviceWorker.controller;
    if (!controller) throw new Error('this page is not controlled by the service worker');
    return controller;
  };
  const post = (type, fields = {}) => worker().postMessage({ type, name: peer?.name, ...fields });
  const ask = (type, fields = {}, transfer = []) => new Promise((resolve, reject) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = ({ data }) => {
      port1.close();
      if (data.ok) resolve(data);
      else reject(new Error(data.error));
    };
    worker().postMessage({ type, name: peer?.name, ...fields }, [port2, ...transfer]);
  });

  async function onRequest(bytes, info) {
    const answer = await ask('p2p-inbound', { bytes, peerName: info.peerName, viaGateway: info.viaGateway },
      wholeBuffer(bytes) ? [bytes.buffer] : []);
    return answer.bytes;
  }

  async function onWorkerMessage(event) {
    const data = event.data ?? {};
    if (!peer) return;
    if (data.type === 'p2p-hello') post('p2p-attach');
    if (data.type !== 'p2p-send') return;
    const port = event.ports[0];
    try {
      const bytes = await peer.send(data.destination, data.bytes, { timeoutMs: data.timeoutMs });
      port.postMessage({ ok: true, bytes }, wholeBuffer(bytes) ? [bytes.buffer] : []);
    } catch (error) {
      port.postMessage({ ok: false, error: error.message });
    }
  }

  function report() {
    if (!peer) return;
    try {
      post('p2p-status', { peers: peer.peers(), relayConnected: peer.relayConnected() });
      post('p2p-pump');
    } catch (error) {
      log('cannot reach the worker', error.message);
    }
  }

  async function startWithRetries() {
    let waitMs = 2000;
    while (!stopped.signal.aborted) {
      try {
        setState('starting');
        const { seed } = await ask('p2p-identity');
        const { startPeer } = await loadPeer();
        peer = await startPeer({ seed, relayAddr, webrtc, iceServers, limits, onRequest, log });
        return;
      } catch (error) {
        log('transport not started', error.message);
        setState('offline', error.message);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitMs = Math.min(waitMs * 2, 30000);
      }
    }
  }

  const held = navigator.locks.request(LOCK_NAME, { signal: stopped.signal }, async () => {
    await startWithRetries();
    if (stopped.signal.aborted) {
      await peer?.close();
      return;
    }
    navigator.serviceWorker.addEventListener('message', onWorkerMessage);
    // A new worker build taking over knows no holder yet.
    navigator.serviceWorker.addEventListener('controllerchange', report);
    post('p2p-attach');
    report();
    const timer = setInterval(report, pumpEveryMs);
    setState('ready');
    await new Promise((resolve) => stopped.signal.addEventListener('abort', resolve, { once: true }));
    clearInterval(timer);
    navigator.serviceWorker.removeEventListener('message', onWorkerMessage);
    navigator.serviceWorker.removeEventListener('controllerchange', report);
    try {
      post('p2p-detach');
    } catch { /* no worker: nothing to tell */ }
    await peer.close();
  }).catch((error) => {
    if (!stopped.signal.aborted) setState('offline', error.message);
  });

  setState('waiting');
  return {
    get name() {
      return peer?.name ?? null;
    },
    state: () => ({ state, name: peer?.name ?? null, error: lastError }),
    peers: () => peer?.peers() ?? [],
    async stop() {
      stopped.abort();
      await held;
      setState('stopped');
    },
  };
}
