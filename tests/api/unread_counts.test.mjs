// unread_counts.test.mjs -- the unread counts the server keeps (store/unread.h,
// room/push_actions.c: push actions decided when an event is stored, counts
// moved as things happen, stale ones judged again) always equal a fresh count.
//
// A fresh count is made by the server itself from the events alone: the
// server is stopped, the counts it kept are dropped (the database taken back
// to the schema before migration 13), and
// a new server on the same file judges every unread event again on its
// first sync. Each test changes one thing the counts depend on (receipts,
// own messages, push rules, redactions, display names, power levels, the
// member count, a restart) and compares the counts a running server reports
// with the fresh ones, per thread.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, test } from 'node:test';

import { UNDO_STREAM_INDEXES, UNDO_MEMBER_KEYS, UNDO_MEMBER_NAMES, UNDO_PUSH_ACTIONS, UNDO_WORD_INDEX } from './lib/schema.mjs';
import { startServer } from './lib/server.mjs';
import {
  V3, createRoom, join, register, send, sendMessage, sendThreadReply, seg, setState, sqlite, sync,
} from './lib/matrix.mjs';
import { receipt } from './lib/rest.mjs';

const ARGS = ['--no-rate-limit'];
const THREADS = JSON.stringify({ room: { timeline: { unread_thread_notifications: true } } });

let srv;
let dirs = []; // every server's folder: the first holds the database
afterEach(async () => {
  await srv?.stop({ keepFiles: true });
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  srv = undefined;
  dirs = [];
});

async function start(db) {
  srv = await startServer({ args: ARGS, db });
  dirs.push(srv.dir);
}

// The reader's counts in each room as an initial sync reports them: the
// room's (main timeline) and its threads'.
async function counts(who, rooms) {
  const res = await sync(srv, who, { filter: THREADS });
  const out = {};
  for (const room of rooms) {
    const entry = res.rooms.join[room];
    assert.ok(entry, `${room} is joined`);
    out[room] = { main: entry.unread_notifications, threads: entry.unread_thread_notifications };
  }
  return out;
}

// Restarts the server on the same database, keeping what it kept.
async function restart() {
  const db = srv.db;
  await srv.stop({ keepFiles: true });
  await start(db);
}

// The counts a server that kept nothing computes from the events, after
// which the test goes on with that server.
async function freshCounts(who, rooms) {
  const db = srv.db;
  await srv.stop({ keepFiles: true });
  execFileSync('sqlite3', [db, `${UNDO_STREAM_INDEXES} ${UNDO_MEMBER_KEYS} ${UNDO_WORD_INDEX} ${UNDO_MEMBER_NAMES} ${UNDO_PUSH_ACTIONS} PRAGMA user_version = 12;`]);
  await start(db);
  return counts(who, rooms);
}

// Kept counts equal fresh ones; returns them.
async function keptEqualsFresh(who, rooms) {
  const kept = await counts(who, rooms);
  const fresh = await freshCounts(who, rooms);
  assert.deepEqual(kept, fresh, 'kept counts equal a fresh count');
  return kept;
}

let n = 0;
// a (the reader) and b (the writer, who made the room: power 100).
async function pair() {
  const a = await register(srv, `reader${++n}`);
  const b = await register(srv, `writer${n}`);
  const room = await createRoom(srv, b, { preset: 'public_chat' });
  await join(srv, a, room);
  return { a, b, room };
}

const sendAll = async (who, room, bodies) => {
  const ids = [];
  for (const body of bodies) ids.push(await sendMessage(srv, who, room, body));
  return ids;
};

