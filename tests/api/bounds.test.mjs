// bounds.test.mjs -- issue 9: every size a client controls is bounded where
// it enters, and the CPU one request may spend matching client-chosen
// patterns against client-chosen text is bounded whatever is stored.
// Each test here failed on the server before these bounds.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { SANITIZED, startServer } from './lib/server.mjs';
import {
  V3, assertError, createRoom, history, join, messages, putState, register, send, sendMessage, seg, sync,
  txnId,
} from './lib/matrix.mjs';

const SLOW = SANITIZED ? 4 : 1;
const post = (srv, who, path, body) => srv.fetch(path, { method: 'POST', body, token: who?.token });
const put = (srv, who, path, body) => srv.fetch(path, { method: 'PUT', body, token: who?.token });

describe('sizes a client controls', () => {
  let srv;
  let alice;
  let bob;
  let roomId;
  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit'] });
    alice = await register(srv, 'alice');
    bob = await register(srv, 'bob');
    roomId = await createRoom(srv, alice, { preset: 'public_chat' });
    await join(srv, bob, roomId);
  });
  after(() => srv.stop());

  test('an event type or state key over 255 bytes is 413 M_TOO_LARGE on every path, and not stored', async () => {
    const long = 'a'.repeat(256);
    assertError(await send(srv, alice, roomId, long, { x: 1 }), 413, 'M_TOO_LARGE');
    assertError(await putState(srv, alice, roomId, long, undefined, { x: 1 }), 413, 'M_TOO_LARGE');
    assertError(await putState(srv, alice, roomId, 'org.example.s', long, { x: 1 }), 413, 'M_TOO_LARGE');
    for (const entry of [{ type: long, content: {} }, { type: 'org.example.s', state_key: long, content: {} }]) {
      const res = await post(srv, alice, `${V3}/createRoom`, { initial_state: [entry] });
      assertError(res, 413, 'M_TOO_LARGE');
    }
    const rooms = await srv.fetch(`${V3}/joined_rooms`, { token: alice.token });
    assert.deepEqual(rooms.json.joined_rooms, [roomId], 'the refused createRooms made no room');
    const events = await history(srv, alice, roomId);
    assert.ok(!events.some((e) => e.type.length > 255 || (e.state_key ?? '').length > 255));
    // 255 bytes are fine.
    assert.equal((await send(srv, alice, roomId, 'b'.repeat(255), { x: 1 })).status, 200);
    assert.equal((await putState(srv, alice, roomId, 'org.example.s', 'c'.repeat(255), { x: 1 })).status, 200);
  });

  test('a member event carries a display name of at most 256 bytes and an avatar URL of 1000', async () => {
    const me = (content) => putState(srv, bob, roomId, 'm.room.member', bob.user_id, { membership: 'join', ...content });
    assertError(await me({ displayname: 'n'.repeat(257) }), 400, 'M_INVALID_PARAM');
    assertError(await me({ avatar_url: `mxc://x/${'a'.repeat(1000)}` }), 400, 'M_INVALID_PARAM');
    assert.equal((await me({ displayname: 'n'.repeat(256) })).status, 200);
  });

  test('device display names are at most 100 characters and device ids 255 bytes', async () => {
    const devices = `${V3}/devices/${seg(alice.device_id)}`;
    assertError(await put(srv, alice, devices, { display_name: 'd'.repeat(101) }), 400, 'M_INVALID_PARAM');
    // Characters, not bytes: 100 of two bytes each are fine.
    assert.equal((await put(srv, alice, devices, { display_name: 'é'.repeat(100) })).status, 200);
    const login = (extra) => post(srv, null, `${V3}/login`, {
      type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: alice.password, ...extra,
    });
    assertError(await login({ device_id: 'D'.repeat(256) }), 400, 'M_INVALID_PARAM');
    assertError(await login({ initial_device_display_name: 'x'.repeat(101) }), 400, 'M_INVALID_PARAM');
    assertError(await post(srv, null, `${V3}/register`, {
      username: 'carol', password: 'pw-carol', auth: { type: 'm.login.dummy' }, device_id: 'D'.repeat(256),
    }), 400, 'M_INVALID_PARAM');
    const list = await srv.fetch(`${V3}/devices`, { token: alice.token });
    assert.ok(list.json.devices.every((d) => d.device_id.length <= 255 && (d.display_name ?? '').length <= 100));
  });

  test('a password longer than any account may have fails to log in, like a wrong one', async () => {
    const res = await post(srv, null, `${V3}/login`, {
      type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'p'.repeat(1025),
    });
    assertError(res, 403, 'M_FORBIDDEN');
  });

  test('push rules: patterns and condition keys at most 255 bytes, conditions and actions 1 KiB', async () => {
    const rule = (kind, id, body) => put(srv, alice, `${V3}/pushrules/global/${kind}/${id}`, body);
    const match = (pattern, key = 'content.body') => ({
      conditions: [{ kind: 'event_match', key, pattern }], actions: ['notify'],
    });
    // The attack: ten 10,000-character patterns.
    for (let i = 0; i < 10; i++) assertError(await rule('override', `big${i}`, match('*a'.repeat(5000))), 400, 'M_INVALID_PARAM');
    assertError(await rule('underride', 'big', match('x'.repeat(256))), 400, 'M_INVALID_PARAM');
    assertError(await rule('override', 'key', match('x', 'k'.repeat(256))), 400, 'M_INVALID_PARAM');
    assertError(await rule('content', 'big', { pattern: 'x'.repeat(256), actions: ['notify'] }), 400, 'M_BAD_JSON');
    assertError(await rule('override', 'cond', { conditions: [{ kind: 'org.example', blob: 'x'.repeat(1100) }], actions: [] }),
      400, 'M_INVALID_PARAM');
    assertError(await rule('override', 'act', { actions: [{ set_tweak: 'sound', value: 'x'.repeat(1100) }] }),
      400, 'M_INVALID_PARAM');
    assert.equal((await rule('override', 'ok', match('x'.repeat(255)))).status, 200);
    const rules = await srv.fetch(`${V3}/pushrules/`, { token: alice.token });
    assert.deepEqual(rules.json.global.override.filter((r) => !r.default).map((r) => r.rule_id), ['ok']);
  });

  test('a pusher\'s data is at most 2 KiB', async () => {
    const pusher = (data) => post(srv, alice, `${V3}/pushers/set`, {
      pushkey: 'k', kind: 'http', app_id: 'a', app_display_name: 'A', device_display_name: 'D', lang: 'en',
      data: { url: 'https://push.example/_matrix/push/v1/notify', ...data },
    });
    assertError(await pusher({ extra: 'x'.repeat(2100) }), 400, 'M_INVALID_PARAM');
    assert.equal((await pusher({})).status, 200);
  });

  test('filter entries are at most 255 bytes', async () => {
    const res = await post(srv, alice, `${V3}/user/${seg(alice.user_id)}/filter`, { room: { timeline: { types: ['t'.repeat(256)] } } });
    assertError(res, 400, 'M_BAD_JSON');
  });

  test('a tag holds at most 1 KiB, so m.tag cannot grow to 100 x 1 MiB', async () => {
    const tag = (name, body) => put(srv, alice, `${V3}/user/${seg(alice.user_id)}/rooms/${seg(roomId)}/tags/${name}`, body);
    assertError(await tag('u.big', { order: 0.5, note: 'x'.repeat(1100) }), 413, 'M_TOO_LARGE');
    assertError(await tag('t'.repeat(256), { order: 0.5 }), 400, 'M_INVALID_PARAM');
    assert.equal((await tag('u.small', { order: 0.5 })).status, 200);
    const tags = await srv.fetch(`${V3}/user/${seg(alice.user_id)}/rooms/${seg(roomId)}/tags`, { token: alice.token });
    assert.deepEqual(Object.keys(tags.json.tags), ['u.small']);
  });

  test('one user keeps at most 8 MiB of account data', async () => {
    const carol = await register(srv, 'carol');
    const data = (type) => put(srv, carol, `${V3}/user/${seg(carol.user_id)}/account_data/${type}`, { v: 'x'.repeat(1000 * 1000) });
    for (let i = 0; i < 8; i++) assert.equal((await data(`org.example.t${i}`)).status, 200);
    assertError(await data('org.example.more'), 413, 'M_TOO_LARGE');
    // Replacing an entry is judged by what it replaces.
    assert.equal((await data('org.example.t0')).status, 200);
    const got = await srv.fetch(`${V3}/user/${seg(carol.user_id)}/account_data/org.example.more`, { token: carol.token });
    assertError(got, 404, 'M_NOT_FOUND');
  });

  test('a one-time key given as a bare string is kept and handed out, not silently dropped', async () => {
    const up = await post(srv, alice, `${V3}/keys/upload`, { one_time_keys: { 'curve25519:AAAA': 'plain-key' } });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.json.one_time_key_counts.curve25519, 1);
    const claim = await post(srv, bob, `${V3}/keys/claim`,
      { one_time_keys: { [alice.user_id]: { [alice.device_id]: 'curve25519' } } });
    assert.deepEqual(claim.json.one_time_keys, { [alice.user_id]: { [alice.device_id]: { 'curve25519:AAAA': 'plain-key' } } });
  });

  test('a device holds at most 10,000 one-time keys and 20 fallback keys', async () => {
    const dave = await register(srv, 'dave');
    const upload = (from) => post(srv, dave, `${V3}/keys/upload`, {
      one_time_keys: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`signed_curve25519:${from + i}`, { key: `k${from + i}` }])),
    });
    for (let n = 0; n < 10; n++) assert.equal((await upload(n * 1000)).status, 200);
    assertError(await upload(10000), 400, 'M_INVALID_PARAM');
    const fallback = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`alg${i}:K`, { key: 'f' }]));
    assertError(await post(srv, dave, `${V3}/keys/upload`, { fallback_keys: fallback }), 400, 'M_INVALID_PARAM');
    const counts = await post(srv, dave, `${V3}/keys/upload`, {});
    assert.equal(counts.json.one_time_key_counts.signed_curve25519, 10000, 'the refused upload stored nothing');
  });

  test('a to-device message is at most 64 KiB', async () => {
    const res = await put(srv, alice, `${V3}/sendToDevice/org.example/${txnId()}`,
      { messages: { [bob.user_id]: { '*': { blob: 'x'.repeat(70000) } } } });
    assertError(res, 413, 'M_TOO_LARGE');
  });

  test('at most 1000 devices are deleted at once', async () => {
    const res = await post(srv, alice, `${V3}/delete_devices`, { devices: Array.from({ length: 1001 }, (_, i) => `d${i}`) });
    assertError(res, 400, 'M_INVALID_PARAM');
  });

  test('key backups: auth_data and each backed-up key at most 16 KiB', async () => {
    const version = (auth_data) => post(srv, alice, `${V3}/room_keys/version`, { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data });
    assertError(await version({ public_key: 'x'.repeat(17000) }), 400, 'M_INVALID_PARAM');
    const ok = await version({ public_key: 'pk' });
    assert.equal(ok.status, 200, ok.text);
    const key = (size) => ({ first_message_index: 0, forwarded_count: 0, is_verified: false, session_data: { ciphertext: 'c'.repeat(size) } });
    const path = `${V3}/room_keys/keys/${seg(roomId)}/sess?version=${ok.json.version}`;
    assertError(await put(srv, alice, path, key(17000)), 400, 'M_BAD_JSON');
    assert.equal((await put(srv, alice, path, key(500))).status, 200);
  });
});

