// hostile.test.mjs -- another server as an attacker: the fake remote server (lib/, the kit's own
// implementation of the server-server API) sends a native hometab each kind of bad input the spec
// names, and each test asserts the spec's answer, that nothing changed that should not (the room's
// state and forward extremities, a local user's timeline, the events table) and that the server
// still answers a local client afterwards.
//
// The fake is resident in rooms a hometab user (alice) joined through it, so its events are ones
// hometab must judge: well-formed ones enter the timeline, bad ones are refused the spec's way.
// Rooms that a test leaves with a gap (events the fake made and never sent) are that test's own,
// so the next test starts from a room both servers agree on.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { V3, register, sendMessage, seg, sqlite, sync } from '../api/lib/matrix.mjs';
import { SANITIZED } from '../api/lib/server.mjs';
import { startFakeServer } from './lib/fake-server.mjs';
import { startFederating } from './lib/hometab.mjs';
import { SigningKey, b64, signJson } from './lib/signing.mjs';

const SLOW = SANITIZED ? 4 : 1;
const FED = '/_matrix/federation/v1';
const sq = (s) => `'${String(s).replaceAll("'", "''")}'`;

let hs; // the hometab under attack
let fake; // the attacking server, resident in the rooms
let alice; // a hometab user in them
let bob; // a user of the fake's, joined

// A room the fake creates and alice joins through it; bob (the fake's) joins too.
async function sharedRoom(name) {
  const { roomId, room } = fake.createRoom({ name });
  const res = await hs.fetch(`${V3}/join/${seg(roomId)}?server_name=${seg(fake.serverName)}`, {
    method: 'POST', body: {}, token: alice.token,
  });
  assert.equal(res.status, 200, `alice joins ${name}: ${res.text}`);
  await fake.waitFor(() => room.membership(alice.user_id) === 'join', { what: 'alice join reaching the fake' });
  const join = await fake.sendEvent(roomId, {
    type: 'm.room.member', sender: bob, state_key: bob, content: { membership: 'join' },
  });
  assert.deepEqual(join.sent[hs.serverName].json, { pdus: { [join.event_id]: {} } });
  return { roomId, room };
}

// The event's status in hometab's events table (0 timeline, 1 outlier, 2 soft-failed,
// 3 rejected), or null when it is not stored.
async function statusOf(eventId) {
  const rows = await sqlite(hs, `SELECT status FROM events WHERE event_id = ${sq(eventId)}`);
  return rows.length ? Number(rows[0]) : null;
}

async function storedJson(eventId) {
  const rows = await sqlite(hs, `SELECT json FROM events WHERE event_id = ${sq(eventId)}`);
  return rows.length ? JSON.parse(rows[0]) : null;
}

// What must not change when a bad input is refused: the room's current state, its forward
// extremities, how many events are stored, alice's timeline.
async function snapshot(roomId) {
  const state = await hs.fetch(`${V3}/rooms/${seg(roomId)}/state`, { token: alice.token });
  assert.equal(state.status, 200);
  return {
    state: state.json.map((e) => `${e.type}|${e.state_key}|${e.event_id}`).sort(),
    extremities: await sqlite(hs, `SELECT event_id FROM room_extremities WHERE room_id = ${sq(roomId)} ORDER BY event_id`),
    events: await sqlite(hs, 'SELECT count(*) FROM events'),
    rooms: await sqlite(hs, 'SELECT count(*) FROM rooms'),
    timeline: await timeline(roomId),
  };
}

// Alice's view of the room: the ids of its newest 100 events, newest first.
async function timeline(roomId) {
  const res = await hs.fetch(`${V3}/rooms/${seg(roomId)}/messages?dir=b&limit=100`, { token: alice.token });
  assert.equal(res.status, 200, res.text);
  return res.json.chunk.map((e) => e.event_id);
}

// A local client is still served: alice can read and write.
async function assertResponsive(roomId) {
  const s = await sync(hs, alice, { timeout: 0 });
  assert.ok(s.next_batch, 'sync answers');
  const id = await sendMessage(hs, alice, roomId, 'still here');
  const pdu = await fake.waitFor(() => fake.pdusReceived.find((p) => p.eventId === id), { what: 'alice message at the fake' });
  assert.equal(pdu.accepted, true, `the fake accepts alice's event: ${pdu.error}`);
  return pdu.pdu;
}

function assertRefused(res, status, errcodes) {
  const codes = [errcodes].flat();
  assert.equal(res.status, status, `expected ${status} ${codes}, got ${res.status}: ${JSON.stringify(res.json)}`);
  assert.ok(codes.includes(res.json?.errcode), `errcode ${res.json?.errcode}, expected ${codes}`);
  assert.ok(typeof res.json.error === 'string' && res.json.error.length > 0, 'the refusal says why');
}

// A transaction of raw bytes (duplicate keys, numbers JSON.stringify cannot write): signed over
// `body`, as a server that meant to send `body` and wrote `raw`.
function sendRaw(body, raw, txnId = `raw${Date.now()}${Math.random()}`) {
  return fake.request(hs.serverName, 'PUT', `${FED}/send/${seg(txnId)}`, body, { rawBody: raw });
}

function message(roomId, text, extra = {}, broken = []) {
  return fake.makeEvent('10', {
    room_id: roomId, sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: text }, ...extra,
  }, { broken });
}

before(async () => {
  hs = await startFederating();
  fake = await startFakeServer({ timeoutMs: 60000 * SLOW });
  alice = await register(hs, 'alice');
  bob = `@bob:${fake.serverName}`;
});

after(async () => {
  await fake?.stop();
  await hs?.stop();
  assert.deepEqual(fake?.errors ?? [], [], 'the fake itself ran without exceptions');
});

