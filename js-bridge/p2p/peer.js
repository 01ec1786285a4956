// peer.js -- the browser server's peer-to-peer transport, run by a page (a
// service worker has no RTCPeerConnection): a js-libp2p node whose identity
// is the server's own ed25519 key, reached through one relay.
//
//   const peer = await startPeer({ seed, relayAddr, onRequest });
//   peer.name;                                  // the server name = the key
//   const response = await peer.send(destination, requestBytes);
//   peer.peers();                               // [{ name, direct, via, webrtcFailed?, ... }]
//   await peer.close();
//
// Bytes in, bytes out, behind send(destination, bytes): the core never knows
// that libp2p carries them, and another engine could replace this file.
// Protocol /hometab/federation/1: one stream per request; the caller writes
// the exact HTTP/1.1 request and half-closes, the callee writes the response
// and closes. Noise (keyed by the seed) authenticates both ends, so the
// relay reads nothing and cannot impersonate anyone; guard.js judges what
// arrives before onRequest sees it.
//
// Dialing a key-named server: WebRTC signalled through the relay first (a
// direct browser-to-browser connection), the relayed circuit as fallback
// (and for a while after WebRTC failed to that peer). Any other server name
// goes to the relay's gateway, which speaks HTTP to native servers. The node
// dials nothing but the relay and addresses through it, and uses no STUN
// server unless given one (iceServers): the defaults of @libp2p/webrtc are
// public servers.

import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import { noise } from '@libp2p/noise';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { checkInbound, refusalBytes } from './guard.js';
import { LIMITS, errorResponse } from './http1.js';
import { isKeyName, nameFromPeerId, nameFromPublicKey, peerIdFromName } from './names.js';
import { BusyError, TooLargeError, byteBudget, exchange, readAll, writeAll } from './stream-io.js';

export const PROTOCOL = '/hometab/federation/1';
export { isKeyName, nameFromPublicKey };

export const DEFAULTS = Object.freeze({
  requestTimeoutMs: 60000, // send(): dial, write, and the whole answer
  webrtcDialTimeoutMs: 5000, // a data channel opens in 0.5-0.9 s here (measured)
  relayDialTimeoutMs: 10000,
  webrtcRetryAfterMs: 60000, // after WebRTC to a peer failed, the circuit only, this long
  inboundReadTimeoutMs: 30000, // a peer's whole request must arrive within this
  answerWriteTimeoutMs: 30000, // and our answer must be taken within this
  handlerTimeoutMs: 60000, // onRequest must answer within this (it may fetch in turn)
  maxStreamsPerPeer: 8, // requests of one peer being read or answered at once
  maxInboundStreams: 32, // of all peers together
  maxInboundBufferedBytes: 48 * 1024 * 1024, // request bytes held at once, all peers
  relayRedialMaxMs: 30000, // the longest wait between two attempts to reach a lost relay
});

function checkOptions({ seed, relayAddr, onRequest }) {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('seed: the 32-byte ed25519 seed');
  if (typeof onRequest !== 'function') throw new TypeError('onRequest: (bytes, info) => Promise<response bytes>');
  const relay = multiaddr(relayAddr);
  const relayPeer = relay.getComponents().findLast((c) => c.name === 'p2p')?.value;
  if (!relayPeer) throw new TypeError('relayAddr must end with /p2p/<relay peer id>');
  return { relay, relayPeer };
}

// DEFAULTS with the given ones in place: only names DEFAULTS has, and only
// positive numbers (they come from /p2p.json, which an operator writes).
function withLimits(given = {}) {
  const limits = { ...DEFAULTS };
  for (const [name, value] of Object.entries(given ?? {})) {
    if (name in DEFAULTS && Number.isFinite(value) && value > 0) limits[name] = value;
  }
  return limits;
}

