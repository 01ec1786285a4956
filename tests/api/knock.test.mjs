// knock.test.mjs -- knocking (client-server spec v1.1+, room version 10):
// POST /knock/{roomIdOrAlias}, the authorization rules for membership knock,
// and rooms.knock with knock_state in /sync.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import {
  V3, assertError, createRoom, invite, join, putState, register, roomPost, seg, sendMessage, setState, sync,
} from './lib/matrix.mjs';

let srv;
let n = 0;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

const user = (name) => register(srv, `${name}${++n}`);
const knockRaw = (who, roomIdOrAlias, body = {}, prefix = V3) =>
  srv.fetch(`${prefix}/knock/${seg(roomIdOrAlias)}`, { method: 'POST', body, token: who.token });
async function knock(who, roomIdOrAlias, body = {}) {
  const res = await knockRaw(who, roomIdOrAlias, body);
  assert.equal(res.status, 200, `knock: ${res.text}`);
  return res.json.room_id;
}
const memberOf = async (who, roomId, userId) => {
  const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.member/${seg(userId)}`, { token: who.token });
  return res.json?.membership;
};
const timelineOf = (s, roomId) => s.rooms.join[roomId]?.timeline.events ?? [];

// A room that takes knocks: owner (100) and a joined moderator (50).
async function knockRoom({ rule = 'knock', ...extra } = {}) {
  const owner = await user('owner');
  const mod = await user('mod');
  const roomId = await createRoom(srv, owner, {
    preset: 'private_chat',
    initial_state: [{ type: 'm.room.join_rules', content: { join_rule: rule } }],
    power_level_content_override: { users: { [owner.user_id]: 100, [mod.user_id]: 50 } },
    ...extra,
  });
  await invite(srv, owner, roomId, mod.user_id);
  await join(srv, mod, roomId);
  return { owner, mod, roomId };
}

// ---- knocking and what the knocker sees -------------------------------------

test('a knock on a knock room answers the room id and shows under rooms.knock with knock_state', async () => {
  const { roomId } = await knockRoom({ name: 'Knockers Club' });
  const bob = await user('bob');
  assert.equal(await knock(bob, roomId, { reason: 'let me in' }), roomId);

  const s = await sync(srv, bob);
  const entry = s.rooms.knock[roomId];
  assert.ok(entry, JSON.stringify(s.rooms));
  assert.equal(s.rooms.invite[roomId], undefined);
  assert.equal(s.rooms.join[roomId], undefined);
  const events = entry.knock_state.events;
  const find = (type, key = '') => events.find((e) => e.type === type && e.state_key === key);
  assert.equal(find('m.room.name').content.name, 'Knockers Club');
  assert.equal(find('m.room.join_rules').content.join_rule, 'knock');
  assert.ok(find('m.room.create'));
  const own = find('m.room.member', bob.user_id);
  assert.equal(own.content.membership, 'knock');
  assert.equal(own.content.reason, 'let me in');
  assert.equal(own.content.displayname, bob.user_id.slice(1).split(':')[0]);
  assert.equal(own.sender, bob.user_id);
  // Stripped state: no event ids, timestamps or unsigned.
  assert.equal(own.event_id, undefined);
});

test('the r0 prefix knocks too', async () => {
  const { roomId } = await knockRoom();
  const bob = await user('bob');
  const res = await knockRaw(bob, roomId, {}, '/_matrix/client/r0');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { room_id: roomId });
});

test('incremental sync does not repeat a knock that has not changed', async () => {
  const { roomId } = await knockRoom();
  const bob = await user('bob');
  const s0 = await sync(srv, bob);
  await knock(bob, roomId);
  const s1 = await sync(srv, bob, { since: s0.next_batch });
  assert.ok(s1.rooms.knock[roomId], 'the knock is new');
  const s2 = await sync(srv, bob, { since: s1.next_batch });
  assert.deepEqual(s2.rooms.knock, {});
  // And a long-poll with nothing new waits rather than answer the knock again.
  const started = Date.now();
  const s3 = await sync(srv, bob, { since: s2.next_batch, timeout: 300 });
  assert.ok(Date.now() - started >= 250, 'the long-poll waited');
  assert.deepEqual(s3.rooms.knock, {});
});

test('knock by alias', async () => {
  const name = `knockalias${++n}`;
  const { roomId } = await knockRoom({ room_alias_name: name });
  const bob = await user('bob');
  assert.equal(await knock(bob, `#${name}:localhost`), roomId);
  assert.ok((await sync(srv, bob)).rooms.knock[roomId]);
});

