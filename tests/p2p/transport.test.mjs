// transport.test.mjs -- two browser servers (two Chromium profiles) through
// the real relay: requests both ways, 3 MB bodies, a peer that closes and
// comes back; then the relay's HTTP gateway between native servers and a
// browser server, both ways. WebRTC is off here (on the host network it
// would connect over the machine's own interfaces; webrtc.test.mjs runs it
// inside a network namespace), so every byte goes through the relay.
//
// Gateway, native -> browser: node's HTTP client sends what the native host
// will send (`Host: <key name>` to the gateway's loopback port; node's fetch
// cannot set Host, so node:http it is). Browser -> native: a page sends to an
// IP-literal server name and a node HTTP server on loopback plays the native
// server. The relay runs with --gateway-insecure-http (plain http, loopback
// only).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { before, describe, test } from 'node:test';
import { resolveDestination } from '../../js-bridge/p2p/gateway.mjs';
import { launchProfile, onCleanup, openPeer, startRelay, startSite } from './lib/harness.mjs';

const VERSION = '/_matrix/federation/v1/version';

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

// One request to the gateway, as the native host sends it.
function viaGateway(gatewayUrl, { method = 'GET', path, host, origin, body = '' }) {
  const url = new URL(gatewayUrl);
  const headers = { host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  if (origin) headers.authorization = `X-Matrix origin="${origin}",destination="${host}",key="ed25519:a",sig="c2ln"`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        let json = null;
        try {
          json = JSON.parse(bytes);
        } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, json, bytes });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// A stand-in native server on loopback: records each request, answers JSON.
async function fakeNative() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method, url: req.url, headers: req.headers, bodySha256: sha256(body), bodyBytes: body.length });
      const answer = JSON.stringify({ server: 'native', url: req.url });
      res.writeHead(200, { 'content-type': 'application/json', 'x-native': 'yes' });
      res.end(answer);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise((r) => server.close(r)));
  return { name: `127.0.0.1:${server.address().port}`, seen };
}

let relay;
let site;
let native;
let a;
let b;
before(async () => {
  [relay, site, native] = await Promise.all([startRelay({ gateway: true, insecureHttp: true }), startSite(), fakeNative()]);
  const [pa, pb] = await Promise.all([launchProfile(), launchProfile()]);
  [a, b] = await Promise.all([openPeer(pa, site, { label: 'alice', relayAddr: relay.relay }),
    openPeer(pb, site, { label: 'bob', relayAddr: relay.relay })]);
});

