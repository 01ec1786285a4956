// Two real hometab servers federating on loopback: each a process with its
// own database and signing key, talking through the native host's federation
// client (libcurl), as two machines would. Users meet only through the
// client API; everything between the servers is the server-server API.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startFederating } from './lib/hometab.mjs';
import {
  V3, createRoom, getState, history, invite, register, seg, sendMessage, setState, sqlite, sync, syncRaw,
} from '../api/lib/matrix.mjs';
import { ephemeral, sleep, typing } from '../api/lib/rest.mjs';

let a, b, alice, bob;
const leftDirs = []; // folders of servers restarted on their database elsewhere: removed at the end

before(async () => {
  a = await startFederating();
  b = await startFederating();
  alice = await register(a, 'alice');
  bob = await register(b, 'bob');
});

after(async () => {
  await a?.stop();
  await b?.stop();
  for (const dir of leftDirs) rmSync(dir, { recursive: true, force: true });
});

// Syncs until `found(sync)` gives something, or fails after timeoutMs;
// from `since` when given (what came before it is not looked at).
async function syncUntil(srv, who, found, timeoutMs = 20000, since = undefined) {
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

test('a late joiner pages back through the history from before its join (backfill)', async () => {
  const roomId = await createRoom(a, alice, {
    preset: 'public_chat',
    name: 'History',
    initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'shared' } }],
  });
  const sent = [];
  for (let i = 1; i <= 30; i++) sent.push(await sendMessage(a, alice, roomId, `old ${i}`));
  await remoteJoin(b, bob, roomId, a.serverName);
  const first = await sync(b, bob, { timeout: 0 });
  assert.ok(first.rooms?.join?.[roomId], 'bob is in the room on his server');

  // Pages of 8, so the walk back crosses the join and several /backfill asks.
  const messagesOf = (events) => events.filter((e) => e.type === 'm.room.message');
  const onB = messagesOf(await history(b, bob, roomId, { limit: 8 }));
  assert.deepEqual(onB.map((e) => e.content.body), sent.map((_, i) => `old ${i + 1}`), 'all 30, oldest first');
  assert.deepEqual(onB.map((e) => e.event_id), sent, 'the same event ids as on the server that made them');
  assert.ok(onB.every((e) => e.sender === alice.user_id));
  const onA = messagesOf(await history(a, alice, roomId));
  assert.deepEqual(onA.map((e) => e.event_id), sent);

  // Bob's sync does not give the history as new, and the room's state is
  // the same: two members, joined.
  const later = await sync(b, bob, { since: first.next_batch, timeout: 0 });
  assert.equal(timelineOf(later, roomId).length, 0, 'no history in /sync');
  const members = await b.fetch(`${V3}/rooms/${seg(roomId)}/joined_members`, { token: bob.token });
  assert.deepEqual(Object.keys(members.json.joined).sort(), [alice.user_id, bob.user_id].sort());
});

// History comes newest first, 100 events an ask: a redaction can arrive a
// page before its target, and must wait for it.
test('redactions in a late joiner\'s history are applied, one that came a page before its target too', async () => {
  const roomId = await createRoom(a, alice, {
    preset: 'public_chat',
    initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'shared' } }],
  });
  const redact = async (target) => {
    const res = await a.fetch(`${V3}/rooms/${seg(roomId)}/redact/${seg(target)}/r${target.slice(1, 9)}`, {
      method: 'PUT', body: { reason: 'gone' }, token: alice.token,
    });
    assert.equal(res.status, 200, res.text);
    return res.json.event_id;
  };
  const near = await sendMessage(a, alice, roomId, 'removed at once');
  const nearRedaction = await redact(near);
  const far = await sendMessage(a, alice, roomId, 'removed 120 messages later');
  for (let i = 0; i < 120; i++) await sendMessage(a, alice, roomId, `filler ${i}`);
  const farRedaction = await redact(far);
  const kept = await sendMessage(a, alice, roomId, 'kept');
  await remoteJoin(b, bob, roomId, a.serverName);

  const onB = await history(b, bob, roomId);
  const byId = (id) => onB.find((e) => e.event_id === id);
  for (const [target, redaction] of [[near, nearRedaction], [far, farRedaction]]) {
    assert.ok(byId(target), `${target} was fetched`);
    assert.deepEqual(byId(target).content, {}, 'shown redacted');
    assert.equal(byId(target).unsigned?.redacted_because?.event_id, redaction);
  }
  assert.equal(byId(kept).content.body, 'kept');
  const found = async (term) => {
    const res = await b.fetch(`${V3}/search`, {
      method: 'POST', body: { search_categories: { room_events: { search_term: term } } }, token: bob.token,
    });
    assert.equal(res.status, 200, res.text);
    return res.json.search_categories.room_events.results.map((r) => r.result.event_id);
  };
  assert.deepEqual(await found('kept'), [kept], 'the history is searched');
  assert.deepEqual(await found('removed'), [], 'but not the words of what was redacted');
  assert.deepEqual(await sqlite(b, 'SELECT count(*) FROM redactions_waiting'), ['0'],
    'nothing waits once both targets are here');
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