test('receipts, threaded and not, private or not, and the reader\'s own messages move the counts', async () => {
  await start();
  const { a, b, room } = await pair();
  const [root, , third] = await sendAll(b, room, ['root', 'two', 'three', 'four @room']);
  const reply1 = await sendThreadReply(srv, b, room, root, 'in the thread');
  await sendThreadReply(srv, b, room, root, 'in the thread again');
  let got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 4, highlight_count: 1 });
  assert.deepEqual(got[room].threads[root], { notification_count: 2, highlight_count: 0 });

  await receipt(srv, a, room, third, 'm.read.private'); // unthreaded: every thread up to there
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 1, highlight_count: 1 });

  await receipt(srv, a, room, reply1, 'm.read', { thread_id: root }); // the thread's own receipt
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].threads[root], { notification_count: 1, highlight_count: 0 });

  await sendAll(b, room, ['five']);
  await sendThreadReply(srv, a, room, root, 'I read the thread'); // own message: its thread only
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 2, highlight_count: 1 });
  assert.equal(got[room].threads[root], undefined);

  await sendAll(a, room, ['I read the room']);
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 0, highlight_count: 0 });
});

test('push rule changes apply to the messages already counted', async () => {
  await start();
  const { a, b, room } = await pair();
  const other = await createRoom(srv, b, { preset: 'public_chat' });
  await join(srv, a, other);
  await sendAll(b, room, ['one', 'two mentions cheese']);
  await sendAll(b, other, ['three']);
  let got = await keptEqualsFresh(a, [room, other]);
  assert.deepEqual(got[room].main, { notification_count: 2, highlight_count: 0 });

  const rule = (path, body) => srv.fetch(`${V3}/pushrules/global/${path}`, { method: 'PUT', body, token: a.token });
  // A content rule: the older message becomes a highlight.
  let res = await rule('content/cheese', { pattern: 'cheese', actions: ['notify', { set_tweak: 'highlight' }] });
  assert.equal(res.status, 200, res.text);
  got = await keptEqualsFresh(a, [room, other]);
  assert.deepEqual(got[room].main, { notification_count: 2, highlight_count: 1 });
  // Muting one room leaves the other (and content rules, which come first).
  res = await rule(`room/${seg(room)}`, { actions: [] });
  assert.equal(res.status, 200, res.text);
  await sendAll(b, room, ['four']);
  got = await keptEqualsFresh(a, [room, other]);
  assert.deepEqual(got[room].main, { notification_count: 1, highlight_count: 1 });
  assert.deepEqual(got[other].main, { notification_count: 1, highlight_count: 0 });
  // Disabling the default rules for plain messages, then deleting the mute.
  for (const id of ['.m.rule.room_one_to_one', '.m.rule.message']) {
    res = await rule(`underride/${id}/enabled`, { enabled: false });
    assert.equal(res.status, 200, res.text);
  }
  res = await srv.fetch(`${V3}/pushrules/global/room/${seg(room)}`, { method: 'DELETE', token: a.token });
  assert.equal(res.status, 200, res.text);
  got = await keptEqualsFresh(a, [room, other]);
  assert.deepEqual(got[room].main, { notification_count: 1, highlight_count: 1 }); // the cheese rule still
  assert.deepEqual(got[other].main, { notification_count: 0, highlight_count: 0 });
});

test('a redaction of a counted message, in a thread too, lowers the counts', async () => {
  await start();
  const { a, b, room } = await pair();
  const [first, root] = await sendAll(b, room, ['one @room', 'two', 'three']);
  const reply = await sendThreadReply(srv, b, room, root, 'in the thread');
  let got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 3, highlight_count: 1 });
  for (const [i, id] of [first, reply].entries()) {
    const res = await srv.fetch(`${V3}/rooms/${seg(room)}/redact/${seg(id)}/r${i}`, { method: 'PUT', body: {}, token: b.token });
    assert.equal(res.status, 200, res.text);
  }
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 2, highlight_count: 0 });
  assert.equal(got[room].threads[root], undefined);
});

