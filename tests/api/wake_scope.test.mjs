// wake_scope.test.mjs -- a write wakes only the long-polls it may concern
// (hometab.h: park_keys and wake_keys; the native host's park index): a
// /sync waits on its user and its rooms, and a write names what it touched.
// The native server reports at exit how many calls it made into the core
// besides the requests it answered; a parked /sync recomputed for nothing
// would show there. And every write that does concern a long-poll still
// wakes it: the scoped cases the other suites do not reach.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { SANITIZED, sleep, startServer } from './lib/server.mjs';
import {
  V3, createRoom, join, login, register, seg, sendMessage, sync,
} from './lib/matrix.mjs';

const WAKE_BUDGET_MS = SANITIZED ? 2500 : 1000;
const bodies = (events = []) => events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);

// "stopped after N Matrix requests (M calls into the core)" -> M - N.
function extraCoreCalls(stderr) {
  const m = /stopped after (\d+) Matrix requests \((\d+) calls into the core\)/.exec(stderr);
  assert.ok(m, `no exit report in:\n${stderr}`);
  return Number(m[2]) - Number(m[1]);
}

test('writes that do not concern a parked /sync do not recompute it', async () => {
  const srv = await startServer({ args: ['--no-rate-limit'] });
  // Two registrations: each hands its password hash out and is called again
  // (two calls for one answer).
  const alice = await register(srv, 'alice');
  const bob = await register(srv, 'bob');
  const roomA = await createRoom(srv, alice, { preset: 'public_chat' });
  const roomB = await createRoom(srv, bob, { preset: 'private_chat' });
  const since = (await sync(srv, bob)).next_batch;

  const waiting = sync(srv, bob, { since, timeout: 30000 }); // parks: one more call
  await sleep(300);
  // Twenty messages, a typing notice, a receipt, account data and presence,
  // none of them bob's business: none may call his sync again.
  let last;
  for (let i = 0; i < 20; i++) last = await sendMessage(srv, alice, roomA, `a${i}`);
  const put = (path, body) => srv.fetch(`${V3}${path}`, { method: 'PUT', token: alice.token, body });
  assert.equal((await put(`/rooms/${seg(roomA)}/typing/${seg(alice.user_id)}`, { typing: true, timeout: 30000 })).status, 200);
  assert.equal((await srv.fetch(`${V3}/rooms/${seg(roomA)}/receipt/m.read/${seg(last)}`,
    { method: 'POST', token: alice.token, body: {} })).status, 200);
  assert.equal((await put(`/user/${seg(alice.user_id)}/account_data/org.example.x`, { n: 1 })).status, 200);
  assert.equal((await put(`/presence/${seg(alice.user_id)}/status`, { presence: 'online' })).status, 200);
  await sleep(100);

  // A message in bob's own room wakes him, and only that is news.
  await sendMessage(srv, bob, roomB, 'for bob');
  const res = await waiting;
  assert.deepEqual(Object.keys(res.rooms.join), [roomB]);
  assert.deepEqual(bodies(res.rooms.join[roomB].timeline.events), ['for bob']);

  await srv.stop();
  assert.equal(extraCoreCalls(srv.stderr), 3, 'two registrations handed out as work, and one park');
});

describe('writes that concern a parked /sync still wake it', () => {
  let srv, alice, bob;
  let room;
  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit'] });
    alice = await register(srv, 'alice');
    bob = await register(srv, 'bob');
    room = await createRoom(srv, alice, { preset: 'public_chat' });
    await join(srv, bob, room);
  });
  after(() => srv.stop());

  // Parks who's sync, runs act(), and returns the woken answer.
  async function wokenBy(who, act) {
    const since = (await sync(srv, who)).next_batch;
    const t0 = Date.now();
    const waiting = sync(srv, who, { since, timeout: 20000 });
    await sleep(150);
    await act();
    const res = await waiting;
    const took = Date.now() - t0;
    assert.ok(took < 150 + WAKE_BUDGET_MS, `woken after ${took} ms`);
    return res;
  }

  test('a typing notice in a shared room', async () => {
    const res = await wokenBy(bob, async () => {
      const r = await srv.fetch(`${V3}/rooms/${seg(room)}/typing/${seg(alice.user_id)}`,
        { method: 'PUT', token: alice.token, body: { typing: true, timeout: 10000 } });
      assert.equal(r.status, 200);
    });
    const typing = res.rooms.join[room].ephemeral.events.find((e) => e.type === 'm.typing');
    assert.deepEqual(typing.content.user_ids, [alice.user_id]);
  });

  test('a room-mate logging a device out (device_lists.changed, moved by a database trigger)', async () => {
    const second = await login(srv, 'alice', alice.password, { device_id: 'SECOND' });
    const res = await wokenBy(bob, async () => {
      const r = await srv.fetch(`${V3}/logout`, { method: 'POST', token: second.access_token, body: {} });
      assert.equal(r.status, 200);
    });
    assert.ok(res.device_lists.changed.includes(alice.user_id), JSON.stringify(res.device_lists));
  });

  test('account data written from another device of the same user', async () => {
    const other = await login(srv, 'bob', bob.password, { device_id: 'OTHER' });
    const res = await wokenBy(bob, async () => {
      const r = await srv.fetch(`${V3}/user/${seg(bob.user_id)}/account_data/org.example.note`,
        { method: 'PUT', token: other.access_token, body: { from: 'other' } });
      assert.equal(r.status, 200);
    });
    assert.deepEqual(res.account_data.events.find((e) => e.type === 'org.example.note').content, { from: 'other' });
  });

  test('a room-mate changing their display name (a member event in every room)', async () => {
    const res = await wokenBy(bob, async () => {
      const r = await srv.fetch(`${V3}/profile/${seg(alice.user_id)}/displayname`,
        { method: 'PUT', token: alice.token, body: { displayname: 'Alice A.' } });
      assert.equal(r.status, 200);
    });
    const member = res.rooms.join[room].timeline.events.find((e) => e.type === 'm.room.member');
    assert.equal(member.content.displayname, 'Alice A.');
  });

  // A user in more rooms than a parked request may name waits on every
  // write instead: still woken by news in the last of them.
  test('a user in more rooms than a long-poll can name is woken all the same', async () => {
    const many = await register(srv, 'many');
    let lastRoom;
    for (let i = 0; i < 130; i++) lastRoom = await createRoom(srv, many, { preset: 'private_chat' });
    const res = await wokenBy(many, () => sendMessage(srv, many, lastRoom, 'in the 130th room'));
    assert.deepEqual(bodies(res.rooms.join[lastRoom].timeline.events), ['in the 130th room']);
  });
});