describe('transactions and PDUs that break the format', () => {
  let roomId;
  before(async () => {
    ({ roomId } = await sharedRoom('format'));
  });

  test('more than 50 PDUs or 100 EDUs: 400, and nothing of the transaction is kept', async () => {
    const before = await snapshot(roomId);
    const pdus = [];
    for (let i = 0; i < 51; i++) pdus.push(message(roomId, `flood ${i}`).pdu);
    assertRefused(await fake.sendTransaction(hs.serverName, { pdus }), 400, 'M_TOO_LARGE');
    const typing = { edu_type: 'm.typing', content: { room_id: roomId, user_id: bob, typing: true } };
    const one = message(roomId, 'beside 101 EDUs');
    const edus = Array.from({ length: 101 }, () => typing);
    assertRefused(await fake.sendTransaction(hs.serverName, { pdus: [one.pdu], edus }), 400, 'M_TOO_LARGE');
    assert.deepEqual(await snapshot(roomId), before);
    assert.equal(await statusOf(one.event_id), null);
    const s = await sync(hs, alice, { timeout: 0 });
    const ephemeral = s.rooms?.join?.[roomId]?.ephemeral?.events ?? [];
    assert.ok(!ephemeral.some((e) => e.type === 'm.typing' && e.content.user_ids.includes(bob)), 'bob is not typing');
    await assertResponsive(roomId);
  });

  test('presence only for the sender\'s own users who share a room with ours, within bounds', async () => {
    const presenceRow = async (userId) => sqlite(hs, `SELECT presence || '|' || coalesce(status_msg, '') FROM presence WHERE user_id = ${sq(userId)}`);
    const stranger = `@stranger:${fake.serverName}`;
    const alicePresence = await presenceRow(alice.user_id);
    const push = [
      { user_id: alice.user_id, presence: 'offline' },                      // not the sender's user
      { user_id: stranger, presence: 'online' },                            // shares no room with ours
      { user_id: bob, presence: 'busy' },                                   // no such state
      { user_id: bob, presence: 'online', status_msg: 'x'.repeat(2000) },   // status too long
      { user_id: bob, presence: 'online', last_active_ago: 'soon' },        // not a number
      { user_id: bob, presence: 'online', status_msg: 'here', last_active_ago: 1000 },
    ];
    const res = await fake.sendTransaction(hs.serverName, { pdus: [], edus: [{ edu_type: 'm.presence', content: { push } }] });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(await presenceRow(alice.user_id), alicePresence, 'alice\'s presence is hers alone');
    assert.deepEqual(await presenceRow(stranger), []);
    assert.deepEqual(await presenceRow(bob), ['online|here']);
    const seen = await hs.fetch(`${V3}/presence/${seg(bob)}/status`, { token: alice.token });
    assert.equal(seen.json.presence, 'online', seen.text);
    assert.ok(seen.json.last_active_ago >= 1000, seen.text);
    // More than 100 users in one EDU: the first 100 are read, the rest never.
    const many = Array.from({ length: 150 }, () => ({ user_id: bob, presence: 'online', status_msg: 'here' }));
    many.push({ user_id: bob, presence: 'unavailable' });
    await fake.sendTransaction(hs.serverName, { pdus: [], edus: [{ edu_type: 'm.presence', content: { push: many } }] });
    assert.deepEqual(await presenceRow(bob), ['online|here']);
    await assertResponsive(roomId);
  });

  test('an oversized PDU is dropped; the other PDUs of its transaction are taken', async () => {
    const big = message(roomId, 'big', {}, ['too-large']);
    const huge = message(roomId, 'huge', { content: { msgtype: 'm.text', body: 'y'.repeat(1 << 20) } });
    const longType = message(roomId, 'long type', { type: `m.${'t'.repeat(300)}` });
    const longKey = fake.makeEvent('10', {
      room_id: roomId, sender: bob, type: 'm.room.topic', state_key: 'k'.repeat(300), content: { topic: 'x' },
    });
    const good = message(roomId, 'fine');
    const before = await snapshot(roomId);
    const res = await fake.sendTransaction(hs.serverName, { pdus: [big.pdu, huge.pdu, longType.pdu, longKey.pdu, good.pdu] });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json.pdus[good.event_id], {});
    for (const bad of [big, huge, longType, longKey]) {
      assert.equal(await statusOf(bad.event_id), null, 'not stored');
      const entry = res.json.pdus[bad.event_id];
      assert.ok(entry === undefined || typeof entry.error === 'string', `no success for a bad PDU: ${JSON.stringify(entry)}`);
    }
    const after = await snapshot(roomId);
    assert.deepEqual(after.timeline.slice(1), before.timeline);
    assert.equal(after.timeline[0], good.event_id);
    assert.deepEqual(after.state, before.state);
    fake.rooms.get(roomId).add(good.event_id, good.pdu);
    await assertResponsive(roomId);
  });

  test('floats and out-of-range integers: 400 M_BAD_JSON, nothing kept', async () => {
    // A request's signature is over canonical JSON, which has neither: a body holding them cannot
    // be checked, so the whole transaction is refused (before any key is fetched).
    const float = message(roomId, 'float', {}, ['float']);
    const bigInt = message(roomId, 'big int', {}, ['big-int']);
    const good = message(roomId, 'beside a float');
    const before = await snapshot(roomId);
    assertRefused(await fake.sendTransaction(hs.serverName, { pdus: [good.pdu, float.pdu] }), 400, 'M_BAD_JSON');
    assertRefused(await fake.sendTransaction(hs.serverName, { pdus: [bigInt.pdu, good.pdu] }), 400, 'M_BAD_JSON');
    for (const e of [float, bigInt, good]) assert.equal(await statusOf(e.event_id), null);
    // Numbers the fake's JSON writer cannot make: beyond 64 bits, exponents, -0, NaN, -2^53.
    for (const number of ['18446744073709551616', '1e400', '-0', '1.0', 'NaN', '-9007199254740992']) {
      const probe = message(roomId, 'probe');
      const body = { origin: fake.serverName, origin_server_ts: Date.now(), pdus: [probe.pdu], edus: [] };
      const raw = JSON.stringify(body).replace('"body":"probe"', `"body":"probe","n":${number}`);
      assert.ok(raw.includes(`"n":${number}`));
      const r = await sendRaw(body, raw);
      // -0 is read as 0, and then the body is not the one signed: 401.
      if (number === '-0') assertRefused(r, 401, 'M_UNAUTHORIZED');
      else assertRefused(r, 400, ['M_BAD_JSON', 'M_NOT_JSON']);
      assert.equal(await statusOf(probe.event_id), null, `${number}: not stored`);
    }
    assert.deepEqual(await snapshot(roomId), before);
    await assertResponsive(roomId);
  });

  test('duplicate JSON keys: the transaction is refused, nothing is kept', async () => {
    const before = await snapshot(roomId);
    const a = message(roomId, 'first of a pair');
    const b = message(roomId, 'second of a pair');
    const body = { origin: fake.serverName, origin_server_ts: Date.now(), pdus: [a.pdu], edus: [] };
    // The pdus key twice: which list is meant?
    const twice = JSON.stringify(body).replace('"pdus":', `"pdus":${JSON.stringify([b.pdu])},"pdus":`);
    assertRefused(await sendRaw(body, twice), 400, ['M_NOT_JSON', 'M_BAD_JSON']);
    // A key twice inside a PDU's content: a server reading the first would see another event.
    const inside = JSON.stringify(body).replace('"body":"first of a pair"', '"body":"other","body":"first of a pair"');
    assertRefused(await sendRaw(body, inside), 400, ['M_NOT_JSON', 'M_BAD_JSON']);
    assert.equal(await statusOf(a.event_id), null);
    assert.equal(await statusOf(b.event_id), null);
    // Nesting far past any sane depth, and PDUs that are not objects.
    const deep = `{"origin":"${fake.serverName}","pdus":[${'['.repeat(100000)}${']'.repeat(100000)}],"edus":[]}`;
    const r = await sendRaw(body, deep);
    assert.ok(r.status === 400 || r.status === 401, `deep nesting: ${r.status}`);
    const odd = await fake.sendTransaction(hs.serverName, { pdus: ['a string', 7, null, [], { room_id: 5 }, { room_id: roomId }] });
    assert.equal(odd.status, 200, JSON.stringify(odd.json));
    assert.deepEqual(await snapshot(roomId), before);
    await assertResponsive(roomId);
  });
});

