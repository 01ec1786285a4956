// sync_news.test.mjs -- an incremental /sync of a user in 300 rooms shows
// exactly the rooms that changed, whatever kind the change was.
//
// An incremental sync asks the store once which rooms have anything after
// its token (src/store/room_news.c) and looks only at those: a kind of
// change that question missed would be a change the reader never sees.
// Each kind arrives in one of 300 rooms while the reader's sync is parked:
// the parked sync must wake for it and show that room alone, and so must a
// sync that does not wait. The store answers by walking positions when the
// token is recent and room by room when it is old (more positions than a
// few per room): a second reader-side token, taken before thousands of
// positions of noise elsewhere, checks the second way, by the union of the
// rooms changed so far.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { UNDO_STREAM_INDEXES } from './lib/schema.mjs';
import { SANITIZED, startServer } from './lib/server.mjs';
import { V3, createRoom, join, leave, login, register, seg, sendMessage, setState, sync } from './lib/matrix.mjs';
import { ephemeral, receipt, timed, typing } from './lib/rest.mjs';

const ROOMS = 300;
// More positions than the walk by position is used for (8 per joined room).
const NOISE = 8 * ROOMS + 100;
const PARK_MS = 30000;
const WAKE_BUDGET_MS = SANITIZED ? 10000 : 5000;

let srv, many, other, third, noise, manyElsewhere, quiet;
const rooms = [];
let since; // the reader's latest token
let oldSince; // a token from before the noise: the store answers room by room
const changed = new Set(); // every room changed after oldSince (joined still)
const left = new Set(); // rooms the reader left after oldSince

before(async () => {
  srv = await startServer({ args: ['--no-rate-limit', '--weak-password-hashing'] });
  many = await register(srv, 'many');
  other = await register(srv, 'other');
  third = await register(srv, 'third');
  noise = await register(srv, 'noise');
  manyElsewhere = await login(srv, many.user_id, many.password); // the reader on a second device
  for (let i = 0; i < ROOMS; i++) {
    const id = await createRoom(srv, other, { preset: 'public_chat', name: `room ${i}` });
    await join(srv, many, id);
    rooms.push(id);
  }
  await sendMessage(srv, other, rooms[0], 'before the first sync');
  since = (await sync(srv, many)).next_batch;
  oldSince = since;
  // Noise the reader has no part in moves the stream far past oldSince.
  quiet = await createRoom(srv, noise, { preset: 'private_chat' });
  for (let i = 0; i < NOISE; i++) await sendMessage(srv, noise, quiet, `noise ${i}`);
  since = (await sync(srv, many, { since })).next_batch;
});
after(() => srv?.stop());

// The reader's sync, parked from `since`, woken by act(): it must show
// room (joined, or left when `leaving`) and nothing else in rooms; so must
// a sync from the same token that does not wait. Returns the room's entry.
async function onlyRoomChanged(room, act, { leaving = false } = {}) {
  const from = since;
  const waiting = timed(sync(srv, many, { since: from, timeout: PARK_MS }));
  await new Promise((r) => setTimeout(r, 100));
  // A write the reader has no part in first: in more rooms than a parked
  // sync may name, it wakes the sync, which must find nothing and wait on.
  await sendMessage(srv, noise, quiet, 'not news');
  await new Promise((r) => setTimeout(r, 50));
  await act();
  const { value: woken, ms } = await waiting;
  assert.ok(ms < WAKE_BUDGET_MS, `the parked sync woke (after ${ms} ms)`);
  const at_once = await sync(srv, many, { since: from, timeout: 0 });
  for (const res of [woken, at_once]) {
    assert.deepEqual(Object.keys(res.rooms.join), leaving ? [] : [room], 'joined rooms shown');
    assert.deepEqual(Object.keys(res.rooms.leave), leaving ? [room] : [], 'left rooms shown');
    assert.deepEqual(Object.keys(res.rooms.invite), []);
  }
  since = at_once.next_batch;
  (leaving ? left : changed).add(room);
  if (leaving) changed.delete(room);
  // From the old token, room by room: the union of the rooms changed so far.
  const all = await sync(srv, many, { since: oldSince, timeout: 0 });
  assert.deepEqual(new Set(Object.keys(all.rooms.join)), changed, 'joined rooms shown from the old token');
  assert.deepEqual(new Set(Object.keys(all.rooms.leave)), left, 'left rooms shown from the old token');
  return (leaving ? at_once.rooms.leave : at_once.rooms.join)[room];
}

