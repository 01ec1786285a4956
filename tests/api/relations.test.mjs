// relations.test.mjs -- GET /_matrix/client/v1/rooms/{roomId}/relations/...:
// reactions, edits and threads pointing at an event, filtered by relation
// and event type, paginated, visibility-checked, redaction-aware.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertError, createRoom, join, register, send, sendMessage, seg, setState, V3, txnId } from './lib/matrix.mjs';
import {
  UNDO_DEVICE_LISTS, UNDO_FEDERATION_SCHEMA, UNDO_MEMBER_KEYS, UNDO_MEMBER_NAMES, UNDO_OPERATOR, UNDO_PUSH_ACTIONS,
  UNDO_WORD_INDEX,
} from './lib/schema.mjs';
import { startServer } from './lib/server.mjs';

// The schema version just before the migration that adds media, keys,
// relations and search (src/store/schema.c); update it if that migration
// is renumbered.
const BEFORE_E2EE_MEDIA_SCHEMA = 2;
// Tables of the migrations after e2ee-media's, which an older hometab did
// not have either (client-rest: presence, typing, receipts, account data...).
const AFTER_E2EE_MEDIA_TABLES = ['presence', 'typing', 'typing_changes', 'receipts', 'account_data', 'push_rules',
  'push_rule_defaults', 'pushers', 'event_reports', 'media_parts'];
// Indexes later migrations added to older tables (timestamp_to_event's).
const AFTER_E2EE_MEDIA_INDEXES = ['events_room_ts'];
// What the event-graph migration added to the events table.
const AFTER_E2EE_MEDIA_GRAPH = ['event_edges', 'room_extremities', 'room_state_log',
  'state_group_entries', 'state_groups'];
const AFTER_E2EE_MEDIA_COLUMNS = ['status', 'state_group'];

let srv;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
});
after(() => srv.stop());

let userCounter = 0;
const fresh = (name) => register(srv, `${name}${++userCounter}`);

async function sent(who, roomId, type, content) {
  const res = await send(srv, who, roomId, type, content);
  assert.equal(res.status, 200, res.text);
  return res.json.event_id;
}

const react = (who, roomId, target, key) =>
  sent(who, roomId, 'm.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: target, key } });
const edit = (who, roomId, target, body) => sent(who, roomId, 'm.room.message', {
  msgtype: 'm.text', body: `* ${body}`, 'm.new_content': { msgtype: 'm.text', body },
  'm.relates_to': { rel_type: 'm.replace', event_id: target } });
const reply = (who, roomId, root, body) => sent(who, roomId, 'm.room.message', {
  msgtype: 'm.text', body, 'm.relates_to': { rel_type: 'm.thread', event_id: root } });

function relations(who, roomId, eventId, suffix = '', params = {}) {
  const q = new URLSearchParams(params);
  return srv.fetch(`/_matrix/client/v1/rooms/${seg(roomId)}/relations/${seg(eventId)}${suffix}?${q}`, { token: who.token });
}

async function ok(res) {
  assert.equal(res.status, 200, res.text);
  return res.json;
}

async function scene() {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, room);
  const root = await sendMessage(srv, alice, room, 'root message');
  return { alice, bob, room, root };
}

test('reactions, edits and thread replies are listed under their event, newest first', async () => {
  const { alice, bob, room, root } = await scene();
  const r1 = await react(bob, room, root, '👍');
  const e1 = await edit(alice, room, root, 'edited');
  const t1 = await reply(bob, room, root, 'in thread');
  await sendMessage(srv, alice, room, 'unrelated');
  const json = await ok(await relations(alice, room, root));
  assert.deepEqual(json.chunk.map((e) => e.event_id), [t1, e1, r1]);
  assert.equal(json.chunk[2].room_id, room);
  assert.equal(json.chunk[2].content['m.relates_to'].key, '👍');
  assert.equal(json.next_batch, undefined);
});

test('relations can be filtered by relation type and by event type', async () => {
  const { alice, bob, room, root } = await scene();
  const r1 = await react(bob, room, root, 'a');
  const e1 = await edit(alice, room, root, 'edited');
  const t1 = await reply(bob, room, root, 'thread');
  assert.deepEqual((await ok(await relations(alice, room, root, '/m.annotation'))).chunk.map((e) => e.event_id), [r1]);
  assert.deepEqual((await ok(await relations(alice, room, root, '/m.replace'))).chunk.map((e) => e.event_id), [e1]);
  assert.deepEqual((await ok(await relations(alice, room, root, '/m.thread'))).chunk.map((e) => e.event_id), [t1]);
  assert.deepEqual((await ok(await relations(alice, room, root, '/m.annotation/m.reaction'))).chunk.map((e) => e.event_id), [r1]);
  assert.deepEqual((await ok(await relations(alice, room, root, '/m.annotation/m.room.message'))).chunk, []);
});

