// spaces.test.mjs -- spaces on one server: GET /_matrix/client/v1/rooms/{roomId}/hierarchy
// (summaries, children_state, depth, suggested_only, cycles, visibility,
// pagination, errors), joins into restricted rooms through a space's
// membership (join_authorised_via_users_server), and room_type in /publicRooms.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  assertError, createRoom, getState, invite, join, leave, putState, register, roomPost, seg, setState, V3,
} from './lib/matrix.mjs';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
});
after(() => srv.stop());

let userCounter = 0;
const fresh = (name) => register(srv, `${name}${++userCounter}`);

const VIA = ['localhost'];

function hierarchyRaw(who, roomId, params = {}) {
  const q = new URLSearchParams(params);
  return srv.fetch(`/_matrix/client/v1/rooms/${seg(roomId)}/hierarchy?${q}`, { token: who.token });
}

async function hierarchy(who, roomId, params) {
  const res = await hierarchyRaw(who, roomId, params);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

const ids = (res) => res.rooms.map((r) => r.room_id);

const createSpace = (who, body = {}) =>
  createRoom(srv, who, { preset: 'public_chat', creation_content: { type: 'm.space' }, ...body });

// Children added within the same millisecond would be ordered by room id, so
// each gets an `order` key that keeps the order they were added in ("o0001"...,
// after "a" and before "p"); pass order: undefined for none.
let orderCounter = 0;
const addChild = (who, space, child, extra = {}) => {
  const content = { via: VIA, order: `o${String(++orderCounter).padStart(4, '0')}`, ...extra };
  if (content.order === undefined) delete content.order;
  return setState(srv, who, space, 'm.space.child', child, content);
};

// A space alice owns with two public child rooms, added in order.
async function simpleSpace() {
  const alice = await fresh('alice');
  const space = await createSpace(alice, { name: 'The Space', topic: 'Everything' });
  const general = await createRoom(srv, alice, { preset: 'public_chat', name: 'General' });
  const random = await createRoom(srv, alice, { preset: 'public_chat', name: 'Random' });
  await addChild(alice, space, general);
  await addChild(alice, space, random);
  return { alice, space, general, random };
}

test('the hierarchy lists the space, then its children, with summaries and children_state', async () => {
  const { alice, space, general, random } = await simpleSpace();
  const bob = await fresh('bob');
  await join(srv, bob, general);

  const res = await hierarchy(alice, space);
  assert.deepEqual(ids(res), [space, general, random]);
  assert.equal(res.next_batch, undefined);
  const [top, first] = res.rooms;
  assert.equal(top.room_type, 'm.space');
  assert.equal(top.name, 'The Space');
  assert.equal(top.topic, 'Everything');
  assert.equal(top.join_rule, 'public');
  assert.equal(top.num_joined_members, 1);
  assert.equal(top.world_readable, false);
  assert.equal(top.guest_can_join, false);
  assert.equal(top.children_state.length, 2);
  const child = top.children_state.find((c) => c.state_key === general);
  assert.deepEqual(Object.keys(child).sort(), ['content', 'origin_server_ts', 'sender', 'state_key', 'type']);
  assert.equal(child.type, 'm.space.child');
  assert.equal(child.sender, alice.user_id);
  assert.deepEqual(child.content.via, VIA);
  assert.equal(typeof child.origin_server_ts, 'number');

  assert.equal(first.name, 'General');
  assert.equal(first.num_joined_members, 2);
  assert.equal(first.room_type, undefined, 'an ordinary room has no room_type');
  assert.deepEqual(first.children_state, []);
});

test('children are ordered by their order key, then those without one by time', async () => {
  const alice = await fresh('alice');
  const space = await createSpace(alice);
  const rooms = [];
  for (let i = 0; i < 4; i++) rooms.push(await createRoom(srv, alice, { preset: 'public_chat' }));
  await addChild(alice, space, rooms[0], { order: undefined });
  await new Promise((r) => setTimeout(r, 5));
  await addChild(alice, space, rooms[1], { order: undefined });
  await addChild(alice, space, rooms[2], { order: 'b' });
  await addChild(alice, space, rooms[3], { order: ' a' });
  const res = await hierarchy(alice, space);
  assert.deepEqual(ids(res), [space, rooms[3], rooms[2], rooms[0], rooms[1]]);
});

test('nested spaces are walked breadth-first and max_depth stops the walk', async () => {
  const alice = await fresh('alice');
  const top = await createSpace(alice);
  const sub = await createSpace(alice);
  const leaf = await createRoom(srv, alice, { preset: 'public_chat' });
  const sibling = await createRoom(srv, alice, { preset: 'public_chat' });
  await addChild(alice, top, sub);
  await addChild(alice, top, sibling);
  await addChild(alice, sub, leaf);

  assert.deepEqual(ids(await hierarchy(alice, top)), [top, sub, sibling, leaf]);
  assert.deepEqual(ids(await hierarchy(alice, top, { max_depth: 1 })), [top, sub, sibling]);
  const zero = await hierarchy(alice, top, { max_depth: 0 });
  assert.deepEqual(ids(zero), [top]);
  assert.equal(zero.rooms[0].children_state.length, 2, 'the room at max_depth still shows its children');
  assert.deepEqual(ids(await hierarchy(alice, sub)), [sub, leaf], 'any space can be the start');
});

test('suggested_only keeps the children marked suggested', async () => {
  const { alice, space, general, random } = await simpleSpace();
  await addChild(alice, space, random, { suggested: true });
  const res = await hierarchy(alice, space, { suggested_only: 'true' });
  assert.deepEqual(ids(res), [space, random]);
  assert.deepEqual(res.rooms[0].children_state.map((c) => c.state_key), [random]);
  assert.deepEqual(ids(await hierarchy(alice, space, { suggested_only: 'false' })), [space, general, random]);
  assertError(await hierarchyRaw(alice, space, { suggested_only: 'yes' }), 400, 'M_INVALID_PARAM');
});

test('a cycle of spaces ends: each room is listed once', async () => {
  const alice = await fresh('alice');
  const a = await createSpace(alice);
  const b = await createSpace(alice);
  await addChild(alice, a, b);
  await addChild(alice, b, a);
  await addChild(alice, a, a);
  const res = await hierarchy(alice, a);
  assert.deepEqual(ids(res), [a, b]);
});

test('a child without via, with an empty via, or on another server is ignored', async () => {
  const alice = await fresh('alice');
  const space = await createSpace(alice);
  const good = await createRoom(srv, alice, { preset: 'public_chat' });
  const noVia = await createRoom(srv, alice, { preset: 'public_chat' });
  const emptyVia = await createRoom(srv, alice, { preset: 'public_chat' });
  await addChild(alice, space, good);
  await setState(srv, alice, space, 'm.space.child', noVia, { suggested: true });
  await setState(srv, alice, space, 'm.space.child', emptyVia, { via: [] });
  await addChild(alice, space, '!elsewhere:other.example');
  const res = await hierarchy(alice, space);
  assert.deepEqual(ids(res), [space, good]);
  assert.deepEqual(res.rooms[0].children_state.map((c) => c.state_key).sort(),
    [good, '!elsewhere:other.example'].sort(), 'children_state lists valid children, known or not');
});

test('removing a child (emptying its event) takes it out of the hierarchy', async () => {
  const { alice, space, general, random } = await simpleSpace();
  await setState(srv, alice, space, 'm.space.child', general, {});
  assert.deepEqual(ids(await hierarchy(alice, space)), [space, random]);
});

test('an invite-only child the caller is not in is left out, a public one is listed', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const space = await createSpace(alice);
  const secret = await createSpace(alice, { preset: 'private_chat' });
  const hidden = await createRoom(srv, alice, { preset: 'public_chat' });
  const open = await createRoom(srv, alice, { preset: 'public_chat' });
  await addChild(alice, space, secret);
  await addChild(alice, space, open);
  await addChild(alice, secret, hidden);

  assert.deepEqual(ids(await hierarchy(bob, space)), [space, open], 'the private room and what is under it are left out');
  assert.deepEqual(ids(await hierarchy(alice, space)), [space, secret, open, hidden]);
  await invite(srv, alice, secret, bob.user_id);
  assert.deepEqual(ids(await hierarchy(bob, space)), [space, secret, open, hidden], 'an invite makes it visible');
});

