// account_data.test.mjs -- global and per-room account data, room tags, and
// their delivery through /sync.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, assertError, createRoom, register, seg, sync } from './lib/matrix.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

const globalPath = (who, type, userId = who.user_id) => `${V3}/user/${seg(userId)}/account_data/${seg(type)}`;
const roomPath = (who, roomId, type, userId = who.user_id) =>
  `${V3}/user/${seg(userId)}/rooms/${seg(roomId)}/account_data/${seg(type)}`;
const tagsPath = (who, roomId, tag) =>
  `${V3}/user/${seg(who.user_id)}/rooms/${seg(roomId)}/tags${tag === undefined ? '' : `/${seg(tag)}`}`;
const put = (who, path, body) => srv.fetch(path, { method: 'PUT', body, token: who.token });
const get = (who, path) => srv.fetch(path, { token: who.token });

describe('global account data', () => {
  test('what is put is read back', async () => {
    const u = await register(srv, 'gput');
    assert.equal((await put(u, globalPath(u, 'org.example.settings'), { theme: 'dark', n: 3 })).status, 200);
    const res = await get(u, globalPath(u, 'org.example.settings'));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { theme: 'dark', n: 3 });
  });

  test('a later put replaces the content', async () => {
    const u = await register(srv, 'greplace');
    await put(u, globalPath(u, 'm.direct'), { '@a:localhost': ['!x:localhost'] });
    await put(u, globalPath(u, 'm.direct'), {});
    assert.deepEqual((await get(u, globalPath(u, 'm.direct'))).json, {});
  });

  test('an unknown type is 404', async () => {
    const u = await register(srv, 'gmissing');
    assertError(await get(u, globalPath(u, 'org.example.none')), 404, 'M_NOT_FOUND');
  });

  test('nobody reads or writes another user\'s account data', async () => {
    const a = await register(srv, 'gowner');
    const b = await register(srv, 'gsnoop');
    await put(a, globalPath(a, 'org.example.secret'), { s: 1 });
    assertError(await get(b, globalPath(b, 'org.example.secret', a.user_id)), 403, 'M_FORBIDDEN');
    assertError(await put(b, globalPath(b, 'org.example.secret', a.user_id), { s: 2 }), 403, 'M_FORBIDDEN');
    assert.deepEqual((await get(a, globalPath(a, 'org.example.secret'))).json, { s: 1 });
  });

  test('server-managed types cannot be set (405 M_BAD_JSON) but can be read', async () => {
    const u = await register(srv, 'gmanaged');
    const pushRules = await put(u, globalPath(u, 'm.push_rules'), { global: {} });
    assertError(pushRules, 405, 'M_BAD_JSON');
    assert.equal(pushRules.headers.allow, 'GET, HEAD, OPTIONS');
    assertError(await put(u, globalPath(u, 'm.fully_read'), { event_id: '$x' }), 405, 'M_BAD_JSON');
    const rules = await get(u, globalPath(u, 'm.push_rules'));
    assert.equal(rules.status, 200);
    assert.ok(Array.isArray(rules.json.global.override));
  });

  test('content must be a JSON object', async () => {
    const u = await register(srv, 'gbadbody');
    assertError(await put(u, globalPath(u, 'org.example.x'), '[1,2]'), 400, 'M_BAD_JSON');
    assertError(await put(u, globalPath(u, 'org.example.x'), 'nope'), 400, 'M_NOT_JSON');
  });

  test('account data arrives in sync, first in full, then only changes', async () => {
    const u = await register(srv, 'gsync');
    await put(u, globalPath(u, 'org.example.a'), { v: 1 });
    const first = await sync(srv, u);
    const types = first.account_data.events.map((e) => e.type);
    assert.ok(types.includes('org.example.a'));
    assert.ok(types.includes('m.push_rules'), 'push rules come with the initial sync');
    const waiting = sync(srv, u, { since: first.next_batch, timeout: 10000 });
    await new Promise((r) => setTimeout(r, 200));
    await put(u, globalPath(u, 'org.example.b'), { v: 2 });
    const next = await waiting;
    assert.deepEqual(next.account_data.events, [{ type: 'org.example.b', content: { v: 2 } }]);
  });

  test('the account_data filter limits the types synced', async () => {
    const u = await register(srv, 'gfilter');
    await put(u, globalPath(u, 'org.example.keep'), { k: 1 });
    await put(u, globalPath(u, 'org.example.drop'), { d: 1 });
    const res = await sync(srv, u, { filter: { account_data: { types: ['org.example.keep'] } } });
    assert.deepEqual(res.account_data.events.map((e) => e.type), ['org.example.keep']);
  });
});

