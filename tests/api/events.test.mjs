// events.test.mjs -- sending events (transaction ids), state, single events,
// members, context, redaction, event ids, size and type checks, and power
// levels, per the client-server spec and room version 10.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import {
  V3, assertError, createRoom, getState, history, invite, join, leave, login, messages, putState, register,
  roomPost, seg, send, sendMessage, setState, sync, txnId,
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

const EVENT_ID = /^\$[A-Za-z0-9_-]{43}$/;

const getEvent = (who, roomId, eventId) =>
  srv.fetch(`${V3}/rooms/${seg(roomId)}/event/${seg(eventId)}`, { token: who.token });
const redact = (who, roomId, eventId, body = {}, txn = txnId()) =>
  srv.fetch(`${V3}/rooms/${seg(roomId)}/redact/${seg(eventId)}/${seg(txn)}`, { method: 'PUT', body, token: who.token });
const getStateEvent = (who, roomId, type, key) =>
  srv.fetch(`${V3}/rooms/${seg(roomId)}/state/${seg(type)}${key === undefined ? '' : `/${seg(key)}`}`, { token: who.token });

async function publicRoomWith(...members) {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  for (const m of members) await join(srv, m, roomId);
  return roomId;
}

// ---- send and transaction ids ---------------------------------------------------

test('send returns an event id of $ and 43 URL-safe base64 characters', async () => {
  const roomId = await publicRoomWith();
  const eventId = await sendMessage(srv, alice, roomId, 'hello');
  assert.match(eventId, EVENT_ID);
  const ev = await getEvent(alice, roomId, eventId);
  assert.equal(ev.status, 200);
  assert.equal(ev.json.event_id, eventId);
  assert.equal(ev.json.type, 'm.room.message');
  assert.equal(ev.json.sender, alice.user_id);
  assert.equal(ev.json.room_id, roomId);
  assert.deepEqual(ev.json.content, { msgtype: 'm.text', body: 'hello' });
  assert.equal(typeof ev.json.origin_server_ts, 'number');
  for (const e of await getState(srv, alice, roomId)) assert.match(e.event_id, EVENT_ID);
});

test('the same token and transaction id give the same event, stored once', async () => {
  const roomId = await publicRoomWith();
  const a = await sendMessage(srv, alice, roomId, 'once', 'txn-1');
  const b = await sendMessage(srv, alice, roomId, 'once', 'txn-1');
  assert.equal(a, b);
  const events = (await history(srv, alice, roomId)).filter((e) => e.type === 'm.room.message');
  assert.deepEqual(events.map((e) => e.event_id), [a]);
});

