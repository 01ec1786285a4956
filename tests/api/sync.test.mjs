// sync.test.mjs -- GET /sync: the initial and incremental shapes, invites and
// leaves, filters (stored and inline), prev_batch with /messages, and
// long-polling: parked until news arrives, or answered empty at the deadline.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { SANITIZED, startServer } from './lib/server.mjs';
import {
  V3, assertError, createRoom, invite, join, leave, messages, register, roomPost, seg, sendMessage, setState, sync,
  syncRaw,
} from './lib/matrix.mjs';

let srv;
let alice, bob, carol, dave;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
  alice = await register(srv, 'alice');
  bob = await register(srv, 'bob');
  carol = await register(srv, 'carol');
  dave = await register(srv, 'dave');
});
after(async () => { await srv.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const bodies = (events) => events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
// A long-poll returns "well before" its timeout when it returns within this.
const WAKE_BUDGET_MS = SANITIZED ? 2500 : 1000;

// Runs first: the server's first room starts at stream position 1.
test('initial sync of the first room: state holds no event of the timeline', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  const s = await sync(srv, alice);
  const room = s.rooms.join[roomId];
  const timeline = new Set(room.timeline.events.map((e) => e.event_id));
  assert.equal(room.timeline.events[0].type, 'm.room.create');
  for (const e of room.state.events) assert.ok(!timeline.has(e.event_id), `${e.type} is in both state and timeline`);
});

test('initial sync has the spec\'s shape', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat', name: 'Shape' });
  await join(srv, bob, roomId);
  await sendMessage(srv, bob, roomId, 'hello alice');
  const s = await sync(srv, alice);
  assert.match(s.next_batch, /^\S+$/);
  assert.ok(Array.isArray(s.account_data.events));
  assert.ok(Array.isArray(s.presence.events));
  for (const section of ['join', 'invite', 'leave']) assert.equal(typeof s.rooms[section], 'object');
  const room = s.rooms.join[roomId];
  assert.ok(Array.isArray(room.timeline.events));
  assert.equal(typeof room.timeline.limited, 'boolean');
  assert.equal(typeof room.timeline.prev_batch, 'string');
  assert.ok(Array.isArray(room.state.events));
  assert.equal(room.summary['m.joined_member_count'], 2);
  assert.equal(room.summary['m.invited_member_count'], 0);
  assert.deepEqual(room.summary['m.heroes'], [bob.user_id]);
  assert.equal(typeof room.unread_notifications.notification_count, 'number');
  assert.equal(typeof room.unread_notifications.highlight_count, 'number');
  assert.equal(room.unread_notifications.notification_count, 1, 'bob\'s message is unread');
  assert.deepEqual(bodies(room.timeline.events), ['hello alice']);
  for (const e of room.timeline.events) {
    assert.equal(e.room_id, undefined, 'sync events carry no room_id');
    assert.equal(typeof e.unsigned.age, 'number');
  }
  // Between them, state and timeline give the room's current name.
  const all = [...room.state.events, ...room.timeline.events];
  assert.equal(all.filter((e) => e.type === 'm.room.name').at(-1).content.name, 'Shape');
});

test('incremental sync returns only what is new since the token', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await sendMessage(srv, alice, roomId, 'old');
  const first = await sync(srv, alice);
  await sendMessage(srv, alice, roomId, 'new');
  const next = await sync(srv, alice, { since: first.next_batch });
  assert.notEqual(next.next_batch, first.next_batch);
  const room = next.rooms.join[roomId];
  assert.deepEqual(room.timeline.events.map((e) => e.content.body), ['new']);
  assert.equal(room.timeline.limited, false);
  assert.deepEqual(room.state.events, []);
  // Rooms without news are left out.
  const quiet = await sync(srv, alice, { since: next.next_batch });
  assert.equal(quiet.rooms.join[roomId], undefined);
});