test('a knock_restricted room takes knocks; joining it still needs an invite', async () => {
  const { owner, roomId } = await knockRoom({ rule: 'knock_restricted' });
  const bob = await user('bob');
  assertError(await roomPost(srv, bob, roomId, 'join'), 403, 'M_FORBIDDEN');
  await knock(bob, roomId);
  await invite(srv, owner, roomId, bob.user_id);
  await join(srv, bob, roomId);
  assert.equal(await memberOf(owner, roomId, bob.user_id), 'join');
});

test('joining a knock room without an invite is refused, knocking or not', async () => {
  const { owner, roomId } = await knockRoom();
  const bob = await user('bob');
  assertError(await roomPost(srv, bob, roomId, 'join'), 403, 'M_FORBIDDEN');
  await knock(bob, roomId);
  const res = await roomPost(srv, bob, roomId, 'join');
  assertError(res, 403, 'M_FORBIDDEN');
  assert.match(res.json.error, /invite/);
  assert.equal(await memberOf(owner, roomId, bob.user_id), 'knock');
});

// ---- answering a knock --------------------------------------------------------

test('members see the knock in their timeline; an invite accepts it and the knocker can join', async () => {
  const { owner, roomId } = await knockRoom();
  const bob = await user('bob');
  const o0 = await sync(srv, owner);
  const b0 = await sync(srv, bob);
  await knock(bob, roomId, { reason: 'hello' });

  const o1 = await sync(srv, owner, { since: o0.next_batch });
  const seen = timelineOf(o1, roomId).find((e) => e.type === 'm.room.member' && e.state_key === bob.user_id);
  assert.ok(seen, JSON.stringify(o1.rooms.join[roomId]));
  assert.equal(seen.content.membership, 'knock');
  assert.equal(seen.content.reason, 'hello');
  assert.equal(await memberOf(owner, roomId, bob.user_id), 'knock');

  const b1 = await sync(srv, bob, { since: b0.next_batch });
  await invite(srv, owner, roomId, bob.user_id);
  const b2 = await sync(srv, bob, { since: b1.next_batch });
  assert.ok(b2.rooms.invite[roomId], JSON.stringify(b2.rooms));
  assert.deepEqual(b2.rooms.knock, {});
  await join(srv, bob, roomId);
  const b3 = await sync(srv, bob, { since: b2.next_batch });
  assert.ok(b3.rooms.join[roomId]);
  assert.deepEqual(b3.rooms.knock, {});
});

test('a moderator rejects a knock by kicking; the knocker sees rooms.leave', async () => {
  const { owner, mod, roomId } = await knockRoom();
  const bob = await user('bob');
  await knock(bob, roomId);
  const b0 = await sync(srv, bob);
  const res = await roomPost(srv, mod, roomId, 'kick', { user_id: bob.user_id, reason: 'not now' });
  assert.equal(res.status, 200, res.text);
  assert.equal(await memberOf(owner, roomId, bob.user_id), 'leave');
  const b1 = await sync(srv, bob, { since: b0.next_batch });
  const left = b1.rooms.leave[roomId];
  assert.ok(left, JSON.stringify(b1.rooms));
  assert.deepEqual(b1.rooms.knock, {});
  // Bob learns who rejected him and why.
  const [kick] = left.timeline.events;
  assert.equal(kick.sender, mod.user_id);
  assert.equal(kick.state_key, bob.user_id);
  assert.deepEqual(kick.content, { membership: 'leave', reason: 'not now' });
  // Rejected, bob may knock again.
  await knock(bob, roomId);
  assert.equal(await memberOf(owner, roomId, bob.user_id), 'knock');
});

test('a member without the kick level cannot reject a knock', async () => {
  const { owner, roomId } = await knockRoom();
  const plain = await user('plain');
  await invite(srv, owner, roomId, plain.user_id);
  await join(srv, plain, roomId);
  const bob = await user('bob');
  await knock(bob, roomId);
  assertError(await roomPost(srv, plain, roomId, 'kick', { user_id: bob.user_id }), 403, 'M_FORBIDDEN');
  assert.equal(await memberOf(owner, roomId, bob.user_id), 'knock');
});

test('the knocker retracts a knock with /leave', async () => {
  const { owner, roomId } = await knockRoom();
  const bob = await user('bob');
  await knock(bob, roomId);
  const b0 = await sync(srv, bob);
  const res = await roomPost(srv, bob, roomId, 'leave');
  assert.equal(res.status, 200, res.text);
  assert.equal(await memberOf(owner, roomId, bob.user_id), 'leave');
  const b1 = await sync(srv, bob, { since: b0.next_batch });
  assert.ok(b1.rooms.leave[roomId], JSON.stringify(b1.rooms));
  assert.deepEqual(b1.rooms.knock, {});
});

