// bad_input.test.mjs -- refused requests change nothing.
//
// Sends a sweep of malformed, mistyped, out-of-range and unauthorized
// requests (each one a 4xx with a Matrix errcode), then checks that no table
// of the database gained or lost a row and that /sync reports nothing new.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import {
  V3, createRoom, join, messages, register, seg, sendMessage, sqlite, sync,
} from './lib/matrix.mjs';

let srv;
let alice, bob;
let publicRoom, privateRoom, aliceMessage, aliceFilter;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
  alice = await register(srv, 'alice', { device_id: 'ALICEDEV' });
  bob = await register(srv, 'bob');
  publicRoom = await createRoom(srv, alice, { preset: 'public_chat', room_alias_name: 'pub' });
  privateRoom = await createRoom(srv, alice, { preset: 'private_chat' });
  await join(srv, bob, publicRoom);
  aliceMessage = await sendMessage(srv, alice, publicRoom, 'hello');
  const f = await srv.fetch(`${V3}/user/${seg(alice.user_id)}/filter`, { method: 'POST', body: {}, token: alice.token });
  aliceFilter = f.json.filter_id;
});
after(async () => { await srv.stop(); });

// Every table whose rows a client can change. UIA challenges (uia_sessions)
// are answers, not errors, and are meant to be stored.
const TABLES = ['users', 'devices', 'access_tokens', 'rooms', 'room_aliases', 'events', 'room_state',
  'memberships', 'txn_keys', 'filters', 'stream',
  // client-rest
  'presence', 'typing', 'typing_changes', 'receipts', 'account_data', 'push_rules', 'push_rule_defaults',
  'pushers', 'event_reports'];

async function snapshot() {
  const out = {};
  for (const t of TABLES) out[t] = (await sqlite(srv, `SELECT * FROM ${t} ORDER BY 1`)).join('\n');
  return out;
}

