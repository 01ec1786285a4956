// messages.test.mjs -- GET /rooms/{roomId}/messages: direction, tokens,
// limits, filters, pagination without gaps, and history visibility.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import {
  assertError, createRoom, history, invite, join, leave, messages, register, sendMessage, setState,
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

async function roomWithMessages(n, { preset = 'public_chat', members = [] } = {}) {
  const roomId = await createRoom(srv, alice, { preset });
  for (const m of members) await join(srv, m, roomId);
  const ids = [];
  for (let i = 0; i < n; i++) ids.push(await sendMessage(srv, alice, roomId, `msg ${i}`));
  return { roomId, ids };
}

const ids = (chunk) => chunk.map((e) => e.event_id);
const bodies = (chunk) => chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);

test('dir=b returns the newest events first; dir=f the oldest first', async () => {
  const { roomId, ids: sent } = await roomWithMessages(5);
  const back = await messages(srv, alice, roomId, { dir: 'b', limit: 3 });
  assert.equal(back.status, 200, back.text);
  assert.deepEqual(ids(back.json.chunk), [sent[4], sent[3], sent[2]]);
  assert.equal(typeof back.json.start, 'string');
  assert.equal(typeof back.json.end, 'string');
  const fwd = await messages(srv, alice, roomId, { dir: 'f', limit: 3 });
  assert.equal(fwd.status, 200, fwd.text);
  assert.deepEqual(fwd.json.chunk.map((e) => e.type), ['m.room.create', 'm.room.member', 'm.room.power_levels']);
  for (const e of back.json.chunk) assert.equal(e.room_id, roomId);
});

test('end continues where the page stopped, and start is the from token', async () => {
  const { roomId, ids: sent } = await roomWithMessages(6);
  const p1 = await messages(srv, alice, roomId, { dir: 'b', limit: 2 });
  const p2 = await messages(srv, alice, roomId, { dir: 'b', limit: 2, from: p1.json.end });
  assert.equal(p2.json.start, p1.json.end);
  assert.deepEqual(ids(p2.json.chunk), [sent[3], sent[2]]);
  // Forward from p2's end gives back the events p2 and p1 returned, in order.
  const f = await messages(srv, alice, roomId, { dir: 'f', limit: 4, from: p2.json.end });
  assert.deepEqual(ids(f.json.chunk), [sent[2], sent[3], sent[4], sent[5]]);
});

test('to stops the page at a token', async () => {
  const { roomId, ids: sent } = await roomWithMessages(6);
  const head = await messages(srv, alice, roomId, { dir: 'b', limit: 1 });
  const mid = await messages(srv, alice, roomId, { dir: 'b', limit: 3, from: head.json.end });
  // mid.end stands before sent[2]: walking back from the newest to there gives sent[5..2].
  const res = await messages(srv, alice, roomId, { dir: 'b', limit: 50, to: mid.json.end });
  assert.deepEqual(ids(res.json.chunk), [sent[5], sent[4], sent[3], sent[2]]);
  const fwd = await messages(srv, alice, roomId, { dir: 'f', limit: 50, from: mid.json.end, to: head.json.end });
  assert.deepEqual(ids(fwd.json.chunk), [sent[2], sent[3], sent[4]]);
});

test('walking back to the creation and forward again has no gaps and no duplicates', async () => {
  const { roomId } = await roomWithMessages(23, { members: [bob] });
  await setState(srv, alice, roomId, 'm.room.topic', '', { topic: 'mid-way' });
  for (let i = 0; i < 4; i++) await sendMessage(srv, bob, roomId, `bob ${i}`);

  const backward = [];
  let from;
  for (;;) {
    const res = await messages(srv, bob, roomId, { dir: 'b', limit: 7, ...(from ? { from } : {}) });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.chunk.length <= 7);
    backward.push(...res.json.chunk);
    if (!res.json.end) break;
    assert.ok(res.json.chunk.length > 0, 'a page with an end is not empty');
    from = res.json.end;
  }
  const oldestFirst = ids(backward).reverse();
  assert.equal(new Set(oldestFirst).size, oldestFirst.length, 'no duplicates walking back');
  assert.equal(backward.at(-1).type, 'm.room.create', 'the walk reaches the creation');
  const expected = [...bodies(backward)].reverse();
  assert.deepEqual(expected.slice(-4), ['bob 0', 'bob 1', 'bob 2', 'bob 3']);
  assert.equal(expected.length, 27);

  const forward = [];
  from = undefined;
  for (;;) {
    const res = await messages(srv, bob, roomId, { dir: 'f', limit: 5, ...(from ? { from } : {}) });
    assert.equal(res.status, 200, res.text);
    forward.push(...res.json.chunk);
    if (!res.json.end) break;
    from = res.json.end;
  }
  assert.deepEqual(ids(forward), oldestFirst, 'forward is backward reversed');
  // Depth only grows along the way.
  const ts = forward.map((e) => e.origin_server_ts);
  for (let i = 1; i < ts.length; i++) assert.ok(ts[i] >= ts[i - 1]);
});

