// peers.mjs -- the p2p tests' and bench's tools: the real relay
// (js-bridge/p2p/relay.mjs) as a child process, a small static server for
// the test pages and the bundle, Debian's Chromium with one profile per browser server, and a
// hostile peer written straight on js-libp2p in node (it shares none of the
// transport's code, so it can send what the transport never would).
//
//   const relay = await startRelay({ gateway: true });
//   const site = await startSite();
//   const a = await openPeer(await launchProfile(), site, { relayAddr: relay.relay });
//   await a.ask(b.name, { target: '/_matrix/federation/v1/version' });
//
// Everything is stopped by cleanupAll(), which a test file's `after` hook
// runs (tests/p2p/lib/harness.mjs) and a script calls itself (the bench).
// Never downloads a browser: /usr/bin/chromium, Debian's.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BUNDLE = process.env.HOMETAB_P2P_BUNDLE ?? join(ROOT, 'build/www/vendor/p2p.js');
const CHROMIUM = process.env.HOMETAB_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// libp2p 3 calls Promise.withResolvers (node >= 22).
Promise.withResolvers ??= function withResolvers() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const cleanups = [];
export async function cleanupAll() {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
}
export const onCleanup = (fn) => cleanups.push(fn);

export function tempDir(prefix = 'hometab-p2p-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function seedOf(label) {
  // A fixed seed per label: the same browser server across page reloads.
  const seed = new Uint8Array(32);
  for (let i = 0; i < 32; i++) seed[i] = (label.charCodeAt(i % label.length) * (i + 7)) & 0xff;
  return [...seed];
}

// ---- the relay, as `make run` will start it

export async function startRelay({ gateway = false, insecureHttp = false, args = [] } = {}) {
  const argv = [join(ROOT, 'js-bridge/p2p/relay.mjs'), '--listen', '127.0.0.1:0', ...args];
  if (gateway) argv.push('--gateway', '127.0.0.1:0');
  if (insecureHttp) argv.push('--gateway-insecure-http');
  const proc = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise((r) => proc.on('close', (code, signal) => r(code ?? signal)));
  const line = await Promise.race([
    new Promise((r) => { let out = ''; proc.stdout.setEncoding('utf8').on('data', (d) => { out += d; if (out.includes('\n')) r(out.split('\n')[0]); }); }),
    exited.then((code) => { throw new Error(`the relay exited (${code}): ${stderr}`); }),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`the relay did not start: ${stderr}`)), 15000)),
  ]);
  const info = JSON.parse(line);
  const relay = {
    ...info,
    proc,
    exited,
    get log() { return stderr; },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
      if (code === 'timeout') proc.kill('SIGKILL');
      return code;
    },
  };
  cleanups.push(() => relay.stop());
  return relay;
}

// ---- the pages: fixtures, the bundle, the transport's own modules

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' };

