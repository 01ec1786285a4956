// sync_many_rooms.test.mjs -- an initial /sync of a user in 300 rooms says
// exactly what the rooms hold.
//
// /sync writes its events as text, copying each event's stored content
// (src/api/sync_write.c), while /event, /messages and /state build them as
// JSON values: every event a sync shows must equal the same event read
// one by one, and each room's state, timeline, counts, receipts and account
// data must match what the other endpoints say. The rooms mix what takes
// the general path (changed state, redactions, thread roots) with plain
// messages whose text needs escaping.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import {
  V3, createRoom, getState, join, register, send, sendMessage, sendThreadReply, seg, setState, sync,
} from './lib/matrix.mjs';
import { receipt } from './lib/rest.mjs';

const ROOMS = 300;
const TIMELINE_LIMIT = 10; // the server's default

let srv, many, other;
const rooms = []; // {id, unread, tag, receiptOn}
let initial, rawText, contentType;

// The same event, whenever it is read: only its age moves, and /sync leaves
// out the room id that its key already says.
const withoutAge = (event) => {
  const { unsigned = {}, room_id: roomId, ...rest } = structuredClone(event);
  const { age, ...keptUnsigned } = unsigned;
  assert.equal(typeof age, 'number', `${event.event_id} has an age`);
  assert.ok(age >= 0);
  if (keptUnsigned['m.relations']?.['m.thread']?.latest_event)
    keptUnsigned['m.relations']['m.thread'].latest_event = withoutAge(keptUnsigned['m.relations']['m.thread'].latest_event);
  if (keptUnsigned.redacted_because) keptUnsigned.redacted_because = withoutAge(keptUnsigned.redacted_because);
  return { ...rest, unsigned: keptUnsigned };
};

async function ok(res, what) {
  assert.equal(res.status, 200, `${what}: ${res.text}`);
  return res.json;
}

// Text that a JSON writer must escape, and text beyond ASCII.
const awkward = (i) => `quote " backslash \\ slash / newline \n tab \t bell \u0007 é 🙂 \u2028 room ${i}`;

before(async () => {
  srv = await startServer({ args: ['--no-rate-limit', '--weak-password-hashing'] });
  many = await register(srv, 'many');
  other = await register(srv, 'other');
  for (let i = 0; i < ROOMS; i++) {
    const id = await createRoom(srv, many, { preset: 'public_chat', name: `room ${i}`, topic: `topic ${i}` });
    await join(srv, other, id);
    const room = { id, unread: i % 4 };
    await sendMessage(srv, other, id, awkward(i));
    if (i % 5 === 0) await setState(srv, many, id, 'm.room.topic', '', { topic: `the new topic of ${i}` });
    if (i % 7 === 0) {
      const doomed = await sendMessage(srv, other, id, `to be redacted in ${i}`);
      await ok(await srv.fetch(`${V3}/rooms/${seg(id)}/redact/${seg(doomed)}/r${i}`,
        { method: 'PUT', body: { reason: 'test' }, token: other.token }), 'redact');
    }
    if (i % 11 === 0) {
      const root = await sendMessage(srv, other, id, `thread root ${i}`);
      await sendThreadReply(srv, many, id, root, `reply in ${i}`);
    }
    if (i % 13 === 0) // a long room: the timeline is limited and the state holds what came before
      for (let k = 0; k < 12; k++) await sendMessage(srv, other, id, `filler ${k}`);
    if (i % 3 === 0) {
      const res = await send(srv, other, id, 'org.example.custom',
        { nested: { list: [1, 25, -3, true, false, null, 'x'], empty: {} }, n: 9007199254740991 });
      await ok(res, 'custom event');
    }
    if (i % 6 === 0) {
      room.tag = { tags: { 'm.favourite': { order: i / ROOMS } } };
      await ok(await srv.fetch(`${V3}/user/${seg(many.user_id)}/rooms/${seg(id)}/tags/m.favourite`,
        { method: 'PUT', body: room.tag.tags['m.favourite'], token: many.token }), 'tag');
    }
    // many's own message reads the room; what other says after it is unread.
    const own = await sendMessage(srv, many, id, `mine in ${i}`);
    if (i % 9 === 0) {
      await receipt(srv, other, id, own);
      room.receiptOn = own;
    }
    for (let k = 0; k < room.unread; k++) await sendMessage(srv, other, id, `unread ${k}`);
    rooms.push(room);
  }
  await ok(await srv.fetch(`${V3}/user/${seg(many.user_id)}/account_data/org.example.global`,
    { method: 'PUT', body: { awkward: awkward('global') }, token: many.token }), 'account data');
  const res = await srv.fetch(`${V3}/sync`, { token: many.token });
  initial = await ok(res, 'initial sync');
  rawText = res.text;
  contentType = res.headers['content-type'];
});
after(async () => { await srv.stop(); });

test('the initial sync is JSON with every room joined, and says so in its content type', () => {
  assert.equal(JSON.stringify(JSON.parse(rawText)), JSON.stringify(initial));
  assert.match(contentType, /^application\/json/);
  assert.equal(Object.keys(initial.rooms.join).length, ROOMS);
  assert.deepEqual(initial.rooms.invite, {});
  assert.deepEqual(initial.rooms.leave, {});
  assert.deepEqual(initial.rooms.knock, {});
  assert.match(initial.next_batch, /^s\d+$/);
});