function requests() {
  const r = (room) => `${V3}/rooms/${seg(room)}`;
  const A = alice.token;
  const B = bob.token;
  const put = (path, body, token) => ({ method: 'PUT', path, body, token });
  const post = (path, body, token) => ({ method: 'POST', path, body, token });
  const get = (path, token) => ({ method: 'GET', path, token });
  const del = (path, body, token) => ({ method: 'DELETE', path, body, token });
  return [
    // Events: wrong JSON, wrong room ids, empty type.
    put(`${r(publicRoom)}/send/m.room.message/t1`, '[]', A),
    put(`${r(publicRoom)}/send/m.room.message/t2`, '"text"', A),
    put(`${r(publicRoom)}/send/m.room.message/t3`, '{"body":', A),
    put(`${r(publicRoom)}/send/m.room.message/t3b`, '\u00ff\u00fe', A),
    put(`${r(publicRoom)}/send/m.room.message/t4`, { body: 'x'.repeat(70000) }, A),
    put(`${r('!unknown:localhost')}/send/m.room.message/t5`, { body: 'x' }, A),
    put(`${r('not-a-room')}/send/m.room.message/t6`, { body: 'x' }, A),
    put(`${r(publicRoom)}/send/m.room.message/${'x'.repeat(300)}`, { body: 'x' }, A),
    put(`${r(publicRoom)}/state/m.room.topic/`, '[1]', A),
    put(`${r(publicRoom)}/state/m.room.member/not-a-user`, { membership: 'join' }, A),
    put(`${r(publicRoom)}/state/m.room.create/`, { creator: alice.user_id }, A),
    put(`${r(publicRoom)}/state/m.room.power_levels/`, { users: 'everyone' }, A),
    put(`${r(publicRoom)}/redact/not-an-event/t7`, {}, A),
    put(`${r(publicRoom)}/redact/${seg('$unknown')}/t8`, {}, A),
    put(`${r(publicRoom)}/redact/${seg(aliceMessage)}/t9`, { reason: 5 }, A),
    // Membership: bad user ids, unknown rooms and users, wrong types.
    post(`${r(publicRoom)}/invite`, { user_id: 5 }, A),
    post(`${r(publicRoom)}/invite`, { user_id: 'bob' }, A),
    post(`${r(publicRoom)}/invite`, { user_id: '@ghost:localhost' }, A),
    post(`${r(publicRoom)}/kick`, { user_id: '@:x' }, A),
    post(`${r(publicRoom)}/kick`, { user_id: bob.user_id, reason: ['no'] }, A),
    post(`${r(publicRoom)}/ban`, {}, A),
    post(`${r(publicRoom)}/unban`, { user_id: bob.user_id }, A),
    post(`${r('!unknown:localhost')}/join`, {}, A),
    post(`${V3}/join/${seg('#nothing:localhost')}`, {}, B),
    post(`${V3}/join/${seg('#bad')}`, {}, B),
    post(`${V3}/join/garbage`, {}, B),
    post(`${r(publicRoom)}/join`, { reason: 7 }, B),
    post(`${r(publicRoom)}/forget`, {}, A),
    // createRoom with every kind of wrong field.
    post(`${V3}/createRoom`, { name: 1 }, B),
    post(`${V3}/createRoom`, { invite: 'alice' }, B),
    post(`${V3}/createRoom`, { invite: ['@ghost:localhost'] }, B),
    post(`${V3}/createRoom`, { room_version: '1' }, B),
    post(`${V3}/createRoom`, { room_alias_name: 'pub' }, B),
    post(`${V3}/createRoom`, { initial_state: [{ type: 'm.room.member', state_key: alice.user_id, content: { membership: 'join' } }] }, B),
    post(`${V3}/createRoom`, { power_level_content_override: { users: { nobody: 1 } } }, B),
    post(`${V3}/createRoom`, { invite: Array.from({ length: 101 }, () => alice.user_id) }, B),
    post(`${V3}/createRoom`, '{"name": "x",', B),
    // Accounts and devices.
    post(`${V3}/register`, { username: 'UPPER', password: 'pw', auth: { type: 'm.login.dummy' } }),
    post(`${V3}/register`, { username: 'alice', password: 'pw', auth: { type: 'm.login.dummy' } }),
    post(`${V3}/register`, { username: 'newbie', password: 7, auth: { type: 'm.login.dummy' } }),
    post(`${V3}/register`, { username: 'newbie', password: 'x'.repeat(2000), auth: { type: 'm.login.dummy' } }),
    post(`${V3}/register?kind=guest`, {}),
    post(`${V3}/login`, { type: 'm.login.password', user: 'alice', password: 'wrong' }),
    post(`${V3}/login`, { type: 'm.login.password', user: 'alice' }),
    put(`${V3}/devices/ALICEDEV`, { display_name: 5 }, A),
    put(`${V3}/devices/ALICEDEV`, { display_name: 'stolen' }, B),
    del(`${V3}/devices/ALICEDEV`, {}, B),
    post(`${V3}/delete_devices`, { devices: [1, 2] }, A),
    post(`${V3}/account/password`, { new_password: 5 }, A),
    post(`${V3}/account/password`, { new_password: 'x', logout_devices: 'yes' }, A),
    // Filters.
    post(`${V3}/user/${seg(alice.user_id)}/filter`, { room: { timeline: { limit: 'all' } } }, A),
    post(`${V3}/user/${seg(alice.user_id)}/filter`, {}, B),
    get(`${V3}/user/${seg(alice.user_id)}/filter/${aliceFilter}`, B),
    // Profiles, presence, typing, receipts, account data, directory, push rules.
    put(`${V3}/profile/${seg(alice.user_id)}/displayname`, { displayname: 'stolen' }, B),
    put(`${V3}/profile/${seg(alice.user_id)}/displayname`, { displayname: 7 }, A),
    put(`${V3}/profile/${seg(alice.user_id)}/avatar_url`, { avatar_url: 'http://x/y.png' }, A),
    del(`${V3}/profile/${seg(alice.user_id)}/displayname`, {}, B),
    put(`${V3}/presence/${seg(alice.user_id)}/status`, { presence: 'online' }, B),
    put(`${V3}/presence/${seg(alice.user_id)}/status`, { presence: 'asleep' }, A),
    put(`${r(publicRoom)}/typing/${seg(alice.user_id)}`, { typing: true }, B),
    put(`${r(privateRoom)}/typing/${seg(bob.user_id)}`, { typing: true }, B),
    put(`${r(publicRoom)}/typing/${seg(alice.user_id)}`, { typing: 'yes' }, A),
    post(`${r(publicRoom)}/receipt/m.read/${seg('$unknown')}`, {}, A),
    post(`${r(publicRoom)}/receipt/m.seen/${seg(aliceMessage)}`, {}, A),
    post(`${r(privateRoom)}/receipt/m.read/${seg(aliceMessage)}`, {}, B),
    post(`${r(publicRoom)}/receipt/m.read/${seg(aliceMessage)}`, { thread_id: '' }, A),
    post(`${r(publicRoom)}/read_markers`, { 'm.fully_read': aliceMessage, 'm.read': '$unknown' }, B),
    put(`${V3}/user/${seg(alice.user_id)}/account_data/org.example.x`, { x: 1 }, B),
    put(`${V3}/user/${seg(alice.user_id)}/account_data/m.push_rules`, {}, A),
    put(`${V3}/user/${seg(alice.user_id)}/rooms/${seg(publicRoom)}/account_data/m.fully_read`, {}, A),
    put(`${V3}/user/${seg(alice.user_id)}/rooms/${seg(publicRoom)}/tags/m.favourite`, { order: 'x' }, A),
    put(`${V3}/directory/room/${seg('#pub:localhost')}`, { room_id: publicRoom }, A),
    put(`${V3}/directory/room/${seg('#new:localhost')}`, { room_id: privateRoom }, B),
    del(`${V3}/directory/room/${seg('#pub:localhost')}`, {}, B),
    put(`${V3}/directory/list/room/${seg(publicRoom)}`, { visibility: 'public' }, B),
    put(`${r(publicRoom)}/state/m.room.canonical_alias/`, { alias: '#nothing:localhost' }, A),
    put(`${V3}/pushrules/global/override/.m.rule.mine`, { actions: [] }, A),
    put(`${V3}/pushrules/global/override/mine?before=nothing`, { actions: [] }, A),
    put(`${V3}/pushrules/global/override/.m.rule.master/enabled`, { enabled: 'on' }, A),
    del(`${V3}/pushrules/global/override/.m.rule.master`, {}, A),
    post(`${V3}/pushers/set`, { pushkey: 'k', app_id: 'a', kind: 'http', data: {} }, A),
    post(`${r(privateRoom)}/report/${seg(aliceMessage)}`, { reason: 'x' }, B),
    // Another user's token acting on alice's things.
    put(`${r(privateRoom)}/send/m.room.message/b1`, { body: 'intruder' }, B),
    put(`${r(publicRoom)}/state/m.room.name/`, { name: 'bob rules' }, B),
    put(`${r(publicRoom)}/redact/${seg(aliceMessage)}/b2`, {}, B),
    post(`${r(publicRoom)}/kick`, { user_id: alice.user_id }, B),
    post(`${r(publicRoom)}/ban`, { user_id: alice.user_id }, B),
    post(`${r(privateRoom)}/invite`, { user_id: bob.user_id }, B),
    post(`${r(privateRoom)}/leave`, {}, B),
    put(`${r(publicRoom)}/state/m.room.member/${seg(alice.user_id)}`, { membership: 'leave' }, B),
    put(`${r(publicRoom)}/state/org.example.x/${seg(alice.user_id)}`, { x: 1 }, B),
    // Reads with bad parameters (they must not write either).
    get(`${r(publicRoom)}/messages?dir=b&limit=-5`, A),
    get(`${r(publicRoom)}/messages?dir=b&from=xyz`, A),
    get(`${r(publicRoom)}/messages?dir=up`, A),
    get(`${r(publicRoom)}/messages?dir=b&filter=%7B`, A),
    get(`${r(privateRoom)}/messages?dir=b`, B),
    get(`${r(publicRoom)}/context/${seg('$nope')}`, A),
    get(`${r(publicRoom)}/members?at=never`, A),
    get(`${r('!unknown:localhost')}/state`, A),
    get(`${r('bogus')}/state`, A),
    get(`${V3}/sync?since=never`, A),
    get(`${V3}/sync?filter=%7B%22room%22%3A5%7D`, A),
    get(`${V3}/account/whoami`),
    get(`${V3}/account/whoami`, 'forged-token'),
  ];
}