describe('matching client patterns against client text costs bounded time', () => {
  let srv;
  let alice;
  let bob;
  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit'] });
    alice = await register(srv, 'alice');
    bob = await register(srv, 'bob');
  });
  after(() => srv.stop());

  test('costly push rules against 60 KB messages: the sync answers promptly, nobody waits', async () => {
    const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
    await join(srv, bob, roomId);
    // 50 rules whose patterns pass every cheap check: each costs its
    // 255 x 60,000 NFA steps per message.
    const pattern = `a*${'?'.repeat(252)}b`;
    await Promise.all(Array.from({ length: 50 }, (_, i) => put(srv, alice, `${V3}/pushrules/global/override/slow${i}`, {
      conditions: [{ kind: 'event_match', key: 'content.body', pattern }], actions: ['notify'],
    }).then((r) => assert.equal(r.status, 200, r.text))));
    for (let i = 0; i < 10; i++) await sendMessage(srv, bob, roomId, 'a'.repeat(60000));
    const started = Date.now();
    const s = await sync(srv, alice);
    const took = Date.now() - started;
    assert.ok(s.rooms.join[roomId], 'the room is in the sync');
    // Before the budget this was 50 x 10 x 15M steps: over ten seconds of the one thread.
    assert.ok(took < 5000 * SLOW, `the sync took ${took} ms`);
    // Someone else is answered at once meanwhile.
    const whoami = await srv.fetch(`${V3}/account/whoami`, { token: bob.token });
    assert.equal(whoami.status, 200);
  });

  test('a filter of 200 long globs against 400 long event types: a page comes at once, with a token to go on', async () => {
    const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
    const type = 'a'.repeat(255);
    for (let i = 0; i < 400; i += 20)
      await Promise.all(Array.from({ length: 20 }, () => send(srv, alice, roomId, type, { x: 1 }).then((r) => assert.equal(r.status, 200))));
    // Each glob almost matches everywhere: a matcher that retries its
    // literal at every place compares 250 bytes at each of 255.
    const filter = await post(srv, alice, `${V3}/user/${seg(alice.user_id)}/filter`,
      { types: Array.from({ length: 200 }, (_, i) => `*${'a'.repeat(250)}b${i}`) });
    assert.equal(filter.status, 200, filter.text);
    const started = Date.now();
    const page = await messages(srv, alice, roomId, { dir: 'b', limit: 1000, filter: filter.json.filter_id });
    const took = Date.now() - started;
    assert.equal(page.status, 200, page.text);
    assert.deepEqual(page.json.chunk, []);
    assert.ok(took < 5000 * SLOW, `the page took ${took} ms`);
  });
});
