// hostile.test.mjs -- what a hostile peer can do to a browser server, and
// what it costs. The attacker is js-libp2p in node with its own key (none of
// the transport's code), reaching the victim's page through the relay; the
// victim is the real bundle in Chromium with the stub server, which counts
// every request that reached it. Nothing refused may reach it, each refusal
// must come quickly, and the victim must answer an honest peer afterwards.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  hostilePeer, launchProfile, openPeer, rawExchange, seedOf, startRelay, startSite,
} from './lib/harness.mjs';

const enc = new TextEncoder();

function parse(bytes) {
  const text = Buffer.from(bytes).toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (!text.startsWith('HTTP/1.1 ') || end < 0) return null;
  const status = Number(text.slice(9, 12));
  const body = text.slice(end + 4);
  let json = null;
  try {
    json = JSON.parse(body);
  } catch { /* not JSON */ }
  return { status, json };
}

function req({ method = 'GET', target, host, origin, extra = '', body = '' }) {
  const auth = origin ? `Authorization: X-Matrix origin="${origin}",destination="${host}",key="ed25519:a",sig="c2ln"\r\n` : '';
  return enc.encode(`${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${auth}${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

describe('a hostile peer against a browser server', () => {
  let relay;
  let victim;
  let honest;
  let evil;
  let profile;

  // Sends raw bytes on a fresh stream from the attacker; { status, json,
  // error, ms } and whether the victim's server was reached.
  async function attack(bytes, options) {
    const before = (await victim.seen()).calls;
    const t0 = Date.now();
    const stream = await evil.open(victim.name);
    const { bytes: answer, error } = await rawExchange(stream, bytes, options);
    const reached = (await victim.seen()).calls - before;
    return { ...parse(answer), error, ms: Date.now() - t0, reached };
  }

  before(async () => {
    const site = await startSite();
    relay = await startRelay();
    // The honest peer is another browser server in a page of the same
    // browser (its own key: another server; one Chromium fewer to start).
    profile = await launchProfile();
    [victim, honest] = await Promise.all([
      openPeer(profile, site, { label: 'victim', relayAddr: relay.relay, limits: { inboundReadTimeoutMs: 4000 } }),
      openPeer(profile, site, { label: 'honest', relayAddr: relay.relay }),
    ]);
    evil = await hostilePeer({ relayAddr: relay.relay, seed: seedOf('mallory') });
    await evil.node.dial((await import('@multiformats/multiaddr')).multiaddr(relay.relay));
  });

  test('the attacker reaches the victim with an honest request (the baseline)', async () => {
    const r = await attack(req({ target: '/_matrix/federation/v1/version', host: victim.name }));
    assert.equal(r.status, 200, JSON.stringify(r));
    assert.equal(r.reached, 1);
    assert.equal(r.json.peerName, evil.name, 'the victim saw the attacker under its own key name');
  });

  const refusals = [
    ['a client API path', { target: '/_matrix/client/v3/login', method: 'POST', body: '{}' }, 403, 'M_FORBIDDEN'],
    ['a client path with an origin', { target: '/_matrix/client/v3/sync', origin: 'self' }, 403, 'M_FORBIDDEN'],
    ['a media path', { target: '/_matrix/media/v3/download/x/y', origin: 'self' }, 403, 'M_FORBIDDEN'],
    ['the root', { target: '/', origin: 'self' }, 403, 'M_FORBIDDEN'],
    ['dot segments out of federation', { target: '/_matrix/federation/../client/v3/sync', origin: 'self' }, 403, 'M_FORBIDDEN'],
    ['encoded dot segments', { target: '/_matrix/federation/%2e%2E/client/v3/sync', origin: 'self' }, 403, 'M_FORBIDDEN'],
    ['encoded slashes hiding dots', { target: '/_matrix/key/v2%2F..%2F..%2Fclient', origin: 'self' }, 403, 'M_FORBIDDEN'],
    ['an absolute-form target', { target: 'http://x/_matrix/federation/v1/version' }, 400, 'M_UNRECOGNIZED'],
    ['a forged origin (another key name)', { target: '/_matrix/federation/v1/send/1', method: 'PUT', origin: 'honest' }, 403, 'M_FORBIDDEN'],
    ['a forged origin (a native name)', { target: '/_matrix/federation/v1/send/1', method: 'PUT', origin: 'matrix.org' }, 403, 'M_FORBIDDEN'],
    ['two Authorization headers with two origins', { target: '/_matrix/federation/v1/send/1', origin: 'self', extra: 'Authorization: X-Matrix origin="matrix.org",key="ed25519:a",sig="x"\r\n' }, 403, 'M_FORBIDDEN'],
    ['a repeated origin parameter', { target: '/_matrix/federation/v1/send/1', extra: 'Authorization: X-Matrix origin="self",origin="matrix.org",key="k",sig="s"\r\n' }, 401, 'M_UNAUTHORIZED'],
    ['no authorization on an authenticated path', { target: '/_matrix/federation/v1/send/1', method: 'PUT' }, 401, 'M_UNAUTHORIZED'],
    ['a Bearer token', { target: '/_matrix/federation/v1/send/1', extra: 'Authorization: Bearer abc\r\n' }, 401, 'M_UNAUTHORIZED'],
    ['a header smuggled after a bare LF', { target: '/_matrix/federation/v1/send/1', origin: 'self', extra: 'X-A: b\nAuthorization: X-Matrix origin="matrix.org",key="k",sig="s"\r\n' }, 400, 'M_UNRECOGNIZED'],
    ['Transfer-Encoding', { target: '/_matrix/key/v2/server', extra: 'Transfer-Encoding: chunked\r\n' }, 400, 'M_UNRECOGNIZED'],
    ['two Content-Lengths', { target: '/_matrix/key/v2/server', extra: 'Content-Length: 5\r\n' }, 400, 'M_UNRECOGNIZED'],
  ];
  for (const [what, shape, status, errcode] of refusals) {
    test(`refused: ${what}`, async () => {
      const origin = shape.origin === 'self' ? evil.name : shape.origin === 'honest' ? honest.name : shape.origin;
      const extra = (shape.extra ?? '').replaceAll('origin="self"', `origin="${evil.name}"`);
      const r = await attack(req({ ...shape, origin, extra, host: victim.name }));
      assert.equal(r.status, status, JSON.stringify(r));
      assert.equal(r.json?.errcode, errcode);
      assert.equal(r.reached, 0, 'the server behind the guard never saw it');
      assert.ok(r.ms < 5000, `answered in ${r.ms} ms`);
    });
  }

  test('a second request hidden behind the first is refused (one stream, one request)', async () => {
    const first = req({ target: '/_matrix/key/v2/server', host: victim.name });
    const second = req({ target: '/_matrix/client/v3/login', method: 'POST', host: victim.name, body: '{}' });
    const r = await attack(Buffer.concat([first, second]));
    assert.equal(r.status, 400);
    assert.equal(r.reached, 0);
  });

  test('an oversized request is cut off at the limit and never reaches the server', async () => {
    const body = 'x'.repeat(9 * 1024 * 1024);
    const r = await attack(req({ method: 'PUT', target: '/_matrix/federation/v1/send/big', origin: evil.name, host: victim.name, body }));
    assert.equal(r.reached, 0);
    assert.ok(r.status === 413 || r.error, `refused with 413 or a reset: ${JSON.stringify(r)}`);
    if (r.status) assert.equal(r.json.errcode, 'M_TOO_LARGE');
  });

  test('a flood of streams: at most 8 reach the server at once, the rest are refused quickly', async () => {
    const before = (await victim.seen()).calls;
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 80 }, async () => {
      try {
        const stream = await evil.open(victim.name);
        const { bytes } = await rawExchange(stream, req({ target: '/_matrix/key/v2/server?slow', host: victim.name }));
        return parse(bytes)?.status ?? 'reset';
      } catch {
        return 'refused';
      }
    }));
    const ms = Date.now() - t0;
    const seen = await victim.seen();
    const counts = results.reduce((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});
    assert.ok(seen.max <= 8, `the server held at most 8 requests at once (held ${seen.max})`);
    assert.ok((counts[200] ?? 0) >= 1, `some were served: ${JSON.stringify(counts)}`);
    assert.ok((counts[429] ?? 0) + (counts.reset ?? 0) + (counts.refused ?? 0) >= 40, `most were refused: ${JSON.stringify(counts)}`);
    assert.equal(seen.calls - before, counts[200], 'only the served ones reached the server');
    assert.ok(ms < 20000, `the flood was over in ${ms} ms`);
    const after = await honest.ask(victim.name, { target: '/_matrix/federation/v1/version', origin: null });
    assert.equal(after.ok, true, `an honest peer is still served: ${after.error}`);
  });

  test('requests that never finish arriving are dropped at the read deadline', async () => {
    const partial = enc.encode(`PUT /_matrix/federation/v1/send/slowloris HTTP/1.1\r\nHost: ${victim.name}\r\nContent-Length: 100\r\n\r\nabc`);
    const t0 = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 8 }, async () => {
      const stream = await evil.open(victim.name);
      const { error } = await rawExchange(stream, partial, { closeWrite: false, timeoutMs: 20000 });
      return error ? 'reset' : 'ended';
    }));
    const ms = Date.now() - t0;
    assert.deepEqual([...new Set(outcomes)], ['reset']);
    assert.ok(ms >= 3500 && ms < 15000, `held until the 4 s read deadline, not much longer (${ms} ms)`);
    const after = await honest.ask(victim.name, { target: '/_matrix/federation/v1/version', origin: null });
    assert.equal(after.ok, true, after.error);
  });

  test('a native server name goes to the gateway, and a relay without one says so', async () => {
    const r = await honest.ask('127.0.0.1:8448', { target: '/_matrix/federation/v1/version', timeoutMs: 10000 });
    assert.equal(r.ok, false);
    assert.equal(r.error, '127.0.0.1:8448: the relay has no gateway to native servers');
  });

  test('no attack raised an error in the victim\'s page', () => {
    assert.deepEqual(profile.errors, []);
  });
});
