// search.test.mjs -- POST /search (room_events): full-text matching, the
// rooms and events the caller may see, keys, ordering, filters,
// pagination, context, every error a client can provoke, and migration 15
// (FTS5's index replaced by the word index).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { UNDO_STREAM_INDEXES, UNDO_MEMBER_KEYS, UNDO_WORD_INDEX } from './lib/schema.mjs';

import { assertError, createRoom, join, leave, register, sendMessage, seg, setState, txnId, V3 } from './lib/matrix.mjs';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
});
after(() => srv.stop());

let userCounter = 0;
const fresh = (name) => register(srv, `${name}${++userCounter}`);

function search(who, roomEvents, query = '') {
  return srv.fetch(`${V3}/search${query}`, { method: 'POST', token: who.token,
    body: { search_categories: { room_events: roomEvents } } });
}

async function found(who, roomEvents, query) {
  const res = await search(who, roomEvents, query);
  assert.equal(res.status, 200, res.text);
  return res.json.search_categories.room_events;
}

const ids = (re) => re.results.map((r) => r.result.event_id);

test('a message is found by a word of its body, with rank, count and highlights', async () => {
  const alice = await fresh('alice');
  const room = await createRoom(srv, alice);
  const hit = await sendMessage(srv, alice, room, 'the quick brown fox');
  await sendMessage(srv, alice, room, 'something else entirely');
  const re = await found(alice, { search_term: 'brown' });
  assert.deepEqual(ids(re), [hit]);
  assert.equal(re.count, 1);
  assert.deepEqual(re.highlights, ['brown']);
  assert.equal(typeof re.results[0].rank, 'number');
  assert.equal(re.results[0].result.room_id, room);
  assert.equal(re.results[0].result.content.body, 'the quick brown fox');
});

test('matching is by word prefix, case- and accent-insensitive; all words must match', async () => {
  const alice = await fresh('alice');
  const room = await createRoom(srv, alice);
  const cafe = await sendMessage(srv, alice, room, 'Meet at the Café tomorrow');
  const other = await sendMessage(srv, alice, room, 'Meet at the station');
  assert.deepEqual(ids(await found(alice, { search_term: 'cafe' })), [cafe]);
  assert.deepEqual(ids(await found(alice, { search_term: 'TOMOR' })), [cafe]);
  assert.deepEqual(ids(await found(alice, { search_term: 'meet station' })), [other]);
  assert.deepEqual(ids(await found(alice, { search_term: 'meet nowhere' })), []);
});

test('words of other scripts fold their case; a very long word is cut alike on both sides', async () => {
  const alice = await fresh('alice');
  const room = await createRoom(srv, alice);
  const greek = await sendMessage(srv, alice, room, 'ΚΑΛΗΜΕΡΑ κόσμε, Привет МИР, Łódź straße');
  const long = 'x'.repeat(64);
  const longer = await sendMessage(srv, alice, room, `${long}tail and more`);
  assert.deepEqual(ids(await found(alice, { search_term: 'καλημερα' })), [greek]);
  assert.deepEqual(ids(await found(alice, { search_term: 'привет мир' })), [greek]);
  assert.deepEqual(ids(await found(alice, { search_term: 'LODZ STRASSE' })), [], 'ß is not ss');
  assert.deepEqual(ids(await found(alice, { search_term: 'lodz STRAßE' })), [greek]);
  // Past 64 bytes a word is cut: a longer term is the same cut word.
  assert.deepEqual(ids(await found(alice, { search_term: `${long}whatever` })), [longer]);
  assert.deepEqual(ids(await found(alice, { search_term: 'tail' })), [], 'the cut part is not a word of its own');
});