test('a knock child is visible to anyone, as they may ask to join it', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const space = await createSpace(alice);
  const knockable = await createRoom(srv, alice, { preset: 'private_chat' });
  await setState(srv, alice, knockable, 'm.room.join_rules', '', { join_rule: 'knock' });
  await addChild(alice, space, knockable);
  const res = await hierarchy(bob, space);
  assert.deepEqual(ids(res), [space, knockable]);
  assert.equal(res.rooms[1].join_rule, 'knock');
});

test('a world-readable child is visible to anyone', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const space = await createSpace(alice);
  const readable = await createRoom(srv, alice, { preset: 'private_chat' });
  await setState(srv, alice, readable, 'm.room.history_visibility', '', { history_visibility: 'world_readable' });
  await addChild(alice, space, readable);
  const res = await hierarchy(bob, space);
  assert.deepEqual(ids(res), [space, readable]);
  assert.equal(res.rooms[1].world_readable, true);
});

test('pages of limit rooms follow next_batch with no duplicates or gaps', async () => {
  const alice = await fresh('alice');
  const space = await createSpace(alice);
  const sub = await createSpace(alice);
  await addChild(alice, space, sub);
  const children = [];
  for (let i = 0; i < 5; i++) {
    const room = await createRoom(srv, alice, { preset: 'public_chat' });
    children.push(room);
    await addChild(alice, i < 3 ? space : sub, room);
  }
  const all = ids(await hierarchy(alice, space));
  assert.equal(all.length, 7);

  const paged = [];
  let from;
  for (let page = 0; page < 10; page++) {
    const res = await hierarchy(alice, space, { limit: 2, ...(from ? { from } : {}) });
    assert.ok(res.rooms.length <= 2);
    paged.push(...ids(res));
    from = res.next_batch;
    if (!from) break;
  }
  assert.deepEqual(paged, all);
  assert.equal(new Set(paged).size, paged.length);

  const one = await hierarchy(alice, space, { limit: 7 });
  assert.equal(one.next_batch, undefined, 'no next_batch when the page ends the walk');
});