describe('events the rules refuse', () => {
  let roomId, room;
  before(async () => {
    ({ roomId, room } = await sharedRoom('rules'));
  });

  test('a bad signature: dropped, not stored, not shown', async () => {
    const forged = message(roomId, 'forged', {}, ['signature']);
    const elsewhere = message(roomId, 'for another server', {}, ['sender-server']);
    const before = await snapshot(roomId);
    const res = await fake.sendTransaction(hs.serverName, { pdus: [forged.pdu, elsewhere.pdu] });
    assert.equal(res.status, 200);
    for (const bad of [forged, elsewhere]) {
      assert.equal(await statusOf(bad.event_id), null);
      assert.ok(res.json.pdus[bad.event_id]?.error, `the answer names ${bad.event_id} with an error`);
    }
    assert.deepEqual(await snapshot(roomId), before);
    await assertResponsive(roomId);
  });

  test('signatures naming other servers: only the sender\'s server is asked for keys', async () => {
    // Signatures are outside the hashes: a sender may add any, and the event stays valid. Were
    // every named server's key fetched, one transaction could aim this server at 64 others.
    const bystander = await startFakeServer();
    try {
      const e = message(roomId, 'with company');
      e.pdu.signatures[bystander.serverName] = { 'ed25519:x': 'AAAA' };
      for (let i = 0; i < 20; i++) e.pdu.signatures[`127.0.0.1:${1 + i}`] = { 'ed25519:y': 'AAAA' };
      const res = await fake.sendTransaction(hs.serverName, { pdus: [e.pdu] });
      assert.deepEqual(res.json, { pdus: { [e.event_id]: {} } });
      assert.equal(await statusOf(e.event_id), 0);
      room.add(e.event_id, e.pdu);
      assert.deepEqual(bystander.requests, [], 'the bystander was never called');
    } finally {
      await bystander.stop();
    }
    await assertResponsive(roomId);
  });

  test('a wrong content hash: stored redacted, then processed as usual', async () => {
    const tampered = message(roomId, 'the secret body', {}, ['content-hash']);
    const res = await fake.sendTransaction(hs.serverName, { pdus: [tampered.pdu] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.pdus[tampered.event_id], {});
    assert.equal(await statusOf(tampered.event_id), 0, 'in the timeline');
    const stored = await storedJson(tampered.event_id);
    assert.deepEqual(stored.content, {}, 'only the redacted form is kept');
    assert.ok(!JSON.stringify(stored).includes('the secret body'));
    const tl = await hs.fetch(`${V3}/rooms/${seg(roomId)}/messages?dir=b&limit=5`, { token: alice.token });
    const shown = tl.json.chunk.find((e) => e.event_id === tampered.event_id);
    assert.ok(shown, 'alice sees the event');
    assert.deepEqual(shown.content, {});
    room.add(tampered.event_id, tampered.pdu);
    const next = await assertResponsive(roomId);
    assert.deepEqual(next.prev_events, [tampered.event_id], 'our next event builds on it');
  });

  test('an event failing the auth rules: rejected, never shown, never built on', async () => {
    const mallory = `@mallory:${fake.serverName}`; // never joined
    const intruder = fake.makeEvent('10', {
      room_id: roomId, sender: mallory, type: 'm.room.message', content: { msgtype: 'm.text', body: 'let me in' },
      auth_events: room.authEventsFor({ type: 'm.room.message', sender: bob }),
    });
    const rename = fake.makeEvent('10', {
      room_id: roomId, sender: bob, type: 'm.room.name', state_key: '', content: { name: 'taken over' },
    }); // bob has power 0, state_default is 50
    const before = await snapshot(roomId);
    const res = await fake.sendTransaction(hs.serverName, { pdus: [intruder.pdu, rename.pdu] });
    assert.equal(res.status, 200);
    for (const bad of [intruder, rename]) {
      assert.ok(res.json.pdus[bad.event_id]?.error, `rejected with a reason: ${JSON.stringify(res.json)}`);
      assert.equal(await statusOf(bad.event_id), 3, 'kept as rejected, so it is not fetched again');
    }
    const after = await snapshot(roomId);
    assert.deepEqual(after.state, before.state, 'the name did not change');
    assert.deepEqual(after.timeline, before.timeline);
    assert.deepEqual(after.extremities, before.extremities);
    const s = await sync(hs, alice, { timeout: 0 });
    assert.ok(!JSON.stringify(s).includes('taken over') && !JSON.stringify(s).includes('let me in'));
    for (const bad of [intruder, rename]) {
      const byId = await hs.fetch(`${V3}/rooms/${seg(roomId)}/event/${seg(bad.event_id)}`, { token: alice.token });
      assert.equal(byId.status, 404, `nor asked for by its id: ${byId.text}`);
    }
    const next = await assertResponsive(roomId);
    assert.ok(!next.prev_events.includes(intruder.event_id) && !next.prev_events.includes(rename.event_id));
  });

  test('an event that passes against its own state but not the current one: soft-failed', async () => {
    const creator = `@fakeuser:${fake.serverName}`;
    const bobJoin = room.state.get(`m.room.member\u0000${bob}`);
    const beforeBan = [...room.extremities];
    const ban = await fake.sendEvent(roomId, {
      type: 'm.room.member', sender: creator, state_key: bob, content: { membership: 'ban' },
    });
    assert.deepEqual(ban.sent[hs.serverName].json.pdus[ban.event_id], {});
    const before = await snapshot(roomId);
    // Bob's server writes as if the ban had not happened: prev events and auth events from before it.
    const evading = fake.makeEvent('10', {
      room_id: roomId, sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: 'banned, yet talking' },
      prev_events: beforeBan,
      auth_events: [room.state.get('m.room.create\u0000'), room.state.get('m.room.power_levels\u0000'), bobJoin],
    });
    const res = await fake.sendTransaction(hs.serverName, { pdus: [evading.pdu] });
    assert.equal(res.status, 200);
    assert.equal(await statusOf(evading.event_id), 2, 'soft-failed');
    const after = await snapshot(roomId);
    assert.deepEqual(after.timeline, before.timeline, 'not shown');
    assert.deepEqual(after.extremities, before.extremities, 'not a forward extremity');
    assert.deepEqual(after.state, before.state);
    const s = await sync(hs, alice, { timeout: 0 });
    assert.ok(!JSON.stringify(s).includes('banned, yet talking'));
    const byId = await hs.fetch(`${V3}/rooms/${seg(roomId)}/event/${seg(evading.event_id)}`, { token: alice.token });
    assert.equal(byId.status, 404, `nor asked for by its id: ${byId.text}`);
    const next = await assertResponsive(roomId);
    assert.ok(!next.prev_events.includes(evading.event_id), 'our events do not build on it');
  });

  test('a replayed transaction: the same answer, nothing applied twice', async () => {
    const m1 = message(roomId, 'once only', { sender: `@fakeuser:${fake.serverName}` });
    const txnId = `replay-${Date.now()}`;
    const first = await fake.sendTransaction(hs.serverName, { pdus: [m1.pdu], txnId });
    assert.equal(first.status, 200);
    assert.deepEqual(first.json, { pdus: { [m1.event_id]: {} } });
    room.add(m1.event_id, m1.pdu);
    const before = await snapshot(roomId);
    const again = await fake.sendTransaction(hs.serverName, { pdus: [m1.pdu], txnId });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, first.json);
    // The same id with other contents: still the first answer, the new PDU not taken.
    const m2 = message(roomId, 'smuggled under an old id', { sender: `@fakeuser:${fake.serverName}` });
    const other = await fake.sendTransaction(hs.serverName, { pdus: [m2.pdu], txnId });
    assert.deepEqual(other.json, first.json);
    assert.equal(await statusOf(m2.event_id), null);
    // The same PDU in a new transaction: accepted as known, stored once.
    const fresh = await fake.sendTransaction(hs.serverName, { pdus: [m1.pdu] });
    assert.equal(fresh.status, 200);
    assert.deepEqual(await snapshot(roomId), before);
    assert.equal((await timeline(roomId)).filter((id) => id === m1.event_id).length, 1);
    await assertResponsive(roomId);
  });

  test('a PDU for a room this server is not in: nothing kept', async () => {
    const { roomId: elsewhere } = fake.createRoom({ name: 'not joined' });
    const pdu = fake.makeEvent('10', {
      room_id: elsewhere, sender: `@fakeuser:${fake.serverName}`, type: 'm.room.message', content: { msgtype: 'm.text', body: 'psst' },
    });
    const create = fake.rooms.get(elsewhere).stateEvent('m.room.create');
    const before = await snapshot(roomId);
    const res = await fake.sendTransaction(hs.serverName, { pdus: [create, pdu.pdu] });
    assert.equal(res.status, 200);
    assert.equal(await statusOf(pdu.event_id), null);
    assert.deepEqual(await sqlite(hs, `SELECT count(*) FROM events WHERE room_id = ${sq(elsewhere)}`), ['0']);
    assert.deepEqual(await snapshot(roomId), before);
  });

  test('an invite with a flood of stripped state: at most 20 well-formed entries kept and shown', async () => {
    const { roomId: invitedTo, room: graph } = fake.createRoom({ name: 'invitation' });
    const creator = `@fakeuser:${fake.serverName}`;
    const invite = fake.makeEvent('10', {
      room_id: invitedTo, sender: creator, type: 'm.room.member', state_key: alice.user_id, content: { membership: 'invite' },
    });
    const good = (i) => ({ type: `m.flood.${i}`, state_key: '', sender: creator, content: { n: i } });
    const stripped = [
      { type: 'm.room.name', state_key: '', sender: creator, content: { name: graph.stateEvent('m.room.name').content.name } },
      { type: 'm.room.topic', state_key: '', sender: creator, content: { topic: 't'.repeat(1 << 20) } }, // 1 MB
      'junk', 7, null, { type: 5, state_key: '', sender: creator, content: {} }, { type: 'x', state_key: '', sender: creator, content: 'no' },
      { type: 'y'.repeat(300), state_key: '', sender: creator, content: {} },
      ...Array.from({ length: 1000 }, (_, i) => good(i)),
    ];
    const res = await fake.invite(hs.serverName, '10', invite.pdu, stripped);
    assert.equal(res.status, 200, JSON.stringify(res.json).slice(0, 300));
    const s = await sync(hs, alice, { timeout: 0 });
    const shown = s.rooms?.invite?.[invitedTo]?.invite_state?.events;
    assert.ok(Array.isArray(shown), 'the invite is in alice\'s sync');
    assert.ok(shown.length <= 21, `${shown.length} stripped state events shown`); // 20 kept, and the invite itself
    assert.ok(shown.some((e) => e.type === 'm.room.name'), 'the well-formed name is kept');
    assert.ok(!shown.some((e) => e.type === 'm.room.topic'), 'the 1 MB topic is not');
    assert.ok(shown.every((e) => typeof e.type === 'string' && e.type.length <= 255 && typeof e.content === 'object'));
    const stored = await sqlite(hs, `SELECT length(json) FROM invite_room_state WHERE room_id = ${sq(invitedTo)}`);
    assert.ok(Number(stored[0]) < 20 * 1024, `${stored[0]} bytes kept`);
    // Declined, so that the invite does not linger in later syncs.
    const left = await hs.fetch(`${V3}/rooms/${seg(invitedTo)}/leave`, { method: 'POST', body: {}, token: alice.token });
    assert.equal(left.status, 200, left.text);
  });

  test('an unknown room version: invites and joins refused with M_INCOMPATIBLE_ROOM_VERSION', async () => {
    const { roomId: odd } = fake.createRoom({ name: 'odd version' });
    const invite = fake.makeEvent('999', {
      room_id: odd, sender: `@fakeuser:${fake.serverName}`, type: 'm.room.member', state_key: alice.user_id,
      content: { membership: 'invite' },
    }, { broken: ['unknown-version'] });
    const before = await snapshot(roomId);
    const res = await fake.invite(hs.serverName, '999', invite.pdu);
    assertRefused(res, 400, 'M_INCOMPATIBLE_ROOM_VERSION');
    assert.equal(await statusOf(invite.event_id), null);
    fake.misbehave('make_join', { status: 200, json: { room_version: '999', event: { type: 'm.room.member' } }, times: 1 });
    const join = await hs.fetch(`${V3}/join/${seg(odd)}?server_name=${seg(fake.serverName)}`, {
      method: 'POST', body: {}, token: alice.token,
    });
    fake.behave('make_join');
    assert.ok(join.status >= 400 && join.status < 600 && join.json?.errcode, `the join fails clearly: ${join.status} ${join.text}`);
    assert.deepEqual(await sqlite(hs, `SELECT count(*) FROM events WHERE room_id = ${sq(odd)}`), ['0']);
    assert.deepEqual(await snapshot(roomId), before);
  });
});

