#!/usr/bin/env node
// relay.mjs -- the relay browser servers reach, and its HTTP gateway to
// native servers.
//
//   node js-bridge/p2p/relay.mjs --listen 127.0.0.1:PORT --gateway 127.0.0.1:PORT2
//
// A browser cannot accept connections, so every browser server keeps one
// WebSocket to this relay (a libp2p node) and holds a circuit relay v2
// reservation on it; other peers reach it through the relay, and upgrade to
// a direct WebRTC connection that the relayed connection signals. The relay
// forwards encrypted bytes it cannot read (Noise runs end to end between the
// browsers). Relayed connections get no data or time cap (the library's
// default of 128 KiB / 2 min would cut a 3 MB transaction), so the caps are
// counts: reservations, connections, and relayed circuits per peer.
//
// Once listening it prints one JSON line on stdout:
//   {"relay": "/ip4/.../tcp/P/ws/p2p/12D3KooW...", "peerId": "...", "gateway": "http://..."}
// and logs one line per event on stderr. SIGINT/SIGTERM stop it (exit 0).

import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { nameFromPeerId } from './names.js';

// libp2p 3 uses Promise.withResolvers (node >= 22); node 20 lacks it.
Promise.withResolvers ??= function withResolvers() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const HELP = `node js-bridge/p2p/relay.mjs [options]
  --listen ADDR:PORT        WebSocket listener for browsers (default 127.0.0.1:0,
                            port 0 picks a free one; the address is printed)
  --gateway ADDR:PORT       also run the HTTP gateway for native servers there
                            (a loopback address only)
  --gateway-insecure-http   the gateway reaches native servers by plain http://,
                            and only loopback ones (tests and development)
  --key-file FILE           the relay's ed25519 seed (32 bytes, made if missing),
                            so its peer id and address survive restarts
  --max-reservations N      browsers holding a reservation at once (default 256)
  --max-connections N       connections at once (default 512)
  --max-circuits-per-peer N relayed connections one peer may open, and be the
                            destination of, at once (default 16)
  --quiet                   no log lines
  --help                    this text`;

const HOP = '/libp2p/circuit/relay/0.2.0/hop';
const STOP = '/libp2p/circuit/relay/0.2.0/stop';

function fail(message) {
  process.stderr.write(`relay: ${message}\n${HELP}\n`);
  process.exit(2);
}

function parseAddress(text, flag) {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([0-9.]+|localhost)):(\d{1,5})$/.exec(text ?? '');
  if (!m) fail(`${flag} wants ADDR:PORT, e.g. 127.0.0.1:8009`);
  const host = m[1] ?? (m[2] === 'localhost' ? '127.0.0.1' : m[2]);
  return { host, port: Number(m[3]), ipv6: Boolean(m[1]) };
}

function parseArgs(argv) {
  const options = { listen: parseAddress('127.0.0.1:0', '--listen'), gateway: null, insecureHttp: false,
    keyFile: null, maxReservations: 256, maxConnections: 512, maxCircuitsPerPeer: 16, quiet: false };
  const numberOf = (flag, value) => {
    if (!/^\d+$/.test(value ?? '') || Number(value) < 1) fail(`${flag} wants a positive number`);
    return Number(value);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    switch (flag) {
      case '--listen': options.listen = parseAddress(value(), flag); break;
      case '--gateway': options.gateway = parseAddress(value(), flag); break;
      case '--gateway-insecure-http': options.insecureHttp = true; break;
      case '--key-file': options.keyFile = value() ?? fail('--key-file wants a path'); break;
      case '--max-reservations': options.maxReservations = numberOf(flag, value()); break;
      case '--max-connections': options.maxConnections = numberOf(flag, value()); break;
      case '--max-circuits-per-peer': options.maxCircuitsPerPeer = numberOf(flag, value()); break;
      case '--quiet': options.quiet = true; break;
      case '--help': process.stdout.write(`${HELP}\n`); process.exit(0); break;
      default: fail(`unknown option ${flag}`);
    }
  }
  if (options.gateway && !/^(127\.\d+\.\d+\.\d+|::1)$/.test(options.gateway.host)) {
    fail('--gateway listens on a loopback address only (it serves the native server beside it)');
  }
  if (options.insecureHttp && !options.gateway) fail('--gateway-insecure-http needs --gateway');
  return options;
}