test('query syntax in the search term is taken literally and never fails', async () => {
  const alice = await fresh('alice');
  const room = await createRoom(srv, alice);
  const hit = await sendMessage(srv, alice, room, 'alpha beta');
  assert.deepEqual(ids(await found(alice, { search_term: '"alpha" AND (beta* OR NEAR' })), []);
  assert.deepEqual(ids(await found(alice, { search_term: '"alpha" beta*' })), [hit]);
  assert.deepEqual(ids(await found(alice, { search_term: '*** ""' })), []);
});

test('only rooms the caller is joined to are searched', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const mine = await createRoom(srv, alice, { preset: 'public_chat' });
  const bobs = await createRoom(srv, bob);
  await sendMessage(srv, bob, bobs, 'secretword in private');
  assert.deepEqual(ids(await found(alice, { search_term: 'secretword' })), []);
  await join(srv, bob, mine);
  const hit = await sendMessage(srv, bob, mine, 'sharedword here');
  assert.deepEqual(ids(await found(alice, { search_term: 'sharedword' })), [hit]);
  await leave(srv, alice, mine);
  assert.deepEqual(ids(await found(alice, { search_term: 'sharedword' })), []);
});

test('events from before the caller joined a "joined"-visibility room are not returned', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await setState(srv, alice, room, 'm.room.history_visibility', '', { history_visibility: 'joined' });
  await sendMessage(srv, alice, room, 'hiddenword early');
  await join(srv, bob, room);
  const late = await sendMessage(srv, alice, room, 'hiddenword late');
  assert.deepEqual(ids(await found(bob, { search_term: 'hiddenword' })), [late]);
});

test('room names and topics are searched; keys restricts where', async () => {
  const alice = await fresh('alice');
  const room = await createRoom(srv, alice, { name: 'Gardening club', topic: 'Tomatoes and roses' });
  await sendMessage(srv, alice, room, 'I like tomatoes');
  const all = await found(alice, { search_term: 'tomatoes' });
  assert.equal(all.results.length, 2);
  const topic = await found(alice, { search_term: 'tomatoes', keys: ['content.topic'] });
  assert.equal(topic.results.length, 1);
  assert.equal(topic.results[0].result.type, 'm.room.topic');
  const name = await found(alice, { search_term: 'gardening', keys: ['content.name'] });
  assert.equal(name.results[0].result.type, 'm.room.name');
  assert.deepEqual(ids(await found(alice, { search_term: 'gardening', keys: ['content.body'] })), []);
});

test('order_by recent returns newest first; rank puts the better match first', async () => {
  const alice = await fresh('alice');
  const room = await createRoom(srv, alice);
  const weak = await sendMessage(srv, alice, room, 'banana with a lot of other words around it in this long sentence');
  const strong = await sendMessage(srv, alice, room, 'banana banana banana');
  const newest = await sendMessage(srv, alice, room, 'one banana and many many many other different words');
  assert.deepEqual(ids(await found(alice, { search_term: 'banana', order_by: 'recent' })), [newest, strong, weak]);
  const ranked = await found(alice, { search_term: 'banana', order_by: 'rank' });
  assert.equal(ids(ranked)[0], strong);
  const ranks = ranked.results.map((r) => r.rank);
  assert.deepEqual(ranks, [...ranks].sort((a, b) => b - a), 'ranks descend');
});

test('filter.rooms restricts the rooms; filter.limit and next_batch page through results', async () => {
  const alice = await fresh('alice');
  const one = await createRoom(srv, alice);
  const two = await createRoom(srv, alice);
  const inOne = [];
  for (let i = 0; i < 5; i++) inOne.push(await sendMessage(srv, alice, one, `pageword ${i}`));
  await sendMessage(srv, alice, two, 'pageword elsewhere');
  const seen = [];
  let token = '';
  for (let page = 0; page < 10; page++) {
    const re = await found(alice, { search_term: 'pageword', order_by: 'recent', filter: { rooms: [one], limit: 2 } }, token);
    assert.equal(re.count, 5);
    assert.ok(re.results.length <= 2);
    seen.push(...ids(re));
    if (!re.next_batch) break;
    token = `?next_batch=${encodeURIComponent(re.next_batch)}`;
  }
  assert.deepEqual(seen, [...inOne].reverse());
});