// Migration 19: the transactions a database remembered before it (txn_ids,
// keyed by user, device and the request's path after the version prefix,
// each segment length-prefixed) are remembered after it: a retransmission
// of one still answers with its event and stores nothing.
test('migration 19: a transaction remembered before it is still one after', async () => {
  const first = await startServer({ args: ['--no-rate-limit'] });
  const sql = (text) => execFileSync('sqlite3', [first.db, text]).toString().trim();
  try {
    const who = await register(first, 'keeper');
    const roomId = await createRoom(first, who, { preset: 'private_chat' });
    const old = await sendMessage(first, who, roomId, 'before the upgrade', 'kept-txn');
    await first.stop({ keepFiles: true });
    const path = ['rooms', roomId, 'send', 'm.room.message', 'kept-txn'];
    const key = path.map((part) => `${Buffer.byteLength(part)}:${part}`).join('');
    const quote = (text) => `'${text.replaceAll("'", "''")}'`;
    sql(`DROP TABLE txn_keys; CREATE TABLE txn_ids (user_id TEXT NOT NULL, device_id TEXT NOT NULL,
      txn_id TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (user_id, device_id, txn_id)) STRICT, WITHOUT ROWID;
      INSERT INTO txn_ids VALUES (${[who.user_id, who.device_id, key, old].map(quote).join(', ')});
      PRAGMA user_version = 18;`);
    const second = await startServer({ args: ['--no-rate-limit'], db: first.db });
    try {
      assert.equal(sql("SELECT count(*) FROM sqlite_schema WHERE name = 'txn_ids'"), '0');
      assert.equal(await sendMessage(second, who, roomId, 'before the upgrade', 'kept-txn'), old);
      const fresh = await sendMessage(second, who, roomId, 'after the upgrade', 'new-txn');
      assert.notEqual(fresh, old);
      assert.equal(await sendMessage(second, who, roomId, 'after the upgrade', 'new-txn'), fresh);
      const events = (await history(second, who, roomId)).filter((e) => e.type === 'm.room.message');
      assert.deepEqual(events.map((e) => e.event_id), [old, fresh]);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(first.dir, { recursive: true, force: true });
  }
});

test('a transaction id is scoped to the device: another device sends a new event', async () => {
  const roomId = await publicRoomWith();
  const other = await login(srv, 'alice', alice.password);
  const a = await sendMessage(srv, alice, roomId, 'from one', 'shared-txn');
  const b = await sendMessage(srv, other, roomId, 'from two', 'shared-txn');
  assert.notEqual(a, b);
  const c = await sendMessage(srv, bob, roomId, 'bob is not in the room yet', 'shared-txn').catch(() => null);
  assert.equal(c, null, 'bob cannot send to a room he is not in');
});

test('a transaction id is scoped to the request path', async () => {
  const roomId = await publicRoomWith();
  const other = await publicRoomWith();
  const a = await sendMessage(srv, alice, roomId, 'in one room', 'path-txn');
  const b = await sendMessage(srv, alice, other, 'in another room', 'path-txn');
  assert.notEqual(a, b, 'a different room is a different request');
  const events = (await history(srv, alice, other)).filter((e) => e.type === 'm.room.message');
  assert.deepEqual(events.map((e) => e.content.body), ['in another room']);
  // A redaction reusing a send's transaction id is a new request, not a retry.
  const r = await redact(alice, roomId, a, {}, 'path-txn');
  assert.equal(r.status, 200, r.text);
  assert.notEqual(r.json.event_id, a);
  assert.deepEqual((await getEvent(alice, roomId, a)).json.content, {}, 'the redaction happened');
});

test('unsigned.transaction_id is given only to the sending device', async () => {
  const roomId = await publicRoomWith(bob);
  const otherDevice = await login(srv, 'alice', alice.password);
  const eventId = await sendMessage(srv, alice, roomId, 'mine', 'my-txn');
  const own = await getEvent(alice, roomId, eventId);
  assert.equal(own.json.unsigned.transaction_id, 'my-txn');
  const sameUser = await getEvent(otherDevice, roomId, eventId);
  assert.equal(sameUser.json.unsigned?.transaction_id, undefined);
  const other = await getEvent(bob, roomId, eventId);
  assert.equal(other.json.unsigned?.transaction_id, undefined);
  // The same holds in /messages and /sync.
  const mine = (await messages(srv, alice, roomId, { dir: 'b', limit: 5 })).json.chunk.find((e) => e.event_id === eventId);
  assert.equal(mine.unsigned.transaction_id, 'my-txn');
  const theirs = (await messages(srv, bob, roomId, { dir: 'b', limit: 5 })).json.chunk.find((e) => e.event_id === eventId);
  assert.equal(theirs.unsigned?.transaction_id, undefined);
  const s = await sync(srv, alice);
  const inSync = s.rooms.join[roomId].timeline.events.find((e) => e.event_id === eventId);
  assert.equal(inSync.unsigned.transaction_id, 'my-txn');
  const sb = await sync(srv, bob);
  const inBobSync = sb.rooms.join[roomId].timeline.events.find((e) => e.event_id === eventId);
  assert.equal(inBobSync.unsigned?.transaction_id, undefined);
});

test('unsigned.age is present and not negative', async () => {
  const roomId = await publicRoomWith();
  const eventId = await sendMessage(srv, alice, roomId, 'aging');
  const ev = await getEvent(alice, roomId, eventId);
  assert.equal(typeof ev.json.unsigned.age, 'number');
  assert.ok(ev.json.unsigned.age >= 0);
  assert.ok(ev.json.unsigned.age < 60000);
});

test('an event larger than 65536 bytes is 413 M_TOO_LARGE and not stored', async () => {
  const roomId = await publicRoomWith();
  const res = await send(srv, alice, roomId, 'm.room.message', { msgtype: 'm.text', body: 'x'.repeat(70000) });
  assertError(res, 413, 'M_TOO_LARGE');
  const ok = await send(srv, alice, roomId, 'm.room.message', { msgtype: 'm.text', body: 'x'.repeat(60000) });
  assert.equal(ok.status, 200, ok.text);
  const bodies = (await history(srv, alice, roomId)).filter((e) => e.type === 'm.room.message');
  assert.deepEqual(bodies.map((e) => e.content.body.length), [60000]);
  const state = await putState(srv, alice, roomId, 'org.example.big', '', { v: 'y'.repeat(70000) });
  assertError(state, 413, 'M_TOO_LARGE');
});

test('content that is not an object is 400 M_BAD_JSON; a body that is not JSON 400 M_NOT_JSON', async () => {
  const roomId = await publicRoomWith();
  for (const body of ['[1,2]', '"text"', '5', 'null', 'true'])
    assertError(await send(srv, alice, roomId, 'm.room.message', body), 400, 'M_BAD_JSON');
  for (const body of ['{', 'hello', '{"a":1,}', '{"a":1}{"b":2}'])
    assertError(await send(srv, alice, roomId, 'm.room.message', body), 400, 'M_NOT_JSON');
  assertError(await putState(srv, alice, roomId, 'm.room.topic', '', '[]'), 400, 'M_BAD_JSON');
  assertError(await putState(srv, alice, roomId, 'm.room.topic', '', 'nope'), 400, 'M_NOT_JSON');
  assertError(await redact(alice, roomId, '$whatever', '[]'), 400, 'M_BAD_JSON');
  const events = (await history(srv, alice, roomId)).filter((e) => e.type === 'm.room.message');
  assert.equal(events.length, 0, 'nothing was stored');
});

test('a member event sent as a message (no state key) is 400, and the server stays up (issue 9 crash)', async () => {
  const roomId = await publicRoomWith(bob);
  const vouch = { membership: 'join', join_authorised_via_users_server: bob.user_id };
  assertError(await send(srv, alice, roomId, 'm.room.member', vouch), 400, 'M_INVALID_PARAM');
  for (const type of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.third_party_invite'])
    assertError(await send(srv, alice, roomId, type, { membership: 'join' }), 400, 'M_INVALID_PARAM');
  const res = await sendMessage(srv, alice, roomId, 'still here');
  assert.match(res, EVENT_ID, 'the server still answers');
});

test('sending to a room one has not joined is 403; to an unknown room 404; to a malformed id 400', async () => {
  const roomId = await createRoom(srv, alice, {});
  assertError(await send(srv, bob, roomId, 'm.room.message', { body: 'x' }), 403, 'M_FORBIDDEN');
  assertError(await send(srv, bob, '!unknown:localhost', 'm.room.message', { body: 'x' }), 404, 'M_NOT_FOUND');
  assertError(await send(srv, bob, 'not-a-room', 'm.room.message', { body: 'x' }), 400, 'M_INVALID_PARAM');
});

// ---- state ------------------------------------------------------------------

test('state with an empty state key: PUT and GET with and without the trailing key', async () => {
  const roomId = await publicRoomWith();
  const a = await setState(srv, alice, roomId, 'm.room.topic', undefined, { topic: 'no key' });
  assert.match(a, EVENT_ID);
  assert.deepEqual((await getStateEvent(alice, roomId, 'm.room.topic')).json, { topic: 'no key' });
  assert.deepEqual((await getStateEvent(alice, roomId, 'm.room.topic', '')).json, { topic: 'no key' });
  const b = await setState(srv, alice, roomId, 'm.room.topic', '', { topic: 'empty key' });
  assert.notEqual(a, b);
  assert.deepEqual((await getStateEvent(alice, roomId, 'm.room.topic')).json, { topic: 'empty key' });
  const asEvent = await srv.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.topic/?format=event`, { token: alice.token });
  assert.equal(asEvent.json.event_id, b);
  assert.equal(asEvent.json.state_key, '');
  assert.equal(asEvent.json.unsigned.prev_content.topic, 'no key');
});

test('state with a state key is separate per key', async () => {
  const roomId = await publicRoomWith();
  await setState(srv, alice, roomId, 'org.example.pref', 'one', { v: 1 });
  await setState(srv, alice, roomId, 'org.example.pref', 'two', { v: 2 });
  assert.deepEqual((await getStateEvent(alice, roomId, 'org.example.pref', 'one')).json, { v: 1 });
  assert.deepEqual((await getStateEvent(alice, roomId, 'org.example.pref', 'two')).json, { v: 2 });
  assertError(await getStateEvent(alice, roomId, 'org.example.pref', 'three'), 404, 'M_NOT_FOUND');
  assertError(await getStateEvent(alice, roomId, 'org.example.pref'), 404, 'M_NOT_FOUND');
});

test('GET /state lists the current state events, one per type and key', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat', name: 'first' });
  await setState(srv, alice, roomId, 'm.room.name', '', { name: 'second' });
  const state = await getState(srv, alice, roomId);
  const keys = state.map((e) => `${e.type}|${e.state_key}`);
  assert.equal(new Set(keys).size, keys.length, 'no duplicates');
  for (const t of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.history_visibility'])
    assert.ok(keys.includes(`${t}|`), t);
  assert.ok(keys.includes(`m.room.member|${alice.user_id}`));
  assert.equal(state.find((e) => e.type === 'm.room.name').content.name, 'second');
  for (const e of state) assert.equal(e.room_id, roomId);
});

test('state of a room is hidden from someone never in it', async () => {
  const roomId = await createRoom(srv, alice, {});
  assertError(await srv.fetch(`${V3}/rooms/${seg(roomId)}/state`, { token: bob.token }), 403, 'M_FORBIDDEN');
  assertError(await getStateEvent(bob, roomId, 'm.room.create', ''), 403, 'M_FORBIDDEN');
  assertError(await srv.fetch(`${V3}/rooms/${seg(roomId)}/members`, { token: bob.token }), 403, 'M_FORBIDDEN');
});

test('a user who left sees the state as it was when they left', async () => {
  const roomId = await publicRoomWith(bob);
  await setState(srv, alice, roomId, 'm.room.topic', '', { topic: 'before' });
  await leave(srv, bob, roomId);
  await setState(srv, alice, roomId, 'm.room.topic', '', { topic: 'after' });
  assert.equal((await getStateEvent(bob, roomId, 'm.room.topic', '')).json.topic, 'before');
  const topic = (await getState(srv, bob, roomId)).find((e) => e.type === 'm.room.topic');
  assert.equal(topic.content.topic, 'before');
});

test('putting the same state again answers the existing event', async () => {
  const roomId = await publicRoomWith();
  const a = await setState(srv, alice, roomId, 'org.example.same', '', { v: 1 });
  const b = await setState(srv, alice, roomId, 'org.example.same', '', { v: 1 });
  assert.equal(a, b);
});

// ---- single events ----------------------------------------------------------

test('GET /event of an unknown event, or one from another room, is 404', async () => {
  const roomId = await publicRoomWith();
  const other = await publicRoomWith();
  const eventId = await sendMessage(srv, alice, other, 'elsewhere');
  assertError(await getEvent(alice, roomId, eventId), 404, 'M_NOT_FOUND');
  assertError(await getEvent(alice, roomId, '$nothere'), 404, 'M_NOT_FOUND');
  assertError(await getEvent(alice, '!nope:localhost', eventId), 404, 'M_NOT_FOUND');
});

test('GET /event is refused to a user who may not see the event', async () => {
  const roomId = await createRoom(srv, alice, {});
  const eventId = await sendMessage(srv, alice, roomId, 'private');
  const res = await getEvent(bob, roomId, eventId);
  assert.ok(res.status === 404 || res.status === 403, res.text);
  assert.ok(!res.text.includes('private'));
});

// ---- members ---------------------------------------------------------------------

test('members lists member events, filtered by membership and not_membership', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  await invite(srv, alice, roomId, carol.user_id);
  const all = await srv.fetch(`${V3}/rooms/${seg(roomId)}/members`, { token: alice.token });
  assert.equal(all.status, 200);
  const byUser = Object.fromEntries(all.json.chunk.map((e) => [e.state_key, e.content.membership]));
  assert.deepEqual(byUser, { [alice.user_id]: 'join', [bob.user_id]: 'join', [carol.user_id]: 'invite' });
  for (const e of all.json.chunk) assert.equal(e.type, 'm.room.member');
  const joined = await srv.fetch(`${V3}/rooms/${seg(roomId)}/members?membership=join`, { token: alice.token });
  assert.deepEqual(joined.json.chunk.map((e) => e.state_key).sort(), [alice.user_id, bob.user_id].sort());
  const notJoined = await srv.fetch(`${V3}/rooms/${seg(roomId)}/members?not_membership=join`, { token: alice.token });
  assert.deepEqual(notJoined.json.chunk.map((e) => e.state_key), [carol.user_id]);
});

test('joined_members maps joined users to their profile, only for members', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat', invite: [carol.user_id] });
  await join(srv, bob, roomId);
  const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/joined_members`, { token: bob.token });
  assert.equal(res.status, 200);
  assert.deepEqual(Object.keys(res.json.joined).sort(), [alice.user_id, bob.user_id].sort());
  assertError(await srv.fetch(`${V3}/rooms/${seg(roomId)}/joined_members`, { token: carol.token }), 403, 'M_FORBIDDEN');
});

test('members at a sync token: each member as they were then, whole client events', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat', invite: [carol.user_id] });
  await join(srv, bob, roomId);
  await setState(srv, bob, roomId, 'm.room.member', bob.user_id, { membership: 'join', displayname: 'bob before' });
  const token = (await sync(srv, alice, { timeout: 0 })).next_batch;
  // After the token: bob renames, carol joins, a member joins who was not there.
  await setState(srv, bob, roomId, 'm.room.member', bob.user_id, { membership: 'join', displayname: 'bob after' });
  await join(srv, carol, roomId);
  const dave = await register(srv, `dave${txnId()}`);
  await join(srv, dave, roomId);
  const then = await srv.fetch(`${V3}/rooms/${seg(roomId)}/members?at=${token}&not_membership=leave`, { token: alice.token });
  assert.equal(then.status, 200, then.text);
  const byUser = Object.fromEntries(then.json.chunk.map((e) => [e.state_key, e]));
  assert.deepEqual(Object.keys(byUser).sort(), [alice.user_id, bob.user_id, carol.user_id].sort());
  assert.equal(byUser[bob.user_id].content.displayname, 'bob before');
  assert.equal(byUser[carol.user_id].content.membership, 'invite');
  for (const e of then.json.chunk) {
    assert.equal(e.room_id, roomId);
    assert.match(e.event_id, EVENT_ID);
    assert.equal(typeof e.origin_server_ts, 'number');
    assert.equal(typeof e.sender, 'string');
  }
  // Without `at`, as they are now; bob's event carries what it replaced.
  const now = await srv.fetch(`${V3}/rooms/${seg(roomId)}/members?membership=join`, { token: alice.token });
  const nowByUser = Object.fromEntries(now.json.chunk.map((e) => [e.state_key, e]));
  assert.deepEqual(Object.keys(nowByUser).sort(), [alice.user_id, bob.user_id, carol.user_id, dave.user_id].sort());
  assert.equal(nowByUser[bob.user_id].content.displayname, 'bob after');
  assert.equal(nowByUser[bob.user_id].unsigned.prev_content.displayname, 'bob before');
});