describe('two browser servers through the relay', () => {
  test('each server is named by its key', () => {
    assert.match(a.name, /^[a-z2-7]{52}$/);
    assert.match(b.name, /^[a-z2-7]{52}$/);
    assert.notEqual(a.name, b.name);
  });

  test('a request and its answer cross both ways, with the authenticated peer name', async () => {
    const ab = await a.ask(b.name, { method: 'PUT', target: '/_matrix/federation/v1/send/t1', bodySize: 1000 });
    assert.equal(ab.ok, true, ab.error);
    assert.equal(ab.status, 200);
    assert.equal(ab.json.peerName, a.name, 'B saw the request as coming from A');
    assert.equal(ab.json.target, '/_matrix/federation/v1/send/t1');
    assert.equal(ab.json.bodySha256, ab.sentSha256, 'the body arrived byte for byte');
    const ba = await b.ask(a.name, { target: VERSION, origin: null });
    assert.equal(ba.ok, true, ba.error);
    assert.equal(ba.json.method, 'GET');
    assert.equal(ba.json.peerName, b.name);
  });

  test('3 MB requests and 3 MB answers cross intact, both ways at once', async () => {
    const size = 3_000_000;
    const [ab, ba] = await Promise.all([
      a.ask(b.name, { method: 'PUT', target: `/_matrix/federation/v1/send/big-a?size=${size}`, bodySize: size }),
      b.ask(a.name, { method: 'PUT', target: `/_matrix/federation/v1/send/big-b?size=${size}`, bodySize: size }),
    ]);
    for (const r of [ab, ba]) {
      assert.equal(r.ok, true, r.error);
      assert.equal(r.status, 200);
      assert.equal(r.bodyBytes, size);
      assert.equal(r.bodySha256, r.headers['x-body-sha256'], 'the answer arrived byte for byte');
    }
  });

  test('many requests at once are each answered with their own answer', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      a.ask(b.name, { method: 'PUT', target: `/_matrix/federation/v1/send/par-${i}`, bodySize: 100 + i })));
    results.forEach((r, i) => {
      assert.equal(r.ok, true, r.error);
      assert.equal(r.json.target, `/_matrix/federation/v1/send/par-${i}`);
      assert.equal(r.json.bodyBytes, 100 + i);
    });
  });

  test('the peer list shows the other server, relayed', async () => {
    const peers = await a.peers();
    const entry = peers.find((p) => p.name === b.name);
    assert.ok(entry, `B is among A's peers: ${JSON.stringify(peers)}`);
    assert.equal(entry.direct, false);
    assert.equal(entry.via, 'relay');
    assert.ok(entry.addrs.every((x) => x.includes('/p2p-circuit')), entry.addrs.join(' '));
  });

  test('a server whose page closed is unreachable, with a clear error, until it comes back', async () => {
    const profileB = b.page.context();
    await b.close();
    const gone = await a.ask(b.name, { target: VERSION, origin: null, timeoutMs: 15000 });
    assert.equal(gone.ok, false);
    assert.equal(gone.error, `${b.name}: not connected to the relay (no page of that server is open)`);
    assert.ok(gone.ms < 15000, `failed fast (${Math.round(gone.ms)} ms)`);
    b = await openPeer({ context: profileB }, site, { label: 'bob', relayAddr: relay.relay });
    const back = await a.ask(b.name, { method: 'PUT', target: '/_matrix/federation/v1/send/back', bodySize: 10 });
    assert.equal(back.ok, true, back.error);
    assert.equal(back.json.target, '/_matrix/federation/v1/send/back');
    const reverse = await b.ask(a.name, { target: VERSION, origin: null });
    assert.equal(reverse.ok, true, reverse.error);
  });

  test('send() refuses at once what it must not carry', async () => {
    const tooBig = await a.page.evaluate(async (dest) => {
      try {
        await window.t.peer.send(dest, new Uint8Array(8 * 1024 * 1024 + 1));
        return 'sent';
      } catch (e) {
        return e.message;
      }
    }, b.name);
    assert.match(tooBig, /larger than 8388608 bytes/);
    const self = await a.ask(a.name, { target: VERSION });
    assert.equal(self.ok, false);
    assert.match(self.error, /is this server/);
  });
});

