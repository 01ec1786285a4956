// deactivate.test.mjs -- POST /account/deactivate: user-interactive auth,
// what the account loses (sessions, devices, keys, rooms, and with erase its
// profile and account data), and what stays (its name, its past messages).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { deviceKeys } from './lib/e2ee.mjs';
import { startServer } from './lib/server.mjs';
import {
  V3, assertError, createRoom, deactivate, history, invite, join, login, register, sendMessage, seg, sqlite,
  sync,
} from './lib/matrix.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

const post = (path, body, token) => srv.fetch(`${V3}${path}`, { method: 'POST', body, token });
const get = (path, token) => srv.fetch(`${V3}${path}`, { token });
const whoami = (who) => get('/account/whoami', who.token);
const passwordAuth = (who, session, password = who.password) => ({
  type: 'm.login.password', session, password, identifier: { type: 'm.id.user', user: who.user_id },
});

// ---- user-interactive auth --------------------------------------------------

test('deactivate without auth answers 401 with the m.login.password flow and changes nothing', async () => {
  const u = await register(srv, 'uiafirst');
  const res = await post('/account/deactivate', {}, u.token);
  assert.equal(res.status, 401);
  assert.deepEqual(res.json.flows, [{ stages: ['m.login.password'] }]);
  assert.equal(typeof res.json.session, 'string');
  assert.equal(res.json.errcode, undefined, 'the first answer is a challenge, not an error');
  assert.equal((await whoami(u)).status, 200);
  await login(srv, 'uiafirst', u.password);
});

test('deactivate with a wrong password is 401 M_FORBIDDEN and the account stays', async () => {
  const u = await register(srv, 'wrongpw');
  const first = await post('/account/deactivate', {}, u.token);
  const res = await post('/account/deactivate', { auth: passwordAuth(u, first.json.session, 'not-it') }, u.token);
  assert.equal(res.status, 401);
  assert.equal(res.json.errcode, 'M_FORBIDDEN');
  assert.deepEqual(res.json.flows, [{ stages: ['m.login.password'] }]);
  assert.equal((await whoami(u)).status, 200);
  await login(srv, 'wrongpw', u.password);
});

test('deactivate with another user\'s password is refused', async () => {
  const u = await register(srv, 'victim');
  const other = await register(srv, 'intruder');
  const first = await post('/account/deactivate', {}, u.token);
  const auth = { ...passwordAuth(other, first.json.session), identifier: { type: 'm.id.user', user: other.user_id } };
  const res = await post('/account/deactivate', { auth }, u.token);
  assert.equal(res.status, 401);
  assert.equal(res.json.errcode, 'M_FORBIDDEN');
  assert.equal((await whoami(u)).status, 200);
});

test('deactivate without an access token is 401 M_MISSING_TOKEN', async () => {
  assertError(await post('/account/deactivate', {}), 401, 'M_MISSING_TOKEN');
});

test('erase that is not a boolean is 400 M_BAD_JSON and the account stays', async () => {
  const u = await register(srv, 'badtype');
  const first = await post('/account/deactivate', {}, u.token);
  for (const body of [{ erase: 'yes' }, { erase: 1 }, { erase: null }, { id_server: 5 }]) {
    const res = await post('/account/deactivate', { ...body, auth: passwordAuth(u, first.json.session) }, u.token);
    assertError(res, 400, 'M_BAD_JSON');
  }
  assertError(await post('/account/deactivate', '[]', u.token), 400, 'M_BAD_JSON');
  assert.equal((await whoami(u)).status, 200);
  await login(srv, 'badtype', u.password);
});

// ---- what the account loses ------------------------------------------------

test('deactivate answers id_server_unbind_result success, and the id_server given is ignored', async () => {
  const u = await register(srv, 'unbind');
  const json = await deactivate(srv, u, { id_server: 'id.example.org' });
  assert.deepEqual(json, { id_server_unbind_result: 'success' });
});

test('a deactivated account cannot log in: 403 M_USER_DEACTIVATED', async () => {
  const u = await register(srv, 'gone');
  await deactivate(srv, u);
  const res = await post('/login', {
    type: 'm.login.password', identifier: { type: 'm.id.user', user: 'gone' }, password: u.password,
  });
  assertError(res, 403, 'M_USER_DEACTIVATED');
  // A wrong password does not reveal that the account was deactivated.
  const wrong = await post('/login', {
    type: 'm.login.password', identifier: { type: 'm.id.user', user: 'gone' }, password: 'guess',
  });
  assertError(wrong, 403, 'M_FORBIDDEN');
});

test('every access token of a deactivated account is dead: 401 M_UNKNOWN_TOKEN', async () => {
  const u = await register(srv, 'tokens');
  const second = await login(srv, 'tokens', u.password);
  await deactivate(srv, u);
  assertError(await whoami(u), 401, 'M_UNKNOWN_TOKEN');
  assertError(await whoami(second), 401, 'M_UNKNOWN_TOKEN');
  assertError(await get('/sync', second.token), 401, 'M_UNKNOWN_TOKEN');
  const rows = await sqlite(srv, `SELECT count(*) FROM access_tokens WHERE user_id = '${u.user_id}'
    UNION ALL SELECT count(*) FROM devices WHERE user_id = '${u.user_id}'`);
  assert.deepEqual(rows, ['0', '0'], 'tokens and devices are removed, not only refused');
});