test('joined_members gives names and avatars exactly as the member events say them', async () => {
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  const name = 'b\u00f6b "the \\ builder" \u{1F600}\n';
  await setState(srv, bob, roomId, 'm.room.member', bob.user_id,
    { membership: 'join', displayname: name, avatar_url: 'mxc://x/abc' });
  await setState(srv, alice, roomId, 'm.room.member', alice.user_id, { membership: 'join', displayname: 7 });
  const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/joined_members`, { token: bob.token });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.joined[bob.user_id], { display_name: name, avatar_url: 'mxc://x/abc' });
  assert.deepEqual(res.json.joined[alice.user_id], {}, 'a name that is no string is left out');
});

// ---- context ------------------------------------------------------------------------

test('context returns the event with the events before and after it, and the state', async () => {
  const roomId = await publicRoomWith();
  const ids = [];
  for (let i = 0; i < 7; i++) ids.push(await sendMessage(srv, alice, roomId, `m${i}`));
  const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/context/${seg(ids[3])}?limit=4`, { token: alice.token });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.event.event_id, ids[3]);
  assert.deepEqual(res.json.events_before.map((e) => e.event_id), [ids[2], ids[1]], 'newest first');
  assert.deepEqual(res.json.events_after.map((e) => e.event_id), [ids[4], ids[5]]);
  assert.ok(res.json.state.some((e) => e.type === 'm.room.create'));
  assert.equal(typeof res.json.start, 'string');
  assert.equal(typeof res.json.end, 'string');
  // The tokens continue where the context stopped.
  const back = await messages(srv, alice, roomId, { dir: 'b', from: res.json.start, limit: 1 });
  assert.equal(back.json.chunk[0].event_id, ids[0]);
  const fwd = await messages(srv, alice, roomId, { dir: 'f', from: res.json.end, limit: 1 });
  assert.equal(fwd.json.chunk[0].event_id, ids[6]);
});

