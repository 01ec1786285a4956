// The federation client's transport (src/host/native/fetch.c, curl_uv.c) through
// build/*/fetch-tool against real servers on loopback: plain HTTP in the test mode,
// HTTPS with a test CA, IP literals and explicit ports, certificates refused, time-outs,
// a 100 MB answer, keep-alive, many requests at once, cancellation.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { echo, loopbackAddress, makePki, runTool, startServer, startSilentServer } from './lib/harness.mjs';

const EIGHT_MIB = 8 * 1024 * 1024;
let dir;
let pki;
let otherPki;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedhost-'));
  pki = makePki(join(dir, 'ca'));
  otherPki = makePki(join(dir, 'other-ca'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('plain HTTP (--insecure-http)', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      handler: (req, res, body) => {
        if (req.url === '/missing') {
          res.writeHead(404, { 'Content-Type': 'application/json' });
          res.end('{"errcode":"M_UNRECOGNIZED"}');
        } else if (req.url === '/redirect') {
          res.writeHead(302, { Location: '/elsewhere' });
          res.end();
        } else {
          res.statusCode = 201;
          echo(req, res, body);
        }
      },
    });
  });
  after(() => srv.close());

  test('method, path with query, headers and body reach the server; status, type and body come back', async () => {
    const path = '/_matrix/federation/v1/send/a/../b?x=%2F&y=1';
    const out = await runTool(['--insecure-http', '--header', 'Authorization: X-Matrix origin="o",key="ed25519:1",sig="s"',
      '--header', 'Content-Type: application/json', '--body', '{"pdus":[]}', srv.name, 'PUT', path]);
    assert.equal(out.code, 0);
    const [reply] = out.replies;
    assert.equal(reply.error, undefined);
    assert.equal(reply.status, 201);
    assert.equal(reply.contentType, 'application/json');
    const seen = srv.requests.at(-1);
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.url, path, 'the path is sent as given: it is what X-Matrix signs');
    assert.equal(seen.host, srv.name, 'Host is the server name, with its port');
    assert.equal(seen.headers.authorization, 'X-Matrix origin="o",key="ed25519:1",sig="s"');
    assert.equal(seen.headers.expect, undefined, 'no Expect: 100-continue wait');
    assert.equal(seen.body, '{"pdus":[]}');
    assert.deepEqual(JSON.parse(reply.body), { method: 'PUT', url: path, host: srv.name, body: '{"pdus":[]}' });
    assert.ok(reply.headers.some((h) => /^content-type: application\/json$/i.test(h)));
  });

  test('a Host header from the caller is replaced by the server name', async () => {
    const out = await runTool(['--insecure-http', '--header', 'Host: evil.example', srv.name, 'GET', '/h']);
    assert.equal(out.replies[0].status, 201);
    assert.equal(srv.requests.at(-1).host, srv.name);
  });

  test('an error status is a reply, not a transport error', async () => {
    const out = await runTool(['--insecure-http', srv.name, 'GET', '/missing']);
    assert.equal(out.replies[0].status, 404);
    assert.equal(out.replies[0].error, undefined);
    assert.equal(out.replies[0].body, '{"errcode":"M_UNRECOGNIZED"}');
  });

  test('redirects of federation requests are not followed', async () => {
    const before = srv.requests.length;
    const out = await runTool(['--insecure-http', srv.name, 'GET', '/redirect']);
    assert.equal(out.replies[0].status, 302);
    assert.equal(srv.requests.length, before + 1, 'the Location was not asked for');
  });

  test('one connection serves requests one after another (keep-alive)', async () => {
    const connections = srv.connections;
    const out = await runTool(['--insecure-http', '--repeat', '5', '--sequential', srv.name, 'GET', '/k']);
    assert.deepEqual(out.replies.map((r) => r.status), [201, 201, 201, 201, 201]);
    assert.equal(srv.connections - connections, 1);
  });

  test('proxies named in the environment are not used', async () => {
    const proxy = 'http://127.0.0.1:9';
    const out = await runTool(['--insecure-http', srv.name, 'GET', '/p'],
      { env: { http_proxy: proxy, HTTP_PROXY: proxy, https_proxy: proxy, HTTPS_PROXY: proxy, ALL_PROXY: proxy, all_proxy: proxy } });
    assert.equal(out.replies[0].status, 201);
    assert.equal(srv.requests.at(-1).url, '/p');
  });

  test('without the test mode, plain HTTP is never spoken', async () => {
    const before = srv.requests.length;
    const out = await runTool([srv.name, 'GET', '/tls-only']);
    assert.match(out.replies[0].error, new RegExp(`^${srv.name.replace(/\./g, '\\.')}: `));
    assert.equal(srv.requests.length, before);
  });

  test('bad requests are refused before anything is sent, each with its reason', async () => {
    const cases = [
      [['exa mple.org', 'GET', '/x'], /not a valid server name/],
      [['example.org:99999', 'GET', '/x'], /not a valid server name/],
      [['[::1', 'GET', '/x'], /not a valid server name/],
      [[srv.name, 'GET', 'no-slash'], /path must start with \//],
      [[srv.name, 'GET', '/with space'], /visible ASCII/],
      [[srv.name, 'get', '/x'], /method/],
      [['--header', 'No colon', srv.name, 'GET', '/x'], /Name: value/],
    ];
    const before = srv.requests.length;
    for (const [args, reason] of cases) {
      const out = await runTool(['--insecure-http', ...args]);
      assert.equal(out.code, 0);
      assert.match(out.replies[0].error, reason, args.join(' '));
    }
    assert.equal(srv.requests.length, before);
  });

  test('a closed port is a transport error naming the server', async () => {
    const silent = await startSilentServer();
    const port = silent.port;
    await silent.close(); // now nothing listens there
    const out = await runTool(['--insecure-http', `127.0.0.1:${port}`, 'GET', '/x']);
    assert.match(out.replies[0].error, new RegExp(`^127\\.0\\.0\\.1:${port}: .*(refused|connect)`, 'i'));
  });
});

