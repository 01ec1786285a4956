// Two real hometab servers federating on loopback: each a process with its
// own database and signing key, talking through the native host's federation
// client (libcurl), as two machines would. Users meet only through the
// client API; everything between the servers is the server-server API.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startFederating } from './lib/hometab.mjs';
import {
  V3, createRoom, invite, register, seg, sendMessage, sqlite, sync,
} from '../api/lib/matrix.mjs';
import { ephemeral, sleep, typing } from '../api/lib/rest.mjs';

let a, b, alice, bob;

before(async () => {
  a = await startFederating();
  b = await startFederating();
  alice = await register(a, 'alice');
  bob = await register(b, 'bob');
});

after(async () => {
  await a?.stop();
  await b?.stop();
});

// Syncs until `found(sync)` gives something, or fails after timeoutMs.
async function syncUntil(srv, who, found, timeoutMs = 20000) {
  let since;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await sync(srv, who, { since, timeout: 1000 });
    const hit = found(res);
    if (hit) return hit;
    since = res.next_batch;
    if (Date.now() > deadline) throw new Error(`${who.user_id} did not see it within ${timeoutMs} ms`);
  }
}

const timelineOf = (res, roomId) => res.rooms?.join?.[roomId]?.timeline?.events ?? [];
const bodyIn = (roomId, body) => (res) => timelineOf(res, roomId).find((e) => e.content?.body === body);

async function remoteJoin(srv, who, roomId, via) {
  const res = await srv.fetch(`${V3}/join/${seg(roomId)}?server_name=${seg(via)}`, {
    method: 'POST', body: {}, token: who.token,
  });
  assert.equal(res.status, 200, `join over federation: ${res.text}`);
  assert.equal(res.json.room_id, roomId);
}

test('a user joins a room on the other server and both sides chat', async () => {
  const roomId = await createRoom(a, alice, { preset: 'public_chat', name: 'Across' });
  await remoteJoin(b, bob, roomId, a.serverName);

  // Bob's server has the room's state: its name and both members.
  const state = await b.fetch(`${V3}/rooms/${seg(roomId)}/state`, { token: bob.token });
  assert.equal(state.status, 200, state.text);
  assert.equal(state.json.find((e) => e.type === 'm.room.name')?.content.name, 'Across');
  const members = state.json.filter((e) => e.type === 'm.room.member' && e.content.membership === 'join');
  assert.deepEqual(members.map((e) => e.state_key).sort(), [alice.user_id, bob.user_id].sort());

  // Alice's server heard of the join.
  await syncUntil(a, alice, (res) => timelineOf(res, roomId).find(
    (e) => e.type === 'm.room.member' && e.state_key === bob.user_id && e.content.membership === 'join'));

  await sendMessage(a, alice, roomId, 'hello from A');
  const seen = await syncUntil(b, bob, bodyIn(roomId, 'hello from A'));
  assert.equal(seen.sender, alice.user_id);

  const reply = await sendMessage(b, bob, roomId, 'hello from B');
  const back = await syncUntil(a, alice, bodyIn(roomId, 'hello from B'));
  assert.equal(back.event_id, reply, 'the same event id on both servers');
  assert.equal(back.sender, bob.user_id);
});

test('an invite crosses to the other server, and the invitee joins through it', async () => {
  const roomId = await createRoom(a, alice, { preset: 'private_chat', name: 'Private' });
  await invite(a, alice, roomId, bob.user_id);
  const invited = await syncUntil(b, bob, (res) => res.rooms?.invite?.[roomId]);
  const events = invited.invite_state.events;
  assert.ok(events.find((e) => e.type === 'm.room.member' && e.state_key === bob.user_id
    && e.content.membership === 'invite' && e.sender === alice.user_id), 'the invite itself');
  assert.equal(events.find((e) => e.type === 'm.room.name')?.content.name, 'Private');

  const res = await b.fetch(`${V3}/rooms/${seg(roomId)}/join`, { method: 'POST', body: {}, token: bob.token });
  assert.equal(res.status, 200, res.text);
  await sendMessage(b, bob, roomId, 'thanks for the invite');
  await syncUntil(a, alice, bodyIn(roomId, 'thanks for the invite'));
});

test('typing and read receipts cross between the servers', async () => {
  const roomId = await createRoom(a, alice, { preset: 'public_chat' });
  await remoteJoin(b, bob, roomId, a.serverName);
  await typing(b, bob, roomId, true, 10000);
  await syncUntil(a, alice, (res) => ephemeral(res.rooms?.join?.[roomId], 'm.typing')
    ?.content.user_ids.includes(bob.user_id));

  const eventId = await sendMessage(a, alice, roomId, 'read me');
  await syncUntil(b, bob, bodyIn(roomId, 'read me'));
  const r = await b.fetch(`${V3}/rooms/${seg(roomId)}/receipt/m.read/${seg(eventId)}`, {
    method: 'POST', body: {}, token: bob.token,
  });
  assert.equal(r.status, 200, r.text);
  await syncUntil(a, alice, (res) => ephemeral(res.rooms?.join?.[roomId], 'm.receipt')
    ?.content[eventId]?.['m.read']?.[bob.user_id]);
});

test('profiles are asked of the user\'s own server', async () => {
  const put = await b.fetch(`${V3}/profile/${seg(bob.user_id)}/displayname`, {
    method: 'PUT', body: { displayname: 'Bob on B' }, token: bob.token,
  });
  assert.equal(put.status, 200, put.text);
  const res = await a.fetch(`${V3}/profile/${seg(bob.user_id)}`, { token: alice.token });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.displayname, 'Bob on B');
  const missing = await a.fetch(`${V3}/profile/${seg(`@nobody:${b.serverName}`)}`, { token: alice.token });
  assert.equal(missing.status, 404, missing.text);
});

test('what a server sends while the other is down arrives once it is back', async () => {
  const roomId = await createRoom(a, alice, { preset: 'public_chat' });
  await remoteJoin(b, bob, roomId, a.serverName);
  await sendMessage(a, alice, roomId, 'before the outage');
  await syncUntil(b, bob, bodyIn(roomId, 'before the outage'));

  // B goes down; what Alice says meanwhile waits in A's outbox (A's tries
  // fail and back off), and reaches B when it is back on the same address.
  await b.stop({ keepFiles: true });
  await sendMessage(a, alice, roomId, 'during the outage 1');
  await sendMessage(a, alice, roomId, 'during the outage 2');
  await sleep(500);
  const queued = await sqlite(a, `SELECT count(*) FROM outbox WHERE destination = '${b.serverName}'`);
  assert.ok(Number(queued[0]) >= 2, `A keeps what B missed (${queued})`);
  const down = b;
  b = await startFederating({ port: down.port, db: down.db });
  bob = { ...bob };
  after(() => rmSync(down.dir, { recursive: true, force: true }));
  const seen = new Set();
  await syncUntil(b, bob, (res) => {
    for (const e of timelineOf(res, roomId)) seen.add(e.content?.body);
    return seen.has('during the outage 1') && seen.has('during the outage 2');
  }, 60000);
});