test('refused requests answer 4xx with an errcode and change nothing', async () => {
  // Syncing marks the user online (a write), so the snapshot comes after it.
  const token = (await sync(srv, alice)).next_batch;
  const before = await snapshot();
  for (const req of requests()) {
    const res = await srv.fetch(req.path, { method: req.method, body: req.body, token: req.token });
    const what = `${req.method} ${req.path.slice(0, 120)} ${JSON.stringify(req.body)?.slice(0, 80)}`;
    assert.ok(res.status >= 400 && res.status < 500, `${what} answered ${res.status}: ${res.text.slice(0, 200)}`);
    assert.match(res.json?.errcode ?? '', /^M_[A-Z_]+$/, `${what}: ${res.text.slice(0, 200)}`);
    assert.ok(res.json.error, `${what} has an error sentence`);
  }
  assert.deepEqual(await snapshot(), before);
  const after = await sync(srv, alice, { since: token, timeout: 0 });
  assert.deepEqual(after.rooms.join, {});
  assert.equal(after.next_batch, token, 'the stream did not move');
  // The things that were attacked are intact.
  const name = await srv.fetch(`${V3}/devices/ALICEDEV`, { token: alice.token });
  assert.equal(name.json.display_name, undefined);
  const chunk = (await messages(srv, alice, publicRoom, { dir: 'b', limit: 1 })).json.chunk;
  assert.equal(chunk[0].content.body, 'hello');
});