test('a from token keeps its max_depth and suggested_only, and may not change them', async () => {
  const alice = await fresh('alice');
  const top = await createSpace(alice);
  const sub = await createSpace(alice);
  const leaf = await createRoom(srv, alice, { preset: 'public_chat' });
  const other = await createRoom(srv, alice, { preset: 'public_chat' });
  await addChild(alice, top, sub);
  await addChild(alice, top, other);
  await addChild(alice, sub, leaf);
  const first = await hierarchy(alice, top, { limit: 1, max_depth: 1 });
  assert.deepEqual(ids(first), [top]);
  const rest = await hierarchy(alice, top, { limit: 10, from: first.next_batch });
  assert.deepEqual(ids(rest), [sub, other], 'the token keeps max_depth 1');
  assertError(await hierarchyRaw(alice, top, { from: first.next_batch, max_depth: 2 }), 400, 'M_INVALID_PARAM');
  assertError(await hierarchyRaw(alice, top, { from: first.next_batch, suggested_only: 'true' }), 400, 'M_INVALID_PARAM');
  assertError(await hierarchyRaw(alice, sub, { from: first.next_batch }), 400, 'M_INVALID_PARAM');
});

test('hierarchy errors: 403 for a room the caller may not see, 404 unknown, 400 bad parameters', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const secret = await createSpace(alice, { preset: 'private_chat' });
  const open = await createSpace(alice);
  assertError(await hierarchyRaw(bob, secret), 403, 'M_FORBIDDEN');
  assertError(await hierarchyRaw(bob, '!nowhere:localhost'), 404, 'M_NOT_FOUND');
  assertError(await hierarchyRaw(bob, 'not-a-room'), 400, 'M_INVALID_PARAM');
  for (const from of ['garbage', '1_10_0', '1_10_2_00000000', '-1_10_0_00000000', '1_99_0_00000000'])
    assertError(await hierarchyRaw(bob, open, { from }), 400, 'M_INVALID_PARAM');
  assertError(await hierarchyRaw(bob, open, { limit: '0' }), 400, 'M_INVALID_PARAM');
  assertError(await hierarchyRaw(bob, open, { limit: 'many' }), 400, 'M_INVALID_PARAM');
  assertError(await hierarchyRaw(bob, open, { max_depth: '-1' }), 400, 'M_INVALID_PARAM');
  const unauth = await srv.fetch(`/_matrix/client/v1/rooms/${seg(open)}/hierarchy`);
  assertError(unauth, 401, 'M_MISSING_TOKEN');
});