test('a new display name makes earlier mentions of it highlights', async () => {
  await start();
  const { a, b, room } = await pair();
  const [root] = await sendAll(b, room, ['where is Zebulon?', 'nobody here']);
  await sendThreadReply(srv, b, room, root, 'Zebulon is in the thread');
  let got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 2, highlight_count: 0 });
  assert.deepEqual(got[room].threads[root], { notification_count: 1, highlight_count: 0 });
  const member = (await srv.fetch(`${V3}/rooms/${seg(room)}/state/m.room.member/${seg(a.user_id)}`, { token: a.token })).json;
  await setState(srv, a, room, 'm.room.member', a.user_id, { ...member, displayname: 'Zebulon' });
  // A member event of one's own moves one's membership, the read floor:
  // everything before it is read, threads too.
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 0, highlight_count: 0 });
  assert.equal(got[room].threads[root], undefined);
  // b's next messages are counted, and the name decides some of them.
  await sendAll(b, room, ['Zebulon, hello', 'and again']);
  await sendThreadReply(srv, b, room, root, 'Zebulon, the thread goes on');
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 2, highlight_count: 1 });
  assert.deepEqual(got[room].threads[root], { notification_count: 1, highlight_count: 1 });
  // b's rename does not touch a's counts.
  const bm = (await srv.fetch(`${V3}/rooms/${seg(room)}/state/m.room.member/${seg(b.user_id)}`, { token: b.token })).json;
  await setState(srv, b, room, 'm.room.member', b.user_id, { ...bm, displayname: 'Bee' });
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 2, highlight_count: 1 });
  assert.deepEqual(got[room].threads[root], { notification_count: 1, highlight_count: 1 });
});

test('in a room of several, a message highlights only the members it names', async () => {
  // Members on the default rules are judged as no one would be unless the
  // body contains their name or localpart, or m.mentions names them.
  await start();
  const b = await register(srv, `writer${++n}`);
  const c = await register(srv, `quill${n}`);
  const d = await register(srv, `dora${n}`);
  const e = await register(srv, `eve${n}`);
  const room = await createRoom(srv, b, { preset: 'public_chat' });
  for (const who of [c, d, e]) await join(srv, who, room);
  const cm = (await srv.fetch(`${V3}/rooms/${seg(room)}/state/m.room.member/${seg(c.user_id)}`, { token: c.token })).json;
  await setState(srv, c, room, 'm.room.member', c.user_id, { ...cm, displayname: 'Quentin Blake' });
  const dora = `dora${n}`;
  await sendAll(b, room, ['hello all', 'QUENTIN blake, look', 'quentin blakeish', `${dora} come here`, `x${dora}x`]);
  await send(srv, b, room, 'm.room.message', { msgtype: 'm.text', body: 'ping', 'm.mentions': { user_ids: [d.user_id] } });
  // Named three ways at once (id, name, localpart): still one highlight.
  // A sync first, so that c's counts are kept ones, not judged afresh.
  await counts(c, [room]);
  await send(srv, b, room, 'm.room.message',
    { msgtype: 'm.text', body: `Quentin Blake, quill${n}!`, 'm.mentions': { user_ids: [c.user_id] } });
  let got = await keptEqualsFresh(c, [room]);
  assert.deepEqual(got[room].main, { notification_count: 7, highlight_count: 2 });
  got = await keptEqualsFresh(d, [room]);
  assert.deepEqual(got[room].main, { notification_count: 7, highlight_count: 2 });
  got = await keptEqualsFresh(e, [room]);
  assert.deepEqual(got[room].main, { notification_count: 7, highlight_count: 0 });
});

test('raising the writer\'s power makes an earlier @room a highlight, lowering it undoes that', async () => {
  await start();
  const admin = await register(srv, `admin${++n}`);
  const a = await register(srv, `reader${n}`);
  const b = await register(srv, `writer${n}`);
  const room = await createRoom(srv, admin, { preset: 'public_chat' });
  await join(srv, a, room);
  await join(srv, b, room);
  await sendAll(b, room, ['@room listen']); // power 0: no highlight yet
  let got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 1, highlight_count: 0 });
  const levels = (await srv.fetch(`${V3}/rooms/${seg(room)}/state/m.room.power_levels/`, { token: admin.token })).json;
  levels.users[b.user_id] = 50;
  await setState(srv, admin, room, 'm.room.power_levels', '', levels);
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 1, highlight_count: 1 });
  levels.notifications = { room: 75 };
  await setState(srv, admin, room, 'm.room.power_levels', '', levels);
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 1, highlight_count: 0 });
});