test('every event in every room equals the same event read by /event', async () => {
  let checked = 0;
  for (const { id } of rooms) {
    const entry = initial.rooms.join[id];
    for (const event of [...entry.state.events, ...entry.timeline.events]) {
      const alone = await ok(await srv.fetch(`${V3}/rooms/${seg(id)}/event/${seg(event.event_id)}`,
        { token: many.token }), 'event');
      assert.deepEqual(withoutAge(event), withoutAge(alone), `${event.type} ${event.event_id} in room ${id}`);
      checked++;
    }
  }
  assert.ok(checked > ROOMS * TIMELINE_LIMIT, `checked ${checked} events`);
});

test('each timeline is the room\'s newest events, as /messages gives them', async () => {
  for (const { id } of rooms) {
    const entry = initial.rooms.join[id];
    const page = await ok(await srv.fetch(`${V3}/rooms/${seg(id)}/messages?dir=b&limit=${TIMELINE_LIMIT + 1}`,
      { token: many.token }), 'messages');
    const newest = page.chunk.slice(0, TIMELINE_LIMIT).reverse();
    assert.deepEqual(entry.timeline.events.map(withoutAge), newest.map(withoutAge), `timeline of ${id}`);
    assert.equal(entry.timeline.limited, page.chunk.length > TIMELINE_LIMIT, `limited in ${id}`);
    const before = await ok(await srv.fetch(
      `${V3}/rooms/${seg(id)}/messages?dir=b&limit=1&from=${entry.timeline.prev_batch}`, { token: many.token }), 'prev_batch');
    assert.deepEqual(before.chunk.map((e) => e.event_id), page.chunk.slice(TIMELINE_LIMIT).map((e) => e.event_id),
      `prev_batch of ${id} leads to the event before the timeline`);
  }
});

test('state before the timeline, then the timeline\'s state events, make the room\'s current state', async () => {
  for (const { id } of rooms) {
    const entry = initial.rooms.join[id];
    const timelineIds = new Set(entry.timeline.events.map((e) => e.event_id));
    const state = new Map();
    for (const e of entry.state.events) {
      assert.ok(!timelineIds.has(e.event_id), `${e.type} is in both the state and the timeline of ${id}`);
      state.set(`${e.type}\u0000${e.state_key}`, e);
    }
    for (const e of entry.timeline.events)
      if (e.state_key !== undefined) state.set(`${e.type}\u0000${e.state_key}`, e);
    const current = await getState(srv, many, id);
    assert.equal(state.size, current.length, `how many state events ${id} has`);
    for (const e of current) {
      const seen = state.get(`${e.type}\u0000${e.state_key}`);
      assert.ok(seen, `${e.type} "${e.state_key}" of ${id} is in the sync`);
      assert.equal(seen.event_id, e.event_id);
      assert.deepEqual(seen.content, e.content);
    }
  }
});

test('summaries, unread counts, receipts and room account data match the rooms', () => {
  for (const room of rooms) {
    const entry = initial.rooms.join[room.id];
    assert.deepEqual(entry.summary, {
      'm.heroes': [other.user_id], 'm.joined_member_count': 2, 'm.invited_member_count': 0,
    }, `summary of ${room.id}`);
    assert.deepEqual(entry.unread_notifications, { notification_count: room.unread, highlight_count: 0 },
      `unread counts of ${room.id}`);
    const receipts = entry.ephemeral.events.filter((e) => e.type === 'm.receipt');
    if (room.receiptOn) {
      assert.equal(receipts.length, 1);
      const read = receipts[0].content[room.receiptOn]?.['m.read']?.[other.user_id];
      assert.equal(typeof read?.ts, 'number', `other's receipt in ${room.id}`);
    }
    const tags = entry.account_data.events.filter((e) => e.type === 'm.tag');
    assert.deepEqual(tags, room.tag ? [{ type: 'm.tag', content: room.tag }] : [], `tags of ${room.id}`);
  }
});

test('the top level carries the user\'s account data and the end-to-end parts', () => {
  const global = initial.account_data.events.find((e) => e.type === 'org.example.global');
  assert.deepEqual(global?.content, { awkward: awkward('global') });
  assert.ok(initial.account_data.events.some((e) => e.type === 'm.push_rules'));
  assert.ok(Array.isArray(initial.presence.events));
  assert.deepEqual(initial.to_device, { events: [] });
  assert.deepEqual(initial.device_lists, { changed: [], left: [] });
  assert.equal(typeof initial.device_one_time_keys_count, 'object');
  assert.ok(Array.isArray(initial.device_unused_fallback_key_types));
});

test('an incremental sync after one message says just that, in the same form', async () => {
  const { id } = rooms[1];
  const eventId = await sendMessage(srv, other, id, awkward('late'));
  const next = await sync(srv, many, { since: initial.next_batch, timeout: 0 });
  assert.deepEqual(Object.keys(next.rooms.join), [id]);
  const [event] = next.rooms.join[id].timeline.events;
  assert.equal(event.event_id, eventId);
  assert.equal(event.content.body, awkward('late'));
  const alone = await ok(await srv.fetch(`${V3}/rooms/${seg(id)}/event/${seg(eventId)}`, { token: many.token }), 'event');
  assert.deepEqual(withoutAge(event), withoutAge(alone));
  assert.deepEqual(next.rooms.join[id].unread_notifications,
    { notification_count: rooms[1].unread + 1, highlight_count: 0 });
});