test('a banned user may not see the room', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const space = await createSpace(alice);
  await join(srv, bob, space);
  assert.equal((await roomPost(srv, alice, space, 'ban', { user_id: bob.user_id })).status, 200);
  assertError(await hierarchyRaw(bob, space), 403, 'M_FORBIDDEN');
});

// ---- restricted rooms ----------------------------------------------------------------

// alice's space (public) and a child room restricted to the space's members.
async function restrictedScene(joinRule = 'restricted') {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const space = await createSpace(alice);
  const room = await createRoom(srv, alice, { preset: 'private_chat', name: 'Members only' });
  await setState(srv, alice, room, 'm.room.join_rules', '', {
    join_rule: joinRule, allow: [{ type: 'm.room_membership', room_id: space }],
  });
  await addChild(alice, space, room);
  return { alice, bob, space, room };
}

async function memberEvent(who, room, userId) {
  const state = await getState(srv, who, room);
  return state.find((e) => e.type === 'm.room.member' && e.state_key === userId);
}

test('a member of the space joins the restricted room, vouched for by a member who may invite', async () => {
  const { alice, bob, space, room } = await restrictedScene();
  await join(srv, bob, space);
  await join(srv, bob, room);
  const ev = await memberEvent(bob, room, bob.user_id);
  assert.equal(ev.content.membership, 'join');
  assert.equal(ev.content.join_authorised_via_users_server, alice.user_id);
});

test('knock_restricted admits members of the allowed room the same way', async () => {
  const { alice, bob, space, room } = await restrictedScene('knock_restricted');
  await join(srv, bob, space);
  const res = await roomPost(srv, bob, room, 'join');
  assert.equal(res.status, 200, res.text);
  assert.equal((await memberEvent(bob, room, bob.user_id)).content.join_authorised_via_users_server, alice.user_id);
});

test('a knock on a knock_restricted room does not stop a member of the space joining directly', async () => {
  const { alice, bob, space, room } = await restrictedScene('knock_restricted');
  const knocked = await srv.fetch(`${V3}/knock/${seg(room)}`, { method: 'POST', body: {}, token: bob.token });
  assert.equal(knocked.status, 200, knocked.text);
  assertError(await roomPost(srv, bob, room, 'join'), 403, 'M_FORBIDDEN');
  await join(srv, bob, space);
  await join(srv, bob, room);
  assert.equal((await memberEvent(bob, room, bob.user_id)).content.join_authorised_via_users_server, alice.user_id);
});