test('knocking and withdrawing reveals nothing of the room beyond its stripped state', async () => {
  const { owner, roomId } = await knockRoom({ topic: 'private matters' });
  const bob = await user('bob');
  await knock(bob, roomId);
  const b0 = await sync(srv, bob);
  await sendMessage(srv, owner, roomId, 'not for knockers');
  await roomPost(srv, bob, roomId, 'leave');
  for (const s of [await sync(srv, bob, { since: b0.next_batch }),
    await sync(srv, bob, { filter: { room: { include_leave: true } } })]) {
    const left = s.rooms.leave[roomId];
    assert.ok(left, JSON.stringify(s.rooms));
    assert.deepEqual(left.state.events, [], 'no member list, power levels or other state');
    assert.deepEqual(left.timeline.events.map((e) => [e.type, e.state_key, e.content.membership]),
      [['m.room.member', bob.user_id, 'leave']]);
  }
});

test('a knocker cannot forget the room while the knock is pending', async () => {
  const { roomId } = await knockRoom();
  const bob = await user('bob');
  await knock(bob, roomId);
  assertError(await roomPost(srv, bob, roomId, 'forget'), 400, 'M_UNKNOWN');
  assert.ok((await sync(srv, bob)).rooms.knock[roomId]);
});

test('a long-poll of the knocker wakes when the knock is accepted', async () => {
  const { owner, roomId } = await knockRoom();
  const bob = await user('bob');
  await knock(bob, roomId);
  const b0 = await sync(srv, bob);
  const started = Date.now();
  const waiting = sync(srv, bob, { since: b0.next_batch, timeout: 10000 });
  await new Promise((r) => setTimeout(r, 200));
  await invite(srv, owner, roomId, bob.user_id);
  const b1 = await waiting;
  assert.ok(Date.now() - started < 5000, 'the long-poll woke before its timeout');
  assert.ok(b1.rooms.invite[roomId], JSON.stringify(b1.rooms));
});

test('a long-poll of the knocker wakes for the knock itself', async () => {
  const { roomId } = await knockRoom();
  const bob = await user('bob');
  const b0 = await sync(srv, bob);
  const started = Date.now();
  const waiting = sync(srv, bob, { since: b0.next_batch, timeout: 10000 });
  await new Promise((r) => setTimeout(r, 200));
  await knock(bob, roomId);
  const b1 = await waiting;
  assert.ok(Date.now() - started < 5000, 'the long-poll woke before its timeout');
  assert.ok(b1.rooms.knock[roomId]);
});