test('relations of another event are not included', async () => {
  const { alice, bob, room, root } = await scene();
  const other = await sendMessage(srv, alice, room, 'other');
  await react(bob, room, other, 'x');
  assert.deepEqual((await ok(await relations(alice, room, root))).chunk, []);
});

test('pages follow next_batch backwards, and dir=f walks forwards', async () => {
  const { alice, bob, room, root } = await scene();
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(await react(bob, room, root, `k${i}`));
  const seen = [];
  let from;
  for (let page = 0; page < 5; page++) {
    const json = await ok(await relations(alice, room, root, '', { limit: '2', ...(from ? { from } : {}) }));
    seen.push(...json.chunk.map((e) => e.event_id));
    assert.ok(json.chunk.length <= 2);
    if (!json.next_batch) break;
    from = json.next_batch;
  }
  assert.deepEqual(seen, [...ids].reverse());
  const forward = await ok(await relations(alice, room, root, '', { dir: 'f', limit: '3' }));
  assert.deepEqual(forward.chunk.map((e) => e.event_id), ids.slice(0, 3));
  const rest = await ok(await relations(alice, room, root, '', { dir: 'f', from: forward.next_batch }));
  assert.deepEqual(rest.chunk.map((e) => e.event_id), ids.slice(3));
  assert.equal(rest.next_batch, undefined);
});

test('the to token stops the walk', async () => {
  const { alice, bob, room, root } = await scene();
  const first = await react(bob, room, root, 'a');
  const mid = await ok(await relations(alice, room, root, '', { dir: 'f' }));
  assert.deepEqual(mid.chunk.map((e) => e.event_id), [first]);
  const sync = await ok(await srv.fetch(`${V3}/sync?timeout=0`, { token: alice.token }));
  await react(bob, room, root, 'b');
  const upto = await ok(await relations(alice, room, root, '', { dir: 'f', to: sync.next_batch }));
  assert.deepEqual(upto.chunk.map((e) => e.event_id), [first]);
});

test('a redacted reaction is no longer listed', async () => {
  const { alice, bob, room, root } = await scene();
  const keep = await react(bob, room, root, 'keep');
  const gone = await react(bob, room, root, 'gone');
  const res = await srv.fetch(`${V3}/rooms/${seg(room)}/redact/${seg(gone)}/${txnId()}`,
    { method: 'PUT', token: bob.token, body: {} });
  assert.equal(res.status, 200);
  assert.deepEqual((await ok(await relations(alice, room, root))).chunk.map((e) => e.event_id), [keep]);
});

test('relations from before the caller could see the room are hidden', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await setState(srv, alice, room, 'm.room.history_visibility', '', { history_visibility: 'joined' });
  const root = await sendMessage(srv, alice, room, 'root');
  await join(srv, bob, room);
  // The root itself is hidden from bob: 404.
  assertError(await relations(bob, room, root), 404, 'M_NOT_FOUND');
});

test('errors: unknown event or room, not a member, bad parameters', async () => {
  const { alice, room, root } = await scene();
  const carol = await fresh('carol');
  assertError(await relations(alice, room, '$nosuchevent'), 404, 'M_NOT_FOUND');
  assertError(await relations(alice, '!nosuchroom:localhost', root), 404, 'M_NOT_FOUND');
  assertError(await relations(carol, room, root), 403, 'M_FORBIDDEN');
  assertError(await relations(alice, room, root, '', { dir: 'x' }), 400, 'M_INVALID_PARAM');
  assertError(await relations(alice, room, root, '', { limit: 'many' }), 400, 'M_INVALID_PARAM');
  assertError(await relations(alice, room, root, '', { from: 'bogus' }), 400, 'M_INVALID_PARAM');
  assertError(await srv.fetch(`/_matrix/client/v1/rooms/${seg(room)}/relations/${seg(root)}`), 401, 'M_MISSING_TOKEN');
});