test('context with limit 0 returns only the event', async () => {
  const roomId = await publicRoomWith();
  await sendMessage(srv, alice, roomId, 'a');
  const mid = await sendMessage(srv, alice, roomId, 'b');
  await sendMessage(srv, alice, roomId, 'c');
  const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/context/${seg(mid)}?limit=0`, { token: alice.token });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.event.event_id, mid);
  assert.deepEqual(res.json.events_before, []);
  assert.deepEqual(res.json.events_after, []);
});

test('context of an unknown event is 404, of a hidden one 404 or 403', async () => {
  const roomId = await createRoom(srv, alice, {});
  const eventId = await sendMessage(srv, alice, roomId, 'secret');
  assertError(await srv.fetch(`${V3}/rooms/${seg(roomId)}/context/${seg('$nope')}`, { token: alice.token }), 404, 'M_NOT_FOUND');
  const hidden = await srv.fetch(`${V3}/rooms/${seg(roomId)}/context/${seg(eventId)}`, { token: bob.token });
  assert.ok(hidden.status === 403 || hidden.status === 404, hidden.text);
});

// ---- redaction ------------------------------------------------------------------

test('a redacted message is served without its content, with redacted_because', async () => {
  const roomId = await publicRoomWith(bob);
  const eventId = await sendMessage(srv, alice, roomId, 'oops');
  const res = await redact(alice, roomId, eventId, { reason: 'typo' });
  assert.equal(res.status, 200, res.text);
  assert.match(res.json.event_id, EVENT_ID);
  for (const who of [alice, bob]) {
    const ev = await getEvent(who, roomId, eventId);
    assert.equal(ev.status, 200);
    assert.deepEqual(ev.json.content, {});
    assert.equal(ev.json.type, 'm.room.message');
    assert.equal(ev.json.unsigned.redacted_because.event_id, res.json.event_id);
    assert.equal(ev.json.unsigned.redacted_because.type, 'm.room.redaction');
    assert.equal(ev.json.unsigned.redacted_because.content.reason, 'typo');
  }
  const chunk = (await messages(srv, bob, roomId, { dir: 'b', limit: 10 })).json.chunk;
  const inMessages = chunk.find((e) => e.event_id === eventId);
  assert.deepEqual(inMessages.content, {});
  assert.ok(inMessages.unsigned.redacted_because);
  const redaction = chunk.find((e) => e.event_id === res.json.event_id);
  assert.equal(redaction.redacts, eventId);
  const s = await sync(srv, bob);
  const inSync = s.rooms.join[roomId].timeline.events.find((e) => e.event_id === eventId);
  assert.deepEqual(inSync.content, {});
  assert.ok(inSync.unsigned.redacted_because);
});

test('redacting a state event keeps the keys its type needs', async () => {
  const roomId = await publicRoomWith(bob);
  const memberEvent = (await getStateEvent(alice, roomId, 'm.room.member', bob.user_id)).json;
  assert.equal(memberEvent.membership, 'join');
  const ev = (await srv.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.member/${seg(bob.user_id)}?format=event`,
    { token: alice.token })).json;
  const joinRules = (await srv.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.join_rules/?format=event`, { token: alice.token })).json;
  assert.equal((await redact(alice, roomId, ev.event_id)).status, 200);
  assert.equal((await redact(alice, roomId, joinRules.event_id)).status, 200);
  assert.deepEqual((await getEvent(alice, roomId, ev.event_id)).json.content, { membership: 'join' });
  assert.deepEqual((await getEvent(alice, roomId, joinRules.event_id)).json.content, { join_rule: 'public' });
  // The room still works: bob is still joined and can talk.
  await sendMessage(srv, bob, roomId, 'still here');
});

test("redacting someone else's event needs the redact power level", async () => {
  const roomId = await publicRoomWith(bob, carol);
  const eventId = await sendMessage(srv, carol, roomId, 'keep me');
  assertError(await redact(bob, roomId, eventId), 403, 'M_FORBIDDEN');
  assert.equal((await getEvent(alice, roomId, eventId)).json.content.body, 'keep me');
  // Bob may redact his own.
  const own = await sendMessage(srv, bob, roomId, 'mine');
  assert.equal((await redact(bob, roomId, own)).status, 200);
  // Alice (100) may redact carol's.
  assert.equal((await redact(alice, roomId, eventId)).status, 200);
  assert.deepEqual((await getEvent(alice, roomId, eventId)).json.content, {});
});

test('redacting an unknown event is 404; a malformed event id 400', async () => {
  const roomId = await publicRoomWith();
  assertError(await redact(alice, roomId, '$doesnotexist'), 404, 'M_NOT_FOUND');
  assertError(await redact(alice, roomId, 'not-an-event'), 400, 'M_INVALID_PARAM');
  const other = await publicRoomWith();
  const elsewhere = await sendMessage(srv, alice, other, 'other room');
  assertError(await redact(alice, roomId, elsewhere), 404, 'M_NOT_FOUND');
  assert.equal((await getEvent(alice, other, elsewhere)).json.content.body, 'other room');
});

// ---- power levels -------------------------------------------------------------------

test('events_default is enforced for messages', async () => {
  const roomId = await createRoom(srv, alice, {
    preset: 'public_chat', power_level_content_override: { events_default: 10, users: { [alice.user_id]: 100, [carol.user_id]: 10 } },
  });
  await join(srv, bob, roomId);
  await join(srv, carol, roomId);
  const res = await send(srv, bob, roomId, 'm.room.message', { msgtype: 'm.text', body: 'hi' });
  assertError(res, 403, 'M_FORBIDDEN');
  await sendMessage(srv, carol, roomId, 'i may');
});

test('state_default is enforced for state events', async () => {
  const roomId = await publicRoomWith(bob);
  assertError(await putState(srv, bob, roomId, 'org.example.custom', '', { x: 1 }), 403, 'M_FORBIDDEN');
  assertError(await putState(srv, bob, roomId, 'm.room.name', '', { name: 'bob was here' }), 403, 'M_FORBIDDEN');
  assertError(await getStateEvent(bob, roomId, 'org.example.custom', ''), 404, 'M_NOT_FOUND');
  await setState(srv, alice, roomId, 'org.example.custom', '', { x: 1 });
});

test('users_default applies to users not listed', async () => {
  const roomId = await createRoom(srv, alice, {
    preset: 'public_chat', power_level_content_override: { users_default: 50 },
  });
  await join(srv, bob, roomId);
  await setState(srv, bob, roomId, 'm.room.topic', '', { topic: 'bob can' });
});

test('the events map overrides the defaults per event type', async () => {
  const roomId = await createRoom(srv, alice, {
    preset: 'public_chat', power_level_content_override: { events: { 'm.room.message': 20, 'org.example.open': 0 } },
  });
  await join(srv, bob, roomId);
  assertError(await send(srv, bob, roomId, 'm.room.message', { body: 'no' }), 403, 'M_FORBIDDEN');
  const open = await send(srv, bob, roomId, 'org.example.open', { body: 'yes' });
  assert.equal(open.status, 200, open.text);
  const openState = await putState(srv, bob, roomId, 'org.example.open', '', { ok: true });
  assert.equal(openState.status, 200, openState.text);
});

test('a user cannot raise power levels above their own or change a peer\'s', async () => {
  const roomId = await createRoom(srv, alice, {
    preset: 'public_chat',
    power_level_content_override: { users: { [alice.user_id]: 100, [bob.user_id]: 50, [carol.user_id]: 50 } },
  });
  await join(srv, bob, roomId);
  await join(srv, carol, roomId);
  const pl = (await getStateEvent(alice, roomId, 'm.room.power_levels', '')).json;
  const withUser = (user, level) => ({ ...pl, users: { ...pl.users, [user]: level } });
  assertError(await putState(srv, bob, roomId, 'm.room.power_levels', '', withUser(bob.user_id, 100)), 403, 'M_FORBIDDEN');
  assertError(await putState(srv, bob, roomId, 'm.room.power_levels', '', withUser(carol.user_id, 0)), 403, 'M_FORBIDDEN');
  assertError(await putState(srv, bob, roomId, 'm.room.power_levels', '', withUser(alice.user_id, 0)), 403, 'M_FORBIDDEN');
  assertError(await putState(srv, bob, roomId, 'm.room.power_levels', '', { ...pl, ban: 100 }), 403, 'M_FORBIDDEN');
  // Power level changes need m.room.power_levels' own level (100 by default).
  assertError(await putState(srv, bob, roomId, 'm.room.power_levels', '', withUser(bob.user_id, 40)), 403, 'M_FORBIDDEN');
  assert.deepEqual((await getStateEvent(alice, roomId, 'm.room.power_levels', '')).json, pl);
  // Alice can give bob 100.
  await setState(srv, alice, roomId, 'm.room.power_levels', '', withUser(bob.user_id, 100));
  await setState(srv, bob, roomId, 'm.room.name', '', { name: 'bob now can' });
});

test('power levels that are not integers are refused', async () => {
  const roomId = await publicRoomWith();
  const pl = (await getStateEvent(alice, roomId, 'm.room.power_levels', '')).json;
  for (const bad of [
    { ...pl, ban: '50' }, { ...pl, users: { [alice.user_id]: 100.5 } }, { ...pl, events: { x: 'high' } },
    { ...pl, users: [alice.user_id] }, { ...pl, users: { ...pl.users, notauser: 10 } },
    { ...pl, events: 'none' }, { ...pl, notifications: { room: '50' } },
  ]) {
    const res = await putState(srv, alice, roomId, 'm.room.power_levels', '', bad);
    assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${res.text}`);
  }
  assert.deepEqual((await getStateEvent(alice, roomId, 'm.room.power_levels', '')).json, pl);
  const override = await srv.fetch(`${V3}/createRoom`, {
    method: 'POST', body: { power_level_content_override: { users: { bob: 50 } } }, token: alice.token,
  });
  assert.equal(override.status, 400, override.text);
});

