// fake_vs_synapse.test.mjs -- the federation test kit against the reference server: the fake
// remote server (tests/federation/lib) and Synapse 1.67.0 share rooms over loopback TLS, both
// ways round. Every signature, content hash, event id and X-Matrix header the fake makes is
// checked by Synapse, and every one Synapse makes is checked by the fake: if the kit and
// Synapse agree on all of them, the kit can be trusted to judge hometab.
//
// Run with `make interop` (it installs Debian's python3 packages and needs ../shared/synapse).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startFakeServer } from '../federation/lib/fake-server.mjs';
import { makeTestCa } from './lib/ca.mjs';
import { eventually } from './lib/pair.mjs';
import { startSynapse } from './lib/synapse.mjs';

const enc = encodeURIComponent;

async function messagesOf(syn, who, roomId) {
  const r = await syn.client(who, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=50`);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.chunk;
}

describe('the fake server and Synapse 1.67.0 federate', () => {
  let caDir;
  let syn;
  let fake;
  const started = Date.now();

  before(async () => {
    caDir = mkdtempSync(join(tmpdir(), 'interop-ca-'));
    const tls = makeTestCa(caDir);
    // Synapse federates over TLS only: the fake serves HTTPS with the CA's leaf and trusts the CA.
    [syn, fake] = await Promise.all([startSynapse({ tls }), startFakeServer({ tls: { cert: tls.cert, key: tls.key }, ca: tls.ca })]);
  });

  after(async () => {
    try {
      await fake?.stop();
    } finally {
      await syn?.stop();
      rmSync(caDir, { recursive: true, force: true });
    }
    assert.deepEqual(fake?.errors ?? [], [], 'the fake server had no errors of its own');
  });

  test('a Synapse user invites the fake\'s user, who joins through make_join + send_join v2 and speaks', async () => {
    const alice = await syn.registerUser('alice');
    const fakeUser = `@fakeuser:${fake.serverName}`;
    const created = await syn.client(alice, 'POST', '/_matrix/client/v3/createRoom', { preset: 'private_chat', name: 'made by synapse' });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const roomId = created.json.room_id;

    // The invite: Synapse signs a v2 invite, the fake checks Synapse's signature (fetching its
    // key over TLS) and answers it countersigned; Synapse then checks the fake's signature.
    const invited = await syn.client(alice, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { user_id: fakeUser });
    assert.equal(invited.status, 200, JSON.stringify(invited.json));
    const invite = await fake.waitFor(() => fake.invites.find((i) => i.roomId === roomId), { what: 'the invite' });
    assert.equal(invite.origin, syn.serverName);
    assert.equal(invite.roomVersion, '10', 'default_room_version is 10');
    assert.equal(invite.event.sender, alice.userId);
    assert.ok(invite.event.signatures[syn.serverName] && invite.event.signatures[fake.serverName], 'signed by both servers');
    const [inviteCheck] = await fake.verifyEvents('10', [invite.event]);
    assert.deepEqual([inviteCheck.signed, inviteCheck.hashOk, inviteCheck.eventId], [true, true, invite.eventId]);

    // The join: every event of state and auth_chain is checked by joinRoom (signatures, hashes).
    const joined = await fake.joinRoom(syn.serverName, roomId, fakeUser);
    assert.equal(joined.roomVersion, '10');
    assert.equal(joined.verified, joined.state.length + joined.authChain.length);
    const types = joined.state.map((e) => `${e.type}|${e.state_key}`);
    for (const need of ['m.room.create|', 'm.room.power_levels|', 'm.room.join_rules|', `m.room.member|${alice.userId}`,
      `m.room.member|${fakeUser}`, 'm.room.name|']) {
      assert.ok(types.includes(need), `state holds ${need}: ${types.join(', ')}`);
    }
    const members = await eventually(async () => {
      const r = await syn.client(alice, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/joined_members`);
      return r.json?.joined?.[fakeUser] ? r.json.joined : null;
    }, 'Synapse to list the fake user as joined');
    assert.ok(members[alice.userId]);

    // The fake speaks; Synapse accepts the PDU and Alice reads it.
    const said = await fake.sendEvent(roomId, { type: 'm.room.message', sender: fakeUser, content: { msgtype: 'm.text', body: 'hello from the fake server' } });
    assert.equal(said.sent[syn.serverName].status, 200);
    assert.deepEqual(said.sent[syn.serverName].json, { pdus: { [said.event_id]: {} } });
    const seen = await eventually(async () => (await messagesOf(syn, alice, roomId)).find((e) => e.event_id === said.event_id),
      'the fake\'s message in Alice\'s /messages');
    assert.equal(seen.content.body, 'hello from the fake server');
    assert.equal(seen.sender, fakeUser);

    // Alice answers; Synapse sends it to the fake in a transaction, which the fake accepts.
    const answer = await syn.client(alice, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/a1`, { msgtype: 'm.text', body: 'hello fake' });
    assert.equal(answer.status, 200);
    const got = await fake.waitFor(() => fake.pdusReceived.find((p) => p.eventId === answer.json.event_id), { what: 'Alice\'s message', timeoutMs: 30000 });
    assert.equal(got.accepted, true, got.error);
    assert.equal(got.origin, syn.serverName);
    assert.deepEqual(got.pdu.prev_events, [said.event_id], 'Synapse built on the fake\'s event');

    // The read endpoints, the fake calling: every event Synapse serves passes the fake's checks.
    const dest = syn.serverName;
    const one = await fake.getEvent(dest, answer.json.event_id);
    assert.equal(one.status, 200, JSON.stringify(one.json));
    const ids = await fake.stateIds(dest, roomId, answer.json.event_id);
    assert.equal(ids.status, 200, JSON.stringify(ids.json));
    assert.ok(ids.json.pdu_ids.includes(joined.eventId), 'the fake\'s join is in the state before Alice\'s answer');
    const state = await fake.state(dest, roomId, answer.json.event_id);
    assert.equal(state.status, 200);
    const auth = await fake.eventAuth(dest, roomId, answer.json.event_id);
    assert.equal(auth.status, 200);
    const missing = await fake.getMissingEvents(dest, roomId, { earliest_events: [joined.eventId], latest_events: [answer.json.event_id], limit: 10 });
    assert.equal(missing.status, 200);
    assert.deepEqual(missing.json.events.map((e) => e.content?.body), ['hello from the fake server']);
    const back = await fake.backfill(dest, roomId, [answer.json.event_id], 5);
    assert.equal(back.status, 200);
    assert.equal(back.json.pdus.length, 5);
    const all = [...one.json.pdus, ...state.json.pdus, ...state.json.auth_chain, ...auth.json.auth_chain, ...missing.json.events, ...back.json.pdus];
    const checks = await fake.verifyEvents('10', all);
    assert.deepEqual(checks.filter((c) => !c.signed || !c.hashOk), []);
    assert.equal(checks[0].eventId, answer.json.event_id, 'the fake computes the id Synapse gave the event');

    // Leaving through Synapse: make_leave + send_leave v2.
    await fake.leaveRoom(dest, roomId, fakeUser);
    await eventually(async () => {
      const r = await syn.client(alice, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/joined_members`);
      return r.status === 200 && !r.json.joined[fakeUser];
    }, 'Synapse to see the fake user leave');
  });

  test('the fake invites Synapse users: one rejects through make_leave + send_leave, one joins', async () => {
    const admin = `@fakeadmin:${fake.serverName}`;
    const { roomId, room } = fake.createRoom({ roomVersion: '10', creator: admin, joinRule: 'invite' });
    const carol = await syn.registerUser('carol');
    const dave = await syn.registerUser('dave');
    for (const who of [carol, dave]) {
      const r = await fake.inviteUser(roomId, admin, who.userId); // checks Synapse's signature on the answer
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(room.membership(who.userId), 'invite');
    }
    await eventually(async () => {
      const r = await syn.client(carol, 'GET', '/_matrix/client/v3/sync?timeout=0');
      return r.json?.rooms?.invite?.[roomId];
    }, 'the invite in Carol\'s sync');

    const rejected = await syn.client(dave, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/leave`, {});
    assert.equal(rejected.status, 200, JSON.stringify(rejected.json));
    assert.equal(room.membership(dave.userId), 'leave');
    const leaves = fake.requests.filter((r) => (r.route === 'make_leave' || r.route === 'send_leave') && decodeURIComponent(r.path).includes(roomId));
    assert.deepEqual(leaves.map((r) => `${r.route} ${r.status}`), ['make_leave 200', 'send_leave 200']);

    // Carol accepts: Synapse joins through the fake (the join rule is invite, she is invited).
    const joined = await syn.client(carol, 'POST', `/_matrix/client/v3/join/${enc(roomId)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.json));
    assert.equal(room.membership(carol.userId), 'join');
  });

  test('the fake creates a room; a Synapse user joins it by id with server_name; messages flow both ways', async () => {
    const admin = `@fakeadmin:${fake.serverName}`;
    const { roomId, room } = fake.createRoom({ roomVersion: '10', creator: admin, name: 'made by the fake' });
    const bob = await syn.registerUser('bob');

    const joined = await syn.client(bob, 'POST', `/_matrix/client/v3/join/${enc(roomId)}?server_name=${enc(fake.serverName)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.json));
    assert.equal(joined.json.room_id, roomId);
    assert.equal(room.membership(bob.userId), 'join', 'the fake accepted the join into its graph');
    const about = (route) => fake.requests.find((r) => r.route === route && decodeURIComponent(r.path).includes(roomId));
    const makeJoin = about('make_join');
    assert.equal(makeJoin.origin, syn.serverName);
    assert.ok(new URL(makeJoin.path, 'https://x').searchParams.getAll('ver').includes('10'));
    assert.equal(about('send_join')?.status, 200);

    // Synapse took the fake's state as the room's.
    const name = await syn.client(bob, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.name/`);
    assert.deepEqual(name.json, { name: 'made by the fake' });
    const create = await syn.client(bob, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.create/`);
    assert.equal(create.json.creator, admin);

    // Bob speaks; the fake receives and accepts it.
    const sent = await syn.client(bob, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/b1`, { msgtype: 'm.text', body: 'hello from synapse' });
    assert.equal(sent.status, 200);
    const got = await fake.waitFor(() => fake.pdusReceived.find((p) => p.eventId === sent.json.event_id), { what: 'Bob\'s message', timeoutMs: 30000 });
    assert.equal(got.accepted, true, got.error);
    assert.ok(room.has(sent.json.event_id));

    // The fake's admin answers; Bob reads it.
    const said = await fake.sendEvent(roomId, { type: 'm.room.message', sender: admin, content: { msgtype: 'm.text', body: 'welcome, bob' } });
    assert.deepEqual(said.sent[syn.serverName].json, { pdus: { [said.event_id]: {} } });
    const seen = await eventually(async () => (await messagesOf(syn, bob, roomId)).find((e) => e.event_id === said.event_id),
      'the fake\'s message in Bob\'s /messages');
    assert.equal(seen.content.body, 'welcome, bob');
  });

  // Not a check: the record of what Synapse asked of the fake, for the reader of the output.
  test('what Synapse 1.67 called on the fake server', (t) => {
    const calls = new Map();
    for (const r of fake.requests) {
      const k = `${r.method} ${r.route ?? r.path.split('?')[0]} -> ${r.status}`;
      calls.set(k, (calls.get(k) ?? 0) + 1);
    }
    for (const [k, n] of calls) t.diagnostic(`${k} (x${n})`);
    for (const r of fake.requests.filter((x) => ['key', 'make_join', 'query_profile'].includes(x.route))) t.diagnostic(`  ${r.method} ${r.path}`);
    const synapseJoin = fake.requests.find((x) => x.route === 'send_join')?.body;
    if (synapseJoin) t.diagnostic(`a join Synapse built from the fake's template has the fields ${Object.keys(synapseJoin).sort().join(', ')}`);
    const auth = fake.requests.find((x) => x.route === 'send')?.headers.authorization;
    if (auth) t.diagnostic(`Synapse's X-Matrix header: ${auth.replace(/sig="[^"]*"/, 'sig="…"')}`);
    t.diagnostic(`Synapse answered /versions ${syn.startupMs} ms after its start; the file has run ${Date.now() - started} ms`);
    assert.ok(calls.size > 0);
  });
});