test('filter types and senders apply to results', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, room);
  await sendMessage(srv, alice, room, 'filterword from alice');
  const fromBob = await sendMessage(srv, bob, room, 'filterword from bob');
  assert.deepEqual(ids(await found(alice, { search_term: 'filterword', filter: { senders: [bob.user_id] } })), [fromBob]);
  assert.deepEqual(ids(await found(alice, { search_term: 'filterword', filter: { not_types: ['m.room.message'] } })), []);
});

test('event_context gives the events around each result and the senders\' profiles', async () => {
  const alice = await fresh('alice');
  const room = await createRoom(srv, alice);
  const b1 = await sendMessage(srv, alice, room, 'before one');
  const b2 = await sendMessage(srv, alice, room, 'before two');
  const hit = await sendMessage(srv, alice, room, 'contextword');
  const a1 = await sendMessage(srv, alice, room, 'after one');
  const re = await found(alice, { search_term: 'contextword',
    event_context: { before_limit: 2, after_limit: 1, include_profile: true } });
  assert.deepEqual(ids(re), [hit]);
  const c = re.results[0].context;
  assert.deepEqual(c.events_before.map((e) => e.event_id), [b2, b1]);
  assert.deepEqual(c.events_after.map((e) => e.event_id), [a1]);
  assert.equal(typeof c.start, 'string');
  assert.equal(typeof c.end, 'string');
  assert.deepEqual(Object.keys(c.profile_info), [alice.user_id], 'the sender has a profile entry');
});

test('a redacted message is no longer found', async () => {
  const alice = await fresh('alice');
  const room = await createRoom(srv, alice);
  const gone = await sendMessage(srv, alice, room, 'regrettable words');
  const res = await srv.fetch(`${V3}/rooms/${seg(room)}/redact/${seg(gone)}/${txnId()}`,
    { method: 'PUT', token: alice.token, body: {} });
  assert.equal(res.status, 200);
  const re = await found(alice, { search_term: 'regrettable' });
  assert.deepEqual(ids(re), []);
  assert.equal(re.count, 0);
});

test('without room_events the answer has no categories', async () => {
  const alice = await fresh('alice');
  const res = await srv.fetch(`${V3}/search`, { method: 'POST', token: alice.token, body: { search_categories: {} } });
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, { search_categories: {} });
});

test('errors a client can provoke', async () => {
  const alice = await fresh('alice');
  const post = (body, q = '') => srv.fetch(`${V3}/search${q}`, { method: 'POST', token: alice.token, body });
  assertError(await post({}), 400, 'M_BAD_JSON');
  assertError(await post({ search_categories: { room_events: {} } }), 400, 'M_BAD_JSON');
  assertError(await post({ search_categories: { room_events: 'x' } }), 400, 'M_BAD_JSON');
  assertError(await search(alice, { search_term: 'a', order_by: 'best' }), 400, 'M_INVALID_PARAM');
  assertError(await search(alice, { search_term: 'a', keys: ['content.msgtype'] }), 400, 'M_INVALID_PARAM');
  assertError(await search(alice, { search_term: 'a', keys: [] }), 400, 'M_INVALID_PARAM');
  assertError(await search(alice, { search_term: 'a', filter: { rooms: 'all' } }), 400, 'M_BAD_JSON');
  assertError(await search(alice, { search_term: 'a', event_context: { before_limit: -1 } }), 400, 'M_BAD_JSON');
  assertError(await search(alice, { search_term: 'x'.repeat(1001) }), 400, 'M_INVALID_PARAM');
  assertError(await search(alice, { search_term: 'a' }, '?next_batch=abc'), 400, 'M_INVALID_PARAM');
  assertError(await srv.fetch(`${V3}/search`, { method: 'POST', body: {} }), 401, 'M_MISSING_TOKEN');
  assertError(await srv.fetch(`${V3}/search`, { method: 'POST', token: alice.token, body: 'nope' }), 400, 'M_NOT_JSON');
});