test('a limited timeline gives the state changed in the gap, and prev_batch pages back from it', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  const first = await sync(srv, alice);
  await setState(srv, alice, roomId, 'm.room.topic', '', { topic: 'in the gap' });
  for (let i = 0; i < 8; i++) await sendMessage(srv, alice, roomId, `m${i}`);
  const s = await sync(srv, alice, { since: first.next_batch, filter: { room: { timeline: { limit: 3 } } } });
  const room = s.rooms.join[roomId];
  assert.equal(room.timeline.limited, true);
  assert.deepEqual(bodies(room.timeline.events), ['m5', 'm6', 'm7']);
  assert.ok(room.state.events.some((e) => e.type === 'm.room.topic' && e.content.topic === 'in the gap'),
    JSON.stringify(room.state.events.map((e) => e.type)));
  const back = await messages(srv, alice, roomId, { dir: 'b', from: room.timeline.prev_batch, limit: 3 });
  assert.equal(back.status, 200, back.text);
  assert.deepEqual(bodies(back.json.chunk), ['m4', 'm3', 'm2']);
});

test('the next_batch token continues /messages forward', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  const s = await sync(srv, alice);
  await sendMessage(srv, alice, roomId, 'after the sync');
  const fwd = await messages(srv, alice, roomId, { dir: 'f', from: s.next_batch });
  assert.deepEqual(bodies(fwd.json.chunk), ['after the sync']);
});

test('invites appear in rooms.invite with stripped state, then move to join', async () => {
  const roomId = await createRoom(srv, alice, { name: 'Invitation' });
  const before = await sync(srv, bob);
  await invite(srv, alice, roomId, bob.user_id);
  const s = await sync(srv, bob, { since: before.next_batch });
  const inv = s.rooms.invite[roomId];
  assert.ok(inv, JSON.stringify(s.rooms));
  const types = inv.invite_state.events.map((e) => e.type);
  for (const t of ['m.room.create', 'm.room.join_rules', 'm.room.name', 'm.room.member']) assert.ok(types.includes(t), t);
  const me = inv.invite_state.events.find((e) => e.type === 'm.room.member');
  assert.equal(me.state_key, bob.user_id);
  assert.equal(me.content.membership, 'invite');
  assert.equal(me.sender, alice.user_id);
  for (const e of inv.invite_state.events) assert.deepEqual(Object.keys(e).sort(), ['content', 'sender', 'state_key', 'type']);
  assert.equal(s.rooms.join[roomId], undefined);
  await join(srv, bob, roomId);
  const after = await sync(srv, bob, { since: s.next_batch });
  assert.equal(after.rooms.invite[roomId], undefined);
  const joined = after.rooms.join[roomId];
  assert.ok(joined);
  const all = [...joined.state.events, ...joined.timeline.events];
  assert.ok(all.some((e) => e.type === 'm.room.create'), 'a fresh join gives the full state');
});

test('a room left appears in rooms.leave of the next sync, with the leave event', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  const s = await sync(srv, bob);
  await leave(srv, bob, roomId);
  await sendMessage(srv, alice, roomId, 'bob is gone');
  const next = await sync(srv, bob, { since: s.next_batch });
  const left = next.rooms.leave[roomId];
  assert.ok(left, JSON.stringify(next.rooms));
  const last = left.timeline.events.at(-1);
  assert.equal(last.type, 'm.room.member');
  assert.equal(last.state_key, bob.user_id);
  assert.equal(last.content.membership, 'leave');
  assert.deepEqual(bodies(left.timeline.events), [], 'nothing after the leave');
  assert.equal(next.rooms.join[roomId], undefined);
  // A kick shows the same way.
  const kickRoom = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, kickRoom);
  const k = await sync(srv, bob);
  assert.equal((await roomPost(srv, alice, kickRoom, 'kick', { user_id: bob.user_id })).status, 200);
  assert.ok((await sync(srv, bob, { since: k.next_batch })).rooms.leave[kickRoom]);
});

test('the summary counts invited members and names heroes', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat', invite: [carol.user_id] });
  await join(srv, bob, roomId);
  const room = (await sync(srv, alice)).rooms.join[roomId];
  assert.equal(room.summary['m.joined_member_count'], 2);
  assert.equal(room.summary['m.invited_member_count'], 1);
  assert.deepEqual([...room.summary['m.heroes']].sort(), [bob.user_id, carol.user_id].sort());
  // The counts move with each membership (joined: kept per server; invited: an index of invites).
  await join(srv, carol, roomId);
  const after = (await sync(srv, alice)).rooms.join[roomId];
  assert.equal(after.summary['m.joined_member_count'], 3);
  assert.equal(after.summary['m.invited_member_count'], 0);
  assert.equal((await roomPost(srv, alice, roomId, 'invite', { user_id: dave.user_id })).status, 200);
  assert.equal((await roomPost(srv, bob, roomId, 'leave')).status, 200);
  const later = (await sync(srv, alice)).rooms.join[roomId];
  assert.equal(later.summary['m.joined_member_count'], 2);
  assert.equal(later.summary['m.invited_member_count'], 1);
});

