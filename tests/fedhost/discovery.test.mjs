// Server discovery (src/host/native/resolve.c, spec: server-server API "Resolving server
// names") through build/*/fetch-tool: .well-known delegation in each form, its cache and
// error cases, SRV (_matrix-fed._tcp, then the deprecated _matrix._tcp), and port 8448.
// Names under .test come from a local dnsmasq (--federation-dns); the .well-known server
// listens on port 443 and the fallback server on 8448 of loopback addresses of their own.
// Where dnsmasq or port 443 is not available every test says SKIP with the reason.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { echo, loopbackAddress, makePki, runTool, startDns, startServer } from './lib/harness.mjs';

const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;
const MINUTE = 60 * 1000;

let dir;
let pki;
let skipReason = null;
let dns;
let wellKnown; // every .well-known answer, on WK:443, chosen by the Host header
let target;    // where delegation and SRV lead: TARGET:random port
let fallback;  // FALLBACK:8448
let strict;    // a target whose certificate names only itself
const addr = {};

// What .well-known answers, per name (the Host header of the request).
const answers = {};
function wellKnownHandler(req, res) {
  const a = answers[req.headers.host];
  if (!a) {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end('{"errcode":"M_NOT_FOUND"}');
    return;
  }
  if (a.redirect) {
    res.writeHead(302, { Location: a.redirect });
    res.end();
    return;
  }
  res.writeHead(a.status ?? 200, { 'Content-Type': 'application/json', ...(a.headers ?? {}) });
  res.end(a.body ?? JSON.stringify(a.json));
}

function wellKnownHits(name) {
  return wellKnown.requests.filter((r) => r.host === name && r.url === '/.well-known/matrix/server').length;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fedhost-discovery-'));
  pki = makePki(join(dir, 'ca'));
  for (const k of ['WK', 'TARGET', 'FALLBACK', 'NOTHING', 'STRICT']) addr[k] = loopbackAddress();
  const names = ['target.test', 'deleg.test', 'deleg8448.test', 'srv.test', 'old.test', 'both.test', 'plain.test',
    'bad-json.test', 'no-mserver.test', 'bad-name.test', 'big.test', 'redir.test', 'redir-target.test', 'loop.test',
    'wk-port.test', 'wk-ip.test', 'wk-srv.test', 'wk-8448.test', 'cc-600.test', 'cc-10.test', 'cc-huge.test',
    'cc-nostore.test', 'cc-none.test', 'wk-error.test'];
  const leaf = pki.leaf([...names.map((n) => `DNS:${n}`), `IP:${addr.TARGET}`, `IP:${addr.WK}`, `IP:${addr.FALLBACK}`]);
  try {
    wellKnown = await startServer({ tls: leaf, address: addr.WK, port: 443, handler: wellKnownHandler });
  } catch (e) {
    skipReason = `cannot listen on ${addr.WK}:443 for .well-known (${e.code}): needs root or CAP_NET_BIND_SERVICE`;
    return;
  }
  target = await startServer({ tls: leaf, address: addr.TARGET });
  fallback = await startServer({ tls: leaf, address: addr.FALLBACK, port: 8448 });
  strict = await startServer({ tls: pki.leaf(['DNS:strict-target.test']), address: addr.STRICT });
  const T = `target.test:${target.port}`;
  Object.assign(answers, {
    'wk-port.test': { json: { 'm.server': T } },
    'wk-ip.test': { json: { 'm.server': `${addr.TARGET}:${target.port}` } },
    'wk-srv.test': { json: { 'm.server': 'deleg.test' } },
    'wk-8448.test': { json: { 'm.server': 'deleg8448.test' } },
    'cc-600.test': { json: { 'm.server': T }, headers: { 'Cache-Control': 'public, max-age=600' } },
    'cc-10.test': { json: { 'm.server': T }, headers: { 'Cache-Control': 'max-age=10' } },
    'cc-huge.test': { json: { 'm.server': T }, headers: { 'Cache-Control': 'max-age=99999999' } },
    'cc-nostore.test': { json: { 'm.server': T }, headers: { 'Cache-Control': 'no-store' } },
    'cc-none.test': { json: { 'm.server': T } },
    'wk-error.test': { status: 500, json: { 'm.server': T } },
    'bad-json.test': { body: '{"m.server": ' },
    'no-mserver.test': { json: { 'server': T } },
    'bad-name.test': { json: { 'm.server': 'bad name.test' } },
    'big.test': { body: JSON.stringify({ 'm.server': T, pad: 'x'.repeat(100 * 1024) }) },
    'redir.test': { redirect: 'https://redir-target.test/.well-known/matrix/server' },
    'redir-target.test': { json: { 'm.server': T } },
    'loop.test': { redirect: '/.well-known/matrix/server' },
  });
  const hosts = { 'target.test': addr.TARGET, 'deleg8448.test': addr.FALLBACK, 'plain.test': addr.FALLBACK,
    'srv.test': addr.NOTHING, 'strict.test': addr.NOTHING, 'strict-target.test': addr.STRICT };
  for (const n of Object.keys(answers)) hosts[n] = addr.WK;
  hosts['old.test'] = addr.WK;
  hosts['both.test'] = addr.WK;
  hosts['deleg.test'] = addr.NOTHING;
  dns = await startDns({
    hosts,
    srv: [
      { name: '_matrix-fed._tcp.deleg.test', target: 'target.test', port: target.port },
      { name: '_matrix-fed._tcp.srv.test', target: 'target.test', port: target.port },
      { name: '_matrix._tcp.old.test', target: 'target.test', port: target.port },
      { name: '_matrix-fed._tcp.both.test', target: 'target.test', port: target.port },
      { name: '_matrix._tcp.both.test', target: 'target.test', port: 1 },
      { name: '_matrix-fed._tcp.bad-json.test', target: 'target.test', port: target.port },
      { name: '_matrix-fed._tcp.strict.test', target: 'strict-target.test', port: strict.port },
    ],
  });
  if (dns.skip) skipReason = dns.skip;
});