describe('HTTPS with the test CA (--federation-ca)', () => {
  let srv;
  let srv6;
  before(async () => {
    srv = await startServer({ tls: { key: pki.key, cert: pki.cert } }); // IP:127.0.0.1, IP:::1, DNS:localhost
    srv6 = await startServer({ tls: { key: pki.key, cert: pki.cert }, address: '::1' });
  });
  after(async () => { await srv.close(); await srv6.close(); });

  test('an IPv4 literal with a port: its IP certificate, no SNI, Host with the port', async () => {
    const out = await runTool(['--ca', pki.caPath, `127.0.0.1:${srv.port}`, 'GET', '/v4']);
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    const seen = srv.requests.at(-1);
    assert.equal(seen.sni, false, 'no SNI for an IP address');
    assert.equal(seen.host, `127.0.0.1:${srv.port}`);
  });

  test('an IPv6 literal with a port', async () => {
    const out = await runTool(['--ca', pki.caPath, `[::1]:${srv6.port}`, 'GET', '/v6']);
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    assert.equal(srv6.requests.at(-1).sni, false);
    assert.equal(srv6.requests.at(-1).host, `[::1]:${srv6.port}`);
  });

  test('a hostname with an explicit port: SNI and certificate for the hostname', async () => {
    const out = await runTool(['--ca', pki.caPath, `localhost:${srv.port}`, 'GET', '/name']);
    assert.equal(out.replies[0].status, 200, out.replies[0].error);
    assert.equal(srv.requests.at(-1).sni, 'localhost');
    assert.equal(srv.requests.at(-1).host, `localhost:${srv.port}`);
  });

  test('an IP literal without a port goes to 8448', async (t) => {
    const address = loopbackAddress();
    let srv8448;
    try {
      srv8448 = await startServer({ tls: pki.leaf([`IP:${address}`]), address, port: 8448 });
    } catch (e) {
      t.skip(`cannot listen on ${address}:8448: ${e.code}`);
      return;
    }
    try {
      const out = await runTool(['--ca', pki.caPath, address, 'GET', '/default-port']);
      assert.equal(out.replies[0].status, 200, out.replies[0].error);
      assert.equal(srv8448.requests.at(-1).host, address, 'Host is the server name as written: no port');
      assert.equal(srv8448.requests.at(-1).sni, false);
    } finally {
      await srv8448.close();
    }
  });

  test('keep-alive holds for TLS too: one handshake for five requests', async () => {
    const connections = srv.connections;
    const out = await runTool(['--ca', pki.caPath, '--repeat', '5', '--sequential', `127.0.0.1:${srv.port}`, 'GET', '/k']);
    assert.deepEqual(out.replies.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.equal(srv.connections - connections, 1);
  });

  test('without the test CA the certificate is refused and nothing is sent', async () => {
    const before = srv.requests.length;
    const out = await runTool([`127.0.0.1:${srv.port}`, 'GET', '/untrusted']);
    assert.match(out.replies[0].error, /certificate/i);
    assert.equal(srv.requests.length, before);
  });

  test('a certificate from another CA is refused', async () => {
    const other = await startServer({ tls: { key: otherPki.key, cert: otherPki.cert } });
    try {
      const out = await runTool(['--ca', pki.caPath, other.name, 'GET', '/other-ca']);
      assert.match(out.replies[0].error, /certificate/i);
      assert.equal(other.requests.length, 0);
    } finally {
      await other.close();
    }
  });

  test('a certificate for another name is refused', async () => {
    const other = await startServer({ tls: pki.leaf(['DNS:someone-else.test']) });
    try {
      const byAddress = await runTool(['--ca', pki.caPath, other.name, 'GET', '/wrong-ip']);
      assert.match(byAddress.replies[0].error, /certificate|subject|match/i);
      const byName = await runTool(['--ca', pki.caPath, `localhost:${other.port}`, 'GET', '/wrong-name']);
      assert.match(byName.replies[0].error, /certificate|subject|match/i);
      assert.equal(other.requests.length, 0);
    } finally {
      await other.close();
    }
  });

  test('a CA file that cannot be used stops the client from starting, with the reason', async () => {
    const missing = await runTool(['--ca', join(dir, 'nope.pem'), '127.0.0.1:1', 'GET', '/']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read the CA file/);
    const notPem = await runTool(['--ca', pki.keyPath.replace('key.pem', 'leaf.ext'), '127.0.0.1:1', 'GET', '/']);
    assert.equal(notPem.code, 1);
    assert.match(notPem.stderr, /holds no PEM certificate/);
  });
});

describe('bounds', () => {
  test('a server that never answers: the request times out with a sentence, and the tool ends', async () => {
    const silent = await startSilentServer();
    try {
      const plain = await runTool(['--insecure-http', '--timeout-ms', '1000', `127.0.0.1:${silent.port}`, 'GET', '/hang']);
      assert.match(plain.replies[0].error, new RegExp(`^127\\.0\\.0\\.1:${silent.port} did not answer within 1000 ms`));
      const tls = await runTool(['--ca', pki.caPath, '--timeout-ms', '1000', `127.0.0.1:${silent.port}`, 'GET', '/hang']);
      assert.match(tls.replies[0].error, /did not answer within 1000 ms/, 'a TLS handshake that never ends too');
      assert.ok(silent.accepted >= 2);
    } finally {
      await silent.close();
    }
  });

  describe('response size (8 MiB)', () => {
    let srv;
    let written = {};
    before(async () => {
      srv = await startServer({
        handler: (req, res) => {
          const total = Number(new URL(req.url, 'http://x').searchParams.get('bytes'));
          const chunked = req.url.startsWith('/chunked');
          res.writeHead(200, chunked ? { 'Content-Type': 'application/octet-stream' }
            : { 'Content-Type': 'application/octet-stream', 'Content-Length': String(total) });
          const block = Buffer.alloc(64 * 1024, 0x61);
          let sent = 0;
          written[req.url] = 0;
          const pump = () => {
            while (sent < total) {
              const n = Math.min(block.length, total - sent);
              sent += n;
              written[req.url] = sent;
              if (!res.write(n === block.length ? block : block.subarray(0, n))) {
                res.once('drain', pump);
                return;
              }
            }
            res.end();
          };
          res.on('error', () => {});
          pump();
        },
      });
    });
    after(() => srv.close());

    test('exactly 8 MiB is accepted; one byte more is refused', async () => {
      const exact = await runTool(['--insecure-http', srv.name, 'GET', `/chunked?bytes=${EIGHT_MIB}`]);
      assert.equal(exact.replies[0].status, 200, exact.replies[0].error);
      assert.equal(exact.replies[0].bodyLength, EIGHT_MIB);
      const over = await runTool(['--insecure-http', srv.name, 'GET', `/chunked?bytes=${EIGHT_MIB + 1}`]);
      assert.match(over.replies[0].error, /larger than 8388608 bytes/);
    });

    test('100 MB, chunked or with its length announced, is refused early with bounded memory', async () => {
      const small = await runTool(['--insecure-http', srv.name, 'GET', '/chunked?bytes=1000']);
      const baseline = small.done.maxRssKb;
      for (const path of ['/chunked?bytes=100000000', '/length?bytes=100000000']) {
        const out = await runTool(['--insecure-http', srv.name, 'GET', path]);
        assert.match(out.replies[0].error, /larger than 8388608 bytes/, path);
        assert.ok(out.done.maxRssKb - baseline < 32 * 1024,
          `${path}: the tool grew by ${out.done.maxRssKb - baseline} KiB (bounded by 8 MiB and its buffer)`);
        await new Promise((r) => setTimeout(r, 200)); // the server sees the close
        assert.ok(written[path] < 50_000_000, `${path}: the server wrote ${written[path]} bytes before the close`);
      }
    });
  });

  describe('requests in flight', () => {
    let srv;
    const byHost = new Map();
    before(async () => {
      srv = await startServer({
        handler: (req, res, body) => {
          const h = byHost.get(req.headers.host) ?? { active: 0, max: 0 };
          byHost.set(req.headers.host, h);
          h.active++;
          h.max = Math.max(h.max, h.active);
          setTimeout(() => { h.active--; echo(req, res, body); }, 40);
        },
      });
    });
    after(() => srv.close());

    test('per destination, requests beyond the bound wait their turn, and all are answered', async () => {
      byHost.clear();
      const out = await runTool(['--insecure-http', '--repeat', '60', '--max-per-destination', '4', srv.name, 'GET', '/one']);
      assert.equal(out.replies.length, 60);
      assert.ok(out.replies.every((r) => r.status === 200), JSON.stringify(out.replies.find((r) => r.status !== 200)));
      assert.equal(byHost.get(srv.name).max, 4, 'at most 4 at once, and the bound was reached');
    });

    test('in all, across destinations, requests beyond the bound wait their turn', async () => {
      byHost.clear();
      const concurrentBefore = srv.maxConcurrent;
      assert.ok(concurrentBefore <= 4);
      const names = [srv.name, `localhost:${srv.port}`]; // two destinations, one server
      const out = await runTool(['--insecure-http', '--repeat', '120', '--max-per-destination', '4',
        '--max-in-flight', '6', names.join(','), 'GET', '/many']);
      assert.equal(out.replies.length, 120);
      assert.ok(out.replies.every((r) => r.status === 200), JSON.stringify(out.replies.find((r) => r.status !== 200)));
      for (const name of names) assert.ok(byHost.get(name).max <= 4, `${name}: ${byHost.get(name).max} at once`);
      assert.equal(srv.maxConcurrent, 6, 'at most 6 at once in all, and the bound was reached');
    });

    test('more than max-waiting are refused at once, and the rest are answered', async () => {
      const out = await runTool(['--insecure-http', '--repeat', '30', '--max-per-destination', '1',
        '--max-waiting', '10', srv.name, 'GET', '/queue']);
      const refused = out.replies.filter((r) => r.error);
      assert.equal(refused.length, 19, 'one in flight and ten waiting');
      assert.ok(refused.every((r) => /too many requests are waiting/.test(r.error)));
      assert.equal(out.replies.filter((r) => r.status === 200).length, 11);
    });

    test('a request that waits past its time-out fails with that reason', async () => {
      const out = await runTool(['--insecure-http', '--repeat', '40', '--max-per-destination', '1',
        '--timeout-ms', '500', srv.name, 'GET', '/slow-queue']);
      const late = out.replies.filter((r) => r.error);
      assert.ok(late.length > 0 && late.length < 40);
      assert.ok(late.every((r) => /did not answer within 500 ms \((waiting for a free connection|sending)/.test(r.error)),
        late[0].error);
      assert.ok(late.some((r) => /waiting for a free connection/.test(r.error)), 'some never left the queue');
    });
  });

  test('freeing the client cancels what is in flight: each callback once, every handle closed', async () => {
    const silent = await startSilentServer();
    try {
      const out = await runTool(['--insecure-http', '--repeat', '3', '--max-per-destination', '2',
        '--cancel-after-ms', '300', `127.0.0.1:${silent.port}`, 'GET', '/cancel']);
      assert.equal(out.replies.length, 3);
      assert.ok(out.replies.every((r) => /cancelled/.test(r.error)), JSON.stringify(out.replies));
      assert.equal(out.done.replies, 3);
      assert.equal(out.done.loopClosed, true);
    } finally {
      await silent.close();
    }
  });
});