describe('the gateway between native and browser servers', () => {
  let browser;
  before(() => {
    browser = b;
  });

  test('native -> browser: a request for a key-named server reaches its page and comes back', async () => {
    const body = JSON.stringify({ pdus: [], edus: [], pad: 'x'.repeat(5000) });
    const r = await viaGateway(relay.gateway, { method: 'PUT', path: '/_matrix/federation/v1/send/gw1', host: browser.name,
      origin: 'native.example:8448', body });
    assert.equal(r.status, 200, r.bytes.toString());
    assert.equal(r.json.viaGateway, true);
    assert.equal(r.json.peerName, null, 'no key name: the gateway is not a browser server');
    assert.equal(r.json.target, '/_matrix/federation/v1/send/gw1');
    assert.equal(r.json.bodySha256, sha256(body));
    const large = await viaGateway(relay.gateway, { path: '/_matrix/key/v2/server?size=3000000', host: `${browser.name}:8448` });
    assert.equal(large.status, 200);
    assert.equal(large.bytes.length, 3000000);
    assert.equal(sha256(large.bytes), large.headers['x-body-sha256']);
  });

  test('native -> browser: what the gateway refuses never reaches the page', async () => {
    const before = (await browser.seen()).calls;
    const cases = [
      [{ path: '/_matrix/client/v3/login', host: browser.name, method: 'POST', body: '{}' }, 403, 'M_FORBIDDEN'],
      [{ path: '/_matrix/federation/v1/send/x', host: browser.name, origin: browser.name, method: 'PUT' }, 403, 'M_FORBIDDEN'],
      [{ path: '/_matrix/federation/v1/version', host: 'matrix.org' }, 400, 'M_UNRECOGNIZED'],
      [{ path: '/_matrix/federation/v1/version', host: 'a'.repeat(52) }, 502, 'M_UNKNOWN'],
    ];
    for (const [shape, status, errcode] of cases) {
      const r = await viaGateway(relay.gateway, shape);
      assert.equal(r.status, status, `${JSON.stringify(shape)}: ${r.bytes}`);
      assert.equal(r.json.errcode, errcode);
    }
    assert.equal((await browser.seen()).calls, before);
  });

  test('native -> browser: an oversized body is refused with 413', async () => {
    const r = await viaGateway(relay.gateway, { method: 'PUT', path: '/_matrix/federation/v1/send/big', host: browser.name,
      origin: 'native.example', body: 'x'.repeat(8 * 1024 * 1024 + 1) });
    assert.equal(r.status, 413);
    assert.equal(r.json.errcode, 'M_TOO_LARGE');
  });

  test('browser -> native: a request for an IP-literal server goes out as HTTP, exactly', async () => {
    const r = await browser.ask(native.name, { method: 'PUT', target: '/_matrix/federation/v1/send/out1', bodySize: 2048 });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { server: 'native', url: '/_matrix/federation/v1/send/out1' });
    assert.equal(r.headers['x-native'], 'yes');
    const got = native.seen.at(-1);
    assert.equal(got.method, 'PUT');
    assert.equal(got.headers.host, native.name, 'Host is the destination server name');
    assert.match(got.headers.authorization, new RegExp(`^X-Matrix origin="${browser.name}"`));
    assert.equal(got.bodySha256, r.sentSha256);
  });

  test('browser -> native: the gateway carries only the peer\'s own, federation requests', async () => {
    const count = native.seen.length;
    const forged = await browser.ask(native.name, { target: '/_matrix/federation/v1/send/f', method: 'PUT', origin: 'victim.example' });
    assert.equal(forged.status, 403);
    assert.equal(forged.json.errcode, 'M_FORBIDDEN');
    const client = await browser.ask(native.name, { target: '/_matrix/client/v3/sync' });
    assert.equal(client.status, 403);
    const named = await browser.ask('matrix.org', { target: '/_matrix/federation/v1/version', origin: null });
    assert.equal(named.status, 502);
    assert.match(named.json.error, /only IP literals/);
    const elsewhere = await browser.ask('10.1.2.3:8448', { target: '/_matrix/federation/v1/version', origin: null });
    assert.equal(elsewhere.status, 502);
    assert.match(elsewhere.json.error, /only loopback/);
    assert.equal(native.seen.length, count, 'none of them reached a server');
  });

  test('the relay logs each gateway request', () => {
    assert.match(relay.log, /gateway native->browser PUT \/_matrix\/federation\/v1\/send\/gw1 .* 200 /);
    assert.match(relay.log, /gateway browser->native PUT \/_matrix\/federation\/v1\/send\/out1 .* 200 /);
  });
});

describe('where the gateway may send a browser peer\'s request', () => {
  test('insecure mode: loopback IP literals only', () => {
    assert.deepEqual(resolveDestination('127.0.0.1:8008', { insecureHttp: true }), { address: '127.0.0.1', port: 8008 });
    assert.deepEqual(resolveDestination('[::1]', { insecureHttp: true }), { address: '::1', port: 8448 });
    assert.ok(resolveDestination('192.0.2.7:8448', { insecureHttp: true }).error);
  });

  test('secure mode: public IP literals only, never loopback, private or reserved ones', () => {
    assert.deepEqual(resolveDestination('8.8.8.8:443', { insecureHttp: false }), { address: '8.8.8.8', port: 443 });
    assert.deepEqual(resolveDestination('[2a00:1450::1]:8448', { insecureHttp: false }), { address: '2a00:1450::1', port: 8448 });
    for (const name of ['127.0.0.1:8448', '[::1]:8448', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254',
      '100.64.0.1', '0.0.0.0', '[fe80::1]', '[fd00::1]', '[::ffff:127.0.0.1]', '224.0.0.1']) {
      assert.ok(resolveDestination(name, { insecureHttp: false }).error, `${name} is refused`);
    }
  });

  test('names that are not IP literals are left to the native host', () => {
    for (const name of ['matrix.org', 'matrix.org:8448', 'localhost:8008', '127.1', '1.2.3.4.5', '[zz::1]', '1.2.3.4:99999']) {
      assert.ok(resolveDestination(name, { insecureHttp: true }).error, `${name} is refused`);
    }
  });
});
