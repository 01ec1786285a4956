// rooms.test.mjs -- /createRoom and membership: join, invite, leave, kick,
// ban, unban, forget, joined_rooms, per the client-server spec.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import {
  V3, assertError, createRoom, getState, history, invite, join, leave, register, roomPost, seg,
  sendMessage, setState, sync,
} from './lib/matrix.mjs';

let srv;
let alice, bob, carol;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
  alice = await register(srv, 'alice');
  bob = await register(srv, 'bob');
  carol = await register(srv, 'carol');
});
after(async () => { await srv.stop(); });

const stateOf = async (who, roomId, type, key = '') => {
  const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/state/${seg(type)}/${seg(key)}`, { token: who.token });
  return res.status === 200 ? res.json : null;
};
const joinedRooms = async (who) => (await srv.fetch(`${V3}/joined_rooms`, { token: who.token })).json.joined_rooms;
const membership = async (who, roomId, userId) => (await stateOf(who, roomId, 'm.room.member', userId))?.membership;

// ---- createRoom -------------------------------------------------------------

test('private_chat: invite-only, shared history, guests can join', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'private_chat' });
  assert.equal((await stateOf(alice, roomId, 'm.room.join_rules')).join_rule, 'invite');
  assert.equal((await stateOf(alice, roomId, 'm.room.history_visibility')).history_visibility, 'shared');
  assert.equal((await stateOf(alice, roomId, 'm.room.guest_access')).guest_access, 'can_join');
  const create = await stateOf(alice, roomId, 'm.room.create');
  assert.equal(create.creator, alice.user_id);
  assert.equal(create.room_version, '10');
  const pl = await stateOf(alice, roomId, 'm.room.power_levels');
  assert.equal(pl.users[alice.user_id], 100);
  assert.equal(await membership(alice, roomId, alice.user_id), 'join');
});

test('public_chat: anyone can join, shared history, no guest access', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  assert.equal((await stateOf(alice, roomId, 'm.room.join_rules')).join_rule, 'public');
  assert.equal((await stateOf(alice, roomId, 'm.room.history_visibility')).history_visibility, 'shared');
  const guest = await stateOf(alice, roomId, 'm.room.guest_access');
  assert.ok(guest === null || guest.guest_access === 'forbidden', JSON.stringify(guest));
});

test('trusted_private_chat gives invitees the creator\'s power level', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'trusted_private_chat', invite: [bob.user_id] });
  const pl = await stateOf(alice, roomId, 'm.room.power_levels');
  assert.equal(pl.users[alice.user_id], 100);
  assert.equal(pl.users[bob.user_id], 100);
  assert.equal((await stateOf(alice, roomId, 'm.room.join_rules')).join_rule, 'invite');
  assert.equal(await membership(alice, roomId, bob.user_id), 'invite');
});

test('visibility public without a preset makes a public_chat room; private an invite-only one', async () => {
  const pub = await createRoom(srv, alice, { visibility: 'public' });
  assert.equal((await stateOf(alice, pub, 'm.room.join_rules')).join_rule, 'public');
  const priv = await createRoom(srv, alice, { visibility: 'private' });
  assert.equal((await stateOf(alice, priv, 'm.room.join_rules')).join_rule, 'invite');
  const none = await createRoom(srv, alice, {});
  assert.equal((await stateOf(alice, none, 'm.room.join_rules')).join_rule, 'invite');
});

test('createRoom sets name and topic', async () => {
  const roomId = await createRoom(srv, alice, { name: 'The Room', topic: 'Everything' });
  assert.deepEqual(await stateOf(alice, roomId, 'm.room.name'), { name: 'The Room' });
  assert.equal((await stateOf(alice, roomId, 'm.room.topic')).topic, 'Everything');
});

test('room_alias_name creates the alias, the canonical alias, and the room can be joined by it', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat', room_alias_name: 'lobby' });
  assert.equal((await stateOf(alice, roomId, 'm.room.canonical_alias')).alias, '#lobby:localhost');
  const joined = await join(srv, bob, '#lobby:localhost');
  assert.equal(joined, roomId);
  assert.equal(await membership(alice, roomId, bob.user_id), 'join');
});

test('a taken room alias is 400 M_ROOM_IN_USE and creates no room', async () => {
  await createRoom(srv, alice, { room_alias_name: 'unique' });
  const before = await joinedRooms(carol);
  const res = await srv.fetch(`${V3}/createRoom`, { method: 'POST', body: { room_alias_name: 'unique' }, token: carol.token });
  assertError(res, 400, 'M_ROOM_IN_USE');
  assert.deepEqual(await joinedRooms(carol), before);
});

test('an invalid room_alias_name is refused', async () => {
  for (const name of ['', 'a:b', 'x:localhost']) {
    const res = await srv.fetch(`${V3}/createRoom`, { method: 'POST', body: { room_alias_name: name }, token: carol.token });
    assert.equal(res.status, 400, `${JSON.stringify(name)}: ${res.text}`);
  }
});

test('createRoom invites the users in invite, with is_direct on the invite', async () => {
  const roomId = await createRoom(srv, alice, { invite: [bob.user_id, carol.user_id], is_direct: true });
  const state = await getState(srv, alice, roomId);
  const invites = state.filter((e) => e.type === 'm.room.member' && e.content.membership === 'invite');
  assert.deepEqual(invites.map((e) => e.state_key).sort(), [bob.user_id, carol.user_id]);
  for (const e of invites) assert.equal(e.content.is_direct, true);
  const s = await sync(srv, bob);
  assert.ok(s.rooms.invite[roomId], 'bob sees the invite');
});

test('createRoom applies initial_state', async () => {
  const roomId = await createRoom(srv, alice, {
    initial_state: [
      { type: 'm.room.encryption', content: { algorithm: 'm.megolm.v1.aes-sha2' } },
      { type: 'org.example.thing', state_key: 'k', content: { v: 1 } },
    ],
  });
  assert.equal((await stateOf(alice, roomId, 'm.room.encryption')).algorithm, 'm.megolm.v1.aes-sha2');
  assert.deepEqual(await stateOf(alice, roomId, 'org.example.thing', 'k'), { v: 1 });
});

test('createRoom applies power_level_content_override', async () => {
  const roomId = await createRoom(srv, alice, {
    power_level_content_override: { events_default: 20, users: { [alice.user_id]: 100, [bob.user_id]: 30 } },
  });
  const pl = await stateOf(alice, roomId, 'm.room.power_levels');
  assert.equal(pl.events_default, 20);
  assert.equal(pl.users[bob.user_id], 30);
  assert.equal(pl.state_default, 50, 'the other defaults stay');
});

test('room_version 10 is accepted; an unsupported one is 400 M_UNSUPPORTED_ROOM_VERSION', async () => {
  const roomId = await createRoom(srv, alice, { room_version: '10' });
  assert.equal((await stateOf(alice, roomId, 'm.room.create')).room_version, '10');
  const before = await joinedRooms(alice);
  const res = await srv.fetch(`${V3}/createRoom`, { method: 'POST', body: { room_version: 'nine-and-a-half' }, token: alice.token });
  assertError(res, 400, 'M_UNSUPPORTED_ROOM_VERSION');
  assert.deepEqual(await joinedRooms(alice), before, 'no room was created');
});

test('createRoom with fields of the wrong type is 400 and creates nothing', async () => {
  const before = await joinedRooms(carol);
  for (const body of [
    { name: 5 }, { topic: {} }, { invite: 'bob' }, { invite: [5] }, { initial_state: {} },
    { initial_state: [{ type: 'x' }] }, { is_direct: 'yes' }, { power_level_content_override: [] },
    { creation_content: 'x' }, { preset: 'open_bar' }, { visibility: 'secret' },
  ]) {
    const res = await srv.fetch(`${V3}/createRoom`, { method: 'POST', body, token: carol.token });
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
    assert.ok(['M_BAD_JSON', 'M_INVALID_PARAM'].includes(res.json.errcode), res.text);
  }
  const unknownInvitee = await srv.fetch(`${V3}/createRoom`, {
    method: 'POST', body: { invite: ['@ghost:localhost'] }, token: carol.token,
  });
  assert.equal(unknownInvitee.status, 404, unknownInvitee.text);
  assert.deepEqual(await joinedRooms(carol), before);
});

test('createRoom sends the initial events in the spec\'s order', async () => {
  const roomId = await createRoom(srv, alice, {
    preset: 'private_chat', room_alias_name: 'ordered', name: 'N', topic: 'T',
    initial_state: [{ type: 'org.example.a', content: {} }], invite: [bob.user_id],
  });
  const events = await history(srv, alice, roomId);
  const seq = events.map((e) => e.type === 'm.room.member' ? `member:${e.content.membership}` : e.type);
  assert.deepEqual(seq, [
    'm.room.create', 'member:join', 'm.room.power_levels', 'm.room.canonical_alias', 'm.room.join_rules',
    'm.room.history_visibility', 'm.room.guest_access', 'org.example.a', 'm.room.name', 'm.room.topic',
    'member:invite',
  ]);
  assert.equal(events[1].state_key, alice.user_id);
  assert.equal(events.at(-1).state_key, bob.user_id);
});

// ---- join, invite, leave -----------------------------------------------------

test('anyone can join a public room', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  const res = await roomPost(srv, bob, roomId, 'join');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.room_id, roomId);
  assert.ok((await joinedRooms(bob)).includes(roomId));
});

test('joining an invite-only room is 403 until invited', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'private_chat' });
  assertError(await roomPost(srv, bob, roomId, 'join'), 403, 'M_FORBIDDEN');
  assertError(await srv.fetch(`${V3}/join/${seg(roomId)}`, { method: 'POST', body: {}, token: bob.token }), 403, 'M_FORBIDDEN');
  assert.equal(await membership(alice, roomId, bob.user_id), undefined, 'nothing changed');
  await invite(srv, alice, roomId, bob.user_id);
  assert.equal(await membership(alice, roomId, bob.user_id), 'invite');
  const res = await roomPost(srv, bob, roomId, 'join');
  assert.equal(res.status, 200, res.text);
  assert.equal(await membership(alice, roomId, bob.user_id), 'join');
});

test('only members can invite, and not someone already joined', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'private_chat' });
  assertError(await roomPost(srv, bob, roomId, 'invite', { user_id: carol.user_id }), 403, 'M_FORBIDDEN');
  await invite(srv, alice, roomId, bob.user_id);
  await join(srv, bob, roomId);
  assertError(await roomPost(srv, alice, roomId, 'invite', { user_id: bob.user_id }), 403, 'M_FORBIDDEN');
});

test('invite refuses an unknown user and malformed user ids', async () => {
  const roomId = await createRoom(srv, alice, {});
  assertError(await roomPost(srv, alice, roomId, 'invite', { user_id: '@nobody:localhost' }), 404, 'M_NOT_FOUND');
  assertError(await roomPost(srv, alice, roomId, 'invite', { user_id: 'bob' }), 400, 'M_INVALID_PARAM');
  assertError(await roomPost(srv, alice, roomId, 'invite', { user_id: 5 }), 400, 'M_BAD_JSON');
  assertError(await roomPost(srv, alice, roomId, 'invite', {}), 400, 'M_BAD_JSON');
});

test('an invitee can reject the invite by leaving', async () => {
  const roomId = await createRoom(srv, alice, {});
  await invite(srv, alice, roomId, carol.user_id);
  await leave(srv, carol, roomId);
  assert.equal(await membership(alice, roomId, carol.user_id), 'leave');
  assertError(await roomPost(srv, carol, roomId, 'join'), 403, 'M_FORBIDDEN');
});

test('a member can leave and join a public room again', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  await leave(srv, bob, roomId);
  assert.equal(await membership(alice, roomId, bob.user_id), 'leave');
  assert.ok(!(await joinedRooms(bob)).includes(roomId));
  // Leaving twice is refused: bob is no longer in the room.
  assertError(await roomPost(srv, bob, roomId, 'leave'), 403, 'M_FORBIDDEN');
  await join(srv, bob, roomId);
  assert.equal(await membership(alice, roomId, bob.user_id), 'join');
  assert.ok((await joinedRooms(bob)).includes(roomId));
});

test('a user who left an invite-only room cannot join again without a new invite', async () => {
  const roomId = await createRoom(srv, alice, { invite: [bob.user_id] });
  await join(srv, bob, roomId);
  await leave(srv, bob, roomId);
  assertError(await roomPost(srv, bob, roomId, 'join'), 403, 'M_FORBIDDEN');
});

test('leaving a room one was never in is 403', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  assertError(await roomPost(srv, carol, roomId, 'leave'), 403, 'M_FORBIDDEN');
});

// ---- kick, ban, unban ------------------------------------------------------

test('a moderator can kick; the kicked user is out and may rejoin a public room', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  const res = await roomPost(srv, alice, roomId, 'kick', { user_id: bob.user_id, reason: 'spam' });
  assert.equal(res.status, 200, res.text);
  const ev = await stateOf(alice, roomId, 'm.room.member', bob.user_id);
  assert.equal(ev.membership, 'leave');
  assert.equal(ev.reason, 'spam');
  await join(srv, bob, roomId);
});

test('a user with power level 0 cannot kick or ban', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  await join(srv, carol, roomId);
  const kick = await roomPost(srv, bob, roomId, 'kick', { user_id: carol.user_id });
  assertError(kick, 403, 'M_FORBIDDEN');
  assertError(await roomPost(srv, bob, roomId, 'ban', { user_id: carol.user_id }), 403, 'M_FORBIDDEN');
  assertError(await roomPost(srv, bob, roomId, 'kick', { user_id: alice.user_id }), 403, 'M_FORBIDDEN');
  assert.equal(await membership(alice, roomId, carol.user_id), 'join');
  assert.equal(await membership(alice, roomId, alice.user_id), 'join');
});

test('a moderator cannot kick someone of equal or higher power', async () => {
  const roomId = await createRoom(srv, alice, {
    preset: 'public_chat', power_level_content_override: { users: { [alice.user_id]: 100, [bob.user_id]: 50, [carol.user_id]: 50 } },
  });
  await join(srv, bob, roomId);
  await join(srv, carol, roomId);
  assertError(await roomPost(srv, bob, roomId, 'kick', { user_id: carol.user_id }), 403, 'M_FORBIDDEN');
  assertError(await roomPost(srv, bob, roomId, 'kick', { user_id: alice.user_id }), 403, 'M_FORBIDDEN');
  assert.equal(await membership(alice, roomId, carol.user_id), 'join');
});

test('a banned user cannot join until unbanned', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  const ban = await roomPost(srv, alice, roomId, 'ban', { user_id: bob.user_id, reason: 'rude' });
  assert.equal(ban.status, 200, ban.text);
  assert.equal(await membership(alice, roomId, bob.user_id), 'ban');
  assert.ok(!(await joinedRooms(bob)).includes(roomId));
  assertError(await roomPost(srv, bob, roomId, 'join'), 403, 'M_FORBIDDEN');
  // A banned user cannot be invited either.
  assertError(await roomPost(srv, alice, roomId, 'invite', { user_id: bob.user_id }), 403, 'M_FORBIDDEN');
  // Only someone with the ban level can unban.
  await join(srv, carol, roomId);
  assertError(await roomPost(srv, carol, roomId, 'unban', { user_id: bob.user_id }), 403, 'M_FORBIDDEN');
  const unban = await roomPost(srv, alice, roomId, 'unban', { user_id: bob.user_id });
  assert.equal(unban.status, 200, unban.text);
  assert.equal(await membership(alice, roomId, bob.user_id), 'leave');
  await join(srv, bob, roomId);
});

test('a user can be banned before ever joining', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  const ban = await roomPost(srv, alice, roomId, 'ban', { user_id: carol.user_id });
  assert.equal(ban.status, 200, ban.text);
  assertError(await roomPost(srv, carol, roomId, 'join'), 403, 'M_FORBIDDEN');
});

test('unban of someone not banned is refused', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  const res = await roomPost(srv, alice, roomId, 'unban', { user_id: bob.user_id });
  assert.equal(res.status, 403, res.text);
  assert.equal(await membership(alice, roomId, bob.user_id), 'join');
});

test('invite, kick, ban and unban refuse the same bad bodies with the same errors; join and leave a bad reason', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  await roomPost(srv, alice, roomId, 'ban', { user_id: carol.user_id });
  const bodies = [
    [{}, 400, 'M_BAD_JSON'],
    [{ user_id: 7 }, 400, 'M_BAD_JSON'],
    [{ user_id: 'not a user id' }, 400, 'M_INVALID_PARAM'],
    [{ user_id: carol.user_id, reason: 42 }, 400, 'M_BAD_JSON'],
  ];
  for (const action of ['invite', 'kick', 'ban', 'unban']) {
    for (const [body, status, errcode] of bodies) {
      const res = await roomPost(srv, alice, roomId, action, body);
      assert.equal(res.status, status, `${action} ${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.json.errcode, errcode, `${action} ${JSON.stringify(body)}`);
    }
  }
  for (const action of ['join', 'leave'])
    assertError(await roomPost(srv, bob, roomId, action, { reason: ['x'] }), 400, 'M_BAD_JSON');
  assert.equal(await membership(alice, roomId, carol.user_id), 'ban');
  assert.equal(await membership(alice, roomId, bob.user_id), 'join');
});