export async function startSite({ host = '127.0.0.1' } = {}) {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    let file = null;
    if (path === '/vendor/p2p.js') file = BUNDLE;
    else if (/^\/js-bridge\/p2p\/[a-z0-9-]+\.js$/.test(path)) file = join(ROOT, path);
    else if (/^\/fixtures\/[a-z0-9-]+\.(js|html)$/.test(path)) file = join(ROOT, 'tests/p2p', path);
    let body;
    try {
      body = file && readFileSync(file);
    } catch { /* not found */ }
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store', 'service-worker-allowed': '/' });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, host, r));
  const site = { url: `http://${host}:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
  cleanups.push(async () => { server.closeAllConnections(); await site.close(); });
  return site;
}

// A browser with its own profile folder: its own origin storage, service
// workers and Web Locks, as a second person's browser would have.
export async function launchProfile({ args = [] } = {}) {
  const context = await chromium.launchPersistentContext(tempDir('hometab-p2p-profile-'), {
    executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...args],
  });
  const profile = { context, errors: [], close: () => context.close().catch(() => {}) };
  context.on('weberror', (e) => profile.errors.push(e.error().message));
  cleanups.push(() => profile.close());
  return profile;
}

// Opens the stub peer page and starts the transport in it.
export async function openPeer(profile, site, { label, relayAddr, webrtc = false, limits } = {}) {
  const page = await profile.context.newPage();
  await page.goto(`${site.url}/fixtures/peer-page.html`);
  await page.waitForFunction(() => window.t);
  const seed = seedOf(label ?? String(Math.random()));
  const name = await page.evaluate((o) => window.t.start(o), { seed, relayAddr, webrtc, limits });
  return {
    page,
    name,
    seed,
    ask: (destination, options = {}) => page.evaluate(([d, o]) => window.t.ask(d, o), [destination, options]),
    peers: () => page.evaluate(() => window.t.peer.peers()),
    seen: () => page.evaluate(() => ({ ...window.t.seen })),
    close: () => page.close(),
  };
}

// ---- a hostile peer: js-libp2p in node, its own code

export async function hostilePeer({ relayAddr, seed, listen = false }) {
  // @libp2p/websockets dials with the global WebSocket, which node has
  // from 22 on; on node 20 the `ws` package it depends on stands in.
  globalThis.WebSocket ??= (await import('ws')).WebSocket;
  const [{ createLibp2p }, { webSockets }, { noise }, { yamux }, { identify }, { circuitRelayTransport },
    { generateKeyPairFromSeed }, { multiaddr }] = await Promise.all([import('libp2p'), import('@libp2p/websockets'),
    import('@libp2p/noise'), import('@chainsafe/libp2p-yamux'), import('@libp2p/identify'),
    import('@libp2p/circuit-relay-v2'), import('@libp2p/crypto/keys'), import('@multiformats/multiaddr')]);
  const node = await createLibp2p({
    privateKey: await generateKeyPairFromSeed('Ed25519', Uint8Array.from(seed)),
    // listen: reachable through the relay (a reservation), as a browser server is
    addresses: { listen: listen ? ['/p2p-circuit'] : [] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify() },
  });
  cleanups.push(() => node.stop());
  const { nameFromPublicKey, peerIdFromName } = await import('../../../js-bridge/p2p/names.js');
  if (listen) {
    await node.dial(multiaddr(relayAddr), { signal: AbortSignal.timeout(10000) });
    const until = Date.now() + 10000;
    while (!node.getMultiaddrs().some((a) => a.toString().includes('/p2p-circuit'))) {
      if (Date.now() > until) throw new Error('no reservation on the relay');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    node,
    name: nameFromPublicKey(node.peerId.publicKey.raw),
    // A new relayed connection to a key-named server (force: not reusing one).
    async connect(destination) {
      const addr = multiaddr(`${relayAddr}/p2p-circuit/p2p/${peerIdFromName(destination)}`);
      return node.dial(addr, { force: true, signal: AbortSignal.timeout(10000) });
    },
    // Opens a stream to a key-named server through the relay.
    async open(destination, { limited = true } = {}) {
      const addr = multiaddr(`${relayAddr}/p2p-circuit/p2p/${peerIdFromName(destination)}`);
      // No limit of its own on streams: the victim's limits are the test.
      return node.dialProtocol(addr, '/hometab/federation/1', { runOnLimitedConnection: limited,
        maxOutboundStreams: 10000, signal: AbortSignal.timeout(10000) });
    },
  };
}

// Writes bytes then reads until the stream ends or fails: { bytes, error }.
export async function rawExchange(stream, bytes, { timeoutMs = 15000, closeWrite = true } = {}) {
  const chunks = [];
  let error = null;
  const reading = (async () => {
    try {
      for await (const c of stream) chunks.push(c.subarray());
    } catch (e) {
      error = e;
    }
  })();
  try {
    for (let at = 0; at < bytes.length; at += 65536) {
      if (!stream.send(bytes.subarray(at, at + 65536))) await stream.onDrain({ signal: AbortSignal.timeout(timeoutMs) });
    }
    if (closeWrite) await stream.close();
  } catch (e) {
    error ??= e;
  }
  await Promise.race([reading, new Promise((r) => setTimeout(r, timeoutMs))]);
  return { bytes: Buffer.concat(chunks), error };
}