test('a membership event through the state API follows the membership rules', async () => {
  const roomId = await createRoom(srv, alice, {});
  const res = await putState(srv, bob, roomId, 'm.room.member', bob.user_id, { membership: 'join' });
  assertError(res, 403, 'M_FORBIDDEN');
  const notUser = await putState(srv, alice, roomId, 'm.room.member', 'nobody', { membership: 'join' });
  assert.equal(notUser.status, 400, notUser.text);
});

test("another user's token acts as that user, never as the one named in the body", async () => {
  const roomId = await publicRoomWith(bob);
  const res = await send(srv, bob, roomId, 'm.room.message', { body: 'who am i', sender: alice.user_id });
  const ev = await getEvent(alice, roomId, res.json.event_id);
  assert.equal(ev.json.sender, bob.user_id);
  assertError(await roomPost(srv, bob, roomId, 'kick', { user_id: alice.user_id }), 403, 'M_FORBIDDEN');
});

test('a moderator may lower their own level and raise others up to their own, not beyond', async () => {
  const roomId = await createRoom(srv, alice, {
    preset: 'public_chat',
    power_level_content_override: {
      users: { [alice.user_id]: 100, [bob.user_id]: 50 },
      events: { 'm.room.power_levels': 50 },
    },
  });
  await join(srv, bob, roomId);
  await join(srv, carol, roomId);
  const current = async () => (await getStateEvent(alice, roomId, 'm.room.power_levels', '')).json;
  const withUsers = async (users) => { const pl = await current(); return { ...pl, users: { ...pl.users, ...users } }; };
  assertError(await putState(srv, bob, roomId, 'm.room.power_levels', '', await withUsers({ [carol.user_id]: 60 })), 403, 'M_FORBIDDEN');
  await setState(srv, bob, roomId, 'm.room.power_levels', '', await withUsers({ [carol.user_id]: 50 }));
  await setState(srv, bob, roomId, 'm.room.power_levels', '', await withUsers({ [bob.user_id]: 40 }));
  assert.equal((await current()).users[bob.user_id], 40);
  // Now below the power_levels event's level, bob can change nothing more.
  assertError(await putState(srv, bob, roomId, 'm.room.power_levels', '', await withUsers({ [bob.user_id]: 30 })), 403, 'M_FORBIDDEN');
});

