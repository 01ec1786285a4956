// worker-route.test.mjs -- one transport per origin, carried by a tab for
// the service worker: js-bridge/p2p/tab.js (Web Lock, page side) and
// js-bridge/p2p/worker-route.js (worker side) with a test worker that has
// the stub server where the core will be. Browser A has two tabs, B one.
// A request leaves A's worker, crosses A's holder tab, the relay, B's tab,
// and is answered by B's worker; then the same after both workers were
// stopped (as the browser does when idle), and after A's holder tab closed.

import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { nameFromPublicKey } from '../../js-bridge/p2p/names.js';
import { launchProfile, seedOf, startRelay, startSite } from './lib/harness.mjs';

const hexOf = (seed) => Buffer.from(seed).toString('hex');
function nameOf(seed) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed)]);
  const spki = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
  return nameFromPublicKey(Uint8Array.from(spki.subarray(-32)));
}

async function stopWorkers(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
}

const stateOf = (page) => page.evaluate(() => window.state?.state ?? null);
const ask = (page, path) => page.evaluate((p) => window.ask(p), path);

describe('one transport per origin, carried by a tab for the worker', () => {
  let relay;
  let site;
  let profileA;
  let a1;
  let a2;
  let b;
  const seedA = seedOf('tab-alice');
  const seedB = seedOf('tab-bob');
  const nameA = nameOf(seedA);
  const nameB = nameOf(seedB);

  async function openTab(profile, seed) {
    const page = await profile.context.newPage();
    await page.goto(`${site.url}/fixtures/tab-page.html?seed=${hexOf(seed)}&relay=${encodeURIComponent(relay.relay)}`);
    await page.waitForFunction(() => window.transport);
    return page;
  }
  const send = (page, dest, target, origin, size = 0) =>
    ask(page, `/_test/send?dest=${dest}&target=${encodeURIComponent(target)}&origin=${origin}&size=${size}`);

  before(async () => {
    [relay, site] = await Promise.all([startRelay(), startSite()]);
    let profileB;
    [profileA, profileB] = await Promise.all([launchProfile(), launchProfile()]);
    a1 = await openTab(profileA, seedA);
    a2 = await openTab(profileA, seedA);
    b = await openTab(profileB, seedB);
    for (const page of [a1, b]) await page.waitForFunction(() => window.state?.state === 'ready', null, { timeout: 30000 });
  });

  test('exactly one tab of an origin holds the transport; the other waits', async () => {
    assert.equal(await stateOf(a1), 'ready');
    assert.equal(await stateOf(a2), 'waiting');
    assert.equal(await a1.evaluate(() => window.transport.name), nameA, 'the name comes from the worker\'s seed');
    assert.equal(await b.evaluate(() => window.transport.name), nameB);
  });

  test('a request from A\'s worker is answered by B\'s worker, from any tab of A', async () => {
    const r = await send(a2, nameB, '/_matrix/federation/v1/send/w1', nameA);
    assert.equal(r.status, 200, r.text);
    const json = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4));
    assert.equal(json.answeredBy, 'worker');
    assert.equal(json.peerName, nameA);
    assert.equal(json.target, '/_matrix/federation/v1/send/w1');
    const back = await send(b, nameA, '/_matrix/federation/v1/send/w2', nameB);
    assert.equal(back.status, 200, back.text);
    assert.match(back.text, /"answeredBy":"worker"/);
  });

  test('request bytes are let go once answered, though handed to the worker', async () => {
    // B's transport holds at most 200,000 request bytes at once (tab-page.html):
    // ten requests of 60,000 bytes one after the other pass only if each
    // request's bytes are counted out when answered.
    for (let i = 0; i < 10; i++) {
      const r = await send(a2, nameB, `/_matrix/federation/v1/send/bytes-${i}`, nameA, 60000);
      assert.equal(r.status, 200, `request ${i}: ${r.text}`);
      assert.match(r.text, /"bodyBytes":60000/);
    }
  });

  test('the holder pumps its worker and reports its peers to it', async () => {
    await a1.waitForTimeout(700);
    const state = await a2.evaluate(async () => (await fetch('/_test/state')).json());
    assert.ok(state.pumps >= 1, `pumped ${state.pumps} times`);
    assert.equal(state.status.name, nameA);
    assert.equal(state.status.relayConnected, true);
    assert.ok(state.status.peers.some((p) => p.name === nameB && p.via === 'relay'), JSON.stringify(state.status.peers));
  });

  test('stopped workers (as when idle) find the holder again, both ways', async () => {
    const before = await send(a1, nameB, '/_matrix/federation/v1/send/w3', nameA);
    await stopWorkers(a1);
    await stopWorkers(b);
    const after = await send(a2, nameB, '/_matrix/federation/v1/send/w4', nameA);
    assert.equal(after.status, 200, after.text);
    assert.notEqual(after.instance, before.instance, 'a new worker start of A sent it');
    assert.match(after.text, /"target":"\/_matrix\/federation\/v1\/send\/w4"/);
    const bState = await b.evaluate(async () => (await fetch('/_test/state')).json());
    assert.ok(bState.seen.calls >= 1, 'the restarted worker of B answered it');
  });

  test('when the holder tab closes, the waiting tab takes over', async () => {
    await a1.close();
    await a2.waitForFunction(() => window.state?.state === 'ready', null, { timeout: 30000 });
    assert.deepEqual(await a2.evaluate(() => window.states), ['waiting', 'starting', 'ready']);
    const r = await send(a2, nameB, '/_matrix/federation/v1/send/w5', nameA);
    assert.equal(r.status, 200, r.text);
    const back = await send(b, nameA, '/_matrix/federation/v1/send/w6', nameB);
    assert.equal(back.status, 200, back.text);
  });

  test('with no tab carrying the transport, the worker says the server is offline', async () => {
    await b.evaluate(() => window.transport.stop());
    assert.equal(await stateOf(b), 'stopped');
    const t0 = Date.now();
    const r = await send(b, nameA, '/_matrix/federation/v1/send/w7', nameB);
    assert.equal(r.status, 599);
    assert.equal(r.text, `${nameA}: no open page carries the peer-to-peer transport`);
    assert.ok(Date.now() - t0 < 10000);
    assert.deepEqual(profileA.errors, []);
  });
});
