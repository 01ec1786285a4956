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
});