test('the invite and redact levels are enforced', async () => {
  const roomId = await createRoom(srv, alice, {
    preset: 'public_chat', power_level_content_override: { invite: 50, redact: 0 },
  });
  await join(srv, bob, roomId);
  assertError(await roomPost(srv, bob, roomId, 'invite', { user_id: carol.user_id }), 403, 'M_FORBIDDEN');
  const eventId = await sendMessage(srv, alice, roomId, 'anyone may redact this');
  const res = await redact(bob, roomId, eventId);
  assert.equal(res.status, 200, res.text);
});

test('state keys may hold slashes and other characters when encoded', async () => {
  const roomId = await publicRoomWith();
  for (const key of ['a/b', 'with space', '?&=#', 'é']) {
    await setState(srv, alice, roomId, 'org.example.keys', key, { key });
    assert.deepEqual((await getStateEvent(alice, roomId, 'org.example.keys', key)).json, { key });
  }
  const keys = (await getState(srv, alice, roomId)).filter((e) => e.type === 'org.example.keys').map((e) => e.state_key);
  assert.deepEqual(keys.sort(), ['?&=#', 'a/b', 'with space', 'é'].sort());
});

// ---- event ids: the reference hash of the stored event ---------------------------

// Canonical JSON: keys sorted, no insignificant whitespace, UTF-8.
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