test('someone in none of the allowed rooms may not join a restricted room', async () => {
  const { bob, room } = await restrictedScene();
  const res = await srv.fetch(`${V3}/join/${seg(room)}`, { method: 'POST', body: {}, token: bob.token });
  assertError(res, 403, 'M_FORBIDDEN');
  assert.match(res.json.error, /allow/);
});

test('after leaving the space, a user can no longer join the restricted room', async () => {
  const { bob, space, room } = await restrictedScene();
  await join(srv, bob, space);
  await join(srv, bob, room);
  await leave(srv, bob, room);
  await leave(srv, bob, space);
  assertError(await roomPost(srv, bob, room, 'join'), 403, 'M_FORBIDDEN');
});

test('an invite still admits someone outside the allowed rooms, without an authoriser', async () => {
  const { alice, bob, room } = await restrictedScene();
  await invite(srv, alice, room, bob.user_id);
  await join(srv, bob, room);
  const ev = await memberEvent(bob, room, bob.user_id);
  assert.equal(ev.content.join_authorised_via_users_server, undefined);
});

test('a join naming an authoriser who may not invite, or who is not in the room, is refused', async () => {
  const { alice, bob, space, room } = await restrictedScene();
  const carol = await fresh('carol');
  const dave = await fresh('dave');
  await join(srv, bob, space);
  await join(srv, carol, space);
  await join(srv, carol, room);
  // Inviting needs power 50 now: carol is in the room with 0.
  const pl = (await getState(srv, alice, room)).find((e) => e.type === 'm.room.power_levels').content;
  await setState(srv, alice, room, 'm.room.power_levels', '', { ...pl, invite: 50 });

  const member = (via) => putState(srv, bob, room, 'm.room.member', bob.user_id,
    { membership: 'join', join_authorised_via_users_server: via });
  assertError(await member(carol.user_id), 403, 'M_FORBIDDEN');
  assertError(await member(dave.user_id), 403, 'M_FORBIDDEN');
  assertError(await member(42), 400, 'M_BAD_JSON');
  assert.equal(await memberEvent(alice, room, bob.user_id), undefined, 'the refused joins changed nothing');

  const ok = await member(alice.user_id);
  assert.equal(ok.status, 200, 'a valid authoriser named by the client is accepted');
});

test('naming an authoriser does not let someone outside the allowed rooms in', async () => {
  const { alice, bob, room } = await restrictedScene();
  const res = await putState(srv, bob, room, 'm.room.member', bob.user_id,
    { membership: 'join', join_authorised_via_users_server: alice.user_id });
  assertError(res, 403, 'M_FORBIDDEN');
});

test('a restricted child is in the hierarchy for members of the space only', async () => {
  const { alice, bob, space, room } = await restrictedScene();
  const carol = await fresh('carol');
  await join(srv, bob, space);
  assert.deepEqual(ids(await hierarchy(bob, space)), [space, room]);
  assert.deepEqual(ids(await hierarchy(carol, space)), [space]);
  const entry = (await hierarchy(alice, space)).rooms[1];
  assert.equal(entry.join_rule, 'restricted');
});

// ---- /publicRooms --------------------------------------------------------------------

test('/publicRooms gives a space its room_type and filters on it', async () => {
  const alice = await fresh('alice');
  const space = await createSpace(alice, { visibility: 'public' });
  const room = await createRoom(srv, alice, { preset: 'public_chat', visibility: 'public' });
  const res = await srv.fetch(`${V3}/publicRooms`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.chunk.find((r) => r.room_id === space).room_type, 'm.space');
  assert.equal(res.json.chunk.find((r) => r.room_id === room).room_type, undefined);
  const spaces = await srv.fetch(`${V3}/publicRooms`, {
    method: 'POST', body: { filter: { room_types: ['m.space'] } }, token: alice.token,
  });
  assert.equal(spaces.status, 200, spaces.text);
  assert.ok(spaces.json.chunk.some((r) => r.room_id === space));
  assert.ok(!spaces.json.chunk.some((r) => r.room_id === room));
});