test('events stored before the index existed are indexed by the migration', async () => {
  const first = await startServer({ args: ['--no-rate-limit'] });
  const alice = await register(first, 'olduser');
  const room = await createRoom(first, alice, { preset: 'public_chat' });
  const root = await sendMessage(first, alice, room, 'old searchable words');
  const res = await send(first, alice, room, 'm.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: root, key: 'x' } });
  await first.stop({ keepFiles: true });
  // Take the database back to the schema before the e2ee-media migration
  // (BEFORE_E2EE_MEDIA_SCHEMA), as an older hometab left it.
  const { execFileSync } = await import('node:child_process');
  execFileSync('sqlite3', [first.db, `${UNDO_MEMBER_KEYS} ${UNDO_WORD_INDEX} ${UNDO_MEMBER_NAMES} ${UNDO_PUSH_ACTIONS} ${UNDO_OPERATOR} ${UNDO_DEVICE_LISTS} ${UNDO_FEDERATION_SCHEMA} DROP TRIGGER e2e_device_deleted;
    DROP TABLE media; DROP TABLE e2e_device_keys; DROP TABLE e2e_one_time_keys; DROP TABLE e2e_fallback_keys;
    DROP TABLE e2e_one_time_keys_taken; DROP TABLE e2e_cross_signing_keys; DROP TABLE e2e_signatures;
    DROP TABLE e2e_device_list_changes; DROP TABLE e2e_backup_versions; DROP TABLE e2e_backup_keys;
    DROP TABLE to_device; DROP TABLE to_device_txns; DROP TABLE event_relations; DROP TABLE event_search;
    ${AFTER_E2EE_MEDIA_TABLES.map((t) => `DROP TABLE ${t};`).join(' ')}
    ${AFTER_E2EE_MEDIA_INDEXES.map((i) => `DROP INDEX ${i};`).join(' ')}
    ${AFTER_E2EE_MEDIA_GRAPH.map((t) => `DROP TABLE ${t};`).join(' ')}
    ${AFTER_E2EE_MEDIA_COLUMNS.map((c) => `ALTER TABLE events DROP COLUMN ${c};`).join(' ')}
    PRAGMA user_version = ${BEFORE_E2EE_MEDIA_SCHEMA};`]);
  const second = await startServer({ args: ['--no-rate-limit'], db: first.db });
  try {
    const json = await ok(await second.fetch(
      `/_matrix/client/v1/rooms/${seg(room)}/relations/${seg(root)}`, { token: alice.token }));
    assert.deepEqual(json.chunk.map((e) => e.event_id), [res.json.event_id]);
    const found = await ok(await second.fetch(`${V3}/search`, { method: 'POST', token: alice.token,
      body: { search_categories: { room_events: { search_term: 'searchable' } } } }));
    assert.deepEqual(found.search_categories.room_events.results.map((r) => r.result.event_id), [root]);
  } finally {
    await second.stop();
    const { rmSync } = await import('node:fs');
    rmSync(first.dir, { recursive: true, force: true });
  }
});

test('recurse=true also returns indirect relations, three levels deep, and says how deep it went', async () => {
  const alice = await fresh('alice');
  const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  const root = await sendMessage(srv, alice, roomId, 'root');
  const rel = (target) => ({ 'm.relates_to': { rel_type: 'm.thread', event_id: target } });
  const one = await sent(alice, roomId, 'm.room.message', { msgtype: 'm.text', body: 'one', ...rel(root) });
  const two = await sent(alice, roomId, 'org.example.note', { note: 'two', 'm.relates_to': { rel_type: 'm.reference', event_id: one } });
  const three = await react(alice, roomId, two, '👍');
  await react(alice, roomId, three, 'four levels down: not returned');
  const path = `/_matrix/client/v1/rooms/${seg(roomId)}/relations/${seg(root)}`;
  const direct = await srv.fetch(path, { token: alice.token });
  assert.deepEqual(direct.json.chunk.map((e) => e.event_id), [one]);
  assert.equal(direct.json.recursion_depth, undefined, 'absent when recurse was not given');
  const all = await srv.fetch(`${path}?recurse=true`, { token: alice.token });
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.json.chunk.map((e) => e.event_id), [three, two, one]);
  assert.equal(all.json.recursion_depth, 3);
  const notes = await srv.fetch(`${path}/m.reference?recurse=true`, { token: alice.token });
  assert.deepEqual(notes.json.chunk.map((e) => e.event_id), [two], 'rel_type filters what is returned, not the walk');
  const no = await srv.fetch(`${path}?recurse=false`, { token: alice.token });
  assert.deepEqual(no.json.chunk.map((e) => e.event_id), [one]);
  assert.equal(no.json.recursion_depth, 1);
  assertError(await srv.fetch(`${path}?recurse=maybe`, { token: alice.token }), 400, 'M_INVALID_PARAM');
});