export async function startPeer(options) {
  const { relay, relayPeer } = checkOptions(options);
  const { seed, onRequest, webrtc = true, iceServers = [], log = () => {} } = options;
  const limits = withLimits(options.limits);
  const relayPrefix = relay.toString();
  const privateKey = await generateKeyPairFromSeed('Ed25519', seed);
  const name = nameFromPublicKey(privateKey.publicKey.raw);

  const transports = [webSockets(), circuitRelayTransport({ reservationCompletionTimeout: limits.relayDialTimeoutMs })];
  // A fresh object each time: @libp2p/webrtc fills in its public STUN
  // servers where iceServers is missing.
  if (webrtc) transports.push(webRTC({ rtcConfiguration: () => ({ iceServers: iceServers.map((urls) => ({ urls })) }) }));
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: webrtc ? ['/p2p-circuit', '/webrtc'] : ['/p2p-circuit'] },
    transports,
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The relay, and addresses through it: nothing else is ever dialled
    // (identify may teach the node other addresses of a peer).
    connectionGater: { denyDialMultiaddr: (ma) => !ma.toString().startsWith(relayPrefix) },
    services: { identify: identify() },
  });

  const state = { closed: false, relayUp: false, relayRedialMs: 1000, relayTimer: null };
  const dials = new Map(); // `${peer} ${kind}` -> Promise<Connection>, one dial at a time
  const webrtcFailed = new Map(); // peer -> { at, why }: WebRTC to it last failed

  // ---- inbound: one stream, one request, judged then handed to onRequest

  const inflight = new Map(); // peer -> requests being read or answered
  let inflightTotal = 0;
  const budget = byteBudget(limits.maxInboundBufferedBytes);

  async function answer(stream, bytes) {
    try {
      await writeAll(stream, bytes, { signal: AbortSignal.timeout(limits.answerWriteTimeoutMs) });
    } catch (error) {
      stream.abort(error);
    }
  }

  // Refuses without reading: the refusal, then a reset (whatever the peer
  // still sends is never buffered).
  async function refuseEarly(stream, bytes) {
    await answer(stream, bytes);
    stream.abort(new Error('refused'));
  }

  async function handler(bytes, info) {
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(errorResponse(504, 'M_UNKNOWN', 'the server did not answer in time')),
        limits.handlerTimeoutMs);
    });
    try {
      const response = await Promise.race([onRequest(bytes, info), timeout]);
      if (!(response instanceof Uint8Array) || response.length > LIMITS.maxResponseBytes) {
        return errorResponse(502, 'M_UNKNOWN', 'the server gave no answer the transport can carry');
      }
      return response;
    } catch (error) {
      log('onRequest failed', error);
      return errorResponse(502, 'M_UNKNOWN', 'the server could not answer');
    } finally {
      clearTimeout(timer);
    }
  }

  async function serve(stream, connection) {
    const peer = connection.remotePeer.toString();
    const fromGateway = peer === relayPeer;
    const peerName = fromGateway ? null : nameFromPeerId(peer);
    if (!fromGateway && !peerName) return stream.abort(new Error('only ed25519 peers are served'));
    const count = inflight.get(peer) ?? 0;
    if (count >= limits.maxStreamsPerPeer || inflightTotal >= limits.maxInboundStreams) {
      log('refused: too many requests at once from', peerName ?? 'the gateway');
      return refuseEarly(stream, errorResponse(429, 'M_LIMIT_EXCEEDED', 'too many requests at once',
        { retry_after_ms: 1000 }));
    }
    inflight.set(peer, count + 1);
    inflightTotal++;
    let request = null;
    let held = 0; // budget bytes this request holds (its buffer may be handed on, detached)
    try {
      try {
        request = await readAll(stream, { maxBytes: LIMITS.maxRequestBytes, budget,
          signal: AbortSignal.timeout(limits.inboundReadTimeoutMs) });
        held = request.length;
      } catch (error) {
        if (error instanceof TooLargeError) {
          return refuseEarly(stream, errorResponse(413, 'M_TOO_LARGE',
            `requests are limited to ${LIMITS.maxRequestBytes} bytes`));
        }
        if (error instanceof BusyError) {
          return refuseEarly(stream, errorResponse(429, 'M_LIMIT_EXCEEDED', 'too many bytes waiting',
            { retry_after_ms: 1000 }));
        }
        return stream.abort(error); // a reset or a time-out: nobody to answer
      }
      const verdict = checkInbound(request, { peerName, fromGateway });
      // onRequest may transfer the buffer to a worker: nothing here reads it after.
      if (!verdict.ok) {
        log(`refused ${verdict.status} from ${peerName ?? 'the gateway'}: ${verdict.error}`);
        return await answer(stream, refusalBytes(verdict));
      }
      await answer(stream, await handler(request, { peerName, viaGateway: fromGateway, origin: verdict.origin }));
    } finally {
      budget.give(held);
      inflightTotal--;
      const left = inflight.get(peer) - 1;
      if (left === 0) inflight.delete(peer);
      else inflight.set(peer, left);
    }
  }

  await node.handle(PROTOCOL, (stream, connection) => {
    serve(stream, connection).catch((error) => log('serve failed', error));
  }, {
    runOnLimitedConnection: true,
    // Past this libp2p resets new streams of one connection before any of
    // this code runs; between maxStreamsPerPeer and it they get a 429.
    maxInboundStreams: limits.maxStreamsPerPeer * 2,
  });

  // ---- the relay: keep one connection, redial with backoff when lost

  const isRelay = (peerId) => peerId.toString() === relayPeer;
  node.addEventListener('peer:connect', (event) => {
    if (!isRelay(event.detail)) return;
    state.relayUp = true;
    state.relayRedialMs = 1000;
  });
  node.addEventListener('peer:disconnect', (event) => {
    if (!isRelay(event.detail)) return;
    state.relayUp = false;
    scheduleRelayRedial();
  });

  function scheduleRelayRedial() {
    if (state.closed || state.relayTimer) return;
    state.relayTimer = setTimeout(async () => {
      state.relayTimer = null;
      if (state.closed || state.relayUp) return;
      try {
        await node.dial(relay, { signal: AbortSignal.timeout(limits.relayDialTimeoutMs) });
        log('relay reached again');
      } catch (error) {
        log('relay unreachable', error.message);
        state.relayRedialMs = Math.min(state.relayRedialMs * 2, limits.relayRedialMaxMs);
        scheduleRelayRedial();
      }
    }, state.relayRedialMs);
  }

  const reservedAddr = () => node.getMultiaddrs().find((a) => {
    const text = a.toString();
    return text.startsWith(relayPrefix) && text.includes('/p2p-circuit');
  });

  async function waitForReservation(timeoutMs) {
    const until = Date.now() + timeoutMs;
    while (!reservedAddr()) {
      if (Date.now() > until || state.closed) throw new Error('the relay gave no reservation');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  try {
    await node.dial(relay, { signal: AbortSignal.timeout(limits.relayDialTimeoutMs) });
    await waitForReservation(limits.relayDialTimeoutMs);
  } catch (error) {
    state.closed = true;
    await node.stop();
    throw new Error(`cannot reach the relay ${relayAddr}: ${error.message}`);
  }

  // ---- outbound

  const openConnections = (peerId) => node.getConnections().filter((c) =>
    c.remotePeer.toString() === peerId && c.status === 'open');
  const isWebRTC = (c) => c.remoteAddr.toString().includes('/webrtc');

  function dialOnce(peerId, kind, timeoutMs, signal) {
    const key = `${peerId} ${kind}`;
    if (!dials.has(key)) {
      const addr = `${relayPrefix}/p2p-circuit${kind === 'webrtc' ? '/webrtc' : ''}/p2p/${peerId}`;
      const dial = node.dial(multiaddr(addr), { signal: AbortSignal.timeout(timeoutMs), force: kind === 'webrtc' })
        .finally(() => dials.delete(key));
      dials.set(key, dial);
    }
    // One caller giving up must not cancel the dial for the others.
    return raceSignal(dials.get(key), signal);
  }

  function mayTryWebRTC(peerId) {
    return webrtc && Date.now() - (webrtcFailed.get(peerId)?.at ?? -Infinity) > limits.webrtcRetryAfterMs;
  }

  async function tryWebRTC(peerId, signal) {
    try {
      const connection = await dialOnce(peerId, 'webrtc', limits.webrtcDialTimeoutMs, signal);
      log('webrtc connection to', peerId);
      return connection;
    } catch (error) {
      webrtcFailed.set(peerId, { at: Date.now(), why: error.message });
      log('webrtc failed to', peerId, error.message);
      return null;
    }
  }

  async function connectionTo(peerId, signal) {
    const existing = openConnections(peerId);
    const direct = existing.find(isWebRTC);
    if (direct) return direct;
    if (existing.length && mayTryWebRTC(peerId)) {
      // Already reachable through the relay: use that now, upgrade meanwhile.
      tryWebRTC(peerId);
      return existing[0];
    }
    if (existing.length) return existing[0];
    if (mayTryWebRTC(peerId)) {
      const connection = await tryWebRTC(peerId, signal);
      if (connection) return connection;
    }
    return dialOnce(peerId, 'circuit', limits.relayDialTimeoutMs, signal);
  }

  async function gatewayConnection(signal) {
    const [connection] = openConnections(relayPeer);
    return connection ?? dialOnce(relayPeer, 'relay', limits.relayDialTimeoutMs, signal);
  }

  async function send(destination, bytes, { timeoutMs = limits.requestTimeoutMs, signal } = {}) {
    if (state.closed) throw new Error('the transport is closed');
    if (!(bytes instanceof Uint8Array)) throw new TypeError('send(destination, bytes): bytes is a Uint8Array');
    if (bytes.length > LIMITS.maxRequestBytes) {
      throw new RangeError(`${destination}: the request is larger than ${LIMITS.maxRequestBytes} bytes`);
    }
    const deadline = signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    const peerId = isKeyName(destination) ? peerIdFromName(destination) : null;
    if (peerId === node.peerId.toString()) throw new Error(`${destination} is this server`);
    const connect = () => (peerId ? connectionTo(peerId, deadline) : gatewayConnection(deadline));
    // negotiateFully: false sends the protocol name with the request (one
    // round trip less, about half the time of a relayed exchange); a
    // connection that died unnoticed then shows only when nothing comes back.
    const over = async (connection, lazy) => exchange(
      await connection.newStream(PROTOCOL, { signal: deadline, runOnLimitedConnection: true, negotiateFully: !lazy }),
      bytes, { maxResponseBytes: LIMITS.maxResponseBytes, signal: deadline });
    try {
      const first = await connect();
      try {
        return await over(first, true);
      } catch (error) {
        if (deadline.aborted || error.received || /Protocol selection failed/.test(error.message)) throw error;
      }
      // Nothing came back: once more, negotiating first, and on a fresh
      // connection if that one is dead (the peer's page closed a moment ago).
      // (The peer may have seen the first request and died before answering:
      // federation requests are idempotent, transactions carry their id.)
      let connection = await connect();
      try {
        return await over(connection, false);
      } catch (error) {
        if (deadline.aborted || error.received !== undefined || /Protocol selection failed/.test(error.message)) throw error;
        connection.abort(error);
        connection = await connect();
        return await over(connection, false);
      }
    } catch (error) {
      const why = deadline.aborted ? `no answer within ${timeoutMs} ms` : explain(error, peerId);
      throw new Error(`${destination}: ${why}`, { cause: error });
    }
  }

  function peers() {
    const byPeer = new Map();
    for (const c of node.getConnections()) {
      const peerId = c.remotePeer.toString();
      if (peerId === relayPeer || c.status !== 'open') continue;
      const entry = byPeer.get(peerId) ?? { name: nameFromPeerId(peerId), peerId, direct: false, addrs: [] };
      entry.direct ||= isWebRTC(c);
      entry.addrs.push(c.remoteAddr.toString());
      byPeer.set(peerId, entry);
    }
    // Why a peer reached through the relay is not direct, if a dial said so.
    const failure = (p) => (p.direct || !webrtcFailed.has(p.peerId) ? {} : { webrtcFailed: webrtcFailed.get(p.peerId).why });
    return [...byPeer.values()].map((p) => ({ ...p, via: p.direct ? 'webrtc' : 'relay', ...failure(p) }));
  }

  async function close() {
    if (state.closed) return;
    state.closed = true;
    clearTimeout(state.relayTimer);
    await node.stop();
  }

  return {
    name,
    peerId: node.peerId.toString(),
    send,
    peers,
    relayConnected: () => state.relayUp && openConnections(relayPeer).length > 0,
    close,
    // Tests and diagnostics only: the libp2p node itself.
    node,
  };
}

// The transport's failures in words a person (and the core's error for a
// client) can use.
function explain(error, peerId) {
  const message = error.message ?? String(error);
  if (/NO_RESERVATION/.test(message)) return 'not connected to the relay (no page of that server is open)';
  if (/PERMISSION_DENIED|RESOURCE_LIMIT_EXCEEDED|RESERVATION_REFUSED/.test(message)) {
    return `the relay refused the connection (${message})`;
  }
  if (!peerId && /Protocol selection failed/.test(message)) return 'the relay has no gateway to native servers';
  return message;
}

function raceSignal(promise, signal) {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