// Gap filling is bounded: one get_missing_events per PDU that has a gap (at most 50 in a
// transaction, within the 64 asks a request may make), each for at most 10 events, from the
// server that sent the PDU only, each answer at most 8 MB (the native host's bound) and
// 20 s; what does not connect is not kept, and the PDU is answered with an error.
describe('gaps and floods', () => {
  // Requests hometab made of the fake's get_missing_events since `since` (an index in requests).
  const gapAsks = (since) => fake.requests.slice(since).filter((r) => r.route === 'get_missing_events');

  test('a gap of 30 events: one get_missing_events of at most 10, then the state at the gap; the PDU is taken', async () => {
    const { roomId } = await sharedRoom('gap');
    const creator = `@fakeuser:${fake.serverName}`;
    const missed = [];
    for (let i = 0; i < 30; i++) {
      missed.push(i === 12
        ? fake.addEvent(roomId, { type: 'm.room.topic', state_key: '', sender: creator, content: { topic: 'set inside the gap' } })
        : fake.addEvent(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: `missed ${i}` } }));
    }
    const since = fake.requests.length;
    const latest = await fake.sendEvent(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: 'after the gap' } });
    const res = latest.sent[hs.serverName];
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.pdus[latest.event_id], {}, `the PDU is taken: ${JSON.stringify(res.json)}`);
    const asks = gapAsks(since);
    assert.equal(asks.length, 1, 'one get_missing_events for the one PDU');
    assert.ok(asks[0].body.limit <= 10, `limit ${asks[0].body.limit}`);
    assert.deepEqual(asks[0].body.latest_events, [latest.event_id]);
    const prev = missed.at(-1).event_id;
    const stateAsks = fake.requests.slice(since).filter((r) => r.route === 'state');
    assert.deepEqual(stateAsks.map((r) => new URL(r.path, 'http://x').searchParams.get('event_id')), [prev],
      'the state asked for once, at the one prev event');
    assert.equal(await statusOf(latest.event_id), 0, 'in the timeline');
    assert.equal(await statusOf(prev), 1, 'its prev event kept as an outlier');
    assert.equal(await statusOf(missed[12].event_id), 1, 'the state event inside the gap kept as an outlier');
    for (const m of missed.slice(0, 29)) if (m !== missed[12]) assert.equal(await statusOf(m.event_id), null, 'messages inside the gap are not fetched');
    const topic = await hs.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.topic/`, { token: alice.token });
    assert.equal(topic.json?.topic, 'set inside the gap', 'the state changed inside the gap is the room\'s');
    assert.equal((await timeline(roomId))[0], latest.event_id);
    const ours = await assertResponsive(roomId);
    assert.ok(ours.prev_events.includes(latest.event_id), 'alice builds on the event after the gap');
  });

  test('a gap whose state the sender will not give, or gives falsely: the PDU refused, the room unchanged', async () => {
    const { roomId, room } = await sharedRoom('gap refused');
    for (let i = 0; i < 15; i++) fake.addEvent(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: `m ${i}` } });
    const first = message(roomId, 'after a gap, its state refused');
    room.add(first.event_id, first.pdu);
    const before = await snapshot(roomId);
    fake.misbehave('state', { status: 500, times: 1 });
    let res = await fake.sendTransaction(hs.serverName, { pdus: [first.pdu] });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.ok(res.json.pdus[first.event_id]?.error, JSON.stringify(res.json));
    assert.equal(await statusOf(first.event_id), null);
    assert.deepEqual(await snapshot(roomId), before);
    // A state in which bob never joined: his event fails against the state before it.
    const second = message(roomId, 'after a gap, a false state given');
    room.add(second.event_id, second.pdu);
    const ids = [...room.stateBefore(second.pdu.prev_events[0]).values()].filter((id) => room.pdu(id).state_key !== bob);
    const pdus = ids.map((id) => room.pdu(id));
    const auth_chain = room.authChain(ids);
    fake.misbehave('state', { status: 200, json: { pdus, auth_chain: auth_chain.map((id) => room.pdu(id)) }, times: 1 });
    res = await fake.sendTransaction(hs.serverName, { pdus: [second.pdu] });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.ok(res.json.pdus[second.event_id]?.error, `refused: ${JSON.stringify(res.json)}`);
    assert.notEqual(await statusOf(second.event_id), 0, 'never in the timeline');
    const after = await snapshot(roomId);
    assert.deepEqual({ ...after, events: null }, { ...before, events: null }, 'the room, its tips and alice\'s timeline unchanged');
    fake.behave('state');
    await assertResponsive(roomId);
  });

  test('a flooding get_missing_events answer: repeats, the asked event itself, floats, junk', async () => {
    const { roomId, room } = await sharedRoom('flooded gap');
    // An event hometab lacks with a float in it: it must not be taken from an answer either.
    const float = fake.makeEvent('10', { room_id: roomId, sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: 'f' } }, { broken: ['float'] });
    room.add(float.event_id, float.pdu);
    const latest = fake.makeEvent('10', { room_id: roomId, sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: 'latest' } });
    room.add(latest.event_id, latest.pdu);
    // The nearest a graph named by hashes comes to a loop: the answer gives back the very event
    // whose gap is being filled, again and again, beside the float event and things not events.
    const events = [];
    for (let i = 0; i < 2000; i++) events.push(i % 3 === 0 ? latest.pdu : i % 3 === 1 ? float.pdu : { room_id: roomId, junk: i });
    fake.misbehave('get_missing_events', { status: 200, json: { events } });
    const before = await snapshot(roomId);
    const since = fake.requests.length;
    const res = await fake.sendTransaction(hs.serverName, { pdus: [latest.pdu] });
    fake.behave('get_missing_events');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.ok(res.json.pdus[latest.event_id]?.error);
    assert.equal(gapAsks(since).length, 1);
    assert.equal(await statusOf(float.event_id), null);
    assert.equal(await statusOf(latest.event_id), null);
    assert.deepEqual(await snapshot(roomId), before);
    await assertResponsive(roomId);
  });

  test('a 100 MB get_missing_events answer, and one that never comes: the transaction fails cleanly', async () => {
    const { roomId, room } = await sharedRoom('huge gap');
    const hidden = fake.addEvent(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: 'hidden' } });
    const latest = fake.makeEvent('10', { room_id: roomId, sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: 'latest' } });
    room.add(latest.event_id, latest.pdu);
    const before = await snapshot(roomId);
    fake.misbehave('state', { status: 404 }); // the gap stays: this test is about the first ask
    fake.misbehave('get_missing_events', { hugeBytes: 100 << 20, times: 1 });
    const res = await fake.sendTransaction(hs.serverName, { pdus: [latest.pdu] });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.ok(res.json.pdus[latest.event_id]?.error);
    // A hanging answer holds only the transaction that asked: alice is served meanwhile.
    fake.misbehave('get_missing_events', { hang: true, times: 1 });
    const pending = fake.sendTransaction(hs.serverName, { pdus: [latest.pdu] });
    await fake.waitFor(() => fake.requests.some((r) => r.route === 'get_missing_events' && r.misbehaved && !r.status), { what: 'the hanging ask' });
    const s = await sync(hs, alice, { timeout: 0 });
    assert.ok(s.next_batch);
    let settled = false;
    pending.finally(() => { settled = true; });
    assert.equal(settled, false, 'alice was answered while the transaction still waits');
    const late = await pending;
    assert.equal(late.status, 200, JSON.stringify(late.json));
    assert.ok(late.json.pdus[latest.event_id]?.error);
    fake.behave('state');
    assert.equal(await statusOf(hidden.event_id), null);
    assert.equal(await statusOf(latest.event_id), null);
    assert.deepEqual(await snapshot(roomId), before);
  });

  test('50 forks, each on 20 old events of a disputed state: all resolved, alice served after', async (t) => {
    const { roomId, room } = await sharedRoom('forks');
    const creator = `@fakeuser:${fake.serverName}`;
    const old = [];
    for (let i = 0; i < 20; i++) {
      old.push((await fake.sendEvent(roomId, { type: 'm.room.topic', state_key: '', sender: creator, content: { topic: `topic ${i}` } })).event_id);
      old.push((await fake.sendEvent(roomId, {
        type: 'm.room.power_levels', state_key: '', sender: creator,
        content: { users: { [creator]: 100, [`@p${i}:${fake.serverName}`]: 5 }, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 },
      })).event_id);
    }
    const forks = [];
    for (let k = 0; k < 50; k++) {
      const prev = [...new Set(Array.from({ length: 20 }, (_, j) => old[(k * 7 + j * 3) % old.length]))];
      forks.push(fake.makeEvent('10', { room_id: roomId, sender: creator, type: 'm.room.message', content: { msgtype: 'm.text', body: `fork ${k}` }, prev_events: prev, depth: 500 }));
    }
    const started = Date.now();
    const res = await fake.sendTransaction(hs.serverName, { pdus: forks.map((f) => f.pdu) });
    t.diagnostic(`a transaction of 50 forks on 20 prev events each: ${Date.now() - started} ms`);
    assert.equal(res.status, 200);
    for (const f of forks) {
      assert.deepEqual(res.json.pdus[f.event_id], {}, 'each fork is accepted');
      room.add(f.event_id, f.pdu);
    }
    const state = await hs.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.topic/`, { token: alice.token });
    assert.equal(state.json.topic, 'topic 19', 'the newest topic stands');
    await assertResponsive(roomId);
  });

  test('50 PDUs with 20 unknown prev events each, and unknown auth events: bounded asks, nothing kept', async () => {
    const { roomId, room } = await sharedRoom('unknown prevs');
    const madeUp = () => `$${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`;
    const pdus = [];
    for (let i = 0; i < 49; i++) {
      pdus.push(fake.makeEvent('10', {
        room_id: roomId, sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: `orphan ${i}` },
        prev_events: Array.from({ length: 20 }, madeUp), depth: 1000 + i,
      }).pdu);
    }
    const noAuth = fake.makeEvent('10', {
      room_id: roomId, sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: 'no auth' },
      auth_events: [...room.authEventsFor({ type: 'm.room.message', sender: bob }), madeUp()],
    });
    pdus.push(noAuth.pdu);
    const before = await snapshot(roomId);
    const since = fake.requests.length;
    const res = await fake.sendTransaction(hs.serverName, { pdus });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(Object.values(res.json.pdus).filter((e) => e.error).length, 50, 'every PDU is answered with an error');
    assert.ok(gapAsks(since).length <= 50, `${gapAsks(since).length} asks`);
    assert.ok(fake.requests.length - since <= 64 + 1, 'no more than 64 asks for one transaction');
    assert.deepEqual(await snapshot(roomId), before);
    await assertResponsive(roomId);
  });
});