test('a huge limit is bounded and still answers; bad limits and tokens are 400', async () => {
  const { roomId } = await roomWithMessages(3);
  const huge = await messages(srv, alice, roomId, { dir: 'b', limit: 10000000000 });
  assert.equal(huge.status, 200, huge.text);
  assert.ok(huge.json.chunk.length <= 1000);
  assert.equal(bodies(huge.json.chunk).length, 3);
  for (const limit of ['-1', 'ten', '1e3', ''])
    assertError(await messages(srv, alice, roomId, { dir: 'b', limit }), 400, 'M_INVALID_PARAM');
  // s-N is a real token (history fetched from other servers lies below 1).
  for (const from of ['garbage', 's--1', 's-', 's', 'sx'])
    assertError(await messages(srv, alice, roomId, { dir: 'b', from }), 400, 'M_INVALID_PARAM');
  assertError(await messages(srv, alice, roomId, { dir: 'sideways' }), 400, 'M_INVALID_PARAM');
  assertError(await messages(srv, alice, roomId, {}), 400, 'M_INVALID_PARAM');
});

test('a default page holds 10 events', async () => {
  const { roomId } = await roomWithMessages(15);
  const res = await messages(srv, alice, roomId, { dir: 'b' });
  assert.equal(res.json.chunk.length, 10);
});

test('filter types and not_types select event types', async () => {
  const { roomId } = await roomWithMessages(3);
  await setState(srv, alice, roomId, 'm.room.topic', '', { topic: 't' });
  const only = await messages(srv, alice, roomId, { dir: 'b', limit: 50, filter: { types: ['m.room.message'] } });
  assert.equal(only.status, 200, only.text);
  assert.deepEqual([...new Set(only.json.chunk.map((e) => e.type))], ['m.room.message']);
  assert.equal(only.json.chunk.length, 3);
  const wildcard = await messages(srv, alice, roomId, { dir: 'b', limit: 50, filter: { types: ['m.room.*'] } });
  assert.equal(wildcard.json.chunk.length, (await history(srv, alice, roomId)).length);
  const without = await messages(srv, alice, roomId, { dir: 'b', limit: 50, filter: { not_types: ['m.room.message', 'm.room.member'] } });
  assert.ok(without.json.chunk.length > 0);
  for (const e of without.json.chunk) assert.ok(!['m.room.message', 'm.room.member'].includes(e.type), e.type);
});

test('filter senders selects senders', async () => {
  const { roomId } = await roomWithMessages(2, { members: [bob] });
  await sendMessage(srv, bob, roomId, 'from bob');
  const res = await messages(srv, alice, roomId, { dir: 'b', limit: 50, filter: { senders: [bob.user_id] } });
  assert.ok(res.json.chunk.length > 0);
  for (const e of res.json.chunk) assert.equal(e.sender, bob.user_id);
  assert.deepEqual(bodies(res.json.chunk), ['from bob']);
  const notBob = await messages(srv, alice, roomId, { dir: 'b', limit: 50, filter: { not_senders: [bob.user_id] } });
  for (const e of notBob.json.chunk) assert.notEqual(e.sender, bob.user_id);
});

test('a filter limit bounds the page', async () => {
  const { roomId } = await roomWithMessages(5);
  const res = await messages(srv, alice, roomId, { dir: 'b', limit: 50, filter: { limit: 2 } });
  assert.equal(res.json.chunk.length, 2);
});

test('lazy_load_members puts the senders\' member events in state', async () => {
  const { roomId } = await roomWithMessages(1, { members: [bob, carol] });
  await sendMessage(srv, bob, roomId, 'hi from bob');
  const res = await messages(srv, carol, roomId, {
    dir: 'b', limit: 1, filter: { lazy_load_members: true, types: ['m.room.message'] },
  });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(bodies(res.json.chunk), ['hi from bob']);
  const members = res.json.state.filter((e) => e.type === 'm.room.member').map((e) => e.state_key);
  assert.ok(members.includes(bob.user_id), 'the sender\'s member event');
  assert.ok(!members.includes(alice.user_id), 'not members who sent nothing on the page');
  const plain = await messages(srv, carol, roomId, { dir: 'b', limit: 1 });
  assert.deepEqual(plain.json.state ?? [], []);
});

test('a bad filter is refused', async () => {
  const { roomId } = await roomWithMessages(1);
  for (const filter of ['{not json', '{"types":"m.room.message"}', '{"limit":"ten"}', 'abc'])
    assert.equal((await messages(srv, alice, roomId, { dir: 'b', filter })).status, 400, filter);
  assertError(await messages(srv, alice, roomId, { dir: 'b', filter: '999999' }), 404, 'M_NOT_FOUND');
});