test('presence crosses to the servers that share a room with the user', async () => {
  const roomId = await createRoom(a, alice, { preset: 'public_chat' });
  await remoteJoin(b, bob, roomId, a.serverName);
  const presenceOf = (res, userId) => res.presence?.events?.find((e) => e.sender === userId)?.content;
  const setPresence = async (srv, who, body) => {
    const r = await srv.fetch(`${V3}/presence/${seg(who.user_id)}/status`, { method: 'PUT', body, token: who.token });
    assert.equal(r.status, 200, r.text);
  };
  await setPresence(a, alice, { presence: 'online', status_msg: 'at my desk' });
  const seen = await syncUntil(b, bob, (res) => presenceOf(res, alice.user_id)?.status_msg === 'at my desk' && presenceOf(res, alice.user_id));
  assert.equal(seen.presence, 'online');
  const asked = await b.fetch(`${V3}/presence/${seg(alice.user_id)}/status`, { token: bob.token });
  assert.equal(asked.status, 200, asked.text);
  assert.equal(asked.json.presence, 'online');
  assert.equal(asked.json.status_msg, 'at my desk');

  await setPresence(b, bob, { presence: 'unavailable' });
  await syncUntil(a, alice, (res) => presenceOf(res, bob.user_id)?.presence === 'unavailable');
  // Someone B shares no room with: A is not told, and B keeps nothing of them.
  const carol = await register(a, 'carol');
  await setPresence(a, carol, { presence: 'online', status_msg: 'alone' });
  await setPresence(a, alice, { presence: 'unavailable' });
  await syncUntil(b, bob, (res) => presenceOf(res, alice.user_id)?.presence === 'unavailable');
  assert.deepEqual(await sqlite(b, `SELECT count(*) FROM presence WHERE user_id = '${carol.user_id}'`), ['0']);
});

test('a client lists the other server\'s room directory through its own server', async () => {
  const roomId = await createRoom(a, alice, { preset: 'public_chat', visibility: 'public', name: 'Listed on A', topic: 'findable' });
  const hidden = await createRoom(a, alice, { preset: 'public_chat', name: 'Not listed' });
  const listing = await b.fetch(`${V3}/publicRooms?server=${seg(a.serverName)}`, { token: bob.token });
  assert.equal(listing.status, 200, listing.text);
  const found = listing.json.chunk.find((r) => r.room_id === roomId);
  assert.equal(found?.name, 'Listed on A');
  assert.equal(found?.num_joined_members, 1);
  assert.ok(!listing.json.chunk.some((r) => r.room_id === hidden), 'an unpublished room is not listed');
  const filtered = await b.fetch(`${V3}/publicRooms?server=${seg(a.serverName)}`, {
    method: 'POST', body: { limit: 5, filter: { generic_search_term: 'findable' } }, token: bob.token,
  });
  assert.equal(filtered.status, 200, filtered.text);
  assert.deepEqual(filtered.json.chunk.map((r) => r.room_id), [roomId]);
  // The directory's room is joined from it.
  await remoteJoin(b, bob, roomId, a.serverName);
  // A server that is not there: a clear error, not a hang.
  const gone = await b.fetch(`${V3}/publicRooms?server=${seg('127.0.0.1:1')}`, { token: bob.token });
  assert.equal(gone.status, 502, gone.text);
  const bad = await b.fetch(`${V3}/publicRooms?server=${seg('not a server/')}`, { token: bob.token });
  assert.equal(bad.status, 400, bad.text);
});