// ---- filters ----------------------------------------------------------------

test('a filter is stored, read back, and used by id', async () => {
  const filter = { room: { timeline: { limit: 2, types: ['m.room.message'] } } };
  const res = await srv.fetch(`${V3}/user/${encodeURIComponent(alice.user_id)}/filter`, {
    method: 'POST', body: filter, token: alice.token,
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(typeof res.json.filter_id, 'string');
  assert.ok(!res.json.filter_id.startsWith('{'));
  const got = await srv.fetch(`${V3}/user/${encodeURIComponent(alice.user_id)}/filter/${res.json.filter_id}`, { token: alice.token });
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, filter);

  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  for (let i = 0; i < 4; i++) await sendMessage(srv, alice, roomId, `f${i}`);
  const s = await sync(srv, alice, { filter: res.json.filter_id });
  const room = s.rooms.join[roomId];
  assert.deepEqual(room.timeline.events.map((e) => e.content.body), ['f2', 'f3']);
  assert.equal(room.timeline.limited, true);
});

test("another user's filter cannot be created or read", async () => {
  const res = await srv.fetch(`${V3}/user/${encodeURIComponent(alice.user_id)}/filter`, {
    method: 'POST', body: {}, token: alice.token,
  });
  const path = `${V3}/user/${encodeURIComponent(alice.user_id)}/filter/${res.json.filter_id}`;
  assertError(await srv.fetch(path, { token: bob.token }), 403, 'M_FORBIDDEN');
  const bobPath = `${V3}/user/${encodeURIComponent(bob.user_id)}/filter/${res.json.filter_id}`;
  assertError(await srv.fetch(bobPath, { token: bob.token }), 404, 'M_NOT_FOUND');
  assertError(await srv.fetch(`${V3}/user/${encodeURIComponent(alice.user_id)}/filter`, {
    method: 'POST', body: {}, token: bob.token,
  }), 403, 'M_FORBIDDEN');
  // Bob cannot use alice's filter id in his sync either.
  assertError(await syncRaw(srv, bob, { filter: res.json.filter_id }), 404, 'M_NOT_FOUND');
});

test('bad filters are refused', async () => {
  const path = `${V3}/user/${encodeURIComponent(alice.user_id)}/filter`;
  for (const body of [
    { room: { timeline: { limit: 'ten' } } }, { room: { rooms: 'x' } }, { room: [] },
    { presence: { types: [1] } }, { room: { state: { lazy_load_members: 'yes' } } },
  ])
    assertError(await srv.fetch(path, { method: 'POST', body, token: alice.token }), 400, 'M_BAD_JSON');
  assertError(await srv.fetch(path, { method: 'POST', body: '[]', token: alice.token }), 400, 'M_BAD_JSON');
  assertError(await srv.fetch(`${path}/abc`, { token: alice.token }), 404, 'M_NOT_FOUND');
  assertError(await srv.fetch(`${path}/123456`, { token: alice.token }), 404, 'M_NOT_FOUND');
  assertError(await syncRaw(srv, alice, { filter: '{"room":' }), 400, 'M_BAD_JSON');
  assertError(await syncRaw(srv, alice, { filter: 'nope' }), 400, 'M_INVALID_PARAM');
});

test('an inline JSON filter works: timeline limit, types, rooms', async () => {
  const a = await createRoom(srv, alice, { preset: 'public_chat' });
  const b = await createRoom(srv, alice, { preset: 'public_chat' });
  for (let i = 0; i < 5; i++) await sendMessage(srv, alice, a, `a${i}`);
  await setState(srv, alice, a, 'm.room.topic', '', { topic: 'filtered out' });
  const s = await sync(srv, alice, { filter: { room: { rooms: [a], timeline: { limit: 3, types: ['m.room.message'] } } } });
  assert.deepEqual(Object.keys(s.rooms.join), [a]);
  assert.equal(s.rooms.join[b], undefined);
  const room = s.rooms.join[a];
  assert.deepEqual(room.timeline.events.map((e) => e.content.body), ['a2', 'a3', 'a4']);
  assert.equal(room.timeline.limited, true);
  const notRooms = await sync(srv, alice, { filter: { room: { not_rooms: [a] } } });
  assert.equal(notRooms.rooms.join[a], undefined);
  assert.ok(notRooms.rooms.join[b]);
});

test('lazy_load_members in the state filter keeps only the members the timeline needs', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  await join(srv, carol, roomId);
  for (let i = 0; i < 5; i++) await sendMessage(srv, bob, roomId, `b${i}`);
  const s = await sync(srv, alice, {
    filter: { room: { rooms: [roomId], timeline: { limit: 2 }, state: { lazy_load_members: true } } },
  });
  const members = s.rooms.join[roomId].state.events.filter((e) => e.type === 'm.room.member').map((e) => e.state_key);
  assert.ok(members.includes(bob.user_id));
  assert.ok(members.includes(alice.user_id), 'the syncing user is always included');
  assert.ok(!members.includes(carol.user_id), 'carol sent nothing in the timeline');
  const full = await sync(srv, alice, { filter: { room: { rooms: [roomId], timeline: { limit: 2 } } } });
  const allMembers = full.rooms.join[roomId].state.events.filter((e) => e.type === 'm.room.member');
  assert.equal(allMembers.length, 3);
});