// ---- forget, joined_rooms -------------------------------------------------------

test('forget: refused while joined, then the left room disappears from sync', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  const early = await roomPost(srv, bob, roomId, 'forget');
  assert.equal(early.status, 400, early.text);
  await leave(srv, bob, roomId);
  const withLeave = await sync(srv, bob, { filter: { room: { include_leave: true } } });
  assert.ok(withLeave.rooms.leave[roomId], 'the left room is listed before forgetting');
  const res = await roomPost(srv, bob, roomId, 'forget');
  assert.equal(res.status, 200, res.text);
  const after = await sync(srv, bob, { filter: { room: { include_leave: true } } });
  assert.equal(after.rooms.leave[roomId], undefined, 'forgotten');
  // Joining again un-forgets.
  await join(srv, bob, roomId);
  assert.ok((await sync(srv, bob)).rooms.join[roomId]);
});

test('joined_rooms lists exactly the rooms joined now', async () => {
  const dave = await register(srv, 'dave');
  assert.deepEqual(await joinedRooms(dave), []);
  const a = await createRoom(srv, dave, {});
  const b = await createRoom(srv, dave, {});
  const invitedTo = await createRoom(srv, alice, { invite: [dave.user_id] });
  assert.deepEqual((await joinedRooms(dave)).sort(), [a, b].sort());
  await leave(srv, dave, a);
  assert.deepEqual(await joinedRooms(dave), [b]);
  assert.ok(!(await joinedRooms(dave)).includes(invitedTo));
});

