// worker-route.js -- the service worker's side of the page-carried
// transport: how the core's outbound requests reach the tab that holds the
// transport, and how requests from peers reach the core.
//
// A service worker has no RTCPeerConnection and is stopped whenever idle (all
// its variables vanish), so the transport lives in one tab per origin (the
// holder of the Web Lock 'hometab-transport', see tab.js) and the two talk by
// postMessage. Everything the holder sends carries its server name and
// reaches the worker through navigator.serviceWorker.controller.postMessage,
// which wakes a stopped worker; so the worker learns who holds the transport
// again from the next message after a restart. When the worker must send and
// knows no holder (it just started), it asks every window ({ type:
// 'p2p-hello' }) and the holder answers with 'p2p-attach'.
//
//   const route = createTransportRoute({ onInbound, identity, pump });
//   self.addEventListener('message', (event) => route.handleMessage(event));
//   const responseBytes = await route.send(destination, requestBytes);
//
// Messages (each answer goes back on the MessagePort sent with the question):
//   page -> worker  p2p-identity {}                       -> { seed }
//                   p2p-inbound  { bytes, peerName, viaGateway } -> { bytes }
//                   p2p-attach   { name }                 (I hold the transport)
//                   p2p-detach   { name }                 (I no longer do)
//                   p2p-status   { name, peers, relayConnected }
//                   p2p-pump     { name }                 (timer tick: pump the outbox)
//   worker -> page  p2p-hello    {}                       (who holds it?)
//                   p2p-send     { destination, bytes, timeoutMs } -> { bytes }

export const LOCK_NAME = 'hometab-transport';

export function createTransportRoute({ onInbound, identity, pump = null, clients = globalThis.clients,
  attachWaitMs = 3000, sendTimeoutMs = 60000 }) {
  if (typeof onInbound !== 'function' || typeof identity !== 'function') {
    throw new TypeError('createTransportRoute({ onInbound(bytes, info), identity() })');
  }
  let holder = null; // { clientId, name }
  let latest = null; // the holder's last p2p-status
  const waiting = new Set(); // resolvers of findHolder() calls waiting for an attach

  function attached(clientId, name) {
    if (!clientId || typeof name !== 'string') return;
    holder = { clientId, name };
    for (const resolve of waiting) resolve(holder);
    waiting.clear();
  }

  async function findHolder() {
    if (holder) {
      const client = await clients.get(holder.clientId);
      if (client) return client;
      holder = null; // the tab closed; another one takes the lock and attaches
    }
    const found = new Promise((resolve) => {
      waiting.add(resolve);
      setTimeout(() => {
        waiting.delete(resolve);
        resolve(null);
      }, attachWaitMs);
    });
    for (const client of await clients.matchAll({ type: 'window' })) client.postMessage({ type: 'p2p-hello' });
    const answer = await found;
    return answer && clients.get(answer.clientId);
  }

  // Sends request bytes to a server through the holder's transport;
  // resolves with the response bytes, or rejects with a sentence (the
  // transport error the core reports).
  async function send(destination, bytes, { timeoutMs = sendTimeoutMs } = {}) {
    const client = await findHolder();
    if (!client) throw new Error(`${destination}: no open page carries the peer-to-peer transport`);
    const { port1, port2 } = new MessageChannel();
    return new Promise((resolve, reject) => {
      // The page's own deadline is timeoutMs; this one only catches a page
      // that went away with the request.
      const timer = setTimeout(() => {
        port1.close();
        reject(new Error(`${destination}: the page carrying the transport did not answer`));
      }, timeoutMs + 5000);
      port1.onmessage = ({ data }) => {
        clearTimeout(timer);
        port1.close();
        if (data?.ok) resolve(data.bytes);
        else reject(new Error(data?.error ?? `${destination}: the transport failed`));
      };
      client.postMessage({ type: 'p2p-send', destination, bytes, timeoutMs }, [port2]);
    });
  }

  function reply(event, work) {
    const port = event.ports?.[0];
    if (!port) return;
    const done = (async () => {
      try {
        const { transfer = [], ...answer } = await work();
        port.postMessage({ ok: true, ...answer }, transfer);
      } catch (error) {
        port.postMessage({ ok: false, error: error?.message ?? String(error) });
      }
    })();
    event.waitUntil?.(done);
  }

  // Handles the transport's messages; returns false for any other message
  // (the worker's own commands), true when it took the message.
  function handleMessage(event) {
    const data = event.data ?? {};
    const clientId = event.source?.id;
    switch (data.type) {
      case 'p2p-attach':
        attached(clientId, data.name);
        return true;
      case 'p2p-detach':
        if (holder?.clientId === clientId) {
          holder = null;
          latest = null;
        }
        return true;
      case 'p2p-status':
        attached(clientId, data.name);
        latest = { name: data.name, peers: data.peers ?? [], relayConnected: Boolean(data.relayConnected), at: Date.now() };
        return true;
      case 'p2p-pump':
        attached(clientId, data.name);
        if (pump) event.waitUntil?.(Promise.resolve().then(pump).catch(() => {}));
        return true;
      case 'p2p-identity':
        reply(event, async () => {
          const { seed } = await identity();
          return { seed };
        });
        return true;
      case 'p2p-inbound':
        attached(clientId, data.name);
        reply(event, async () => {
          // Copied, not transferred: the bytes stay the caller's.
          return { bytes: await onInbound(data.bytes, { peerName: data.peerName ?? null, viaGateway: Boolean(data.viaGateway) }) };
        });
        return true;
      default:
        return false;
    }
  }

  return {
    send,
    handleMessage,
    // The tab holding the transport as far as this worker start knows:
    // { clientId, name } or null.
    holder: () => holder,
    // The holder's last report: { name, peers, relayConnected, at } or null.
    status: () => latest,
  };
}

export function wholeBuffer(bytes) {
  return bytes instanceof Uint8Array && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}
