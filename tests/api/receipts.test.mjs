// receipts.test.mjs -- read receipts, read markers, m.receipt in /sync, and
// the unread notification and highlight counts they drive.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, assertError, createRoom, join, register, send, sendMessage, seg, sync } from './lib/matrix.mjs';
import { ephemeral, receipt, receiptRaw } from './lib/rest.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

async function pair(name) {
  const a = await register(srv, `${name}a`);
  const b = await register(srv, `${name}b`);
  const room = await createRoom(srv, a, { preset: 'public_chat' });
  await join(srv, b, room);
  return { a, b, room };
}

const counts = async (who, room, params = {}) => (await sync(srv, who, params)).rooms.join[room].unread_notifications;

async function sendBody(who, room, content) {
  const res = await send(srv, who, room, 'm.room.message', { msgtype: 'm.text', ...content });
  assert.equal(res.status, 200, res.text);
  return res.json.event_id;
}

describe('receipts', () => {
  test('an m.read receipt reaches the other members\' sync', async () => {
    const { a, b, room } = await pair('r1');
    const ev = await sendMessage(srv, a, room, 'hello');
    const since = (await sync(srv, a)).next_batch;
    await receipt(srv, b, room, ev);
    const res = await sync(srv, a, { since, timeout: 5000 });
    const r = ephemeral(res.rooms.join[room], 'm.receipt');
    assert.equal(typeof r.content[ev]['m.read'][b.user_id].ts, 'number');
    assert.equal(r.content[ev]['m.read'][b.user_id].thread_id, undefined);
  });

  test('a private receipt is seen by its owner only', async () => {
    const { a, b, room } = await pair('r2');
    const ev = await sendMessage(srv, a, room, 'secret read');
    const sinceA = (await sync(srv, a)).next_batch;
    const sinceB = (await sync(srv, b)).next_batch;
    await receipt(srv, b, room, ev, 'm.read.private');
    const mine = await sync(srv, b, { since: sinceB, timeout: 5000 });
    assert.ok(ephemeral(mine.rooms.join[room], 'm.receipt').content[ev]['m.read.private'][b.user_id]);
    const theirs = await sync(srv, a, { since: sinceA, timeout: 300 });
    assert.equal(ephemeral(theirs.rooms.join?.[room], 'm.receipt'), undefined);
    const initial = await sync(srv, a);
    assert.equal(ephemeral(initial.rooms.join[room], 'm.receipt'), undefined);
  });

  test('a threaded receipt carries its thread_id', async () => {
    const { a, b, room } = await pair('r3');
    const root = await sendMessage(srv, a, room, 'root');
    const inThread = await sendBody(a, room, { body: 'reply', 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
    await receipt(srv, b, room, root, 'm.read', { thread_id: 'main' });
    await receipt(srv, b, room, inThread, 'm.read', { thread_id: root });
    const r = ephemeral((await sync(srv, a)).rooms.join[room], 'm.receipt');
    assert.equal(r.content[root]['m.read'][b.user_id].thread_id, 'main');
    assert.equal(r.content[inThread]['m.read'][b.user_id].thread_id, root);
  });

  test('a receipt for an older event than the last one changes nothing', async () => {
    const { a, b, room } = await pair('r4');
    const old = await sendMessage(srv, a, room, 'one');
    const recent = await sendMessage(srv, a, room, 'two');
    await receipt(srv, b, room, recent);
    const since = (await sync(srv, a)).next_batch;
    await receipt(srv, b, room, old);
    const res = await sync(srv, a, { since, timeout: 300 });
    assert.equal(res.rooms.join[room], undefined);
    const r = ephemeral((await sync(srv, a)).rooms.join[room], 'm.receipt');
    assert.ok(r.content[recent]['m.read'][b.user_id]);
    assert.equal(r.content[old], undefined);
  });

  test('receipts for unknown events, bad types or from outside are refused', async () => {
    const { a, room } = await pair('r5');
    const ev = await sendMessage(srv, a, room, 'x');
    assertError(await receiptRaw(srv, a, room, '$nosuch'), 404, 'M_NOT_FOUND');
    assertError(await receiptRaw(srv, a, room, ev, 'm.seen'), 400, 'M_INVALID_PARAM');
    const stranger = await register(srv, 'r5stranger');
    assertError(await receiptRaw(srv, stranger, room, ev), 403, 'M_FORBIDDEN');
    assertError(await receiptRaw(srv, a, '!nosuch:localhost', ev), 404, 'M_NOT_FOUND');
  });

  test('a bad thread_id is refused', async () => {
    const { a, room } = await pair('r6');
    const root = await sendMessage(srv, a, room, 'root');
    const inThread = await sendBody(a, room, { body: 'r', 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
    assertError(await receiptRaw(srv, a, room, root, 'm.read', { thread_id: '' }), 400, 'M_INVALID_PARAM');
    assertError(await receiptRaw(srv, a, room, root, 'm.read', { thread_id: 4 }), 400, 'M_INVALID_PARAM');
    assertError(await receiptRaw(srv, a, room, root, 'm.fully_read', { thread_id: 'main' }), 400, 'M_INVALID_PARAM');
    assertError(await receiptRaw(srv, a, room, inThread, 'm.read', { thread_id: 'main' }), 400, 'M_INVALID_PARAM');
    assertError(await receiptRaw(srv, a, room, root, 'm.read', { thread_id: '$otherroot' }), 400, 'M_INVALID_PARAM');
  });
});

describe('read markers', () => {
  const markers = (who, room, body) =>
    srv.fetch(`${V3}/rooms/${seg(room)}/read_markers`, { method: 'POST', body, token: who.token });
  const fullyRead = (who, room) =>
    srv.fetch(`${V3}/user/${seg(who.user_id)}/rooms/${seg(room)}/account_data/m.fully_read`, { token: who.token });

  test('m.fully_read becomes room account data, and m.read a receipt', async () => {
    const { a, b, room } = await pair('m1');
    const ev = await sendMessage(srv, a, room, 'read me');
    const since = (await sync(srv, b)).next_batch;
    assert.equal((await markers(b, room, { 'm.fully_read': ev, 'm.read': ev })).status, 200);
    assert.deepEqual((await fullyRead(b, room)).json, { event_id: ev });
    const res = await sync(srv, b, { since, timeout: 5000 });
    const entry = res.rooms.join[room];
    assert.deepEqual(entry.account_data.events, [{ type: 'm.fully_read', content: { event_id: ev } }]);
    assert.ok(ephemeral(entry, 'm.receipt').content[ev]['m.read'][b.user_id]);
  });

  test('the receipt endpoint also moves m.fully_read, and only forward', async () => {
    const { a, b, room } = await pair('m2');
    const first = await sendMessage(srv, a, room, 'one');
    const second = await sendMessage(srv, a, room, 'two');
    await receipt(srv, b, room, second, 'm.fully_read');
    await receipt(srv, b, room, first, 'm.fully_read');
    assert.deepEqual((await fullyRead(b, room)).json, { event_id: second });
  });

  test('unknown events and wrong types are refused, and nothing changes', async () => {
    const { a, b, room } = await pair('m3');
    const ev = await sendMessage(srv, a, room, 'x');
    assertError(await markers(b, room, { 'm.fully_read': ev, 'm.read': '$nosuch' }), 404, 'M_NOT_FOUND');
    assertError(await fullyRead(b, room), 404, 'M_NOT_FOUND');
    assertError(await markers(b, room, { 'm.fully_read': 12 }), 400, 'M_BAD_JSON');
    const stranger = await register(srv, 'm3stranger');
    assertError(await markers(stranger, room, { 'm.fully_read': ev }), 403, 'M_FORBIDDEN');
  });
});

describe('unread counts', () => {
  test('messages after the read receipt are counted, and receipts clear them', async () => {
    const { a, b, room } = await pair('u1');
    await sendMessage(srv, a, room, 'one');
    const second = await sendMessage(srv, a, room, 'two');
    const third = await sendMessage(srv, a, room, 'three');
    assert.deepEqual(await counts(b, room), { notification_count: 3, highlight_count: 0 });
    await receipt(srv, b, room, second);
    assert.deepEqual(await counts(b, room), { notification_count: 1, highlight_count: 0 });
    await receipt(srv, b, room, third, 'm.read.private');
    assert.deepEqual(await counts(b, room), { notification_count: 0, highlight_count: 0 });
  });

  test('the later of m.read and m.read.private counts', async () => {
    const { a, b, room } = await pair('u2');
    const first = await sendMessage(srv, a, room, 'one');
    const second = await sendMessage(srv, a, room, 'two');
    await receipt(srv, b, room, second, 'm.read.private');
    await receipt(srv, b, room, first, 'm.read');
    assert.equal((await counts(b, room)).notification_count, 0);
  });

  test('one\'s own message counts as reading everything before it', async () => {
    const { a, b, room } = await pair('u3');
    await sendMessage(srv, a, room, 'one');
    await sendMessage(srv, b, room, 'my answer');
    await sendMessage(srv, a, room, 'two');
    assert.equal((await counts(b, room)).notification_count, 1);
  });

  test('mentions by display name, by localpart and by m.mentions are highlights', async () => {
    const { a, b, room } = await pair('u4');
    await srv.fetch(`${V3}/profile/${seg(b.user_id)}/displayname`,
      { method: 'PUT', body: { displayname: 'Bertha' }, token: b.token });
    await sendBody(a, room, { body: 'hi bertha, look' });
    await sendBody(a, room, { body: 'ping u4b!' });
    await sendBody(a, room, { body: 'no name here', 'm.mentions': { user_ids: [b.user_id] } });
    await sendBody(a, room, { body: 'plain chat' });
    await sendBody(a, room, { body: 'Bertha in text, but m.mentions says nobody', 'm.mentions': {} });
    await sendBody(a, room, { body: 'Berthas is another word' });
    assert.deepEqual(await counts(b, room), { notification_count: 6, highlight_count: 3 });
  });

  test('notices and others\' membership changes do not count', async () => {
    const { a, b, room } = await pair('u5');
    await sendBody(a, room, { msgtype: 'm.notice', body: 'bot says hi' });
    await join(srv, await register(srv, 'u5c'), room);
    assert.deepEqual(await counts(b, room), { notification_count: 0, highlight_count: 0 });
  });

  test('thread counts are split out when the filter asks for them', async () => {
    const { a, b, room } = await pair('u6');
    const root = await sendMessage(srv, a, room, 'root');
    await sendBody(a, room, { body: 'in thread 1', 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
    await sendBody(a, room, { body: 'in thread 2', 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
    const filter = { room: { timeline: { unread_thread_notifications: true } } };
    const entry = (await sync(srv, b, { filter })).rooms.join[room];
    assert.deepEqual(entry.unread_notifications, { notification_count: 1, highlight_count: 0 });
    assert.deepEqual(entry.unread_thread_notifications, { [root]: { notification_count: 2, highlight_count: 0 } });
    await receipt(srv, b, room, root, 'm.read', { thread_id: 'main' });
    const after = (await sync(srv, b, { filter })).rooms.join[room];
    assert.deepEqual(after.unread_notifications, { notification_count: 0, highlight_count: 0 });
    assert.deepEqual(after.unread_thread_notifications, { [root]: { notification_count: 2, highlight_count: 0 } });
    assert.equal((await counts(b, room)).notification_count, 2, 'without the filter, one count for the room');
  });

  test('a receipt wakes the reader\'s own parked sync with new counts', async () => {
    const { a, b, room } = await pair('u7');
    const ev = await sendMessage(srv, a, room, 'one');
    const since = (await sync(srv, b)).next_batch;
    const waiting = sync(srv, b, { since, timeout: 10000 });
    await new Promise((r) => setTimeout(r, 200));
    await receipt(srv, b, room, ev, 'm.read.private');
    const res = await waiting;
    assert.deepEqual(res.rooms.join[room].unread_notifications, { notification_count: 0, highlight_count: 0 });
  });
});
