// presence.test.mjs -- PUT/GET /presence/{userId}/status, set_presence on
// /sync, and m.presence events in /sync.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, assertError, createRoom, join, register, seg, sync } from './lib/matrix.mjs';
import { sleep, timed } from './lib/rest.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

const status = (userId) => `${V3}/presence/${seg(userId)}/status`;
const setPresence = (who, body, userId = who.user_id) =>
  srv.fetch(status(userId), { method: 'PUT', body, token: who.token });
const getPresence = (who, userId) => srv.fetch(status(userId), { token: who.token });
const presenceOf = (res, userId) => res.presence.events.find((e) => e.sender === userId);

async function pair(name) {
  const a = await register(srv, `${name}a`);
  const b = await register(srv, `${name}b`);
  const room = await createRoom(srv, a, { preset: 'public_chat' });
  await join(srv, b, room);
  return { a, b, room };
}

describe('presence', () => {
  test('one\'s own presence and status are read back', async () => {
    const u = await register(srv, 'p1');
    assert.equal((await setPresence(u, { presence: 'unavailable', status_msg: 'at lunch' })).status, 200);
    const res = await getPresence(u, u.user_id);
    assert.equal(res.status, 200);
    assert.equal(res.json.presence, 'unavailable');
    assert.equal(res.json.status_msg, 'at lunch');
    assert.equal(typeof res.json.last_active_ago, 'number');
    assert.equal(res.json.currently_active, false);
  });

  test('a user who never set presence is offline', async () => {
    const { a, b } = await pair('p2');
    const res = await getPresence(a, b.user_id);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { presence: 'offline' });
  });

  test('presence of strangers is hidden, of unknown users 404', async () => {
    const a = await register(srv, 'p3');
    const stranger = await register(srv, 'p3stranger');
    assertError(await getPresence(a, stranger.user_id), 403, 'M_FORBIDDEN');
    assertError(await getPresence(a, '@nobody:localhost'), 404, 'M_NOT_FOUND');
    assertError(await getPresence(a, 'nobody'), 400, 'M_INVALID_PARAM');
  });

  test('nobody sets another user\'s presence', async () => {
    const { a, b } = await pair('p4');
    assertError(await setPresence(a, { presence: 'online' }, b.user_id), 403, 'M_FORBIDDEN');
  });

  test('a presence body needs a known state and a string status', async () => {
    const u = await register(srv, 'p5');
    assertError(await setPresence(u, {}), 400, 'M_MISSING_PARAM');
    assertError(await setPresence(u, { presence: 'busy' }), 400, 'M_INVALID_PARAM');
    assertError(await setPresence(u, { presence: 1 }), 400, 'M_BAD_JSON');
    assertError(await setPresence(u, { presence: 'online', status_msg: 5 }), 400, 'M_BAD_JSON');
    assertError(await setPresence(u, { presence: 'online', status_msg: 'x'.repeat(1025) }), 400, 'M_INVALID_PARAM');
  });

  test('a roommate\'s presence change reaches sync and wakes a parked one', async () => {
    const { a, b } = await pair('p6');
    const since = (await sync(srv, b)).next_batch;
    const waiting = timed(sync(srv, b, { since, timeout: 20000 }));
    await sleep(200);
    await setPresence(a, { presence: 'unavailable', status_msg: 'brb' });
    const { value, ms } = await waiting;
    assert.ok(ms < 10000, `woke after ${ms} ms`);
    const ev = presenceOf(value, a.user_id);
    assert.equal(ev.type, 'm.presence');
    assert.equal(ev.content.presence, 'unavailable');
    assert.equal(ev.content.status_msg, 'brb');
    assert.equal(typeof ev.content.last_active_ago, 'number');
    assert.equal(ev.content.currently_active, false);
  });

  test('strangers do not get each other\'s presence in sync', async () => {
    const a = await register(srv, 'p7a');
    const b = await register(srv, 'p7b');
    await setPresence(a, { presence: 'online' });
    const res = await sync(srv, b);
    assert.equal(presenceOf(res, a.user_id), undefined);
  });

  test('syncing marks one online, unless set_presence says otherwise', async () => {
    const { a, b } = await pair('p8');
    await sync(srv, a);
    assert.equal((await getPresence(b, a.user_id)).json.presence, 'online');
    await sync(srv, b, { set_presence: 'offline' });
    assert.equal((await getPresence(a, b.user_id)).json.presence, 'offline');
    await sync(srv, b, { set_presence: 'unavailable' });
    assert.equal((await getPresence(a, b.user_id)).json.presence, 'unavailable');
  });

  test('one\'s own presence comes in one\'s own sync', async () => {
    const u = await register(srv, 'p9');
    const res = await sync(srv, u);
    const ev = presenceOf(res, u.user_id);
    assert.equal(ev.content.presence, 'online');
    assert.equal(ev.content.currently_active, true);
  });

  test('an unchanged presence does not wake syncs', async () => {
    const { a, b } = await pair('p10');
    await setPresence(a, { presence: 'online', status_msg: 'same' });
    const since = (await sync(srv, b)).next_batch;
    await setPresence(a, { presence: 'online', status_msg: 'same' });
    const res = await sync(srv, b, { since, timeout: 500 });
    assert.equal(presenceOf(res, a.user_id), undefined);
  });

  test('a bad set_presence is refused', async () => {
    const u = await register(srv, 'p11');
    const res = await srv.fetch(`${V3}/sync?set_presence=busy`, { token: u.token });
    assertError(res, 400, 'M_INVALID_PARAM');
  });
});