test('a rule on the member count follows joins and leaves', async () => {
  await start();
  const { a, b, room } = await pair();
  // Rooms of exactly three are muted for a.
  const res = await srv.fetch(`${V3}/pushrules/global/override/three`, {
    method: 'PUT', token: a.token, body: { conditions: [{ kind: 'room_member_count', is: '3' }], actions: [] },
  });
  assert.equal(res.status, 200, res.text);
  await sendAll(b, room, ['one', 'two']);
  let got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 2, highlight_count: 0 });
  const c = await register(srv, `third${n}`);
  await join(srv, c, room);
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 0, highlight_count: 0 });
  const d = await register(srv, `fourth${n}`);
  await join(srv, d, room);
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 2, highlight_count: 0 });
  const left = await srv.fetch(`${V3}/rooms/${seg(room)}/leave`, { method: 'POST', body: {}, token: d.token });
  assert.equal(left.status, 200, left.text);
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 0, highlight_count: 0 });
});

test('counts survive a restart and equal a fresh count, past 500 events, with no receipt ever sent', async () => {
  await start();
  const { a, b, room } = await pair();
  let since = (await sync(srv, a)).next_batch;
  const kept = [];
  for (let batch = 0; batch < 13; batch++) {
    for (let i = 0; i < 40; i++) await sendMessage(srv, b, room, `message ${batch}-${i}${i === 7 ? ' @room' : ''}`);
    const res = await sync(srv, a, { since, timeout: 5000 });
    since = res.next_batch;
    kept.push(res.rooms.join[room].unread_notifications);
  }
  // b made the room (power 100), so each batch's @room is a highlight.
  assert.deepEqual(kept[0], { notification_count: 40, highlight_count: 1 });
  assert.deepEqual(kept[12], { notification_count: 520, highlight_count: 13 });
  await restart();
  assert.deepEqual((await counts(a, [room]))[room].main, kept[12]);
  const got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, kept[12]);
});

test('leaving and joining again starts from nothing unread', async () => {
  await start();
  const { a, b, room } = await pair();
  await sendAll(b, room, ['one', 'two']);
  const left = await srv.fetch(`${V3}/rooms/${seg(room)}/leave`, { method: 'POST', body: {}, token: a.token });
  assert.equal(left.status, 200, left.text);
  await sendAll(b, room, ['while away']);
  await join(srv, a, room);
  let got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 0, highlight_count: 0 });
  await sendAll(b, room, ['welcome back']);
  got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 1, highlight_count: 0 });
});

test('an incremental sync reports the kept counts as they move', async () => {
  await start();
  const { a, b, room } = await pair();
  let since = (await sync(srv, a)).next_batch;
  const ids = await sendAll(b, room, ['one', 'two', 'three']);
  let res = await sync(srv, a, { since, timeout: 5000 });
  assert.equal(res.rooms.join[room].unread_notifications.notification_count, 3);
  await receipt(srv, a, room, ids[1]);
  res = await sync(srv, a, { since: res.next_batch, timeout: 5000 });
  assert.equal(res.rooms.join[room].unread_notifications.notification_count, 1);
  const reply = await send(srv, b, room, 'm.room.message', { msgtype: 'm.notice', body: 'a notice' });
  assert.equal(reply.status, 200);
  await sendAll(b, room, ['four']);
  res = await sync(srv, a, { since: res.next_batch, timeout: 5000 });
  assert.equal(res.rooms.join[room].unread_notifications.notification_count, 2);
});

