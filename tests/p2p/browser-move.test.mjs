// browser-move.test.mjs -- a browser server moves to another browser by the
// demo's own Export and Import, and stays the same server: browser A (p2p
// mode) shares a room with browser B; A exports its database and closes; a
// fresh browser C (its own profile, at first its own new key name) imports
// the file, and from then on C *is* A: the same key name (the seed is in the
// database, the transport is keyed by it), the same rooms, alice signs in
// with her password, and B, which knows the server only by that name,
// reaches it and is reached by it through the relay.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { isKeyName } from '../../js-bridge/p2p/names.js';
import { startRelay, tempDir } from './lib/harness.mjs';
import {
  WAIT_MS, api, bodies, launchBrowser, openP2p, register, say, shareRoom, startNative, statusOf, until,
} from './lib/servers.mjs';

describe('a browser server exported from one browser and imported into another', { timeout: 6 * WAIT_MS }, () => {
  const w = {};

  before(async () => {
    w.relay = await startRelay();
    w.native = await startNative({ relay: w.relay });
    [w.browserA, w.browserB] = [await launchBrowser(), await launchBrowser()];
    w.pageA = await openP2p(w.browserA, w.native);
    w.pageB = await openP2p(w.browserB, w.native);
    w.nameA = (await statusOf(w.pageA)).serverName;
    w.alice = await register(w.pageA, 'alice');
    w.bob = await register(w.pageB, 'bob');
    w.roomId = await shareRoom(w.pageA, w.alice, w.pageB, w.bob, 'Moving house');
    await say(w.pageA, w.alice.access_token, w.roomId, 'packed in A');
    await until('alice\'s message on B', async () => (await bodies(w.pageB, w.bob.access_token, w.roomId)).includes('packed in A'));
  });

  test('A exports its database (the Export button) and closes', async () => {
    const [download] = await Promise.all([w.pageA.waitForEvent('download', { timeout: WAIT_MS }), w.pageA.click('#export-button')]);
    w.file = join(tempDir('hometab-p2p-move-'), download.suggestedFilename());
    await download.saveAs(w.file);
    const bytes = readFileSync(w.file);
    assert.equal(bytes.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
    // From here A's identity lives only in the file.
    await w.browserA.close();
  });

  test('a fresh browser imports it (the Import button) and is that server: its name, its rooms, its user', async () => {
    w.browserC = await launchBrowser();
    const pageC = w.pageC = await openP2p(w.browserC, w.native);
    const fresh = (await statusOf(pageC)).serverName;
    assert.ok(isKeyName(fresh));
    assert.notEqual(fresh, w.nameA, 'a new profile starts as a server of its own');

    // The page asks before it replaces the database (openP2p accepts the
    // dialog), then reloads; the tab that takes the transport's lock again
    // starts it with the imported key.
    const reloaded = pageC.waitForEvent('load', { timeout: WAIT_MS });
    await pageC.setInputFiles('#import-input', w.file);
    await reloaded;
    await pageC.waitForFunction(() => globalThis.hometabDemo?.transport, null, { timeout: WAIT_MS });
    await pageC.locator('#status-state[data-state="ready"]').waitFor({ state: 'attached', timeout: WAIT_MS });
    await pageC.locator('#status-carrier[data-state="ready"]').waitFor({ state: 'attached', timeout: WAIT_MS });
    assert.equal((await statusOf(pageC)).serverName, w.nameA);
    await until('the transport under the imported name', async () =>
      (await pageC.evaluate(() => globalThis.hometabDemo.transport.transport?.name)) === w.nameA);

    const login = await api(pageC, 'POST', '/_matrix/client/v3/login', { body: {
      type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'pw-alice-123456' } });
    assert.equal(login.status, 200, JSON.stringify(login.json));
    assert.equal(login.json.user_id, w.alice.user_id);
    w.aliceC = login.json;
    const rooms = await api(pageC, 'GET', '/_matrix/client/v3/joined_rooms', { token: w.aliceC.access_token });
    assert.deepEqual(rooms.json.joined_rooms, [w.roomId]);
    assert.deepEqual(await bodies(pageC, w.aliceC.access_token, w.roomId), ['packed in A']);
  });

  test('the peer that shared a room with A reaches it in C, and C reaches the peer', async () => {
    const { pageB, pageC, bob, aliceC, roomId } = w;
    await say(pageB, bob.access_token, roomId, 'welcome to your new browser');
    await until('bob\'s message in C', async () =>
      (await bodies(pageC, aliceC.access_token, roomId)).includes('welcome to your new browser'));
    await say(pageC, aliceC.access_token, roomId, 'unpacked in C');
    await until('alice\'s message from C on B', async () =>
      (await bodies(pageB, bob.access_token, roomId)).includes('unpacked in C'));
    assert.deepEqual(await bodies(pageB, bob.access_token, roomId), ['packed in A', 'welcome to your new browser', 'unpacked in C']);
    assert.deepEqual(await bodies(pageC, aliceC.access_token, roomId), ['packed in A', 'welcome to your new browser', 'unpacked in C']);
    // B sees the server under A's name among its peers: the Noise-authenticated key is A's.
    await until(`${w.nameA} among B's peers`, async () =>
      ((await statusOf(pageB)).transport?.peers ?? []).some((p) => p.name === w.nameA), 30000);
    assert.deepEqual([...w.browserB.errors, ...w.browserC.errors], []);
  });
});