describe('presence of clients that fall silent (--presence-offline-ms 1500)', () => {
  const OFFLINE_MS = 1500;
  let quick;
  before(async () => { quick = await startServer({ args: ['--no-rate-limit', '--presence-offline-ms', `${OFFLINE_MS}`] }); });
  after(async () => { await quick.stop(); });

  async function quickPair(name) {
    const a = await register(quick, `${name}a`);
    const b = await register(quick, `${name}b`);
    const room = await createRoom(quick, a, { preset: 'public_chat' });
    await join(quick, b, room);
    return { a, b };
  }
  const presenceNow = async (viewer, userId) =>
    (await quick.fetch(status(userId), { token: viewer.token })).json;

  test('a user none of whose clients syncs is shown offline, and those sharing a room hear of it', async () => {
    const { a, b } = await quickPair('silent');
    await sync(quick, a); // a is online
    const since = (await sync(quick, b)).next_batch;
    assert.equal((await presenceNow(b, a.user_id)).presence, 'online');
    await sleep(OFFLINE_MS + 500); // a's client is gone
    const res = await sync(quick, b, { since, timeout: 5000 });
    assert.equal(presenceOf(res, a.user_id)?.content.presence, 'offline');
    const now = await presenceNow(b, a.user_id);
    assert.equal(now.presence, 'offline');
    assert.ok(now.last_active_ago >= OFFLINE_MS, `last_active_ago ${now.last_active_ago}`);
    assert.equal(now.currently_active, false);
  });

  test('a client that keeps syncing stays online', async () => {
    const { a, b } = await quickPair('steady');
    for (const end = Date.now() + 2 * OFFLINE_MS; Date.now() < end;) {
      await sync(quick, a);
      await sleep(OFFLINE_MS / 5);
    }
    assert.equal((await presenceNow(b, a.user_id)).presence, 'online');
  });

  test('a silent user who syncs again is online again, and others hear of that too', async () => {
    const { a, b } = await quickPair('back');
    await sync(quick, a);
    await sleep(OFFLINE_MS + 500);
    assert.equal((await presenceNow(b, a.user_id)).presence, 'offline');
    const since = (await sync(quick, b)).next_batch;
    await sync(quick, a);
    const res = await sync(quick, b, { since, timeout: 5000 });
    assert.equal(presenceOf(res, a.user_id)?.content.presence, 'online');
  });
});
