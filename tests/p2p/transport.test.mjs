// transport.test.mjs -- two browser servers (two Chromium profiles) through
// the real relay: requests both ways, 3 MB bodies, a peer that closes and
// comes back. WebRTC is off here (the machine's loopback gives it nothing to
// connect over; webrtc.test.mjs runs it inside a network namespace), so
// every byte goes through the relay's circuit.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchProfile, openPeer, startRelay, startSite } from './lib/harness.mjs';

const VERSION = '/_matrix/federation/v1/version';

describe('two browser servers through the relay', () => {
  let relay;
  let site;
  let a;
  let b;
  before(async () => {
    [relay, site] = await Promise.all([startRelay(), startSite()]);
    const [pa, pb] = await Promise.all([launchProfile(), launchProfile()]);
    [a, b] = await Promise.all([openPeer(pa, site, { label: 'alice', relayAddr: relay.relay }),
      openPeer(pb, site, { label: 'bob', relayAddr: relay.relay })]);
  });

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

  test('a native server name goes to the gateway, and a relay without one says so', async () => {
    const r = await a.ask('127.0.0.1:8448', { target: VERSION, timeoutMs: 10000 });
    assert.equal(r.ok, false);
    assert.equal(r.error, '127.0.0.1:8448: the relay has no gateway to native servers');
  });
});