// Request authentication (server-server "Request Authentication"): every fault is a 401
// M_UNAUTHORIZED, and a transaction refused so has none of its PDUs applied.
test('make_knock: only for the asking server\'s own users, only in room versions it names', async () => {
  const made = await hs.fetch(`${V3}/createRoom`, {
    method: 'POST', token: alice.token,
    body: { preset: 'private_chat', initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }] },
  });
  assert.equal(made.status, 200, made.text);
  const room = seg(made.json.room_id);
  const ok = await fake.request(hs.serverName, 'GET', `${FED}/make_knock/${room}/${seg(bob)}?ver=10&ver=11`);
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  assert.equal(ok.json.event.content.membership, 'knock');
  assertRefused(await fake.request(hs.serverName, 'GET', `${FED}/make_knock/${room}/${seg(alice.user_id)}?ver=10&ver=11`), 403, 'M_FORBIDDEN');
  assertRefused(await fake.request(hs.serverName, 'GET', `${FED}/make_knock/${room}/${seg(bob)}?ver=1`), 400, 'M_INCOMPATIBLE_ROOM_VERSION');
  const notKnock = await hs.fetch(`${V3}/createRoom`, { method: 'POST', body: { preset: 'private_chat' }, token: alice.token });
  assertRefused(await fake.request(hs.serverName, 'GET', `${FED}/make_knock/${seg(notKnock.json.room_id)}/${seg(bob)}?ver=10&ver=11`), 403, 'M_FORBIDDEN');
});