test('a knock crosses to the room\'s server; let in by an invite, the knocker joins', async () => {
  const roomId = await createRoom(a, alice, {
    preset: 'private_chat', name: 'Knock first',
    initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }],
  });
  const knock = await b.fetch(`${V3}/knock/${seg(roomId)}?server_name=${seg(a.serverName)}`, {
    method: 'POST', body: { reason: 'let me in' }, token: bob.token,
  });
  assert.equal(knock.status, 200, knock.text);
  assert.equal(knock.json.room_id, roomId);
  // Bob's server shows the room under knock, with what the room's server told of it.
  const knocked = await syncUntil(b, bob, (res) => res.rooms?.knock?.[roomId]);
  const shown = knocked.knock_state.events;
  assert.equal(shown.find((e) => e.type === 'm.room.name')?.content.name, 'Knock first');
  assert.equal(shown.find((e) => e.type === 'm.room.join_rules')?.content.join_rule, 'knock');
  // Alice's room has the knock, with its reason.
  const member = await a.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.member/${seg(bob.user_id)}`, { token: alice.token });
  assert.equal(member.status, 200, member.text);
  assert.deepEqual([member.json.membership, member.json.reason], ['knock', 'let me in']);
  await invite(a, alice, roomId, bob.user_id);
  await syncUntil(b, bob, (res) => res.rooms?.invite?.[roomId]);
  await remoteJoin(b, bob, roomId, a.serverName);
  const joined = await a.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.member/${seg(bob.user_id)}`, { token: alice.token });
  assert.equal(joined.json?.membership, 'join');
  // A room that takes no knocks: the room's server refuses, and bob's server says so.
  const closed = await createRoom(a, alice, { preset: 'private_chat' });
  const refused = await b.fetch(`${V3}/knock/${seg(closed)}?server_name=${seg(a.serverName)}`, {
    method: 'POST', body: {}, token: bob.token,
  });
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json.errcode, 'M_FORBIDDEN');
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
  leftDirs.push(down.dir);
  const seen = new Set();
  await syncUntil(b, bob, (res) => {
    for (const e of timelineOf(res, roomId)) seen.add(e.content?.body);
    return seen.has('during the outage 1') && seen.has('during the outage 2');
  }, 60000);
});

test('kick and ban cross the servers; a banned user cannot come back', async () => {
  const roomId = await createRoom(a, alice, { preset: 'public_chat' });
  await remoteJoin(b, bob, roomId, a.serverName);
  const before = (await sync(b, bob)).next_batch;
  const kick = await a.fetch(`${V3}/rooms/${seg(roomId)}/kick`, {
    method: 'POST', body: { user_id: bob.user_id, reason: 'out' }, token: alice.token,
  });
  assert.equal(kick.status, 200, kick.text);
  const left = await syncUntil(b, bob, (res) => res.rooms?.leave?.[roomId], 20000, before);
  assert.ok(left.timeline.events.some((e) => e.type === 'm.room.member' && e.state_key === bob.user_id
    && e.content.membership === 'leave' && e.sender === alice.user_id), 'Bob sees his kick');

  await remoteJoin(b, bob, roomId, a.serverName); // a kick is not a ban
  const rejoined = (await sync(b, bob)).next_batch;
  const ban = await a.fetch(`${V3}/rooms/${seg(roomId)}/ban`, {
    method: 'POST', body: { user_id: bob.user_id }, token: alice.token,
  });
  assert.equal(ban.status, 200, ban.text);
  await syncUntil(b, bob, (res) => res.rooms?.leave?.[roomId]?.timeline.events.some(
    (e) => e.state_key === bob.user_id && e.content.membership === 'ban'), 20000, rejoined);
  const again = await b.fetch(`${V3}/join/${seg(roomId)}?server_name=${seg(a.serverName)}`, {
    method: 'POST', body: {}, token: bob.token,
  });
  assert.equal(again.status, 403, again.text);
  assert.equal(again.json.errcode, 'M_FORBIDDEN');
});

test('an alias on one server is resolved by the other, and joined by', async () => {
  const roomId = await createRoom(a, alice, { preset: 'public_chat', room_alias_name: 'meeting' });
  const alias = `#meeting:${a.serverName}`;
  const res = await b.fetch(`${V3}/directory/room/${seg(alias)}`, { token: bob.token });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.room_id, roomId);
  assert.ok(res.json.servers.includes(a.serverName));
  const missing = await b.fetch(`${V3}/directory/room/${seg(`#nothing:${a.serverName}`)}`, { token: bob.token });
  assert.equal(missing.status, 404, missing.text);
  const joined = await b.fetch(`${V3}/join/${seg(alias)}`, { method: 'POST', body: {}, token: bob.token });
  assert.equal(joined.status, 200, joined.text);
  assert.equal(joined.json.room_id, roomId);
});