// Members the default rules judge alike share one count per room and thread
// (migration 14): a member's count is the shared count since they joined, were
// last judged or wrote in the thread, plus where their own judgment differs.
test('members judged alike share counts: each counts from their own join, judging or message, per thread', async () => {
  await start();
  const { a, b, room } = await pair();
  const c = await register(srv, `carol${n}`);
  await join(srv, c, room);
  await counts(a, [room]); // judged now: what follows moves only the shared counts
  await counts(c, [room]);
  const [root] = await sendAll(b, room, ['root', 'two']);
  await sendThreadReply(srv, b, room, root, 'reply one');
  await sendThreadReply(srv, c, room, root, 'c reads the thread by writing in it');
  await sendThreadReply(srv, b, room, root, 'reply two');
  const d = await register(srv, `dave${n}`);
  await join(srv, d, room); // after the thread began: only what follows is unread for d
  await sendAll(b, room, ['three']);
  await sendThreadReply(srv, b, room, root, 'reply three');

  let got = await keptEqualsFresh(a, [room]);
  assert.deepEqual(got[room].main, { notification_count: 3, highlight_count: 0 });
  assert.deepEqual(got[room].threads[root], { notification_count: 4, highlight_count: 0 }); // c's reply too
  got = await keptEqualsFresh(c, [room]);
  assert.deepEqual(got[room].main, { notification_count: 3, highlight_count: 0 });
  assert.deepEqual(got[room].threads[root], { notification_count: 2, highlight_count: 0 });
  got = await keptEqualsFresh(d, [room]);
  assert.deepEqual(got[room].main, { notification_count: 1, highlight_count: 0 });
  assert.deepEqual(got[room].threads[root], { notification_count: 1, highlight_count: 0 });
});

test('a member whose own rules differ from the shared judgment counts by theirs, in both directions', async () => {
  await start();
  const { a, b, room } = await pair();
  const c = await register(srv, `carol${n}`);
  const e = await register(srv, `erin${n}`);
  for (const who of [c, e]) await join(srv, who, room);
  const rule = (who, path, body) =>
    srv.fetch(`${V3}/pushrules/global/${path}`, { method: 'PUT', body, token: who.token });
  // a mutes the room (fewer than the shared judgment); c highlights a word (more).
  let res = await rule(a, `room/${seg(room)}`, { actions: [] });
  assert.equal(res.status, 200, res.text);
  res = await rule(c, 'content/cheese', { pattern: 'cheese', actions: ['notify', { set_tweak: 'highlight' }] });
  assert.equal(res.status, 200, res.text);
  for (const who of [a, c, e]) await counts(who, [room]); // judged after the rule changes
  const [root] = await sendAll(b, room, ['one', 'cheese please', 'three']);
  await sendThreadReply(srv, b, room, root, 'more cheese in the thread');
  // Everyone's kept counts are read before the first fresh count, which
  // rewinds the database and so judges the others afresh.
  const kept = [];
  for (const who of [a, c, e]) kept.push(await counts(who, [room]));
  const [ofA, ofC, ofE] = kept;
  assert.deepEqual(ofA[room].main, { notification_count: 0, highlight_count: 0 });
  assert.equal(ofA[room].threads[root]?.notification_count ?? 0, 0);
  assert.deepEqual(ofC[room].main, { notification_count: 3, highlight_count: 1 });
  assert.deepEqual(ofC[room].threads[root], { notification_count: 1, highlight_count: 1 });
  assert.deepEqual(ofE[room].main, { notification_count: 3, highlight_count: 0 });
  assert.deepEqual(ofE[room].threads[root], { notification_count: 1, highlight_count: 0 });
  for (const [i, who] of [a, c, e].entries()) assert.deepEqual(await freshCounts(who, [room]), kept[i], 'kept counts equal a fresh count');
});

