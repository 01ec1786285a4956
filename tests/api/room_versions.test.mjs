// room_versions.test.mjs -- rooms of version 10 (the default) and 11: what
// a client sees of each, and the events' federation form as stored (signed
// by this server, hashed, with the version's fields).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, assertError, createRoom, history, register, seg, sendMessage, txnId } from './lib/matrix.mjs';

let srv, alice;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
  alice = await register(srv, 'alice');
});
after(async () => { await srv.stop(); });

// The stored federation form of an event, read from the database file.
function storedPdu(eventId) {
  const out = execFileSync('sqlite3', ['-readonly', srv.db, `SELECT json FROM events WHERE event_id = '${eventId.replace(/'/g, "''")}'`]);
  return JSON.parse(out.toString());
}

test('a room of version 11 is created on request; its create event names no creator', async () => {
  const roomId = await createRoom(srv, alice, { room_version: '11' });
  const events = await history(srv, alice, roomId);
  const create = events.find((e) => e.type === 'm.room.create');
  assert.equal(create.content.room_version, '11');
  assert.equal(create.content.creator, undefined, 'v11 dropped creator: the sender is the creator');
  assert.equal(create.sender, alice.user_id);
  const v10 = await createRoom(srv, alice, {});
  const create10 = (await history(srv, alice, v10)).find((e) => e.type === 'm.room.create');
  assert.equal(create10.content.room_version, '10', 'version 10 stays the default');
  assert.equal(create10.content.creator, alice.user_id);
});

test('an unknown room version is 400 M_UNSUPPORTED_ROOM_VERSION', async () => {
  const res = await srv.fetch(`${V3}/createRoom`, { method: 'POST', token: alice.token, body: { room_version: '9' } });
  assertError(res, 400, 'M_UNSUPPORTED_ROOM_VERSION');
});

test('a redaction in a version 11 room names its target in content, and clients also see it at the top', async () => {
  const roomId = await createRoom(srv, alice, { room_version: '11' });
  const target = await sendMessage(srv, alice, roomId, 'soon gone');
  const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/redact/${seg(target)}/${seg(txnId())}`,
    { method: 'PUT', token: alice.token, body: { reason: 'typo' } });
  assert.equal(res.status, 200);
  const redaction = (await history(srv, alice, roomId)).find((e) => e.type === 'm.room.redaction');
  assert.equal(redaction.content.redacts, target);
  assert.equal(redaction.redacts, target);
  const pdu = storedPdu(res.json.event_id);
  assert.equal(pdu.content.redacts, target);
  assert.equal(pdu.redacts, undefined, 'v11 PDUs carry redacts in content only');
  const gone = (await history(srv, alice, roomId)).find((e) => e.event_id === target);
  assert.deepEqual(gone.content, {}, 'the target is redacted');
});

// Signed only when another server is sent them (federation signs the rest
// when it serves them: tests/unit/test_fed_read.c).
test('new events follow the room\'s last event, carry origin in version 10 only, and are kept unsigned in a room no other server shares', async () => {
  for (const version of ['10', '11']) {
    const roomId = await createRoom(srv, alice, { room_version: version });
    const first = await sendMessage(srv, alice, roomId, 'one');
    const second = await sendMessage(srv, alice, roomId, 'two');
    const pdu = storedPdu(second);
    assert.deepEqual(pdu.prev_events, [first], 'a new event follows the forward extremity');
    assert.equal(pdu.signatures, undefined, `kept unsigned (v${version})`);
    assert.match(pdu.hashes.sha256, /^[A-Za-z0-9+/]{43}$/);
    assert.equal(pdu.origin, version === '10' ? 'localhost' : undefined);
    assert.equal(pdu.depth, storedPdu(first).depth + 1);
  }
});
