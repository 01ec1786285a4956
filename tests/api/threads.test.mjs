// threads.test.mjs -- GET /_matrix/client/v1/rooms/{roomId}/threads: the
// thread roots of a room by latest reply, the participated filter,
// pagination, the bundled thread summary, and the errors a client can
// provoke.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertError, createRoom, join, register, sendMessage, sendThreadReply, seg, V3 } from './lib/matrix.mjs';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
});
after(() => srv.stop());

let userCounter = 0;
const fresh = (name) => register(srv, `${name}${++userCounter}`);

function threadsRaw(who, roomId, params = {}) {
  const q = new URLSearchParams(params);
  return srv.fetch(`/_matrix/client/v1/rooms/${seg(roomId)}/threads?${q}`, { token: who.token });
}

async function threads(who, roomId, params) {
  const res = await threadsRaw(who, roomId, params);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

const ids = (chunk) => chunk.map((e) => e.event_id);

async function scene() {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, room);
  return { alice, bob, room };
}

test('threads come newest activity first, and messages without replies are not threads', async () => {
  const { alice, bob, room } = await scene();
  const first = await sendMessage(srv, alice, room, 'first root');
  const second = await sendMessage(srv, alice, room, 'second root');
  const third = await sendMessage(srv, alice, room, 'third root');
  await sendMessage(srv, alice, room, 'no replies');
  await sendThreadReply(srv, bob, room, second, 'on second');
  await sendThreadReply(srv, bob, room, first, 'on first');
  await sendThreadReply(srv, bob, room, third, 'on third');
  await sendThreadReply(srv, alice, room, second, 'second again');

  const res = await threads(alice, room);
  assert.deepEqual(ids(res.chunk), [second, third, first]);
  assert.equal(res.next_batch, undefined, 'one page holds everything');
  assert.equal(res.chunk[0].room_id, room);
  assert.equal(res.chunk[0].content.body, 'second root');
});

test('include=participated keeps the threads the caller started or replied in', async () => {
  const { alice, bob, room } = await scene();
  const started = await sendMessage(srv, alice, room, 'alice started this');
  const repliedTo = await sendMessage(srv, bob, room, 'bob started this');
  const elsewhere = await sendMessage(srv, bob, room, 'alice stays out');
  await sendThreadReply(srv, bob, room, started, 'bob replies to alice');
  await sendThreadReply(srv, alice, room, repliedTo, 'alice replies to bob');
  await sendThreadReply(srv, bob, room, elsewhere, 'bob talks to himself');

  assert.deepEqual(ids((await threads(alice, room, { include: 'participated' })).chunk), [repliedTo, started]);
  assert.deepEqual(ids((await threads(alice, room, { include: 'all' })).chunk), [elsewhere, repliedTo, started]);
  assert.deepEqual(ids((await threads(bob, room, { include: 'participated' })).chunk), [elsewhere, repliedTo, started]);
});

test('pages follow next_batch through every thread once, without gaps', async () => {
  const { alice, bob, room } = await scene();
  const roots = [];
  for (let i = 0; i < 7; i++) roots.push(await sendMessage(srv, alice, room, `root ${i}`));
  for (const root of roots) await sendThreadReply(srv, bob, room, root, 'reply');

  const seen = [];
  const sizes = [];
  let from;
  for (let page = 0; page < 10; page++) {
    const res = await threads(alice, room, { limit: 3, ...(from ? { from } : {}) });
    seen.push(...ids(res.chunk));
    sizes.push(res.chunk.length);
    if (!res.next_batch) break;
    assert.equal(typeof res.next_batch, 'string');
    from = res.next_batch;
  }
  assert.deepEqual(sizes, [3, 3, 1]);
  assert.deepEqual(seen, [...roots].reverse());
});

test('each root bundles its thread summary: count, latest reply, whether the caller took part', async () => {
  const { alice, bob, room } = await scene();
  const carol = await fresh('carol');
  await join(srv, carol, room);
  const root = await sendMessage(srv, alice, room, 'root');
  await sendThreadReply(srv, bob, room, root, 'one');
  await sendThreadReply(srv, alice, room, root, 'two');
  const latest = await sendThreadReply(srv, bob, room, root, 'three');

  const summaryOf = async (who) => (await threads(who, room)).chunk[0].unsigned['m.relations']['m.thread'];
  const forBob = await summaryOf(bob);
  assert.equal(forBob.count, 3);
  assert.equal(forBob.latest_event.event_id, latest);
  assert.equal(forBob.latest_event.content.body, 'three');
  assert.equal(forBob.latest_event.sender, bob.user_id);
  assert.equal(forBob.current_user_participated, true, 'bob replied');
  assert.equal((await summaryOf(alice)).current_user_participated, true, 'alice wrote the root');
  assert.equal((await summaryOf(carol)).current_user_participated, false, 'carol only read');

  // The same summary comes with the root wherever events are formatted.
  const asEvent = await srv.fetch(`${V3}/rooms/${seg(room)}/event/${seg(root)}`, { token: bob.token });
  assert.equal(asEvent.status, 200, asEvent.text);
  assert.deepEqual(asEvent.json.unsigned['m.relations']['m.thread'].count, 3);
});

test('a reply pointing at an event of another room makes a thread in neither room', async () => {
  const { alice, bob, room } = await scene();
  const elsewhere = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, elsewhere);
  const foreignRoot = await sendMessage(srv, alice, elsewhere, 'root in the other room');
  await sendThreadReply(srv, bob, room, foreignRoot, 'reply from the wrong room');
  const local = await sendMessage(srv, alice, room, 'local root');
  await sendThreadReply(srv, bob, room, local, 'proper reply');

  assert.deepEqual(ids((await threads(alice, room)).chunk), [local]);
  assert.deepEqual((await threads(alice, elsewhere)).chunk, []);
});

test('a room the caller cannot see is 403 M_FORBIDDEN', async () => {
  const alice = await fresh('alice');
  const stranger = await fresh('stranger');
  const room = await createRoom(srv, alice, { preset: 'private_chat' });
  const root = await sendMessage(srv, alice, room, 'secret');
  await sendThreadReply(srv, alice, room, root, 'secret reply');
  assertError(await threadsRaw(stranger, room), 403, 'M_FORBIDDEN');
});

test('an unknown room is 404 M_NOT_FOUND', async () => {
  const alice = await fresh('alice');
  assertError(await threadsRaw(alice, '!nosuchroom:localhost'), 404, 'M_NOT_FOUND');
});

test('an include other than all or participated is 400 M_INVALID_PARAM', async () => {
  const { alice, room } = await scene();
  assertError(await threadsRaw(alice, room, { include: 'mine' }), 400, 'M_INVALID_PARAM');
});

test('a from that is no token of ours is 400 M_INVALID_PARAM', async () => {
  const { alice, room } = await scene();
  assertError(await threadsRaw(alice, room, { from: 'not-a-token' }), 400, 'M_INVALID_PARAM');
});

test('a limit that is not a whole number is 400 M_INVALID_PARAM', async () => {
  const { alice, room } = await scene();
  assertError(await threadsRaw(alice, room, { limit: '-3' }), 400, 'M_INVALID_PARAM');
});
