// timestamp_to_event.test.mjs -- GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event:
// the event closest to a time in either direction, among the events the
// caller may see, and the errors for bad parameters and rooms.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startServer, sleep } from './lib/server.mjs';
import {
  V3, assertError, createRoom, join, leave, register, sendMessage, seg, setState,
} from './lib/matrix.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

let n = 0;
const fresh = (name) => register(srv, `${name}${++n}`);

const lookupRaw = (who, roomId, query) =>
  srv.fetch(`/_matrix/client/v1/rooms/${seg(roomId)}/timestamp_to_event?${query}`, { token: who.token });

async function lookup(who, roomId, ts, dir) {
  const res = await lookupRaw(who, roomId, `ts=${ts}&dir=${dir}`);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(Object.keys(res.json).sort(), ['event_id', 'origin_server_ts']);
  return res.json;
}

async function event(who, roomId, eventId) {
  const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/event/${seg(eventId)}`, { token: who.token });
  assert.equal(res.status, 200, res.text);
  return res.json;
}

// Sends messages a few milliseconds apart, so each has its own timestamp;
// returns [{event_id, origin_server_ts}] in order.
async function spacedMessages(who, roomId, texts) {
  const out = [];
  for (const text of texts) {
    await sleep(5);
    const id = await sendMessage(srv, who, roomId, text);
    const ev = await event(who, roomId, id);
    out.push({ event_id: id, origin_server_ts: ev.origin_server_ts });
  }
  for (let i = 1; i < out.length; i++) assert.ok(out[i].origin_server_ts > out[i - 1].origin_server_ts);
  return out;
}

// ---- directions -------------------------------------------------------------

test('dir=f answers the first event at or after ts', async () => {
  const alice = await fresh('alice');
  const roomId = await createRoom(srv, alice);
  const [m1, m2, m3] = await spacedMessages(alice, roomId, ['one', 'two', 'three']);
  assert.deepEqual(await lookup(alice, roomId, m2.origin_server_ts, 'f'), m2, 'an event at exactly ts counts');
  assert.deepEqual(await lookup(alice, roomId, m1.origin_server_ts + 1, 'f'), m2);
  assert.deepEqual(await lookup(alice, roomId, m3.origin_server_ts, 'f'), m3);
});

test('dir=b answers the last event at or before ts', async () => {
  const alice = await fresh('alice');
  const roomId = await createRoom(srv, alice);
  const [m1, m2, m3] = await spacedMessages(alice, roomId, ['one', 'two', 'three']);
  assert.deepEqual(await lookup(alice, roomId, m2.origin_server_ts, 'b'), m2, 'an event at exactly ts counts');
  assert.deepEqual(await lookup(alice, roomId, m3.origin_server_ts - 1, 'b'), m2);
  assert.deepEqual(await lookup(alice, roomId, m1.origin_server_ts, 'b'), m1);
});

test('a ts before the room\'s first event: f answers m.room.create, b is 404 M_NOT_FOUND', async () => {
  const alice = await fresh('alice');
  const roomId = await createRoom(srv, alice);
  const found = await lookup(alice, roomId, 0, 'f');
  const ev = await event(alice, roomId, found.event_id);
  assert.equal(ev.type, 'm.room.create');
  assert.equal(ev.room_id, roomId);
  assertError(await lookupRaw(alice, roomId, 'ts=0&dir=b'), 404, 'M_NOT_FOUND');
});

test('a ts after the room\'s last event: b answers the newest event, f is 404 M_NOT_FOUND', async () => {
  const alice = await fresh('alice');
  const roomId = await createRoom(srv, alice);
  const [, last] = await spacedMessages(alice, roomId, ['one', 'two']);
  const later = last.origin_server_ts + 60_000;
  assert.deepEqual(await lookup(alice, roomId, later, 'b'), last);
  assertError(await lookupRaw(alice, roomId, `ts=${later}&dir=f`), 404, 'M_NOT_FOUND');
});

test('events are found in their own room only', async () => {
  const alice = await fresh('alice');
  const roomA = await createRoom(srv, alice);
  const roomB = await createRoom(srv, alice);
  const [inA] = await spacedMessages(alice, roomA, ['in A']);
  const [inB] = await spacedMessages(alice, roomB, ['in B']);
  assert.deepEqual(await lookup(alice, roomA, inB.origin_server_ts, 'b'), inA);
  assert.deepEqual(await lookup(alice, roomB, inA.origin_server_ts, 'f'), inB);
});

// ---- visibility -------------------------------------------------------------

test('events the caller may not see (history_visibility joined) are skipped in both directions', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  const hv = await setState(srv, alice, roomId, 'm.room.history_visibility', '', { history_visibility: 'joined' });
  const hvTs = (await event(alice, roomId, hv)).origin_server_ts;
  const [secret] = await spacedMessages(alice, roomId, ['before bob']);
  assert.ok(secret.origin_server_ts > hvTs);
  await sleep(5);
  await join(srv, bob, roomId);
  const [welcome] = await spacedMessages(alice, roomId, ['after bob']);

  // Alice sees her message; bob is answered around it.
  assert.deepEqual(await lookup(alice, roomId, secret.origin_server_ts, 'b'), secret);
  const back = await lookup(bob, roomId, secret.origin_server_ts, 'b');
  assert.equal(back.event_id, hv, 'the visibility change itself is the last event bob may see before');
  const fwd = await lookup(bob, roomId, secret.origin_server_ts, 'f');
  const joinEv = await event(bob, roomId, fwd.event_id);
  assert.equal(joinEv.type, 'm.room.member');
  assert.equal(joinEv.state_key, bob.user_id);
  assert.equal(joinEv.content.membership, 'join');
  assert.deepEqual(await lookup(bob, roomId, fwd.origin_server_ts + 1, 'f'), welcome);
});

test('a user who left is answered only from what they could see before leaving', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, roomId);
  const [seen] = await spacedMessages(alice, roomId, ['bob is here']);
  await sleep(5);
  await leave(srv, bob, roomId);
  const [unseen] = await spacedMessages(alice, roomId, ['bob is gone']);
  const back = await lookup(bob, roomId, unseen.origin_server_ts + 60_000, 'b');
  const leaveEv = await event(alice, roomId, back.event_id);
  assert.equal(leaveEv.type, 'm.room.member');
  assert.equal(leaveEv.content.membership, 'leave');
  assert.ok(back.origin_server_ts >= seen.origin_server_ts);
  assertError(await lookupRaw(bob, roomId, `ts=${unseen.origin_server_ts}&dir=f`), 404, 'M_NOT_FOUND');
});

test('a room the caller was never in is 403 M_FORBIDDEN', async () => {
  const alice = await fresh('alice');
  const eve = await fresh('eve');
  const roomId = await createRoom(srv, alice, { preset: 'private_chat' });
  await spacedMessages(alice, roomId, ['private']);
  assertError(await lookupRaw(eve, roomId, 'ts=0&dir=f'), 403, 'M_FORBIDDEN');
});

test('a world-readable room answers a caller who is not a member', async () => {
  const alice = await fresh('alice');
  const eve = await fresh('eve');
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  await setState(srv, alice, roomId, 'm.room.history_visibility', '', { history_visibility: 'world_readable' });
  const [m] = await spacedMessages(alice, roomId, ['open to all']);
  assert.deepEqual(await lookup(eve, roomId, m.origin_server_ts + 60_000, 'b'), m);
});

// ---- bad input --------------------------------------------------------------

test('an unknown room is 404 M_NOT_FOUND, a malformed room id 400 M_INVALID_PARAM', async () => {
  const alice = await fresh('alice');
  assertError(await lookupRaw(alice, '!nowhere:localhost', 'ts=0&dir=f'), 404, 'M_NOT_FOUND');
  assertError(await lookupRaw(alice, 'not-a-room', 'ts=0&dir=f'), 400, 'M_INVALID_PARAM');
});

test('ts missing or not a whole number, dir missing or not f/b: 400 M_INVALID_PARAM', async () => {
  const alice = await fresh('alice');
  const roomId = await createRoom(srv, alice);
  for (const query of ['dir=f', 'ts=&dir=f', 'ts=abc&dir=f', 'ts=-5&dir=b', 'ts=1.5&dir=f', 'ts=1e3&dir=b',
    'ts=0', 'ts=0&dir=', 'ts=0&dir=x', 'ts=0&dir=forward', 'ts=0&dir=F']) {
    assertError(await lookupRaw(alice, roomId, query), 400, 'M_INVALID_PARAM');
  }
});

test('a ts too large for 64 bits still answers the newest event', async () => {
  const alice = await fresh('alice');
  const roomId = await createRoom(srv, alice);
  const [m] = await spacedMessages(alice, roomId, ['last']);
  assert.deepEqual(await lookup(alice, roomId, '99999999999999999999999', 'b'), m);
});

test('timestamp_to_event needs an access token', async () => {
  const alice = await fresh('alice');
  const roomId = await createRoom(srv, alice);
  const res = await srv.fetch(`/_matrix/client/v1/rooms/${seg(roomId)}/timestamp_to_event?ts=0&dir=f`);
  assertError(res, 401, 'M_MISSING_TOKEN');
});