test('a withdrawn knock does not open the room\'s state, members or messages', async () => {
  const { owner, roomId } = await knockRoom();
  await sendMessage(srv, owner, roomId, 'not for knockers');
  const bob = await user('bob');
  await knock(bob, roomId);
  await roomPost(srv, bob, roomId, 'leave');
  for (const path of ['state', 'members', 'messages?dir=b', 'state/m.room.power_levels']) {
    const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/${path}`, { token: bob.token });
    assertError(res, 403, 'M_FORBIDDEN');
  }
});

// ---- refusals -------------------------------------------------------------------

test('knocking on a public room is refused', async () => {
  const owner = await user('owner');
  const roomId = await createRoom(srv, owner, { preset: 'public_chat' });
  const bob = await user('bob');
  const res = await knockRaw(bob, roomId);
  assertError(res, 403, 'M_FORBIDDEN');
  assert.match(res.json.error, /knock/);
  assert.equal(await memberOf(owner, roomId, bob.user_id), undefined);
});

test('knocking on an invite-only room is refused', async () => {
  const owner = await user('owner');
  const roomId = await createRoom(srv, owner, { preset: 'private_chat' });
  const bob = await user('bob');
  assertError(await knockRaw(bob, roomId), 403, 'M_FORBIDDEN');
  assert.deepEqual((await sync(srv, bob)).rooms.knock, {});
});

test('a banned user cannot knock', async () => {
  const { owner, roomId } = await knockRoom();
  const bob = await user('bob');
  await knock(bob, roomId);
  assert.equal((await roomPost(srv, owner, roomId, 'ban', { user_id: bob.user_id })).status, 200);
  const res = await knockRaw(bob, roomId);
  assertError(res, 403, 'M_FORBIDDEN');
  assert.match(res.json.error, /banned/);
  assert.equal(await memberOf(owner, roomId, bob.user_id), 'ban');
});

test('a member cannot knock on a room they are in', async () => {
  const { owner, mod, roomId } = await knockRoom();
  const res = await knockRaw(mod, roomId);
  assertError(res, 403, 'M_FORBIDDEN');
  assert.match(res.json.error, /already in/);
  assert.equal(await memberOf(owner, roomId, mod.user_id), 'join');
});

test('an invited user cannot knock', async () => {
  const { owner, roomId } = await knockRoom();
  const bob = await user('bob');
  await invite(srv, owner, roomId, bob.user_id);
  const res = await knockRaw(bob, roomId);
  assertError(res, 403, 'M_FORBIDDEN');
  assert.match(res.json.error, /invited/);
  assert.equal(await memberOf(owner, roomId, bob.user_id), 'invite');
});

test('knocking on an unknown room or alias is 404', async () => {
  const bob = await user('bob');
  assertError(await knockRaw(bob, '!nosuchroom:localhost'), 404, 'M_NOT_FOUND');
  assertError(await knockRaw(bob, '#nosuchalias:localhost'), 404, 'M_NOT_FOUND');
  assertError(await knockRaw(bob, 'neither'), 400, 'M_INVALID_PARAM');
});

test('a reason that is not a string is 400 M_BAD_JSON and changes nothing', async () => {
  const { owner, roomId } = await knockRoom();
  const bob = await user('bob');
  assertError(await knockRaw(bob, roomId, { reason: 42 }), 400, 'M_BAD_JSON');
  assertError(await knockRaw(bob, roomId, { reason: ['x'] }), 400, 'M_BAD_JSON');
  assert.equal(await memberOf(owner, roomId, bob.user_id), undefined);
});

test('a knock needs an access token', async () => {
  const { roomId } = await knockRoom();
  const res = await srv.fetch(`${V3}/knock/${seg(roomId)}`, { method: 'POST', body: {} });
  assertError(res, 401, 'M_MISSING_TOKEN');
});

test('a knock sent as member state obeys the same rules', async () => {
  const { owner, roomId } = await knockRoom();
  const bob = await user('bob');
  // As oneself on a knock room: a knock.
  await setState(srv, bob, roomId, 'm.room.member', bob.user_id, { membership: 'knock' });
  assert.equal(await memberOf(owner, roomId, bob.user_id), 'knock');
  assert.ok((await sync(srv, bob)).rooms.knock[roomId]);
  // For someone else: refused.
  const carol = await user('carol');
  const other = await putState(srv, owner, roomId, 'm.room.member', carol.user_id, { membership: 'knock' });
  assertError(other, 403, 'M_FORBIDDEN');
  assert.match(other.json.error, /yourself/);
  // On a room that does not take knocks: refused.
  const pub = await createRoom(srv, owner, { preset: 'public_chat' });
  assertError(await putState(srv, carol, pub, 'm.room.member', carol.user_id, { membership: 'knock' }), 403, 'M_FORBIDDEN');
  // Already joined: refused.
  assertError(await putState(srv, owner, roomId, 'm.room.member', owner.user_id, { membership: 'knock' }), 403, 'M_FORBIDDEN');
  assert.equal(await memberOf(owner, roomId, owner.user_id), 'join');
});

// ---- join rules -------------------------------------------------------------------

test('join_rule knock is accepted in initial_state and by PUT state, and shown by /publicRooms', async () => {
  const owner = await user('owner');
  const name = `Knock Directory ${n}`;
  const roomId = await createRoom(srv, owner, {
    visibility: 'public', name,
    initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'knock' } }],
  });
  const rules = await srv.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.join_rules`, { token: owner.token });
  assert.equal(rules.json.join_rule, 'knock');
  const listed = async () => {
    const res = await srv.fetch(`${V3}/publicRooms`, {
      method: 'POST', body: { filter: { generic_search_term: name } }, token: owner.token,
    });
    assert.equal(res.status, 200, res.text);
    return res.json.chunk.find((r) => r.room_id === roomId);
  };
  assert.equal((await listed()).join_rule, 'knock');
  await setState(srv, owner, roomId, 'm.room.join_rules', '', { join_rule: 'knock_restricted' });
  assert.equal((await listed()).join_rule, 'knock_restricted');
  const bob = await user('bob');
  await knock(bob, roomId);
  // Back to public: a pending knock does not stop the knocker joining.
  await setState(srv, owner, roomId, 'm.room.join_rules', '', { join_rule: 'public' });
  assert.equal((await listed()).join_rule, 'public');
  await join(srv, bob, roomId);
});