test('lazy-loaded members leave every other state event in place, and a member\'s is the one in force', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat', name: 'lazy' });
  await join(srv, bob, roomId);
  await join(srv, carol, roomId);
  // Types that sort before and after m.room.member, and a member event that changed.
  await setState(srv, alice, roomId, 'a.before.members', '', { n: 1 });
  await setState(srv, alice, roomId, 'z.after.members', 'k', { n: 2 });
  const bm = (await srv.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.member/${seg(bob.user_id)}`, { token: bob.token })).json;
  await setState(srv, bob, roomId, 'm.room.member', bob.user_id, { ...bm, displayname: 'Bob Lazy' });
  for (let i = 0; i < 3; i++) await sendMessage(srv, bob, roomId, `b${i}`);
  const timeline = { limit: 2 };
  const lazy = await sync(srv, alice, { filter: { room: { rooms: [roomId], timeline, state: { lazy_load_members: true } } } });
  const full = await sync(srv, alice, { filter: { room: { rooms: [roomId], timeline } } });
  const others = (s) => s.rooms.join[roomId].state.events.filter((e) => e.type !== 'm.room.member')
    .map((e) => e.event_id).sort();
  assert.deepEqual(others(lazy), others(full));
  assert.ok(others(lazy).length >= 6, 'create, power levels, join rules, history visibility, name, the two above');
  const members = lazy.rooms.join[roomId].state.events.filter((e) => e.type === 'm.room.member');
  assert.deepEqual(members.map((e) => e.state_key).sort(), [alice.user_id, bob.user_id].sort());
  assert.equal(members.find((e) => e.state_key === bob.user_id).content.displayname, 'Bob Lazy');
});

test('bad sync parameters are 400 and a huge timeout is bounded', async () => {
  assertError(await syncRaw(srv, alice, { since: 'yesterday' }), 400, 'M_INVALID_PARAM');
  assertError(await syncRaw(srv, alice, { timeout: '-5' }), 400, 'M_INVALID_PARAM');
  assertError(await syncRaw(srv, alice, { timeout: 'soon' }), 400, 'M_INVALID_PARAM');
  assertError(await syncRaw(srv, alice, { set_presence: 'dancing' }), 400, 'M_INVALID_PARAM');
  // A huge timeout on an initial sync answers at once.
  const s = await syncRaw(srv, alice, { timeout: '99999999999' });
  assert.equal(s.status, 200);
});

test('full_state gives the whole state on an incremental sync', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  const s = await sync(srv, alice);
  await sendMessage(srv, alice, roomId, 'x');
  const inc = await sync(srv, alice, { since: s.next_batch, full_state: 'true' });
  const room = inc.rooms.join[roomId];
  const all = [...room.state.events, ...room.timeline.events].map((e) => e.type);
  assert.ok(all.includes('m.room.create'));
  assert.ok(all.includes('m.room.power_levels'));
});

// ---- long-polling -----------------------------------------------------------

test('two users see each other\'s messages through long-polling sync', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  const a0 = await sync(srv, alice);
  const b0 = await sync(srv, bob);

  // Bob waits; alice speaks; bob's sync wakes well before its timeout.
  const t0 = Date.now();
  const bobWaits = sync(srv, bob, { since: b0.next_batch, timeout: 10000 });
  await sleep(200);
  await sendMessage(srv, alice, roomId, 'hi bob');
  const b1 = await bobWaits;
  const took = Date.now() - t0;
  assert.ok(took < 200 + WAKE_BUDGET_MS, `bob's sync returned after ${took} ms`);
  assert.deepEqual(bodies(b1.rooms.join[roomId].timeline.events), ['hi bob']);

  // And the other way round.
  const t1 = Date.now();
  const aliceWaits = sync(srv, alice, { since: a0.next_batch, timeout: 10000 });
  // Alice's token predates her own message: she gets it at once.
  const a1 = await aliceWaits;
  assert.deepEqual(bodies(a1.rooms.join[roomId].timeline.events), ['hi bob']);
  const aliceWaitsAgain = sync(srv, alice, { since: a1.next_batch, timeout: 10000 });
  await sleep(200);
  await sendMessage(srv, bob, roomId, 'hi alice');
  const a2 = await aliceWaitsAgain;
  assert.ok(Date.now() - t1 < 200 + WAKE_BUDGET_MS);
  assert.deepEqual(bodies(a2.rooms.join[roomId].timeline.events), ['hi alice']);
  assert.equal(a2.rooms.join[roomId].timeline.events[0].sender, bob.user_id);
});