const put = (who, path, body) => srv.fetch(`${V3}${path}`, { method: 'PUT', token: who.token, body });
const bodies = (entry) => entry.timeline.events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);

test('a message', async () => {
  const entry = await onlyRoomChanged(rooms[17], () => sendMessage(srv, other, rooms[17], 'news'));
  assert.deepEqual(bodies(entry), ['news']);
  assert.equal(entry.unread_notifications.notification_count, 1);
});

test('a state change', async () => {
  const entry = await onlyRoomChanged(rooms[42],
    () => setState(srv, other, rooms[42], 'm.room.topic', '', { topic: 'a new topic' }));
  const topic = entry.timeline.events.find((e) => e.type === 'm.room.topic');
  assert.equal(topic?.content.topic, 'a new topic');
});

test('another member\'s receipt', async () => {
  const event = await sendMessage(srv, many, rooms[99], 'read me');
  since = (await sync(srv, many, { since })).next_batch;
  changed.add(rooms[99]);
  const entry = await onlyRoomChanged(rooms[99], () => receipt(srv, other, rooms[99], event));
  assert.deepEqual(entry.timeline.events, []);
  const receipts = ephemeral(entry, 'm.receipt');
  assert.ok(receipts.content[event]['m.read'][other.user_id], 'the receipt is shown');
});

test('typing', async () => {
  const entry = await onlyRoomChanged(rooms[150], () => typing(srv, other, rooms[150], true, 30000));
  assert.deepEqual(ephemeral(entry, 'm.typing').content.user_ids, [other.user_id]);
  const stopped = await onlyRoomChanged(rooms[150], () => typing(srv, other, rooms[150], false));
  assert.deepEqual(ephemeral(stopped, 'm.typing').content.user_ids, []);
});

test('a room tag and room account data', async () => {
  const tagged = await onlyRoomChanged(rooms[201], async () => {
    const res = await put(many, `/user/${seg(many.user_id)}/rooms/${seg(rooms[201])}/tags/u.work`, { order: 0.5 });
    assert.equal(res.status, 200, res.text);
  });
  const tag = tagged.account_data.events.find((e) => e.type === 'm.tag');
  assert.deepEqual(tag?.content, { tags: { 'u.work': { order: 0.5 } } });
  const data = await onlyRoomChanged(rooms[202], async () => {
    const res = await put(manyElsewhere, `/user/${seg(many.user_id)}/rooms/${seg(rooms[202])}/account_data/org.example.note`,
      { note: 'kept' });
    assert.equal(res.status, 200, res.text);
  });
  assert.deepEqual(data.account_data.events.find((e) => e.type === 'org.example.note')?.content, { note: 'kept' });
});

test('an unread count moved by the reader\'s private receipt on another device', async () => {
  const unread = await sendMessage(srv, other, rooms[250], 'unread');
  since = (await sync(srv, many, { since })).next_batch;
  changed.add(rooms[250]);
  // Not in room 250 but in room 17 (its count of 1 stays): only 250 moves.
  const entry = await onlyRoomChanged(rooms[250],
    () => receipt(srv, manyElsewhere, rooms[250], unread, 'm.read.private'));
  assert.equal(entry.unread_notifications.notification_count, 0);
  assert.ok(ephemeral(entry, 'm.receipt').content[unread]['m.read.private'][many.user_id]);
  const whole = await sync(srv, many);
  assert.equal(whole.rooms.join[rooms[17]].unread_notifications.notification_count, 1);
  assert.equal(whole.rooms.join[rooms[250]].unread_notifications.notification_count, 0);
});

test('another user\'s private receipt is nobody else\'s news', async () => {
  const event = await sendMessage(srv, many, rooms[260], 'mine');
  changed.add(rooms[260]);
  since = (await sync(srv, many, { since })).next_batch;
  await receipt(srv, other, rooms[260], event, 'm.read.private');
  const res = await sync(srv, many, { since, timeout: 0 });
  assert.deepEqual(Object.keys(res.rooms.join), []);
  since = res.next_batch;
});

test('a membership change of another user', async () => {
  const entry = await onlyRoomChanged(rooms[77], () => join(srv, third, rooms[77]));
  const member = entry.timeline.events.find((e) => e.type === 'm.room.member');
  assert.equal(member?.state_key, third.user_id);
  assert.equal(member.content.membership, 'join');
  assert.equal(entry.summary['m.joined_member_count'], 3);
});