// ---- bad room ids ----------------------------------------------------------------

test('membership calls on an unknown room are 404; on a malformed room id 400', async () => {
  const unknown = '!doesnotexist:localhost';
  for (const action of ['join', 'leave', 'forget'])
    assertError(await roomPost(srv, alice, unknown, action), 404, 'M_NOT_FOUND');
  for (const action of ['invite', 'kick', 'ban', 'unban'])
    assertError(await roomPost(srv, alice, unknown, action, { user_id: bob.user_id }), 404, 'M_NOT_FOUND');
  assertError(await srv.fetch(`${V3}/join/${seg(unknown)}`, { method: 'POST', body: {}, token: alice.token }), 404, 'M_NOT_FOUND');
  assertError(await srv.fetch(`${V3}/join/${seg('#nowhere:localhost')}`, { method: 'POST', body: {}, token: alice.token }), 404, 'M_NOT_FOUND');
  for (const bad of ['notaroom', '!', '!nocolon'])
    assertError(await roomPost(srv, alice, bad, 'join'), 400, 'M_INVALID_PARAM');
  assertError(await srv.fetch(`${V3}/join/notaroom`, { method: 'POST', body: {}, token: alice.token }), 400, 'M_INVALID_PARAM');
});

test('a message in a room is seen by a member who joined later (shared history)', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  const early = await sendMessage(srv, alice, roomId, 'before bob');
  await join(srv, bob, roomId);
  const events = await history(srv, bob, roomId);
  assert.ok(events.some((e) => e.event_id === early));
});

test('setting a user id state key of someone else is refused', async () => {
  const roomId = await createRoom(srv, alice, {});
  const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/state/org.example.profile/${seg(bob.user_id)}`, {
    method: 'PUT', body: { x: 1 }, token: alice.token,
  });
  assertError(res, 403, 'M_FORBIDDEN');
  await setState(srv, alice, roomId, 'org.example.profile', alice.user_id, { x: 1 });
});
