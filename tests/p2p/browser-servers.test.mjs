// browser-servers.test.mjs -- the whole path: two Chromium profiles, each
// with the demo in peer-to-peer mode, i.e. its own wasm homeserver in its
// service worker named by its key, sharing a room through the real relay.
// Nothing is stubbed: the pages come from the native hometab (the web root
// with the p2p.json `make run` writes), Matrix requests are answered by each
// browser's worker, the core's fetches and outbox travel worker -> page ->
// libp2p -> relay -> the other page -> its worker -> its core. WebRTC is off
// (?webrtc=0: on the host network it would connect over the machine's own
// interfaces; webrtc.test.mjs runs WebRTC in a network namespace).
//
// Then one browser closes (its pages and its worker go), the other sends,
// the message waits in its outbox, and when the first browser opens again
// the message arrives (catch-up through the outbox).

import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { launch, startNative, tempDir } from '../browser/lib/harness.mjs';
import { isKeyName } from '../../js-bridge/p2p/names.js';
import { startRelay } from './lib/harness.mjs';

const WAIT_MS = 90000; // two browsers, a relay and a server on 2 shared cores

// A copy of the web root with the relay's address in it, as `make run` does.
function webRootWith(relay) {
  const root = tempDir('hometab-p2p-www-');
  cpSync(process.env.HOMETAB_WEB_ROOT, root, { recursive: true });
  writeFileSync(join(root, 'p2p.json'), `${JSON.stringify({ relay: relay.relay, peerId: relay.peerId })}\n`);
  return root;
}

// Opens the demo in p2p mode and waits until the server is ready and this
// tab carries the transport (it reserved a slot on the relay).
async function openP2p(browser, native) {
  const page = await browser.context.newPage();
  page.on('dialog', (d) => d.accept());
  await page.goto(`${native.url}/?p2p=1&webrtc=0`);
  await page.waitForFunction(() => globalThis.hometabDemo?.transport, null, { timeout: WAIT_MS });
  await page.locator('#status-state[data-state="ready"]').waitFor({ state: 'attached', timeout: WAIT_MS });
  await page.locator('#status-carrier[data-state="ready"]').waitFor({ state: 'attached', timeout: WAIT_MS });
  return page;
}

// One client-server call made by the page: through its service worker.
function api(page, method, path, { token, body } = {}) {
  return page.evaluate(async ({ method, path, token, body }) => {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, json: await r.json().catch(() => null) };
  }, { method, path, token, body });
}

async function register(page, username) {
  const body = { username, password: `pw-${username}-123456`, auth: { type: 'm.login.dummy' } };
  const r = await api(page, 'POST', '/_matrix/client/v3/register', { body });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
}

async function until(what, check, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function bodies(page, token, roomId) {
  const r = await api(page, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`, { token });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body).reverse();
}

async function say(page, token, roomId, text) {
  const txn = `t${Date.now()}${Math.random().toString(36).slice(2)}`;
  const r = await api(page, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`,
    { token, body: { msgtype: 'm.text', body: text } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
}

const statusOf = (page) => page.evaluate(() => globalThis.hometabDemo.link.status());

describe('two browser servers in p2p mode, through the relay', { timeout: 6 * WAIT_MS }, () => {
  test('create, invite by user id, join, chat both ways; a closed browser catches up when it reopens', async () => {
    const relay = await startRelay();
    const native = await startNative({ webRoot: webRootWith(relay) });
    const browserA = await launch();
    const browserB = await launch();
    const pageA = await openP2p(browserA, native);
    let pageB = await openP2p(browserB, native);

    // Each server is named by its key: the core's name (C, room/key_name.c)
    // is the transport's (names.js, from the seed the worker handed over).
    const nameA = (await statusOf(pageA)).serverName;
    const nameB = (await statusOf(pageB)).serverName;
    assert.ok(isKeyName(nameA) && isKeyName(nameB), `${nameA} / ${nameB}`);
    assert.notEqual(nameA, nameB);
    assert.equal(await pageA.evaluate(() => globalThis.hometabDemo.transport.transport.name), nameA);
    assert.equal(await pageB.evaluate(() => globalThis.hometabDemo.transport.transport.name), nameB);

    const alice = await register(pageA, 'alice');
    let bob = await register(pageB, 'bob');
    assert.equal(alice.user_id, `@alice:${nameA}`);
    assert.equal(bob.user_id, `@bob:${nameB}`);

    const created = await api(pageA, 'POST', '/_matrix/client/v3/createRoom',
      { token: alice.access_token, body: { preset: 'private_chat', name: 'Across browsers' } });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const roomId = created.json.room_id;
    const invited = await api(pageA, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`,
      { token: alice.access_token, body: { user_id: bob.user_id } });
    assert.equal(invited.status, 200, JSON.stringify(invited.json));

    // The invite reached B's server: bob sees it in his sync.
    await until('the invite on B', async () => {
      const r = await api(pageB, 'GET', '/_matrix/client/v3/sync?timeout=0', { token: bob.access_token });
      return r.json?.rooms?.invite?.[roomId];
    });
    const joined = await api(pageB, 'POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/join`,
      { token: bob.access_token, body: {} });
    assert.equal(joined.status, 200, JSON.stringify(joined.json));
    const name = await api(pageB, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.name/`,
      { token: bob.access_token });
    assert.equal(name.json?.name, 'Across browsers');

    await say(pageA, alice.access_token, roomId, 'hello bob');
    await until('alice\'s message on B', async () => (await bodies(pageB, bob.access_token, roomId)).includes('hello bob'));
    await say(pageB, bob.access_token, roomId, 'hello alice');
    await until('bob\'s message on A', async () => (await bodies(pageA, alice.access_token, roomId)).includes('hello alice'));

    // Each page shows the other server among its peers, relayed.
    await until('B among A\'s peers', async () => {
      const peers = (await statusOf(pageA)).transport?.peers ?? [];
      return peers.some((p) => p.name === nameB && !p.direct);
    }, 30000);

    // B closes: its pages and its service worker go, as when a laptop shuts.
    await browserB.close();
    await say(pageA, alice.access_token, roomId, 'while you were away');
    // It cannot be delivered: it waits in A's outbox.
    await until('the message waiting in A\'s outbox', async () => (await statusOf(pageA)).outbox > 0, 30000);

    // B opens again (the same profile): the message arrives.
    const browserB2 = await launch({ userDataDir: browserB.userDataDir });
    pageB = await openP2p(browserB2, native);
    assert.equal((await statusOf(pageB)).serverName, nameB, 'the name is kept across restarts');
    await until('the message sent while B was closed, on B', async () =>
      (await bodies(pageB, bob.access_token, roomId)).includes('while you were away'));
    await until('A\'s outbox empty', async () => (await statusOf(pageA)).outbox === 0, 30000);
    await say(pageB, bob.access_token, roomId, 'back again');
    await until('bob\'s reply on A', async () => (await bodies(pageA, alice.access_token, roomId)).includes('back again'));
    assert.deepEqual(await bodies(pageA, alice.access_token, roomId),
      ['hello bob', 'hello alice', 'while you were away', 'back again']);
    assert.deepEqual(await bodies(pageB, bob.access_token, roomId),
      ['hello bob', 'hello alice', 'while you were away', 'back again']);
    // Nothing of this went to the native server's Matrix API.
    assert.deepEqual(native.matrixRequests(), []);
    assert.deepEqual([...browserA.errors, ...browserB2.errors], []);
  });
});