test('a deactivated user name is never available again: M_USER_IN_USE', async () => {
  const u = await register(srv, 'taken');
  await deactivate(srv, u);
  assertError(await get('/register/available?username=taken'), 400, 'M_USER_IN_USE');
  const res = await post('/register', { username: 'taken', password: 'new-owner', auth: { type: 'm.login.dummy' } });
  assertError(res, 400, 'M_USER_IN_USE');
});

test('deactivation removes the devices and their keys from other users\' key queries', async () => {
  const u = await register(srv, 'keyed');
  const watcher = await register(srv, 'keywatch');
  const up = await post('/keys/upload', { device_keys: deviceKeys(u).json }, u.token);
  assert.equal(up.status, 200, up.text);
  const before_ = await post('/keys/query', { device_keys: { [u.user_id]: [] } }, watcher.token);
  assert.deepEqual(Object.keys(before_.json.device_keys[u.user_id]), [u.device_id]);
  await deactivate(srv, u);
  const after_ = await post('/keys/query', { device_keys: { [u.user_id]: [] } }, watcher.token);
  assert.equal(after_.status, 200, after_.text);
  assert.deepEqual(after_.json.device_keys[u.user_id] ?? {}, {});
});

test('deactivation leaves every joined room and rejects every invite; members see it in /sync', async () => {
  const alice = await register(srv, 'alice');
  const bob = await register(srv, 'bob');
  const joined = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, joined);
  const invited = await createRoom(srv, alice, { preset: 'private_chat' });
  await invite(srv, alice, invited, bob.user_id);
  const since = (await sync(srv, alice)).next_batch;

  await deactivate(srv, bob);

  const next = await sync(srv, alice, { since, timeout: 0 });
  for (const roomId of [joined, invited]) {
    const events = next.rooms?.join?.[roomId]?.timeline?.events ?? [];
    const leave = events.find((e) => e.type === 'm.room.member' && e.state_key === bob.user_id);
    assert.ok(leave, `alice sees bob's membership change in ${roomId}: ${JSON.stringify(next.rooms)}`);
    assert.equal(leave.content.membership, 'leave');
    assert.equal(leave.sender, bob.user_id, 'bob left himself, as /leave would');
  }
  const members = await get(`/rooms/${seg(joined)}/joined_members`, alice.token);
  assert.deepEqual(Object.keys(members.json.joined), [alice.user_id]);
  const state = await get(`/rooms/${seg(invited)}/state/m.room.member/${seg(bob.user_id)}`, alice.token);
  assert.equal(state.json.membership, 'leave', 'the invite was rejected');
});

test('other users can still read the deactivated user\'s past messages', async () => {
  const alice = await register(srv, 'reader');
  const bob = await register(srv, 'writer');
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  const eventId = await sendMessage(srv, bob, roomId, 'words that outlive the account');
  await deactivate(srv, bob, { erase: true });
  const events = await history(srv, alice, roomId);
  const msg = events.find((e) => e.event_id === eventId);
  assert.ok(msg, 'the message is still in the room');
  assert.equal(msg.content.body, 'words that outlive the account');
  assert.equal(msg.sender, bob.user_id);
});

test('erase true clears the display name, the avatar and the account data', async () => {
  const u = await register(srv, 'eraseme');
  const avatar = await srv.fetch(`${V3}/profile/${seg(u.user_id)}/avatar_url`, {
    method: 'PUT', body: { avatar_url: 'mxc://localhost/face' }, token: u.token,
  });
  assert.equal(avatar.status, 200, avatar.text);
  const data = await srv.fetch(`${V3}/user/${seg(u.user_id)}/account_data/org.example.secret`, {
    method: 'PUT', body: { v: 1 }, token: u.token,
  });
  assert.equal(data.status, 200, data.text);
  await deactivate(srv, u, { erase: true });
  const rows = await sqlite(srv, `SELECT coalesce(displayname, '-') || ' ' || coalesce(avatar_url, '-') || ' ' || deactivated
    FROM users WHERE user_id = '${u.user_id}'`);
  assert.deepEqual(rows, ['- - 1']);
  assert.deepEqual(await sqlite(srv, `SELECT count(*) FROM account_data WHERE user_id = '${u.user_id}'`), ['0']);
  // The profile API no longer shows the user at all.
  assertError(await get(`/profile/${seg(u.user_id)}`), 404, 'M_NOT_FOUND');
});

test('without erase the profile and account data are kept (only hidden)', async () => {
  const u = await register(srv, 'keepme');
  const data = await srv.fetch(`${V3}/user/${seg(u.user_id)}/account_data/org.example.kept`, {
    method: 'PUT', body: { v: 1 }, token: u.token,
  });
  assert.equal(data.status, 200, data.text);
  await deactivate(srv, u, { erase: false });
  const rows = await sqlite(srv, `SELECT displayname || ' ' || deactivated FROM users WHERE user_id = '${u.user_id}'`);
  assert.deepEqual(rows, ['keepme 1']);
  assert.deepEqual(await sqlite(srv, `SELECT count(*) FROM account_data WHERE user_id = '${u.user_id}'`), ['1']);
  assertError(await get(`/profile/${seg(u.user_id)}`), 404, 'M_NOT_FOUND');
});