test('messages of a room one was never in is 403; of an unknown room 404', async () => {
  const { roomId } = await roomWithMessages(1, { preset: 'private_chat' });
  assertError(await messages(srv, bob, roomId, { dir: 'b' }), 403, 'M_FORBIDDEN');
  assertError(await messages(srv, bob, '!unknown:localhost', { dir: 'b' }), 404, 'M_NOT_FOUND');
  assertError(await messages(srv, bob, 'bogus', { dir: 'b' }), 400, 'M_INVALID_PARAM');
});

test('with joined history visibility a later joiner does not see earlier messages', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await setState(srv, alice, roomId, 'm.room.history_visibility', '', { history_visibility: 'joined' });
  await sendMessage(srv, alice, roomId, 'before bob');
  await join(srv, bob, roomId);
  await sendMessage(srv, alice, roomId, 'after bob');
  const seen = bodies(await history(srv, bob, roomId));
  assert.deepEqual(seen, ['after bob']);
  const res = await messages(srv, bob, roomId, { dir: 'f', limit: 100 });
  assert.deepEqual(bodies(res.json.chunk), ['after bob']);
  assert.deepEqual(bodies(await history(srv, alice, roomId)), ['before bob', 'after bob']);
});

test('with shared history visibility a later joiner sees earlier messages', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await sendMessage(srv, alice, roomId, 'before bob');
  await join(srv, bob, roomId);
  await sendMessage(srv, alice, roomId, 'after bob');
  assert.deepEqual(bodies(await history(srv, bob, roomId)), ['before bob', 'after bob']);
});

test('with invited history visibility an invitee sees from the invite on', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'private_chat' });
  await setState(srv, alice, roomId, 'm.room.history_visibility', '', { history_visibility: 'invited' });
  await sendMessage(srv, alice, roomId, 'before invite');
  await invite(srv, alice, roomId, bob.user_id);
  await sendMessage(srv, alice, roomId, 'after invite');
  await join(srv, bob, roomId);
  await sendMessage(srv, alice, roomId, 'after join');
  assert.deepEqual(bodies(await history(srv, bob, roomId)), ['after invite', 'after join']);
});

test('a user who left sees nothing sent after they left', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  await sendMessage(srv, alice, roomId, 'while bob is here');
  await leave(srv, bob, roomId);
  await sendMessage(srv, alice, roomId, 'after bob left');
  const seen = bodies(await history(srv, bob, roomId));
  assert.deepEqual(seen, ['while bob is here']);
  const fwd = await messages(srv, bob, roomId, { dir: 'f', limit: 100 });
  assert.deepEqual(bodies(fwd.json.chunk), ['while bob is here']);
  // A from token past the leave is clamped to it.
  const latest = await messages(srv, alice, roomId, { dir: 'b', limit: 1 });
  const fromLater = await messages(srv, bob, roomId, { dir: 'b', limit: 100, from: latest.json.start });
  assert.deepEqual(bodies(fromLater.json.chunk), ['while bob is here']);
});

test('world_readable history is readable by anyone, even without joining', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await setState(srv, alice, roomId, 'm.room.history_visibility', '', { history_visibility: 'world_readable' });
  await sendMessage(srv, alice, roomId, 'for everyone');
  const res = await messages(srv, carol, roomId, { dir: 'b', limit: 10 });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(bodies(res.json.chunk), ['for everyone']);
});

test('a user sees their own leave event, even with joined history visibility', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await setState(srv, alice, roomId, 'm.room.history_visibility', '', { history_visibility: 'joined' });
  await sendMessage(srv, alice, roomId, 'before bob');
  await join(srv, bob, roomId);
  await sendMessage(srv, alice, roomId, 'bob is here');
  await leave(srv, bob, roomId);
  await sendMessage(srv, alice, roomId, 'after bob');
  const seen = await history(srv, bob, roomId);
  assert.deepEqual(bodies(seen), ['bob is here']);
  const last = seen.at(-1);
  assert.equal(last.type, 'm.room.member');
  assert.equal(last.state_key, bob.user_id);
  assert.equal(last.content.membership, 'leave');
});

test('with shared history a member who left and came back sees what was said meanwhile', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  await leave(srv, bob, roomId);
  await sendMessage(srv, alice, roomId, 'while bob was away');
  await join(srv, bob, roomId);
  assert.deepEqual(bodies(await history(srv, bob, roomId)), ['while bob was away']);
});

test('a history visibility change is visible when the visibility after it allows it', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await setState(srv, alice, roomId, 'm.room.history_visibility', '', { history_visibility: 'joined' });
  await sendMessage(srv, alice, roomId, 'joined only');
  const change = await setState(srv, alice, roomId, 'm.room.history_visibility', '', { history_visibility: 'world_readable' });
  await sendMessage(srv, alice, roomId, 'for the world');
  const res = await messages(srv, carol, roomId, { dir: 'b', limit: 50 });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(bodies(res.json.chunk), ['for the world']);
  assert.ok(res.json.chunk.some((e) => e.event_id === change), 'the change to world_readable itself');
});