// Device lists follow memberships: found by position in a short window,
// room by room in a long one (src/store/keys.c).
test('device lists: a user who newly shares a room, then shares none', async () => {
  const from = since;
  await sendMessage(srv, third, rooms[77], 'hello from third');
  const lists = async (token) => (await sync(srv, many, { since: token, timeout: 0 })).device_lists;
  assert.deepEqual((await lists(oldSince)).changed, [third.user_id], 'joined since the old token');
  assert.deepEqual((await lists(from)).changed, [], 'nothing moved since the recent token');
  const beforeLeave = (await sync(srv, many, { since })).next_batch;
  await leave(srv, third, rooms[77]);
  const recent = await lists(beforeLeave);
  assert.deepEqual(recent.left, [third.user_id]);
  assert.deepEqual(recent.changed, []);
  const long = await lists(oldSince);
  assert.deepEqual(long.left, [third.user_id], 'left since the old token');
  assert.deepEqual(long.changed, []);
  since = (await sync(srv, many, { since })).next_batch;
});

test('a room joined, then a room left', async () => {
  const fresh = await createRoom(srv, other, { preset: 'public_chat', name: 'the new one' });
  since = (await sync(srv, many, { since })).next_batch;
  const entry = await onlyRoomChanged(fresh, () => join(srv, many, fresh));
  assert.ok(entry.state.events.some((e) => e.type === 'm.room.name' && e.content.name === 'the new one')
    || entry.timeline.events.some((e) => e.type === 'm.room.name'), 'a new room comes with its state');
  const gone = await onlyRoomChanged(rooms[123], () => leave(srv, many, rooms[123]), { leaving: true });
  const own = gone.timeline.events.find((e) => e.type === 'm.room.member' && e.state_key === many.user_id);
  assert.equal(own?.content.membership, 'leave');
});

test('a room the reader was made to leave', async () => {
  const res = await srv.fetch(`${V3}/rooms/${seg(rooms[222])}/kick`,
    { method: 'POST', token: other.token, body: { user_id: many.user_id, reason: 'test' } });
  assert.equal(res.status, 200, res.text);
  // (Kicked between syncs: the parked sync is not needed to see it.)
  const after = await sync(srv, many, { since, timeout: 0 });
  assert.deepEqual(Object.keys(after.rooms.join), []);
  assert.deepEqual(Object.keys(after.rooms.leave), [rooms[222]]);
  since = after.next_batch;
  left.add(rooms[222]);
  changed.delete(rooms[222]);
  const all = await sync(srv, many, { since: oldSince, timeout: 0 });
  assert.deepEqual(new Set(Object.keys(all.rooms.leave)), left);
  assert.deepEqual(new Set(Object.keys(all.rooms.join)), changed);
});

// Migration 17 (the streams' indexes) on a database an older hometab left:
// it opens, gains the indexes, and syncs from a token given out before.
test('a database from before migration 17', async () => {
  const first = await startServer({ args: ['--no-rate-limit', '--weak-password-hashing'] });
  const a = await register(first, 'a');
  const b = await register(first, 'b');
  const rooms3 = [];
  for (let i = 0; i < 3; i++) {
    rooms3.push(await createRoom(first, b, { preset: 'public_chat' }));
    await join(first, a, rooms3[i]);
  }
  const token = (await sync(first, a)).next_batch;
  await first.stop({ keepFiles: true });
  const sql = (text) => execFileSync('sqlite3', [first.db, text]).toString().trim();
  const latest = sql('PRAGMA user_version');
  sql(`${UNDO_STREAM_INDEXES} PRAGMA user_version = 16;`);
  const indexes = "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = 'index' "
    + "AND name IN ('receipts_stream', 'typing_changes_stream', 'room_state_log_stream', 'memberships_stream', "
    + "'memberships_user_stream', 'memberships_user') ORDER BY name)";
  assert.equal(sql(indexes), 'memberships_user');
  const second = await startServer({ args: ['--no-rate-limit'], db: first.db });
  try {
    assert.equal(sql('PRAGMA user_version'), latest);
    assert.equal(sql(indexes),
      'memberships_stream memberships_user_stream receipts_stream room_state_log_stream typing_changes_stream');
    await sendMessage(second, b, rooms3[1], 'after the upgrade');
    const res = await sync(second, a, { since: token, timeout: 0 });
    assert.deepEqual(Object.keys(res.rooms.join), [rooms3[1]]);
    assert.deepEqual(bodies(res.rooms.join[rooms3[1]]), ['after the upgrade']);
  } finally {
    await second.stop();
    rmSync(first.dir, { recursive: true, force: true });
  }
});