test('migration 15: a database with the FTS5 index gets the word index, built from its events', async () => {
  const first = await startServer({ args: ['--no-rate-limit'] });
  const alice = await register(first, 'migrator');
  const room = await createRoom(first, alice, { name: 'Orchard talk', topic: 'Pruning apple trees' });
  const said = await sendMessage(first, alice, room, 'Pommes à cidre: the Kingston Black');
  const twice = await sendMessage(first, alice, room, 'black black cider');
  const gone = await sendMessage(first, alice, room, 'black secret');
  const res = await first.fetch(`${V3}/rooms/${seg(room)}/redact/${seg(gone)}/${txnId()}`,
    { method: 'PUT', token: alice.token, body: {} });
  assert.equal(res.status, 200);
  await first.stop({ keepFiles: true });
  const sql = (text) => execFileSync('sqlite3', [first.db, text]).toString().trim();
  const latest = sql('PRAGMA user_version');
  // As a hometab before migration 15 left it: FTS5's table, with rows.
  sql(`${UNDO_STREAM_INDEXES} ${UNDO_MEMBER_KEYS} ${UNDO_WORD_INDEX} INSERT INTO event_search(rowid, value, key, room_id) VALUES (1, 'old', 'content.body', 'x');
    PRAGMA user_version = 14;`);
  assert.match(sql("SELECT group_concat(name) FROM sqlite_schema WHERE name LIKE 'event_search%'"), /event_search_data/);
  const second = await startServer({ args: ['--no-rate-limit'], db: first.db });
  try {
    assert.equal(sql('PRAGMA user_version'), latest);
    assert.equal(sql("SELECT count(*) FROM sqlite_schema WHERE name LIKE 'event_search%'"), '0',
      'the FTS5 table and its shadow tables are gone');
    const look = async (term) => {
      const r = await second.fetch(`${V3}/search`, { method: 'POST', token: alice.token,
        body: { search_categories: { room_events: { search_term: term, order_by: 'rank' } } } });
      assert.equal(r.status, 200, r.text);
      return r.json.search_categories.room_events.results.map((x) => x.result);
    };
    assert.deepEqual((await look('pommes a CIDRE')).map((e) => e.event_id), [said], 'accents fold in old events too');
    assert.deepEqual((await look('black')).map((e) => e.event_id), [twice, said], 'ranked; the redacted one is not indexed');
    assert.deepEqual((await look('orchard')).map((e) => e.type), ['m.room.name']);
    assert.deepEqual((await look('pruning')).map((e) => e.type), ['m.room.topic']);
    // New events go on being indexed after the migration.
    const later = await sendMessage(second, alice, room, 'blackberries later');
    assert.deepEqual((await look('blackb')).map((e) => e.event_id), [later]);
    // Migration 23: the index has no key by event and no foreign key; a
    // redaction still finds the rows an older version wrote.
    assert.equal(sql("SELECT count(*) FROM sqlite_schema WHERE name IN ('event_words_stream', 'events_room')"), '0');
    assert.equal(sql('SELECT count(*) FROM pragma_foreign_key_list(\'event_words\')'), '0');
    const redacted = await second.fetch(`${V3}/rooms/${seg(room)}/redact/${seg(twice)}/${txnId()}`,
      { method: 'PUT', token: alice.token, body: {} });
    assert.equal(redacted.status, 200);
    assert.deepEqual((await look('black')).map((e) => e.event_id), [later, said], 'a word row of the redacted event is left');
    assert.equal(sql('PRAGMA integrity_check'), 'ok');
  } finally {
    await second.stop();
    rmSync(first.dir, { recursive: true, force: true });
  }
});
