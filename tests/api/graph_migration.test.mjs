// graph_migration.test.mjs -- a database from before the event graph
// (schema 7: one line of events, state = the newest state event) opens,
// migrates (schema 8: edges, extremities, the state log) and goes on: every
// event keeps its id, every read gives what it gave, and a new event follows
// the last old one. The old database is made by taking a new one back to
// schema 7 the way migration 8 would undo (its tables and columns dropped),
// and by stripping what only signing servers write (signatures, origin) from
// the stored events, as an older hometab stored them.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { test } from 'node:test';

import {
  UNDO_DEVICE_LISTS, UNDO_EVENT_GRAPH, UNDO_FEDERATION_SCHEMA, UNDO_MEDIA_PARTS, UNDO_MEMBER_KEYS, UNDO_MEMBER_NAMES,
  UNDO_OPERATOR, UNDO_PUSH_ACTIONS, UNDO_STREAM_INDEXES, UNDO_WORD_INDEX,
} from './lib/schema.mjs';
import { startServer } from './lib/server.mjs';
import {
  V3, createRoom, history, join, register, seg, sendMessage, setState,
} from './lib/matrix.mjs';

const sql = (db, text) => execFileSync('sqlite3', [db, text]).toString().trim();

function rewindToSchema7(db) {
  sql(db, `${UNDO_STREAM_INDEXES} ${UNDO_MEMBER_KEYS} ${UNDO_WORD_INDEX} ${UNDO_MEMBER_NAMES} ${UNDO_PUSH_ACTIONS} ${UNDO_OPERATOR} ${UNDO_DEVICE_LISTS} ${UNDO_FEDERATION_SCHEMA} ${UNDO_MEDIA_PARTS} ${UNDO_EVENT_GRAPH} PRAGMA user_version = 7;`);
}

test('a database from before the event graph migrates; ids, reads and new events carry on', async () => {
  const first = await startServer({ args: ['--no-rate-limit'] });
  const alice = await register(first, 'alice');
  const bob = await register(first, 'bob');
  const roomId = await createRoom(first, alice, { preset: 'public_chat', name: 'Old room' });
  await join(first, bob, roomId);
  for (let i = 0; i < 5; i++) await sendMessage(first, i % 2 ? bob : alice, roomId, `old ${i}`);
  await setState(first, alice, roomId, 'm.room.topic', '', { topic: 'first topic' });
  await sendMessage(first, alice, roomId, 'between');
  await setState(first, alice, roomId, 'm.room.topic', '', { topic: 'second topic' });
  const lastOld = await sendMessage(first, bob, roomId, 'last old message');
  const before = {
    history: (await history(first, alice, roomId)).map((e) => [e.event_id, e.type, e.content.body ?? e.content.topic]),
    state: (await first.fetch(`${V3}/rooms/${seg(roomId)}/state`, { token: alice.token })).json
      .map((e) => e.event_id).sort(),
  };
  // The topic as it was at "between" (a state read at a position).
  const ctxBefore = (await first.fetch(`${V3}/rooms/${seg(roomId)}/context/${seg(before.history.find((h) => h[2] === 'between')[0])}`,
    { token: alice.token })).json;
  await first.stop({ keepFiles: true });

  const latest = sql(first.db, 'PRAGMA user_version');
  rewindToSchema7(first.db);
  // As an older hometab stored them: no signatures, no origin.
  sql(first.db, `UPDATE events SET json = json_remove(json, '$.signatures', '$.origin')`);

  const second = await startServer({ args: ['--no-rate-limit'], db: first.db });
  try {
    assert.equal(sql(first.db, 'PRAGMA user_version'), latest);
    const after = {
      history: (await history(second, alice, roomId)).map((e) => [e.event_id, e.type, e.content.body ?? e.content.topic]),
      state: (await second.fetch(`${V3}/rooms/${seg(roomId)}/state`, { token: alice.token })).json
        .map((e) => e.event_id).sort(),
    };
    assert.deepEqual(after.history, before.history, 'every event keeps its id and place');
    assert.deepEqual(after.state, before.state, 'the current state is the same events');
    const ctxAfter = (await second.fetch(`${V3}/rooms/${seg(roomId)}/context/${seg(before.history.find((h) => h[2] === 'between')[0])}`,
      { token: alice.token })).json;
    assert.deepEqual(ctxAfter.state.map((e) => e.event_id).sort(), ctxBefore.state.map((e) => e.event_id).sort(),
      'the state at a position is read from the log as it was from the events');

    // The migration made the one line a graph: edges, one extremity.
    assert.equal(sql(first.db, `SELECT count(*) FROM room_extremities WHERE room_id = '${roomId}'`), '1');
    assert.equal(sql(first.db, `SELECT event_id FROM room_extremities WHERE room_id = '${roomId}'`), lastOld);
    const events = Number(sql(first.db, `SELECT count(*) FROM events WHERE room_id = '${roomId}'`));
    assert.equal(Number(sql(first.db, `SELECT count(*) FROM event_edges e JOIN events v USING (stream) WHERE v.room_id = '${roomId}'`)),
      events - 1, 'every event but the create event has one prev edge');

    // A new event follows the last old one, a depth further.
    const fresh = await sendMessage(second, alice, roomId, 'first new message');
    const pdu = JSON.parse(sql(first.db, `SELECT json FROM events WHERE event_id = '${fresh}'`));
    const oldPdu = JSON.parse(sql(first.db, `SELECT json FROM events WHERE event_id = '${lastOld}'`));
    assert.deepEqual(pdu.prev_events, [lastOld]);
    assert.equal(pdu.depth, oldPdu.depth + 1);
    assert.match(pdu.hashes.sha256, /^[A-Za-z0-9+/]{43}$/, 'new events carry their content hash');
    await setState(second, alice, roomId, 'm.room.topic', '', { topic: 'third topic' });
    const topic = await second.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.topic/`, { token: alice.token });
    assert.equal(topic.json.topic, 'third topic');
  } finally {
    await second.stop();
    rmSync(first.dir, { recursive: true, force: true });
  }
});