after(async () => {
  await dns?.stop?.();
  for (const s of [wellKnown, target, fallback, strict]) await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

const opts = () => ['--ca', pki.caPath, '--dns', dns.address];

async function fetchFrom(t, name, path = '/_matrix/federation/v1/version', extra = []) {
  const out = await runTool([...opts(), ...extra, name, 'GET', path]);
  assert.equal(out.code, 0, out.stderr);
  return out;
}

async function resolve(...names) {
  const out = await runTool([...opts(), '--resolve', ...names]);
  assert.equal(out.code, 0, out.stderr);
  return out.destinations;
}

function skipped(t) {
  if (!skipReason) return false;
  t.diagnostic(`SKIP: ${skipReason}`);
  t.skip(skipReason);
  return true;
}

describe('.well-known delegation', () => {
  test('to a name with a port: its addresses, that port; certificate and Host for the delegated name', async (t) => {
    if (skipped(t)) return;
    const out = await fetchFrom(t, 'wk-port.test', '/wk-port');
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    const seen = target.requests.at(-1);
    assert.equal(seen.url, '/wk-port');
    assert.equal(seen.sni, 'target.test');
    assert.equal(seen.host, `target.test:${target.port}`);
    const [d] = await resolve('wk-port.test');
    assert.equal(d.how, `.well-known -> target.test:${target.port}; explicit port`);
  });

  test('to an IP literal with a port: no SNI, Host is the address and port', async (t) => {
    if (skipped(t)) return;
    const out = await fetchFrom(t, 'wk-ip.test', '/wk-ip');
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    assert.equal(target.requests.at(-1).sni, false);
    assert.equal(target.requests.at(-1).host, `${addr.TARGET}:${target.port}`);
  });

  test('to a name without a port: its SRV record; certificate and Host for the delegated name', async (t) => {
    if (skipped(t)) return;
    const out = await fetchFrom(t, 'wk-srv.test', '/wk-srv');
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    assert.equal(target.requests.at(-1).sni, 'deleg.test', 'the certificate is checked for deleg.test, not the SRV target');
    assert.equal(target.requests.at(-1).host, 'deleg.test');
    const [d] = await resolve('wk-srv.test');
    assert.equal(d.how, `.well-known -> deleg.test; SRV _matrix-fed._tcp.deleg.test -> target.test:${target.port}`);
    assert.equal(d.connectTo, `deleg.test:${target.port}:target.test:${target.port}`);
  });

  test('to a name without a port or SRV: that name on 8448', async (t) => {
    if (skipped(t)) return;
    const out = await fetchFrom(t, 'wk-8448.test', '/wk-8448');
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    assert.equal(fallback.requests.at(-1).url, '/wk-8448');
    assert.equal(fallback.requests.at(-1).sni, 'deleg8448.test');
    assert.equal(fallback.requests.at(-1).host, 'deleg8448.test');
  });

  test('a redirect is followed to another host', async (t) => {
    if (skipped(t)) return;
    const out = await fetchFrom(t, 'redir.test', '/redir');
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    assert.equal(target.requests.at(-1).url, '/redir');
    assert.equal(wellKnownHits('redir-target.test'), 1);
  });

  test('a redirect loop ends after a few hops, as an error', async (t) => {
    if (skipped(t)) return;
    const [d] = await resolve('loop.test');
    assert.match(d.how, /^no \.well-known; /);
    assert.equal(d.wellKnownTtlMs, HOUR);
    const hops = wellKnownHits('loop.test');
    assert.ok(hops >= 2 && hops <= 6, `${hops} requests`);
  });
});

describe('.well-known cache', () => {
  test('one lookup serves later requests', async (t) => {
    if (skipped(t)) return;
    const before = wellKnownHits('cc-none.test');
    const out = await fetchFrom(t, 'cc-none.test', '/cached', ['--repeat', '3', '--sequential']);
    assert.deepEqual(out.replies.map((r) => r.status), [200, 200, 200]);
    assert.equal(wellKnownHits('cc-none.test') - before, 1);
  });

  test('Cache-Control decides how long, within 5 minutes and 48 hours; 24 hours when it says nothing', async (t) => {
    if (skipped(t)) return;
    const ds = await resolve('cc-600.test', 'cc-10.test', 'cc-huge.test', 'cc-nostore.test', 'cc-none.test');
    assert.deepEqual(ds.map((d) => [d.server, d.wellKnownTtlMs]), [
      ['cc-600.test', 10 * MINUTE],
      ['cc-10.test', 5 * MINUTE],
      ['cc-huge.test', 48 * HOUR],
      ['cc-nostore.test', 5 * MINUTE],
      ['cc-none.test', DAY],
    ]);
  });

  test('an error is cached for an hour and discovery goes on with SRV', async (t) => {
    if (skipped(t)) return;
    const before = wellKnownHits('old.test');
    const out = await fetchFrom(t, 'old.test', '/after-404', ['--repeat', '2', '--sequential']);
    assert.deepEqual(out.replies.map((r) => r.status), [200, 200]);
    assert.equal(wellKnownHits('old.test') - before, 1, 'the 404 was not asked again');
    const [d] = await resolve('old.test');
    assert.equal(d.wellKnownTtlMs, HOUR);
  });

  test('a bad answer counts as an error: non-200, bad JSON, no m.server, a bad name, too large', async (t) => {
    if (skipped(t)) return;
    const names = ['wk-error.test', 'bad-json.test', 'no-mserver.test', 'bad-name.test', 'big.test'];
    const ds = await resolve(...names);
    for (const d of ds) {
      assert.equal(d.error, undefined, `${d.server}: ${d.error}`);
      assert.match(d.how, /^no \.well-known; /, d.server);
      assert.equal(d.wellKnownTtlMs, HOUR, d.server);
    }
    const out = await fetchFrom(t, 'bad-json.test', '/bad-json');
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    assert.equal(target.requests.at(-1).host, 'bad-json.test', 'the original name, through its SRV record');
  });
});

describe('SRV and the default port', () => {
  test('no .well-known: SRV _matrix-fed._tcp; certificate and Host for the server name', async (t) => {
    if (skipped(t)) return;
    const out = await fetchFrom(t, 'srv.test', '/srv');
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    assert.equal(target.requests.at(-1).sni, 'srv.test');
    assert.equal(target.requests.at(-1).host, 'srv.test');
    const [d] = await resolve('srv.test');
    assert.equal(d.how, `no .well-known; SRV _matrix-fed._tcp.srv.test -> target.test:${target.port}`);
    assert.equal(d.url, `https://srv.test:${target.port}`);
  });

  test('the deprecated _matrix._tcp when there is no _matrix-fed._tcp', async (t) => {
    if (skipped(t)) return;
    const [d] = await resolve('old.test');
    assert.equal(d.how, `no .well-known; SRV _matrix._tcp.old.test -> target.test:${target.port}`);
  });

  test('_matrix-fed._tcp wins over _matrix._tcp', async (t) => {
    if (skipped(t)) return;
    const out = await fetchFrom(t, 'both.test', '/both');
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    assert.equal(target.requests.at(-1).host, 'both.test');
  });

  test('no SRV at all: the name on 8448', async (t) => {
    if (skipped(t)) return;
    const out = await fetchFrom(t, 'plain.test', '/plain');
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    assert.equal(fallback.requests.at(-1).host, 'plain.test');
    assert.equal(fallback.requests.at(-1).sni, 'plain.test');
  });

  test('an SRV target must hold a certificate for the server name, not only its own', async (t) => {
    if (skipped(t)) return;
    const out = await fetchFrom(t, 'strict.test', '/strict');
    assert.match(out.replies[0].error, /^strict\.test: .*(certificate|subject|match)/i);
    assert.equal(strict.requests.length, 0);
  });

  test('a name that resolves nowhere fails with the reason', async (t) => {
    if (skipped(t)) return;
    const out = await fetchFrom(t, 'nowhere.test', '/nowhere');
    assert.match(out.replies[0].error, /^cannot find nowhere\.test: cannot resolve nowhere\.test: no such host/);
  });
});

describe('a DNS server that never answers', () => {
  test("the request's time-out holds during discovery, and freeing the client ends the lookup", async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise((resolve) => silent.bind(0, '127.0.0.1', resolve));
    let queries = 0;
    silent.on('message', () => queries++);
    try {
      const out = await runTool(['--dns', `127.0.0.1:${silent.address().port}`, '--timeout-ms', '1500',
        'quiet.test', 'GET', '/quiet']);
      assert.match(out.replies[0].error, /^quiet\.test did not answer within 1500 ms \(discovering where it is\)/);
      assert.ok(queries >= 1);
      assert.equal(out.done.loopClosed, true);
    } finally {
      silent.close();
    }
  });
});

describe('the test mode (--insecure-http)', () => {
  test('.well-known and the destination over plain http', async (t) => {
    if (skipped(t)) return;
    const address = loopbackAddress();
    let wk80;
    try {
      wk80 = await startServer({ address, port: 80, handler: (req, res, body) => {
        if (req.url === '/.well-known/matrix/server') {
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ 'm.server': `${address}:${wk80.port}` }));
        } else echo(req, res, body);
      } });
    } catch (e) {
      t.skip(`cannot listen on ${address}:80 (${e.code})`);
      return;
    }
    try {
      const local = await startDns({ hosts: { 'plainhttp.test': address } });
      if (local.skip) { t.skip(local.skip); return; }
      try {
        const out = await runTool(['--insecure-http', '--dns', local.address, 'plainhttp.test', 'GET', '/insecure']);
        assert.equal(out.replies[0].status, 200, out.replies[0].error);
        assert.deepEqual(wk80.requests.map((r) => r.url), ['/.well-known/matrix/server', '/insecure']);
        assert.equal(wk80.requests[1].host, `${address}:80`);
      } finally {
        await local.stop();
      }
    } finally {
      await wk80.close();
    }
  });
});