function loadSeed(file) {
  if (!file) return randomBytes(32);
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  const seed = readFileSync(file);
  if (seed.length !== 32) fail(`${file} is not a 32-byte seed`);
  return seed;
}

export async function startRelay(options, log = () => {}) {
  const [{ createLibp2p }, { webSockets }, { noise }, { yamux }, { identify }, { circuitRelayServer },
    { generateKeyPairFromSeed }, { startGateway }] = await Promise.all([
    import('libp2p'), import('@libp2p/websockets'), import('@libp2p/noise'), import('@chainsafe/libp2p-yamux'),
    import('@libp2p/identify'), import('@libp2p/circuit-relay-v2'), import('@libp2p/crypto/keys'),
    import('./gateway.mjs')]);
  const privateKey = await generateKeyPairFromSeed('Ed25519', options.seed ?? randomBytes(32));
  const { host, port, ipv6 } = options.listen;
  let node = null;

  // Relayed connections a peer has open as source (HOP streams on its
  // connection to us) or destination (our STOP streams to it).
  const circuits = (peerId, protocol) => node.getConnections(peerId)
    .reduce((n, c) => n + c.streams.filter((s) => s.protocol === protocol).length, 0);
  const short = (peerId) => {
    const name = nameFromPeerId(peerId.toString());
    return name ? `${name.slice(0, 12)}…` : peerId.toString();
  };

  node = await createLibp2p({
    privateKey,
    addresses: { listen: [`/${ipv6 ? 'ip6' : 'ip4'}/${host}/tcp/${port}/ws`] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: {
      maxConnections: options.maxConnections,
      // All browsers of a test (or a NAT) share one address: the default of
      // 5 connections per second per host would refuse them.
      inboundConnectionThreshold: 100,
      maxIncomingPendingConnections: 64,
    },
    connectionGater: {
      // Browser servers are named by their ed25519 keys; nothing else reserves.
      denyInboundRelayReservation: (peerId) => {
        const deny = peerId.type !== 'Ed25519';
        log(`reservation ${deny ? 'refused (not an ed25519 key)' : 'for'} ${short(peerId)}`);
        return deny;
      },
      denyOutboundRelayedConnection: (source, destination) => {
        // The source's HOP stream for this circuit is already counted.
        const deny = circuits(source, HOP) > options.maxCircuitsPerPeer ||
          circuits(destination, STOP) >= options.maxCircuitsPerPeer;
        if (deny) log(`circuit refused ${short(source)} -> ${short(destination)}: per-peer limit`);
        return deny;
      },
    },
    services: {
      identify: identify(),
      relay: circuitRelayServer({
        reservations: { maxReservations: options.maxReservations, applyDefaultLimit: false },
        maxInboundHopStreams: options.maxCircuitsPerPeer + 1,
      }),
    },
  });

  node.addEventListener('peer:connect', (e) => log(`connected ${short(e.detail)}`));
  node.addEventListener('peer:disconnect', (e) => log(`disconnected ${short(e.detail)}`));

  const gateway = options.gateway
    ? await startGateway({ node, listen: options.gateway, insecureHttp: options.insecureHttp, log })
    : null;
  const relay = node.getMultiaddrs().map(String).find((a) => a.includes('/ws/'));
  return {
    relay,
    peerId: node.peerId.toString(),
    gateway: gateway?.url ?? null,
    node,
    async close() {
      await gateway?.close();
      await node.stop();
    },
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const log = options.quiet ? () => {} : (line) => process.stderr.write(`${new Date().toISOString()} relay: ${line}\n`);
  let running;
  try {
    running = await startRelay({ ...options, seed: loadSeed(options.keyFile) }, log);
  } catch (error) {
    if (/EADDRINUSE/.test(`${error.code} ${error.message}`)) {
      process.stderr.write('relay: cannot start: an address is already in use (--listen or --gateway)\n');
      process.exit(3);
    }
    process.stderr.write(`relay: cannot start: ${error.message}\n`);
    process.exit(1);
  }
  // The handlers first: whoever reads the address may stop the relay at once.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    await running.close().catch(() => {});
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`${JSON.stringify({ relay: running.relay, peerId: running.peerId, gateway: running.gateway })}\n`);
  log(`listening at ${running.relay}${running.gateway ? `, gateway ${running.gateway}` : ''}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