// Room version 10's redaction algorithm (the spec's list, written again here).
function redacted(pdu) {
  const keep = ['event_id', 'type', 'room_id', 'sender', 'state_key', 'content', 'hashes', 'signatures', 'depth',
    'prev_events', 'prev_state', 'auth_events', 'origin', 'origin_server_ts', 'membership'];
  const content = {
    'm.room.member': ['membership', 'join_authorised_via_users_server'],
    'm.room.create': ['creator'],
    'm.room.join_rules': ['join_rule', 'allow'],
    'm.room.power_levels': ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'],
    'm.room.history_visibility': ['history_visibility'],
  }[pdu.type] ?? [];
  const out = {};
  for (const k of keep) if (k in pdu) out[k] = pdu[k];
  out.content = {};
  for (const k of content) if (k in (pdu.content ?? {})) out.content[k] = pdu.content[k];
  return out;
}

test('event ids are the reference hash and hashes.sha256 the content hash of the stored event', async () => {
  const { createHash } = await import('node:crypto');
  const { sqlite } = await import('./lib/matrix.mjs');
  const roomId = await createRoom(srv, alice, { preset: 'public_chat', name: 'Hash ☃', topic: 'tab\there' });
  await sendMessage(srv, alice, roomId, 'héllo\n\u0001 "quoted" \\ 😀 </script>');
  const doomed = await sendMessage(srv, alice, roomId, 'to be redacted');
  assert.equal((await redact(alice, roomId, doomed, { reason: 'test' })).status, 200);
  const rows = await sqlite(srv, `SELECT event_id || char(9) || json FROM events WHERE room_id = '${roomId}' ORDER BY stream`);
  assert.ok(rows.length >= 9);
  for (const row of rows) {
    const tab = row.indexOf('\t');
    const eventId = row.slice(0, tab);
    const pdu = JSON.parse(row.slice(tab + 1));
    const stripped = redacted(pdu);
    delete stripped.signatures;
    delete stripped.unsigned;
    const ref = createHash('sha256').update(canonical(stripped), 'utf8').digest('base64url');
    assert.equal(eventId, `$${ref}`, `${pdu.type}: the event id is the reference hash`);
    if (eventId === doomed) continue; // its stored form is the redacted one; the content hash covered the original
    const { hashes, signatures, unsigned, ...rest } = pdu;
    const contentHash = createHash('sha256').update(canonical(rest), 'utf8').digest('base64').replace(/=+$/, '');
    assert.equal(hashes.sha256, contentHash, `${pdu.type}: hashes.sha256`);
  }
  // prev_events chain the room's events and depth grows by one each time.
  const pdus = rows.map((r) => ({ id: r.slice(0, r.indexOf('\t')), ...JSON.parse(r.slice(r.indexOf('\t') + 1)) }));
  for (let i = 1; i < pdus.length; i++) {
    assert.deepEqual(pdus[i].prev_events, [pdus[i - 1].id]);
    assert.equal(pdus[i].depth, pdus[i - 1].depth + 1);
  }
});