describe('room account data', () => {
  test('per-room data is kept apart from global data', async () => {
    const u = await register(srv, 'rput');
    const room = await createRoom(srv, u);
    await put(u, roomPath(u, room, 'org.example.pref'), { room: true });
    assert.deepEqual((await get(u, roomPath(u, room, 'org.example.pref'))).json, { room: true });
    assertError(await get(u, globalPath(u, 'org.example.pref')), 404, 'M_NOT_FOUND');
  });

  test('a malformed room id is refused', async () => {
    const u = await register(srv, 'rbadroom');
    assertError(await put(u, roomPath(u, 'not-a-room', 'org.example.x'), {}), 400, 'M_INVALID_PARAM');
    assertError(await get(u, roomPath(u, 'not-a-room', 'org.example.x')), 400, 'M_INVALID_PARAM');
  });

  test('m.fully_read cannot be set as room account data', async () => {
    const u = await register(srv, 'rfully');
    const room = await createRoom(srv, u);
    assertError(await put(u, roomPath(u, room, 'm.fully_read'), { event_id: '$x' }), 405, 'M_BAD_JSON');
  });

  test('another user\'s room data is forbidden', async () => {
    const a = await register(srv, 'rowner');
    const b = await register(srv, 'rsnoop');
    const room = await createRoom(srv, a);
    assertError(await get(b, roomPath(b, room, 'org.example.x', a.user_id)), 403, 'M_FORBIDDEN');
  });

  test('room account data arrives in the room\'s sync entry, even with nothing else new', async () => {
    const u = await register(srv, 'rsync');
    const room = await createRoom(srv, u);
    const first = await sync(srv, u);
    await put(u, roomPath(u, room, 'org.example.note'), { text: 'hi' });
    const next = await sync(srv, u, { since: first.next_batch, timeout: 5000 });
    const entry = next.rooms.join[room];
    assert.deepEqual(entry.account_data.events, [{ type: 'org.example.note', content: { text: 'hi' } }]);
    assert.deepEqual(entry.timeline.events, []);
  });
});

describe('room tags', () => {
  test('tags are added, listed with their order, and removed', async () => {
    const u = await register(srv, 'tagger');
    const room = await createRoom(srv, u);
    assert.deepEqual((await get(u, tagsPath(u, room))).json, { tags: {} });
    assert.equal((await put(u, tagsPath(u, room, 'm.favourite'), { order: 0.25 })).status, 200);
    assert.equal((await put(u, tagsPath(u, room, 'u.work'), {})).status, 200);
    assert.deepEqual((await get(u, tagsPath(u, room))).json, { tags: { 'm.favourite': { order: 0.25 }, 'u.work': {} } });
    const del = await srv.fetch(tagsPath(u, room, 'u.work'), { method: 'DELETE', token: u.token });
    assert.equal(del.status, 200);
    assert.deepEqual((await get(u, tagsPath(u, room))).json, { tags: { 'm.favourite': { order: 0.25 } } });
  });

  test('tags reach sync as m.tag room account data', async () => {
    const u = await register(srv, 'tagsync');
    const room = await createRoom(srv, u);
    const first = await sync(srv, u);
    await put(u, tagsPath(u, room, 'm.lowpriority'), {});
    const next = await sync(srv, u, { since: first.next_batch, timeout: 5000 });
    assert.deepEqual(next.rooms.join[room].account_data.events,
      [{ type: 'm.tag', content: { tags: { 'm.lowpriority': {} } } }]);
  });

  test('a tag\'s order must be a number, and its name at most 255 bytes', async () => {
    const u = await register(srv, 'tagbad');
    const room = await createRoom(srv, u);
    assertError(await put(u, tagsPath(u, room, 'm.favourite'), { order: 'first' }), 400, 'M_BAD_JSON');
    assertError(await put(u, tagsPath(u, room, 'x'.repeat(256)), {}), 400, 'M_INVALID_PARAM');
  });

  test('a room has at most 100 tags', async () => {
    const u = await register(srv, 'tagmany');
    const room = await createRoom(srv, u);
    for (let i = 0; i < 100; i++) assert.equal((await put(u, tagsPath(u, room, `u.t${i}`), {})).status, 200);
    assertError(await put(u, tagsPath(u, room, 'u.onemore'), {}), 400, 'M_INVALID_PARAM');
    assert.equal((await put(u, tagsPath(u, room, 'u.t5'), { order: 0.5 })).status, 200, 'changing one is fine');
  });

  test('another user\'s tags are forbidden', async () => {
    const a = await register(srv, 'tagowner');
    const b = await register(srv, 'tagsnoop');
    const room = await createRoom(srv, a);
    const path = `${V3}/user/${seg(a.user_id)}/rooms/${seg(room)}/tags`;
    assertError(await srv.fetch(path, { token: b.token }), 403, 'M_FORBIDDEN');
    assertError(await srv.fetch(`${path}/m.favourite`, { method: 'PUT', body: {}, token: b.token }), 403, 'M_FORBIDDEN');
  });
});
