// read_endpoints.test.mjs -- a fake remote server (lib/, a third implementation of the
// server-server API) reads a native hometab's rooms: /event, /state, /state_ids, /event_auth,
// /get_missing_events, /backfill. Every answer is checked with the fake's own code (event ids,
// signatures, content hashes) and compared with what the fake's own graph of the same room says;
// the refusals are the spec's (401 for X-Matrix faults, 403 outside the room, 404, 400).
//
// The fake joins hometab's rooms as any server does (make_join, send_join; hometab fetches its
// key); what the test expects of the walks and states it works out with the fake's own graph code
// (lib/room-graph.mjs) over the events as hometab stored them, read with the sqlite3 shell.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { startServer } from '../api/lib/server.mjs';
import { createRoom, register, sendMessage, setState, sqlite } from '../api/lib/matrix.mjs';
import { startFakeServer } from './lib/fake-server.mjs';
import { startFederating } from './lib/hometab.mjs';
import { RoomGraph } from './lib/room-graph.mjs';
import { SigningKey } from './lib/signing.mjs';

const FED = '/_matrix/federation/v1';
const e = encodeURIComponent;

function assertRefused(res, status, errcode) {
  assert.equal(res.status, status, `expected ${status} ${errcode}, got ${res.status}: ${JSON.stringify(res.json)}`);
  assert.equal(res.json?.errcode, errcode);
  assert.ok(typeof res.json.error === 'string' && res.json.error.length > 0, 'the refusal says why');
}

// Checks PDUs as a receiving server would (signatures by their senders' servers, ids): all must
// be signed; returns their ids in order.
async function genuineIds(fake, pdus) {
  const checks = await fake.verifyEvents('10', pdus);
  for (const c of checks) assert.ok(c.signed, `not validly signed: ${c.eventId}: ${c.reason}`);
  return checks.map((c) => c.eventId);
}

// The room's graph as hometab stored it (its timeline events, in order), in the fake's own code.
async function storedGraph(srv, roomId) {
  const graph = new RoomGraph(roomId, '10');
  const rows = await sqlite(srv, `SELECT event_id || char(9) || json FROM events WHERE room_id = '${roomId}' AND status = 0 ORDER BY stream`);
  for (const row of rows) {
    const tab = row.indexOf('\t');
    graph.add(row.slice(0, tab), JSON.parse(row.slice(tab + 1)));
  }
  return graph;
}

