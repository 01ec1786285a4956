// unread_counts.test.mjs -- unread counts kept between syncs (api/unread.c)
// stay what a fresh count would say. Each test lets a count be kept by one
// sync, changes something it depends on, and checks the next incremental
// sync; the last one restarts the server (which keeps nothing) and compares.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, createRoom, join, register, send, sendMessage, seg, sync } from './lib/matrix.mjs';
import { receipt } from './lib/rest.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

let n = 0;
// a (the reader) and b (the writer) in a room of their own.
async function pair() {
  const a = await register(srv, `reader${++n}`);
  const b = await register(srv, `writer${n}`);
  const room = await createRoom(srv, b, { preset: 'public_chat' });
  await join(srv, a, room);
  return { a, b, room };
}

// The reader's counts from an incremental sync after `since`, and the new since.
async function countsSince(who, room, since) {
  const res = await sync(srv, who, { since, timeout: 5000 });
  const entry = res.rooms.join[room];
  assert.ok(entry, 'the room has news');
  return { counts: entry.unread_notifications, since: res.next_batch };
}

async function sendAll(who, room, bodies) {
  const ids = [];
  for (const body of bodies) ids.push(await sendMessage(srv, who, room, body));
  return ids;
}

test('a redaction of a counted message lowers the count on the next sync', async () => {
  const { a, b, room } = await pair();
  let since = (await sync(srv, a)).next_batch;
  const [first] = await sendAll(b, room, ['one', 'two', 'three']);
  let got = await countsSince(a, room, since);
  assert.equal(got.counts.notification_count, 3);
  const res = await srv.fetch(`${V3}/rooms/${seg(room)}/redact/${seg(first)}/r${n}`, { method: 'PUT', body: {}, token: b.token });
  assert.equal(res.status, 200, res.text);
  got = await countsSince(a, room, got.since);
  assert.equal(got.counts.notification_count, 2);
});

test('muting the room with a push rule applies to the messages already counted', async () => {
  const { a, b, room } = await pair();
  let since = (await sync(srv, a)).next_batch;
  await sendAll(b, room, ['one', 'two']);
  let got = await countsSince(a, room, since);
  assert.equal(got.counts.notification_count, 2);
  const mute = await srv.fetch(`${V3}/pushrules/global/room/${seg(room)}`, {
    method: 'PUT', body: { actions: [] }, token: a.token,
  });
  assert.equal(mute.status, 200, mute.text);
  await sendAll(b, room, ['three']);
  got = await countsSince(a, room, got.since);
  assert.equal(got.counts.notification_count, 0);
});

test('raising the writer\'s power makes an earlier @room a highlight', async () => {
  const admin = await register(srv, `admin${++n}`);
  const a = await register(srv, `reader${n}`);
  const b = await register(srv, `writer${n}`);
  const room = await createRoom(srv, admin, { preset: 'public_chat' });
  await join(srv, a, room);
  await join(srv, b, room);
  let since = (await sync(srv, a)).next_batch;
  await sendAll(b, room, ['@room listen']); // power 0: no highlight yet
  let got = await countsSince(a, room, since);
  assert.deepEqual(got.counts, { notification_count: 1, highlight_count: 0 });
  const levels = (await srv.fetch(`${V3}/rooms/${seg(room)}/state/m.room.power_levels/`, { token: admin.token })).json;
  levels.users[b.user_id] = 50;
  const res = await srv.fetch(`${V3}/rooms/${seg(room)}/state/m.room.power_levels/`, { method: 'PUT', body: levels, token: admin.token });
  assert.equal(res.status, 200, res.text);
  got = await countsSince(a, room, got.since);
  assert.deepEqual(got.counts, { notification_count: 1, highlight_count: 1 });
});

test('a receipt, then more messages: only those after the receipt count', async () => {
  const { a, b, room } = await pair();
  let since = (await sync(srv, a)).next_batch;
  const ids = await sendAll(b, room, ['one', 'two', 'three']);
  let got = await countsSince(a, room, since);
  assert.equal(got.counts.notification_count, 3);
  await receipt(srv, a, room, ids[1]);
  got = await countsSince(a, room, got.since);
  assert.equal(got.counts.notification_count, 1);
  await sendAll(b, room, ['four']);
  got = await countsSince(a, room, got.since);
  assert.equal(got.counts.notification_count, 2);
});

test('the reader\'s own message reads everything before it, in its thread only', async () => {
  const { a, b, room } = await pair();
  let since = (await sync(srv, a)).next_batch;
  const [root] = await sendAll(b, room, ['root', 'two']);
  const reply = await send(srv, b, room, 'm.room.message',
    { msgtype: 'm.text', body: 'in the thread', 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
  assert.equal(reply.status, 200);
  const filter = JSON.stringify({ room: { timeline: { unread_thread_notifications: true } } });
  let res = await sync(srv, a, { since, timeout: 5000, filter });
  assert.equal(res.rooms.join[room].unread_notifications.notification_count, 2);
  assert.equal(res.rooms.join[room].unread_thread_notifications[root].notification_count, 1);
  await sendAll(a, room, ['I read the room']);
  res = await sync(srv, a, { since: res.next_batch, timeout: 5000, filter });
  assert.equal(res.rooms.join[room].unread_notifications.notification_count, 0);
  assert.equal(res.rooms.join[room].unread_thread_notifications[root].notification_count, 1);
});

test('counts kept over many syncs equal a fresh count after a restart, past 500 events too', async () => {
  const first = await startServer({ args: ['--no-rate-limit'] });
  let second;
  try {
    const a = await register(first, 'reader');
    const b = await register(first, 'writer');
    const room = await createRoom(first, b, { preset: 'public_chat' });
    await join(first, a, room);
    let since = (await sync(first, a)).next_batch;
    const kept = [];
    // 520 messages in batches, a sync after each: the count is carried on
    // until a fresh count's 500-event window is passed.
    for (let batch = 0; batch < 13; batch++) {
      for (let i = 0; i < 40; i++) await sendMessage(first, b, room, `message ${batch}-${i}${i === 7 ? ' @room' : ''}`);
      const res = await sync(first, a, { since, timeout: 5000 });
      since = res.next_batch;
      kept.push(res.rooms.join[room].unread_notifications);
    }
    // b made the room (power 100), so each batch's @room is a highlight.
    assert.deepEqual(kept[0], { notification_count: 40, highlight_count: 1 });
    assert.deepEqual(kept[11], { notification_count: 480, highlight_count: 12 });
    // Past 500: the newest 500 count, and the first batch's @room is older.
    assert.deepEqual(kept[12], { notification_count: 500, highlight_count: 12 });
    await first.stop({ keepFiles: true });
    second = await startServer({ args: ['--no-rate-limit'], db: first.db });
    const fresh = (await sync(second, a)).rooms.join[room].unread_notifications;
    assert.deepEqual(fresh, kept.at(-1));
  } finally {
    await (second ?? first).stop();
    rmSync(first.dir, { recursive: true, force: true });
  }
});