test('unknown room ids are 404 and malformed ones 400 on every room endpoint', async () => {
  const paths = [
    ['GET', 'state'], ['GET', 'state/m.room.name'], ['GET', 'state/m.room.name/'], ['PUT', 'state/m.room.name'],
    ['PUT', 'send/m.room.message/x1'], ['PUT', `redact/${seg('$e')}/x2`], ['GET', `event/${seg('$e')}`],
    ['GET', 'members'], ['GET', 'joined_members'], ['GET', 'messages?dir=b'], ['GET', `context/${seg('$e')}`],
    ['POST', 'invite'], ['POST', 'kick'], ['POST', 'ban'], ['POST', 'unban'], ['POST', 'join'],
    ['POST', 'leave'], ['POST', 'forget'],
  ];
  for (const [method, tail] of paths) {
    const body = method === 'GET' ? undefined : { user_id: bob.user_id, name: 'x' };
    const unknown = await srv.fetch(`${V3}/rooms/${seg('!nosuchroom:localhost')}/${tail}`, { method, body, token: alice.token });
    assert.equal(unknown.status, 404, `${method} ${tail}: ${unknown.text}`);
    assert.equal(unknown.json.errcode, 'M_NOT_FOUND');
    for (const bad of ['nosigil:localhost', '!nocolon', '!:localhost']) {
      const res = await srv.fetch(`${V3}/rooms/${seg(bad)}/${tail}`, { method, body, token: alice.token });
      assert.equal(res.status, 400, `${method} ${tail} with ${bad}: ${res.text}`);
      assert.equal(res.json.errcode, 'M_INVALID_PARAM');
    }
  }
});