describe('a fake remote server reads a native hometab', () => {
  let fake; // in the rooms
  let outsider; // in none
  let srv;
  let NAME;
  let firstDir;
  let room; // the public room: { id, graph, join }
  let quiet; // history visibility "joined", with a secret from before the fake joined
  const msgs = [];
  let topic;
  let secret;
  let unsignedMsg;

  before(async () => {
    fake = await startFakeServer();
    outsider = await startFakeServer();
    const first = await startFederating();
    firstDir = first.dir;
    const alice = await register(first, 'alice');
    room = { id: await createRoom(first, alice, { preset: 'public_chat', name: 'Read me' }) };
    for (let i = 0; i < 6; i++) msgs.push(await sendMessage(first, alice, room.id, `message ${i}`));
    topic = (await first.fetch(`/_matrix/client/v3/rooms/${e(room.id)}/state/m.room.topic/`, {
      method: 'PUT', body: { topic: 'read by servers' }, token: alice.token,
    })).json.event_id;
    msgs.push(await sendMessage(first, alice, room.id, 'after the topic'));
    unsignedMsg = msgs[2];
    quiet = { id: await createRoom(first, alice, { preset: 'public_chat', name: 'Quiet' }) };
    await setState(first, alice, quiet.id, 'm.room.history_visibility', '', { history_visibility: 'joined' });
    secret = await sendMessage(first, alice, quiet.id, 'before the fake joined');
    await first.stop({ keepFiles: true });
    // As a hometab from before schema 8 stored its events: one of them without signatures.
    execFileSync('sqlite3', [first.db, `UPDATE events SET json = json_remove(json, '$.signatures') WHERE event_id = '${unsignedMsg}'`]);
    srv = await startFederating({ port: first.port, db: first.db });
    NAME = srv.serverName;

    // The fake's user joins both rooms through hometab.
    const user = `@reader:${fake.serverName}`;
    for (const r of [room, quiet]) {
      r.join = (await fake.joinRoom(NAME, r.id, user)).eventId;
      r.graph = await storedGraph(srv, r.id);
      assert.ok(r.graph.has(r.join), 'hometab holds the fake\'s join in its timeline');
    }
  });

  after(async () => {
    await srv?.stop();
    for (const f of [fake, outsider]) await f?.stop();
    if (firstDir) rmSync(firstDir, { recursive: true, force: true });
    assert.deepEqual(fake.errors, []);
  });

  test('/event: the event, whole, as its id and hometab\'s signature say', async () => {
    const r = await fake.getEvent(NAME, msgs[0]);
    assert.equal(r.status, 200);
    assert.equal(r.json.origin, NAME);
    assert.equal(r.json.pdus.length, 1);
    const [check] = await fake.verifyEvents('10', r.json.pdus);
    assert.deepEqual([check.eventId, check.signed, check.hashOk], [msgs[0], true, true]);
    assert.equal(r.json.pdus[0].content.body, 'message 0');
    assert.equal(r.json.pdus[0].unsigned, undefined);
  });

  test('/event: an event stored unsigned is signed when served, its id unchanged', async () => {
    const [stored] = await sqlite(srv, `SELECT json FROM events WHERE event_id = '${unsignedMsg}'`);
    assert.equal(JSON.parse(stored).signatures, undefined);
    const r = await fake.getEvent(NAME, unsignedMsg);
    const [check] = await fake.verifyEvents('10', r.json.pdus);
    assert.deepEqual([check.eventId, check.signed, check.hashOk], [unsignedMsg, true, true]);
  });

  test('/state_ids and /state: the state before the event, with its auth chain', async () => {
    const ids = await fake.stateIds(NAME, room.id, topic);
    assert.equal(ids.status, 200);
    const mine = [...room.graph.stateBefore(topic).values()].sort();
    assert.deepEqual([...ids.json.pdu_ids].sort(), mine, 'the fake worked out the same state');
    assert.ok(!ids.json.pdu_ids.includes(topic), 'not the event\'s own change');
    assert.deepEqual([...ids.json.auth_chain_ids].sort(), room.graph.authChain(ids.json.pdu_ids).sort());
    const state = await fake.state(NAME, room.id, topic);
    assert.equal(state.status, 200);
    assert.deepEqual((await genuineIds(fake, state.json.pdus)).sort(), mine);
    assert.deepEqual((await genuineIds(fake, state.json.auth_chain)).sort(), [...ids.json.auth_chain_ids].sort());
  });

  test('/event_auth: the auth chain of an event', async () => {
    const r = await fake.eventAuth(NAME, room.id, msgs[6]);
    assert.equal(r.status, 200);
    assert.deepEqual((await genuineIds(fake, r.json.auth_chain)).sort(), room.graph.authChain([msgs[6]]).sort());
  });

  test('/get_missing_events: the events between, oldest first, within the limit', async () => {
    const r = await fake.getMissingEvents(NAME, room.id, { earliest_events: [msgs[0]], latest_events: [msgs[5]], limit: 10 });
    assert.equal(r.status, 200);
    assert.deepEqual(await genuineIds(fake, r.json.events), room.graph.missingEvents([msgs[0]], [msgs[5]], 10));
    assert.deepEqual(await genuineIds(fake, r.json.events), msgs.slice(1, 5));
    const two = await fake.getMissingEvents(NAME, room.id, { earliest_events: [msgs[0]], latest_events: [msgs[5]], limit: 2 });
    assert.deepEqual(await genuineIds(fake, two.json.events), msgs.slice(3, 5));
  });

  test('/backfill: the events named and those before them, newest first', async () => {
    const r = await fake.backfill(NAME, room.id, [msgs[4]], 3);
    assert.equal(r.status, 200);
    assert.equal(r.json.origin, NAME);
    assert.deepEqual(await genuineIds(fake, r.json.pdus), [msgs[4], msgs[3], unsignedMsg]);
    const all = await fake.backfill(NAME, room.id, [room.join], 1000);
    assert.deepEqual(await genuineIds(fake, all.json.pdus), room.graph.backfill([room.join], 100));
    assert.equal(all.json.pdus.at(-1).type, 'm.room.create');
  });

  test('history the fake may not see comes redacted, the same event', async () => {
    const r = await fake.getEvent(NAME, secret);
    assert.equal(r.status, 200);
    const [check] = await fake.verifyEvents('10', r.json.pdus);
    assert.equal(check.eventId, secret);
    assert.ok(check.signed, 'still hometab\'s signed event');
    assert.deepEqual(r.json.pdus[0].content, {});
    assertRefused(await fake.stateIds(NAME, quiet.id, secret), 403, 'M_FORBIDDEN');
    // Its own join it sees whole, and the state before it.
    const own = await fake.getEvent(NAME, quiet.join);
    assert.equal(own.json.pdus[0].content.membership, 'join');
    assert.equal((await fake.stateIds(NAME, quiet.id, quiet.join)).status, 200);
  });

  test('a server in none of the rooms is refused everything: 403', async () => {
    assertRefused(await outsider.getEvent(NAME, msgs[0]), 403, 'M_FORBIDDEN');
    assertRefused(await outsider.stateIds(NAME, room.id, msgs[0]), 403, 'M_FORBIDDEN');
    assertRefused(await outsider.state(NAME, room.id, msgs[0]), 403, 'M_FORBIDDEN');
    assertRefused(await outsider.eventAuth(NAME, room.id, msgs[0]), 403, 'M_FORBIDDEN');
    assertRefused(await outsider.getMissingEvents(NAME, room.id, { earliest_events: [], latest_events: [msgs[5]] }), 403, 'M_FORBIDDEN');
    assertRefused(await outsider.backfill(NAME, room.id, [msgs[5]], 5), 403, 'M_FORBIDDEN');
    // Whether an event exists, it does not learn.
    assertRefused(await outsider.stateIds(NAME, room.id, '$no-such-event'), 403, 'M_FORBIDDEN');
  });

  test('X-Matrix faults are 401: no header, another destination, a bad signature, a key it never published', async () => {
    const path = `${FED}/event/${e(msgs[0])}`;
    assertRefused(await fake.request(NAME, 'GET', path, undefined, { authorization: null }), 401, 'M_UNAUTHORIZED');
    assertRefused(await fake.request(NAME, 'GET', path, undefined, { signAs: { destination: 'elsewhere.test' } }), 401, 'M_UNAUTHORIZED');
    const forger = new SigningKey(Buffer.alloc(32, 7), fake.key.keyId.slice('ed25519:'.length));
    assertRefused(await fake.request(NAME, 'GET', path, undefined, { signAs: { key: forger } }), 401, 'M_UNAUTHORIZED');
    // A body other than the one signed.
    const gme = `${FED}/get_missing_events/${e(room.id)}`;
    const body = { earliest_events: [], latest_events: [msgs[5]], limit: 1 };
    assertRefused(await fake.request(NAME, 'POST', gme, body, { rawBody: JSON.stringify({ ...body, limit: 20 }) }), 401, 'M_UNAUTHORIZED');
    // A key id the origin does not publish: hometab asks for its keys, and finds none by that id.
    const r = await fake.request(NAME, 'GET', path, undefined, { signAs: { key: SigningKey.generate('unpublished') } });
    assertRefused(r, 401, 'M_UNAUTHORIZED');
    assert.match(r.json.error, /unpublished/);
  });

  test('requests that cannot be answered: 404 and 400', async () => {
    assertRefused(await fake.getEvent(NAME, '$no-such-event'), 404, 'M_NOT_FOUND');
    assertRefused(await fake.stateIds(NAME, '!nowhere:hometab.test', msgs[0]), 404, 'M_NOT_FOUND');
    assertRefused(await fake.stateIds(NAME, room.id, '$no-such-event'), 404, 'M_NOT_FOUND');
    assertRefused(await fake.stateIds(NAME, quiet.id, msgs[0]), 404, 'M_NOT_FOUND'); // another room's event
    assertRefused(await fake.request(NAME, 'GET', `${FED}/state_ids/${e(room.id)}`), 400, 'M_MISSING_PARAM');
    assertRefused(await fake.request(NAME, 'GET', `${FED}/backfill/${e(room.id)}?limit=5`), 400, 'M_MISSING_PARAM');
    assertRefused(await fake.request(NAME, 'GET', `${FED}/backfill/${e(room.id)}?v=${e(msgs[1])}&limit=lots`), 400, 'M_INVALID_PARAM');
    const gme = `${FED}/get_missing_events/${e(room.id)}`;
    assertRefused(await fake.request(NAME, 'POST', gme, { earliest_events: [], latest_events: 'not a list' }), 400, 'M_BAD_JSON');
    const many = Array.from({ length: 101 }, () => msgs[0]);
    assertRefused(await fake.request(NAME, 'POST', gme, { earliest_events: many, latest_events: [msgs[5]] }), 400, 'M_INVALID_PARAM');
  });

  test('without --federation the server-server API is not there', async () => {
    const island = await startServer({ args: ['--no-rate-limit', '--server-name', 'island.test'] });
    try {
      fake.peers.set('island.test', island.url);
      const r = await fake.request('island.test', 'GET', `${FED}/event/${e(msgs[0])}`);
      assertRefused(r, 404, 'M_UNRECOGNIZED');
    } finally {
      await island.stop();
    }
  });
});