test('another server reads our published directory, and cannot make us ask a third server', async () => {
  const listed = await hs.fetch(`${V3}/createRoom`, {
    method: 'POST', body: { preset: 'public_chat', visibility: 'public', name: 'Ours, listed' }, token: alice.token,
  });
  assert.equal(listed.status, 200, listed.text);
  const since = fake.requests.length;
  const get = await fake.request(hs.serverName, 'GET', `${FED}/publicRooms?limit=10&server=${seg(fake.serverName)}`);
  assert.equal(get.status, 200, JSON.stringify(get.json));
  assert.ok(get.json.chunk.some((r) => r.room_id === listed.json.room_id), 'our own listing, not the fake\'s');
  const post = await fake.request(hs.serverName, 'POST', `${FED}/publicRooms?server=${seg(fake.serverName)}`,
    { limit: 10, filter: { generic_search_term: 'Ours' } });
  assert.equal(post.status, 200, JSON.stringify(post.json));
  assert.deepEqual(post.json.chunk.map((r) => r.room_id), [listed.json.room_id]);
  assert.equal(fake.requests.slice(since).filter((r) => r.path.includes('publicRooms')).length, 0, 'hometab asked nobody');
  const unsigned = await fetch(`${hs.url}${FED}/publicRooms`);
  assert.equal(unsigned.status, 401);
});

describe('X-Matrix faults', () => {
  let roomId, room;
  before(async () => {
    ({ roomId, room } = await sharedRoom('x-matrix'));
  });

  // A transaction carrying one good PDU, sent with request options `opts`: refused with 401 and
  // the PDU not kept.
  async function assertUnauthorized(opts, what) {
    const e = message(roomId, `through ${what}`);
    const res = await fake.sendTransaction(hs.serverName, { pdus: [e.pdu] }, opts);
    assertRefused(res, 401, 'M_UNAUTHORIZED');
    assert.equal(await statusOf(e.event_id), null, `${what}: nothing applied`);
  }

  test('no header, another destination, another origin, an unknown key, our own name: 401', async () => {
    const before = await snapshot(roomId);
    await assertUnauthorized({ authorization: null }, 'no header');
    await assertUnauthorized({ signAs: { destination: 'elsewhere.example' } }, 'another destination');
    await assertUnauthorized({ signAs: { destination: `${hs.serverName}.` } }, 'a near miss of our name');
    const bystander = await startFakeServer();
    try {
      // Claims to be the bystander, signs with the fake's key: the bystander's key does not verify it.
      await assertUnauthorized({ signAs: { origin: bystander.serverName } }, 'another origin');
    } finally {
      await bystander.stop();
    }
    await assertUnauthorized({ signAs: { key: SigningKey.generate() } }, 'a key id the origin never published');
    await assertUnauthorized({ signAs: { origin: hs.serverName } }, 'our own name');
    for (const header of ['X-Matrix', 'X-Matrix origin=', 'Bearer abc', `X-Matrix origin="${fake.serverName}",key="ed25519:x",sig="%%%"`,
      `X-Matrix ${'a=b,'.repeat(3000)}origin=${fake.serverName}`, `X-Matrix origin=${fake.serverName},origin=${fake.serverName}`]) {
      await assertUnauthorized({ authorization: header }, `the header ${header.slice(0, 40)}`);
    }
    // The body names another origin than the signature: refused too.
    const e = message(roomId, 'body names another origin');
    const res = await fake.request(hs.serverName, 'PUT', `${FED}/send/other-origin`, {
      origin: 'elsewhere.example', origin_server_ts: Date.now(), pdus: [e.pdu], edus: [],
    });
    assert.ok(res.status === 401 || res.status === 403, `${res.status} ${JSON.stringify(res.json)}`);
    assert.equal(await statusOf(e.event_id), null);
    assert.deepEqual(await snapshot(roomId), before);
    await assertResponsive(roomId);
    void room;
  });

  test('an expired key: 401', async () => {
    // A server whose key server publishes its key as valid until a minute ago.
    const stale = await startFakeServer();
    try {
      stale.misbehave('key', {
        status: 200,
        json: signJson({
          server_name: stale.serverName, verify_keys: { [stale.key.keyId]: { key: b64(stale.key.publicKey) } },
          old_verify_keys: {}, valid_until_ts: Date.now() - 60000,
        }, stale.serverName, stale.key),
      });
      const res = await stale.request(hs.serverName, 'GET', `${FED}/query/profile?user_id=${seg(alice.user_id)}`);
      assertRefused(res, 401, 'M_UNAUTHORIZED');
      assert.ok(stale.requests.some((r) => r.route === 'key'), 'the key was asked for');
    } finally {
      await stale.stop();
    }
  });
});

