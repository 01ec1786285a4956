// harness.mjs -- what the federation client's tests stand on: real HTTP and HTTPS servers
// that record what reached them, a test CA with leaf certificates for any names and
// addresses, a local DNS server (Debian's dnsmasq), and fetch-tool run to its end.
//
//   const pki = makePki(dir);                       // CA (tests/interop/lib/ca.mjs) + leaf()
//   const leaf = pki.leaf(['DNS:a.test', 'IP:127.9.9.9']);   // { key, cert }
//   const srv = await startServer({ tls: leaf, address, port, handler });
//   srv.requests   // [{ method, url, host, sni, body, headers, address }]
//   srv.connections, srv.maxConcurrent
//   const dns = await startDns({ hosts: { 'a.test': ip }, srv: [...] });   // or { skip }
//   const out = await runTool(['--insecure-http', '127.0.0.1:8448', 'GET', '/x']);
//   out.replies[0].status / .error; out.done.maxRssKb
//
// The one design decision: every server of a test listens on an address of its own in
// 127.0.0.0/8, chosen at random, so the ports the spec fixes (443 for .well-known, 8448)
// can be used as they are while other suites run on this machine.

import { spawn, execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import dns from 'node:dns/promises';
import { join } from 'node:path';
import { makeTestCa } from '../../interop/lib/ca.mjs';

export const SANITIZED = process.env.HOMETAB_SANITIZED === '1';
export const FETCH_TOOL = process.env.FETCH_TOOL;

// A fresh loopback address, never 127.0.0.1 (which other suites use).
const usedAddresses = new Set();
export function loopbackAddress() {
  for (;;) {
    const a = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    if (!usedAddresses.has(a)) {
      usedAddresses.add(a);
      return a;
    }
  }
}

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

// The interop suite's test CA, and leaves for any subjectAltNames signed by it.
export function makePki(dir) {
  const ca = makeTestCa(dir);
  let n = 0;
  return {
    ...ca,
    leaf(sans) {
      const name = `leaf${n++}`;
      openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
      openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`], dir);
      writeFileSync(join(dir, `${name}.ext`), [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${sans.join(',')}`,
        '',
      ].join('\n'));
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
        '-days', '1', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
      return { key: readFileSync(join(dir, `${name}.key`)), cert: readFileSync(join(dir, `${name}.pem`)) };
    },
  };
}

// An HTTP (tls null) or HTTPS server on address:port (port 0: any free one). handler(req,
// res, body) answers; by default a JSON echo of what arrived. Every request is recorded.
export async function startServer({ tls = null, address = '127.0.0.1', port = 0, handler = echo } = {}) {
  const state = { requests: [], connections: 0, active: 0, maxConcurrent: 0, sockets: new Set() };
  const onRequest = (req, res) => {
    state.active++;
    state.maxConcurrent = Math.max(state.maxConcurrent, state.active);
    res.on('close', () => state.active--);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      state.requests.push({
        method: req.method, url: req.url, host: req.headers.host, headers: req.headers, body,
        sni: tls ? req.socket.servername : undefined, address: req.socket.localAddress,
      });
      handler(req, res, body);
    });
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, onRequest) : http.createServer(onRequest);
  server.keepAliveTimeout = 30000;
  server.on('connection', (s) => {
    state.connections++; // TCP connections, TLS or not: what keep-alive saves
    state.sockets.add(s);
    s.on('close', () => state.sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return {
    ...state,
    get requests() { return state.requests; },
    get connections() { return state.connections; },
    get maxConcurrent() { return state.maxConcurrent; },
    address,
    port: server.address().port,
    name: `${address}:${server.address().port}`,
    async close() {
      for (const s of state.sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export function echo(req, res, body) {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, body }));
}

// A TCP server that accepts and never says a word (nor completes a TLS handshake).
export async function startSilentServer(address = '127.0.0.1') {
  const sockets = new Set();
  let accepted = 0;
  const server = net.createServer((s) => { accepted++; sockets.add(s); s.on('error', () => {}); });
  await new Promise((resolve) => server.listen(0, address, resolve));
  return {
    port: server.address().port,
    get accepted() { return accepted; },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// dnsmasq on a free UDP port of 127.0.0.1, answering only what it is given:
// hosts { name: address }, srv [{ name, target, port, priority, weight }]. Anything else
// under .test is NXDOMAIN (--local), and it asks no other server.
export async function startDns({ hosts = {}, srv = [] }) {
  const dnsmasq = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => {
    try { execFileSync(p, ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
  });
  if (!dnsmasq) return { skip: 'dnsmasq is not installed (Debian dnsmasq-base; make test-fedhost installs it)' };
  const args = ['--keep-in-foreground', '--no-daemon', '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', '--conf-file=/dev/null', '--local=/test/', '--pid-file=', '--cache-size=0'];
  if (process.getuid?.() === 0) args.push('--user=root');
  for (const [name, address] of Object.entries(hosts)) args.push(`--host-record=${name},${address}`);
  for (const r of srv) args.push(`--srv-host=${r.name},${r.target},${r.port},${r.priority ?? 0},${r.weight ?? 10}`);
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = randomInt(20000, 60000);
    const child = spawn(dnsmasq, [...args, `--port=${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const resolver = new dns.Resolver({ timeout: 300, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    for (let i = 0; i < 20; i++) {
      if (child.exitCode !== null) break;
      try {
        await resolver.resolve4('dnsmasq-ready.test');
      } catch (e) {
        if (e.code === 'ENOTFOUND' || e.code === 'ENODATA') { // it answers: NXDOMAIN
          return { address: `127.0.0.1:${port}`, async stop() { child.kill('SIGTERM'); await exited; } };
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await exited;
    if (!/Address already in use|failed to create listening socket/.test(stderr)) {
      return { skip: `dnsmasq did not start: ${stderr.trim().split('\n').pop()}` };
    }
  }
  return { skip: 'dnsmasq found no free port' };
}

// Runs fetch-tool with args to its end (killed after limitMs), parses its JSON lines.
// Under the sanitizer build any report on stderr fails the caller's test.
export async function runTool(args, { env = {}, limitMs = 60000 } = {}) {
  if (!FETCH_TOOL) throw new Error('FETCH_TOOL must name build/native/fetch-tool (the Makefile sets it)');
  const child = spawn(FETCH_TOOL, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const started = Date.now();
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs * (SANITIZED ? 3 : 1));
  const code = await new Promise((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const replies = lines.filter((l) => 'index' in l).sort((a, b) => a.index - b.index);
  const destinations = lines.filter((l) => 'server' in l);
  const done = lines.find((l) => l.done);
  if (/AddressSanitizer|LeakSanitizer|runtime error:/.test(stderr)) {
    throw new Error(`sanitizer report from fetch-tool ${args.join(' ')}:\n${stderr}`);
  }
  return { code, replies, destinations, done, stderr, elapsedMs: Date.now() - started };
}
