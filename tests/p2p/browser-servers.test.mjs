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
// the message arrives (catch-up through the outbox), both ways. Last, the
// relay stops, both change the room's topic apart, the relay comes back at
// the same address, and both servers settle on one topic (state resolution
// over what each outbox delivers). Last, in the chat itself: alice copies a
// link to a room (matrix.to, ?via= her server) and bob pastes it into
// "Join" in the other browser. The tests run in order on one setup.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { isKeyName } from '../../js-bridge/p2p/names.js';
import { roomEntry } from '../browser/lib/chat.mjs';
import { loginInUi, messageLocator, sendInUi } from '../browser/lib/harness.mjs';
import { startRelay, tempDir } from './lib/harness.mjs';
import {
  WAIT_MS, api, bodies, launchBrowser as launch, openP2p, register, say, shareRoom, startNative, stateOf, statusOf, until,
} from './lib/servers.mjs';

const topicOn = async (page, token, roomId) => (await stateOf(page, token, roomId, 'm.room.topic'))?.topic ?? null;

describe('two browser servers in p2p mode, through the relay', { timeout: 8 * WAIT_MS }, () => {
  // Shared by the tests below, in order: each goes on from where the last stopped.
  const w = {};

  before(async () => {
    w.keyFile = join(tempDir('hometab-p2p-relay-'), 'relay.key'); // the same address after a restart
    w.relay = await startRelay({ args: ['--key-file', w.keyFile] });
    w.native = await startNative({ relay: w.relay });
    w.browserA = await launch();
    w.browserB = await launch();
    w.pageA = await openP2p(w.browserA, w.native);
    w.pageB = await openP2p(w.browserB, w.native);
  });

  test('each is named by its key; invite by user id, join, chat both ways', async () => {
    const { pageA, pageB } = w;
    // Each server is named by its key: the core's name (C, room/key_name.c)
    // is the transport's (names.js, from the seed the worker handed over).
    w.nameA = (await statusOf(pageA)).serverName;
    w.nameB = (await statusOf(pageB)).serverName;
    assert.ok(isKeyName(w.nameA) && isKeyName(w.nameB), `${w.nameA} / ${w.nameB}`);
    assert.notEqual(w.nameA, w.nameB);
    assert.equal(await pageA.evaluate(() => globalThis.hometabDemo.transport.transport.name), w.nameA);
    assert.equal(await pageB.evaluate(() => globalThis.hometabDemo.transport.transport.name), w.nameB);

    w.alice = await register(pageA, 'alice');
    w.bob = await register(pageB, 'bob');
    const { alice, bob } = w;
    assert.equal(alice.user_id, `@alice:${w.nameA}`);
    assert.equal(bob.user_id, `@bob:${w.nameB}`);

    const roomId = w.roomId = await shareRoom(pageA, alice, pageB, bob);
    const name = await api(pageB, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.name/`,
      { token: bob.access_token });
    assert.equal(name.json?.name, 'Across browsers');

    await say(pageA, alice.access_token, roomId, 'hello bob');
    await until('alice\'s message on B', async () => (await bodies(pageB, bob.access_token, roomId)).includes('hello bob'));
    await say(pageB, bob.access_token, roomId, 'hello alice');
    await until('bob\'s message on A', async () => (await bodies(pageA, alice.access_token, roomId)).includes('hello alice'));

    // Each page shows the other server among its peers, relayed.
    for (const [page, other] of [[pageA, w.nameB], [pageB, w.nameA]]) {
      await until(`${other} among the peers`, async () => {
        const peers = (await statusOf(page)).transport?.peers ?? [];
        return peers.some((p) => p.name === other && !p.direct);
      }, 30000);
      await page.locator(`#status-peers li[data-peer="${other}"][data-via="relay"]`).waitFor({ state: 'attached', timeout: 30000 });
    }
    // Nothing of this went to the native server's Matrix API.
    assert.deepEqual(w.native.matrixRequests(), []);
  });

  test('a browser that closes catches up when it reopens, both ways', async () => {
    const { pageA, alice, bob, roomId } = w;
    // B closes: its pages and its service worker go, as when a laptop shuts.
    await w.browserB.close();
    await say(pageA, alice.access_token, roomId, 'while you were away');
    // It cannot be delivered: it waits in A's outbox, and the page says so.
    await until('the message waiting in A\'s outbox', async () => (await statusOf(pageA)).outbox > 0, 30000);
    await pageA.locator('#status-outbox:not([data-count="0"])').waitFor({ state: 'attached', timeout: 30000 });

    // B opens again (the same profile): the message arrives.
    w.browserB = await launch({ userDataDir: w.browserB.userDataDir });
    w.pageB = await openP2p(w.browserB, w.native);
    const { pageB } = w;
    assert.equal((await statusOf(pageB)).serverName, w.nameB, 'the name is kept across restarts');
    await until('the message sent while B was closed, on B', async () =>
      (await bodies(pageB, bob.access_token, roomId)).includes('while you were away'));
    await until('A\'s outbox empty', async () => (await statusOf(pageA)).outbox === 0, 30000);

    // The other way: A closes, B sends, A reopens.
    await w.browserA.close();
    await say(pageB, bob.access_token, roomId, 'back again');
    await until('the message waiting in B\'s outbox', async () => (await statusOf(pageB)).outbox > 0, 30000);
    w.browserA = await launch({ userDataDir: w.browserA.userDataDir });
    w.pageA = await openP2p(w.browserA, w.native);
    await until('bob\'s message on A', async () => (await bodies(w.pageA, alice.access_token, roomId)).includes('back again'));
    const all = ['hello bob', 'hello alice', 'while you were away', 'back again'];
    assert.deepEqual(await bodies(w.pageA, alice.access_token, roomId), all);
    assert.deepEqual(await bodies(pageB, bob.access_token, roomId), all);
  });

  test('both change the topic while the relay is down; they converge on one', async () => {
    const { pageA, pageB, alice, bob, roomId } = w;
    // Bob may set the topic too (state events need power 50 in a private chat).
    const power = await api(pageA, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`,
      { token: alice.access_token });
    power.json.users[bob.user_id] = 50;
    const raised = await api(pageA, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`,
      { token: alice.access_token, body: power.json });
    assert.equal(raised.status, 200, JSON.stringify(raised.json));
    await until('bob\'s power on B', async () => {
      const r = await api(pageB, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`,
        { token: bob.access_token });
      return r.json?.users?.[bob.user_id] === 50;
    });

    const port = Number(w.relay.relay.split('/')[4]);
    await w.relay.stop();
    for (const [page, token, topic] of [[pageA, alice.access_token, 'topic of alice'], [pageB, bob.access_token, 'topic of bob']]) {
      const r = await api(page, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.topic/`,
        { token, body: { topic } });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
    assert.equal(await topicOn(pageA, alice.access_token, roomId), 'topic of alice');
    assert.equal(await topicOn(pageB, bob.access_token, roomId), 'topic of bob');
    await until('both outboxes holding the change', async () =>
      (await statusOf(pageA)).outbox > 0 && (await statusOf(pageB)).outbox > 0, 30000);

    // The relay comes back at the same address; the pages reconnect and the
    // outboxes deliver: both servers settle on the same topic.
    w.relay = await startRelay({ args: ['--key-file', w.keyFile, '--listen', `127.0.0.1:${port}`] });
    const settled = await until('one topic on both', async () => {
      const [a, b] = [await topicOn(pageA, alice.access_token, roomId), await topicOn(pageB, bob.access_token, roomId)];
      return a === b && (await statusOf(pageA)).outbox === 0 && (await statusOf(pageB)).outbox === 0 && a;
    }, 2 * WAIT_MS);
    assert.ok(['topic of alice', 'topic of bob'].includes(settled), settled);
  });

  test('in the chat: a copied room link joins the room from the other browser', async () => {
    const { pageA, pageB, alice, bob } = w;
    const created = await api(pageA, 'POST', '/_matrix/client/v3/createRoom',
      { token: alice.access_token, body: { preset: 'public_chat', name: 'Open to links' } });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    await loginInUi(pageA, 'alice', 'pw-alice-123456');
    await roomEntry(pageA, 'Open to links').first().locator('button').click({ timeout: WAIT_MS });
    await pageA.locator('#room-name', { hasText: 'Open to links' }).waitFor({ timeout: WAIT_MS });
    const link = await pageA.locator('#copy-link-button').getAttribute('data-link');
    assert.equal(link, `https://matrix.to/#/${encodeURIComponent(created.json.room_id)}?via=${encodeURIComponent(w.nameA)}`);

    await loginInUi(pageB, 'bob', 'pw-bob-123456');
    await pageB.fill('#join-room-input', link);
    await pageB.click('#join-room-button');
    // Joined (the room opens under its name: its first sync carries the
    // state bob joined into), or refused (the form says why).
    const roomId = created.json.room_id;
    await pageB.waitForFunction((id) => document.querySelector('#room-id')?.textContent.includes(id) ||
      document.querySelector('#join-room-message')?.textContent, roomId, { timeout: WAIT_MS });
    assert.equal(await pageB.locator('#join-room-message').textContent(), '');
    await pageB.locator('#room-name', { hasText: 'Open to links' }).waitFor({ timeout: WAIT_MS });
    await sendInUi(pageB, 'joined by the link');
    await messageLocator(pageA, 'joined by the link').waitFor({ timeout: WAIT_MS });
    assert.equal(bob.user_id.endsWith(`:${w.nameB}`), true);
    assert.deepEqual([...w.browserA.errors, ...w.browserB.errors], []);
  });
});