// Other servers' key servers: slow, silent, garbage, huge, lying. A key fetch is bounded
// (15 s, 8 MB); the request that needed it fails cleanly with 401; local clients are served
// meanwhile, and nothing is kept of a bad key.
describe('a slow or lying key server', () => {
  let roomId;
  before(async () => {
    ({ roomId } = await sharedRoom('keys'));
  });

  // A new server, unknown to hometab, whose key route misbehaves; it asks hometab for alice's
  // profile (a request hometab must authenticate by fetching its key).
  async function askWithBadKeys(behaviour) {
    const other = await startFakeServer({ timeoutMs: 60000 * SLOW });
    other.misbehave('key', behaviour);
    try {
      const res = await other.request(hs.serverName, 'GET', `${FED}/query/profile?user_id=${seg(alice.user_id)}`);
      assertRefused(res, 401, 'M_UNAUTHORIZED');
      assert.ok(other.requests.some((r) => r.route === 'key'), 'hometab asked for the key');
      const kept = await sqlite(hs, `SELECT count(*) FROM server_keys WHERE server_name = ${sq(other.serverName)}`);
      assert.deepEqual(kept, ['0'], 'nothing kept of a bad key');
    } finally {
      await other.stop();
    }
  }

  test('garbage, a 100 MB answer, a dropped connection, an error, a key signed by no one: 401', async () => {
    await askWithBadKeys({ garbage: true });
    await askWithBadKeys({ hugeBytes: 100 << 20 });
    await askWithBadKeys({ hugeBytes: 100 << 20, chunked: true });
    await askWithBadKeys({ drop: true });
    await askWithBadKeys({ status: 500 });
    await askWithBadKeys({ status: 200, json: { server_name: 'someone.else', verify_keys: {}, valid_until_ts: Date.now() + 1e6 } });
    const liar = SigningKey.generate();
    await askWithBadKeys({
      status: 200,
      json: signJson({ server_name: 'x', verify_keys: { [liar.keyId]: { key: b64(liar.publicKey) } }, valid_until_ts: Date.now() + 1e6 }, 'x', liar),
    });
    await assertResponsive(roomId);
  });

  test('a key server that never answers: the request fails after the bound, local clients are served meanwhile', async (t) => {
    const other = await startFakeServer({ timeoutMs: 120000 * SLOW });
    other.misbehave('key', { hang: true });
    try {
      const started = Date.now();
      let settled = false;
      const pending = other.sendTransaction(hs.serverName, { pdus: [] }).finally(() => { settled = true; });
      await other.waitForRequest((r) => r.route === 'key');
      // Alice reads and writes while hometab waits for the key.
      const t0 = Date.now();
      await sync(hs, alice, { timeout: 0 });
      const id = await sendMessage(hs, alice, roomId, 'while a key server hangs');
      const during = Date.now() - t0;
      assert.ok(id);
      assert.equal(settled, false, 'alice was served while the federation request still waited');
      const res = await pending;
      assertRefused(res, 401, 'M_UNAUTHORIZED');
      const waited = Date.now() - started;
      t.diagnostic(`alice's sync and send took ${during} ms while a key fetch hung; the federation request failed after ${waited} ms`);
      assert.ok(waited < 60000 * SLOW, 'the key fetch is bounded');
    } finally {
      await other.stop();
    }
  });
});

// Other servers' signed requests take from a token bucket per origin server (--rate-limit
// federation=PER_SECOND/BURST), the same buckets as clients' (core/rate_limit.h).
describe('the per-origin rate limit', () => {
  let limited; // a hometab with federation=0.2/5 (five requests at once, then one per 5 s) and
  // federation-keys=0.01/3 (three key fetches per claimed server, then one per 100 s)
  let carol;
  let noisy; // one origin...
  let quiet; // ...and another
  before(async () => {
    limited = await startFederating({
      rateLimit: true, args: ['--rate-limit', 'federation=0.2/5', '--rate-limit', 'federation-keys=0.01/3'],
    });
    carol = await register(limited, 'carol');
    noisy = await startFakeServer();
    quiet = await startFakeServer();
  });
  after(async () => {
    await noisy?.stop();
    await quiet?.stop();
    await limited?.stop();
  });

  const profile = (from, opts) => from.request(limited.serverName, 'GET', `${FED}/query/profile?user_id=${seg(carol.user_id)}`, undefined, opts);

  test('an origin past its burst gets 429 M_LIMIT_EXCEEDED with retry_after_ms; others, and clients, do not', async () => {
    // Its first request fetches its key: that pass waits, the replay is not counted twice.
    assert.equal((await profile(noisy)).status, 200);
    // Requests that claim its name but fail authentication charge nothing to it.
    for (let i = 0; i < 8; i++) assertRefused(await profile(noisy, { signAs: { key: SigningKey.generate() } }), 401, 'M_UNAUTHORIZED');
    const started = Date.now();
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await profile(noisy));
    const elapsedS = (Date.now() - started) / 1000;
    const ok = answers.filter((r) => r.status === 200).length;
    assert.ok(ok >= 5 && ok <= 5 + Math.ceil(elapsedS * 0.2), `${ok} of 10 served in ${elapsedS} s`);
    const refused = answers.filter((r) => r.status !== 200);
    assert.ok(refused.length > 0);
    for (const r of refused) {
      assertRefused(r, 429, 'M_LIMIT_EXCEEDED');
      assert.ok(Number.isInteger(r.json.retry_after_ms) && r.json.retry_after_ms > 0 && r.json.retry_after_ms <= 5000,
        `retry_after_ms ${r.json.retry_after_ms}`);
    }
    // A transaction refused so is not recorded as done: the same id is taken once a token is back.
    const txnId = `limited-${Date.now()}`;
    const first = await noisy.sendTransaction(limited.serverName, { pdus: [], txnId });
    assertRefused(first, 429, 'M_LIMIT_EXCEEDED');
    // Another origin and the server's own clients are not held back.
    assert.equal((await profile(quiet)).status, 200);
    assert.ok((await sync(limited, carol, { timeout: 0 })).next_batch);
    await new Promise((r) => setTimeout(r, first.json.retry_after_ms + 100));
    const again = await noisy.sendTransaction(limited.serverName, { pdus: [], txnId });
    assert.equal(again.status, 200, JSON.stringify(again.json));
    assert.deepEqual(again.json, { pdus: {} });
  });

  test('requests naming made-up key ids make at most a few key fetches of the server they claim', async () => {
    const claimed = await startFakeServer();
    try {
      assert.equal((await profile(claimed)).status, 200, 'its first request fetches its key');
      for (let i = 0; i < 12; i++) {
        assertRefused(await profile(claimed, { signAs: { key: SigningKey.generate() } }), 401, 'M_UNAUTHORIZED');
      }
      const fetches = claimed.requests.filter((r) => r.route === 'key').length;
      assert.ok(fetches <= 3, `${fetches} key fetches for 13 requests (the bucket holds 3)`);
      // Its genuine requests, signed with the key already known, still pass.
      assert.equal((await profile(claimed)).status, 200);
    } finally {
      await claimed.stop();
    }
  });
});