test('both change the topic while apart, and both settle on one', async () => {
  // Two more servers, each reachable only through a forwarder the test cuts.
  const c = await startFederating({ partitionable: true });
  const d = await startFederating({ partitionable: true });
  try {
    const carol = await register(c, 'carol');
    const dan = await register(d, 'dan');
    const roomId = await createRoom(c, carol, { preset: 'public_chat', name: 'Split' });
    await remoteJoin(d, dan, roomId, c.serverName);
    const levels = await getState(c, carol, roomId);
    const pl = levels.find((e) => e.type === 'm.room.power_levels').content;
    await setState(c, carol, roomId, 'm.room.power_levels', '', { ...pl, users: { ...pl.users, [dan.user_id]: 100 } });
    await syncUntil(d, dan, (res) => timelineOf(res, roomId).find((e) => e.type === 'm.room.power_levels'));

    await c.front.cut();
    await d.front.cut();
    const fromC = await setState(c, carol, roomId, 'm.room.topic', '', { topic: 'chosen on C' });
    const fromD = await setState(d, dan, roomId, 'm.room.topic', '', { topic: 'chosen on D' });
    await sendMessage(c, carol, roomId, 'said on C while apart');
    await sendMessage(d, dan, roomId, 'said on D while apart');
    await c.front.mend();
    await d.front.mend();

    const topicOn = async (srv, who) => (await srv.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.topic`,
      { token: who.token })).json?.topic;
    const deadline = Date.now() + 60000;
    for (;;) {
      const [onC, onD] = [await topicOn(c, carol), await topicOn(d, dan)];
      const cHas = (await history(c, carol, roomId)).map((e) => e.event_id);
      const dHas = (await history(d, dan, roomId)).map((e) => e.event_id);
      const both = [fromC, fromD].every((id) => cHas.includes(id) && dHas.includes(id));
      if (both && onC === onD) {
        assert.ok(['chosen on C', 'chosen on D'].includes(onC));
        assert.ok(cHas.length && dHas.length);
        break;
      }
      assert.ok(Date.now() < deadline, `not settled after 60 s: C says ${onC}, D says ${onD}`);
      await sleep(500);
    }
    // The messages said apart reached the other side too.
    for (const [srv, who, text] of [[c, carol, 'said on D while apart'], [d, dan, 'said on C while apart']]) {
      assert.ok((await history(srv, who, roomId)).some((e) => e.content?.body === text), `${text} arrived`);
    }
  } finally {
    await c.stop();
    await d.stop();
  }
});

// A big room's join is taken in slices, the request parked until now between them
// (federation/join_intake.c): a pause the caps on long-polls must not refuse. B may hold one
// long-poll at once, and holds one while its user joins a room of 300 extra state events on A.
test('a big room is joined while the server holds all the long-polls it may', async () => {
  const c = await startFederating();
  const d = await startFederating({ args: ['--max-parked', '1', '--max-parked-per-ip', '1'] });
  try {
    const carol = await register(c, 'carol');
    const dan = await register(d, 'dan');
    const roomId = await createRoom(c, carol, { preset: 'public_chat', name: 'Big' });
    for (let k = 0; k < 300; k++) await setState(c, carol, roomId, 'org.hometab.test', `key${k}`, { k });
    const first = await sync(d, dan, { timeout: 0 });
    const parked = syncRaw(d, dan, { since: first.next_batch, timeout: 20000 });
    await sleep(300); // parked now: the one long-poll D holds
    const refused = await syncRaw(d, dan, { since: first.next_batch, timeout: 20000 });
    assert.equal(refused.status, 429, 'a second long-poll is refused');
    await remoteJoin(d, dan, roomId, c.serverName);
    const state = await getState(d, dan, roomId);
    assert.equal(state.filter((e) => e.type === 'org.hometab.test').length, 300);
    assert.equal((await parked).status, 200); // woken by the join
  } finally {
    await c.stop();
    await d.stop();
  }
});