test('a long-poll with nothing new returns empty at its deadline', async () => {
  await createRoom(srv, alice, { preset: 'public_chat' });
  const s = await sync(srv, alice);
  const timeout = 1000;
  const t0 = Date.now();
  const res = await sync(srv, alice, { since: s.next_batch, timeout });
  const took = Date.now() - t0;
  assert.ok(took >= timeout, `returned after ${took} ms, before its ${timeout} ms timeout`);
  assert.ok(took < timeout + WAKE_BUDGET_MS + 1000, `returned after ${took} ms`);
  assert.deepEqual(res.rooms.join, {});
  assert.deepEqual(res.rooms.invite, {});
  assert.deepEqual(res.rooms.leave, {});
  assert.equal(typeof res.next_batch, 'string');
});

test("a long-poll is not woken by news in rooms it cannot see", async () => {
  const carolsRoom = await createRoom(srv, carol, { preset: 'private_chat' });
  const s = await sync(srv, bob);
  const timeout = 1200;
  const t0 = Date.now();
  const waiting = sync(srv, bob, { since: s.next_batch, timeout });
  await sleep(150);
  await sendMessage(srv, carol, carolsRoom, 'not for bob');
  const res = await waiting;
  const took = Date.now() - t0;
  assert.ok(took >= timeout, `returned after ${took} ms`);
  assert.deepEqual(res.rooms.join, {});
});

test('a long-poll wakes for an invite', async () => {
  const s = await sync(srv, carol);
  const t0 = Date.now();
  const waiting = sync(srv, carol, { since: s.next_batch, timeout: 10000 });
  await sleep(150);
  const roomId = await createRoom(srv, alice, { invite: [carol.user_id] });
  const res = await waiting;
  assert.ok(Date.now() - t0 < 150 + WAKE_BUDGET_MS);
  assert.ok(res.rooms.invite[roomId]);
});

test('a timeout of 0 answers at once even with nothing new', async () => {
  const s = await sync(srv, alice);
  const t0 = Date.now();
  const res = await sync(srv, alice, { since: s.next_batch, timeout: 0 });
  assert.ok(Date.now() - t0 < WAKE_BUDGET_MS);
  assert.deepEqual(res.rooms.join, {});
});

test('a long-poll wakes when the user is kicked', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, carol, roomId);
  const s = await sync(srv, carol);
  const t0 = Date.now();
  const waiting = sync(srv, carol, { since: s.next_batch, timeout: 10000 });
  await sleep(150);
  assert.equal((await roomPost(srv, alice, roomId, 'kick', { user_id: carol.user_id })).status, 200);
  const res = await waiting;
  assert.ok(Date.now() - t0 < 150 + WAKE_BUDGET_MS);
  assert.ok(res.rooms.leave[roomId], JSON.stringify(res.rooms));
  const last = res.rooms.leave[roomId].timeline.events.at(-1);
  assert.equal(last.content.membership, 'leave');
  assert.equal(last.sender, alice.user_id);
});