// Joining through a resident that lies or floods: the send_join answer is checked event by
// event, in an order worked out once (not tried again and again), and a bad one fails the join
// with an error that names the server, keeping nothing that makes alice a member.
describe('a hostile resident answering send_join', () => {
  // The answer a resident gives: the room's state and its auth chain, in the order asked.
  function sendJoinAnswer(room, order = (ids) => ids) {
    const stateIds = [...room.state.values()];
    const chain = order(room.authChain(stateIds).filter((id) => !stateIds.includes(id)));
    return { origin: fake.serverName, state: stateIds.map((id) => room.pdu(id)), auth_chain: chain.map((id) => room.pdu(id)) };
  }
  const joinedRooms = async () => (await hs.fetch(`${V3}/joined_rooms`, { token: alice.token })).json.joined_rooms;
  const join = (roomId) => hs.fetch(`${V3}/join/${seg(roomId)}?server_name=${seg(fake.serverName)}`, {
    method: 'POST', body: {}, token: alice.token,
  });

  test('an auth chain of 1500 power level changes, newest first: the join completes', async (t) => {
    const { roomId, room } = fake.createRoom({ name: 'long chain' });
    const creator = `@fakeuser:${fake.serverName}`;
    for (let i = 0; i < 1500; i++) {
      fake.addEvent(roomId, {
        type: 'm.room.power_levels', sender: creator, state_key: '',
        content: { users: { [creator]: 100, [`@u${i}:${fake.serverName}`]: 1 }, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 },
      });
    }
    const byDepthDescending = (ids) => ids.sort((a, b) => room.pdu(b).depth - room.pdu(a).depth);
    const answer = sendJoinAnswer(room, byDepthDescending);
    assert.ok(answer.auth_chain.length >= 1500);
    fake.misbehave('send_join', { status: 200, json: answer, times: 1 });
    const started = Date.now();
    const res = await join(roomId);
    t.diagnostic(`a join bringing ${answer.auth_chain.length + answer.state.length} events, the chain newest first: ${Date.now() - started} ms`);
    assert.equal(res.status, 200, res.text);
    assert.ok((await joinedRooms()).includes(roomId));
    assert.equal(await sync(hs, alice, { timeout: 0 }).then((s) => Boolean(s.rooms?.join?.[roomId])), true);
  });

  test('garbage, a forged state event, a chain that names what it lacks: the join fails, nothing joined', async () => {
    const { roomId, room } = fake.createRoom({ name: 'lying resident' });
    const good = sendJoinAnswer(room);
    const forged = structuredClone(good);
    const name = forged.state.find((e) => e.type === 'm.room.name');
    name.content.name = 'changed after signing';
    const lacking = structuredClone(good);
    lacking.state = lacking.state.filter((e) => e.type !== 'm.room.create');
    lacking.auth_chain = lacking.auth_chain.filter((e) => e.type !== 'm.room.create');
    // Well-formed for its first 600 events and more, then not: read a slice a pass, the answer
    // fails on a later pass than the first.
    for (let i = 0; i < 600; i++) {
      fake.addEvent(roomId, { type: 'org.hometab.filler', sender: `@fakeuser:${fake.serverName}`, state_key: `${i}`, content: {} });
    }
    const long = sendJoinAnswer(room);
    assert.ok(long.state.length > 600);
    const truncated = `{"origin":${JSON.stringify(fake.serverName)},"auth_chain":${JSON.stringify(long.auth_chain)},` +
      `"state":[${long.state.map((e) => JSON.stringify(e)).join(',')},{"type":]}`;
    for (const behaviour of [{ garbage: true }, { hugeBytes: 100 << 20 }, { status: 200, json: { state: 'no', auth_chain: 7 } },
      { status: 200, json: lacking }, { status: 200, text: truncated }]) {
      fake.misbehave('send_join', { ...behaviour, times: 1 });
      const res = await join(roomId);
      fake.behave('send_join');
      assert.ok(res.status === 404 || res.status === 403, `${JSON.stringify(behaviour).slice(0, 60)}: ${res.status} ${res.text}`);
      assert.ok(res.json.error.includes(fake.serverName), 'the error names the server');
      assert.ok(!(await joinedRooms()).includes(roomId));
    }
    // A forged event whose content hash fails is kept redacted: the name it claims is not shown.
    fake.misbehave('send_join', { status: 200, json: forged, times: 1 });
    const res = await join(roomId);
    fake.behave('send_join');
    if (res.status === 200) {
      const state = await hs.fetch(`${V3}/rooms/${seg(roomId)}/state`, { token: alice.token });
      assert.ok(!JSON.stringify(state.json).includes('changed after signing'));
    } else {
      assert.ok(!(await joinedRooms()).includes(roomId));
    }
    // Events repeated a thousand times are judged once each: the join goes through.
    const { roomId: repeated, room: other } = fake.createRoom({ name: 'repeating resident' });
    const answer = sendJoinAnswer(other);
    answer.state = [...answer.state, ...Array(1000).fill(answer.state[0])];
    fake.misbehave('send_join', { status: 200, json: answer, times: 1 });
    const again = await join(repeated);
    fake.behave('send_join');
    assert.equal(again.status, 200, again.text);
    assert.ok((await joinedRooms()).includes(repeated));
    void room;
  });

  test('a state that holds an event of another room: the join fails, nothing joined', async () => {
    const creator = `@fakeuser:${fake.serverName}`;
    const { roomId: otherId, room: other } = fake.createRoom({ name: 'the other room' });
    const topic = fake.addEvent(otherId, { type: 'm.room.topic', sender: creator, state_key: '', content: { topic: 'of another room' } });
    assert.equal((await join(otherId)).status, 200); // known here: its events are taken, not dropped
    // The other room's topic; and alice's own membership there (our users' keys are written
    // with the join itself, the others before it: both ways refuse another room's event).
    const alicesJoin = [...other.state.entries()].find(([key]) => key.includes(alice.user_id))?.[1];
    assert.ok(alicesJoin, 'alice\'s membership of the other room');
    for (const foreign of [topic.pdu, other.pdu(alicesJoin)]) {
      const { roomId, room } = fake.createRoom({ name: 'mixed state' });
      const answer = sendJoinAnswer(room);
      answer.state.push(foreign);
      fake.misbehave('send_join', { status: 200, json: answer, times: 1 });
      const res = await join(roomId);
      fake.behave('send_join');
      assert.ok(res.status === 404 || res.status === 403, `${foreign.type}: ${res.status} ${res.text}`);
      assert.ok(res.json.error.includes(fake.serverName), 'the error names the server');
      assert.ok(!(await joinedRooms()).includes(roomId));
    }
  });
});