test('a room of many: a message that names one member moves the shared count once and that member apart', async () => {
  await start();
  const b = await register(srv, `writer${++n}`);
  const room = await createRoom(srv, b, { preset: 'public_chat' });
  const members = [];
  for (let i = 0; i < 24; i++) {
    const who = await register(srv, `many${n}x${i}`);
    await join(srv, who, room);
    members.push(who);
  }
  const named = members[7];
  for (const who of [members[0], named]) await counts(who, [room]);
  // The members' rows of counts (each has one since their join, their own
  // event): the sends change the writer's (their messages read the room)
  // and the named member's, not one per member.
  const rowsSql = `SELECT user_id, notifications, highlights, alike_seq FROM unread_threads WHERE room_id = '${room}'`;
  const before = new Set(await sqlite(srv, rowsSql));
  await sendAll(b, room, ['to all', `hey many${n}x7 look`, 'and again']);
  const changed = (await sqlite(srv, rowsSql)).filter((row) => !before.has(row)).map((row) => row.split('|')[0]);
  assert.deepEqual(changed.sort(), [named.user_id, b.user_id].sort());
  let got = await keptEqualsFresh(named, [room]);
  assert.deepEqual(got[room].main, { notification_count: 3, highlight_count: 1 });
  got = await keptEqualsFresh(members[0], [room]);
  assert.deepEqual(got[room].main, { notification_count: 3, highlight_count: 0 });
  got = await keptEqualsFresh(members[23], [room]);
  assert.deepEqual(got[room].main, { notification_count: 3, highlight_count: 0 });
});

// A send looks up the members it may name by its words (migration 16: each
// member's name and localpart keyed by their first word): names that begin
// or end with punctuation, names beyond ASCII, a name without any word, a
// long name, a rename, and a message of more words than the
// room has members (which reads the members instead) are each judged as a
// fresh count judges them. The keys of members stored before the migration
// are filled by it.
test('members are found by the words of a message: punctuation, non-ASCII, no word, long names, renames', async () => {
  await start();
  const b = await register(srv, `writer${++n}`);
  const room = await createRoom(srv, b, { preset: 'public_chat' });
  const names = { bot: '[bot] Álvaro', dashes: '-=-', long: `${'Z'.repeat(250)} Q`, renamed: 'Xavier' };
  const who = {};
  for (const key of Object.keys(names)) {
    who[key] = await register(srv, `${key}${n}`);
    await join(srv, who[key], room);
  }
  const plain = await register(srv, `plain${n}`);
  await join(srv, plain, room);
  const rename = async (member, displayname) => {
    const path = `${V3}/rooms/${seg(room)}/state/m.room.member/${seg(member.user_id)}`;
    const content = (await srv.fetch(path, { token: member.token })).json;
    await setState(srv, member, room, 'm.room.member', member.user_id, { ...content, displayname });
  };
  for (const [key, name] of Object.entries(names)) await rename(who[key], name);
  // The keys of members stored before migration 16 are made by it.
  const db = srv.db;
  await srv.stop({ keepFiles: true });
  execFileSync('sqlite3', [db, `${UNDO_STREAM_INDEXES} ${UNDO_MEMBER_KEYS} PRAGMA user_version = 15;`]);
  await start(db);
  await rename(who.renamed, 'Yolanda'); // the key moves with the name
  await sendAll(b, room, [
    'ping [bot] Álvaro', // names bot
    'ping [bot] álvaro', // not: Á folds only as ASCII does
    'ping x[bot] Álvaro', // not: a word runs up to it
    'look -=- here', // names dashes, whose name has no word
    'look a-=-b', // not: a word on both sides
    `hi ${'z'.repeat(250)} q!`, // names long
    `hi ${'z'.repeat(251)} q`, // not
    'Xavier?', // not any more
    'yolanda!', // names renamed
    `one two three four five six seven eight nine ten YOLANDA and plain${n}`, // more words than members
  ]);
  const expected = { bot: 1, dashes: 1, long: 1, renamed: 2, plain: 1 };
  for (const [key, highlights] of Object.entries(expected)) {
    const member = key === 'plain' ? plain : who[key];
    const got = await keptEqualsFresh(member, [room]);
    assert.deepEqual(got[room].main, { notification_count: 10, highlight_count: highlights }, key);
  }
});
