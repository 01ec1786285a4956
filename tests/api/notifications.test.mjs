// notifications.test.mjs -- GET /_matrix/client/v3/notifications: the
// events of others in the caller's joined rooms that the caller's push
// rules say notify, newest first, with their actions and read flag.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertError, createRoom, join, register, send, sendMessage, seg, V3 } from './lib/matrix.mjs';
import { receipt } from './lib/rest.mjs';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
});
after(() => srv.stop());

let userCounter = 0;
const fresh = (name) => register(srv, `${name}${++userCounter}`);

function notificationsRaw(who, params = {}) {
  const q = new URLSearchParams(params);
  return srv.fetch(`${V3}/notifications?${q}`, { token: who.token });
}

async function notifications(who, params) {
  const res = await notificationsRaw(who, params);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

const eventIds = (res) => res.notifications.map((n) => n.event.event_id);
const highlights = (actions) => actions.some((a) => a.set_tweak === 'highlight' && a.value !== false);

// Two people in a room of their own: the one-to-one rule applies.
async function dm() {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, room);
  return { alice, bob, room };
}

// Three people: only the general message rule applies to plain messages.
async function group() {
  const { alice, bob, room } = await dm();
  const carol = await fresh('carol');
  await join(srv, carol, room);
  return { alice, bob, carol, room };
}

function putRule(who, kind, ruleId, body) {
  return srv.fetch(`${V3}/pushrules/global/${kind}/${seg(ruleId)}`, { method: 'PUT', body, token: who.token });
}

test('a message mentioning the user highlights', async () => {
  const { alice, bob, room } = await group();
  const res = await send(srv, bob, room, 'm.room.message', {
    msgtype: 'm.text', body: 'look here', 'm.mentions': { user_ids: [alice.user_id] },
  });
  assert.equal(res.status, 200, res.text);

  const [n] = (await notifications(alice)).notifications;
  assert.equal(n.event.event_id, res.json.event_id);
  assert.ok(highlights(n.actions), JSON.stringify(n.actions));
  assert.ok(n.actions.includes('notify'));
  assert.equal(n.room_id, room);
  assert.equal(n.event.room_id, room);
  assert.equal(n.ts, n.event.origin_server_ts);
  assert.equal(n.read, false);
});

test('a plain message in a one-to-one room notifies with a sound and no highlight', async () => {
  const { alice, bob, room } = await dm();
  const ev = await sendMessage(srv, bob, room, 'hello there');
  const res = await notifications(alice);
  assert.deepEqual(eventIds(res), [ev]);
  assert.deepEqual(res.notifications[0].actions, ['notify', { set_tweak: 'sound', value: 'default' }]);
  assert.equal(res.next_token, undefined);
});

test('the caller\'s own messages are not notifications', async () => {
  const { alice, bob, room } = await dm();
  const theirs = await sendMessage(srv, bob, room, 'from bob');
  await sendMessage(srv, alice, room, `hello ${alice.user_id}, this is me`);
  assert.deepEqual(eventIds(await notifications(alice)), [theirs]);
});

test('a room muted with a room rule (dont_notify) gives no notifications', async () => {
  const { alice, bob, room } = await dm();
  const other = await createRoom(srv, bob, { preset: 'public_chat' });
  await join(srv, alice, other);
  const muteRes = await putRule(alice, 'room', room, { actions: ['dont_notify'] });
  assert.equal(muteRes.status, 200, muteRes.text);
  await sendMessage(srv, bob, room, 'muted');
  const heard = await sendMessage(srv, bob, other, 'not muted');
  assert.deepEqual(eventIds(await notifications(alice)), [heard]);
});

test('a room muted with an override rule gives no notifications', async () => {
  const { alice, bob, room } = await dm();
  const muteRes = await putRule(alice, 'override', 'mute-room', {
    conditions: [{ kind: 'event_match', key: 'room_id', pattern: room }], actions: [],
  });
  assert.equal(muteRes.status, 200, muteRes.text);
  await sendMessage(srv, bob, room, 'muted');
  assert.deepEqual(eventIds(await notifications(alice)), []);
});

test('read turns true once a read receipt covers the event', async () => {
  const { alice, bob, room } = await dm();
  const first = await sendMessage(srv, bob, room, 'one');
  const second = await sendMessage(srv, bob, room, 'two');
  const readOf = async () =>
    Object.fromEntries((await notifications(alice)).notifications.map((n) => [n.event.event_id, n.read]));

  assert.deepEqual(await readOf(), { [first]: false, [second]: false });
  await receipt(srv, alice, room, first);
  assert.deepEqual(await readOf(), { [first]: true, [second]: false });
  await receipt(srv, alice, room, second, 'm.read.private');
  assert.deepEqual(await readOf(), { [first]: true, [second]: true });
});

test('only=highlight keeps the highlighted notifications', async () => {
  const { alice, bob, room } = await group();
  await sendMessage(srv, bob, room, 'plain');
  const mention = await send(srv, bob, room, 'm.room.message', {
    msgtype: 'm.text', body: 'you!', 'm.mentions': { user_ids: [alice.user_id] },
  });
  await sendMessage(srv, bob, room, 'plain again');
  assert.equal((await notifications(alice)).notifications.length, 3);
  const res = await notifications(alice, { only: 'highlight' });
  assert.deepEqual(eventIds(res), [mention.json.event_id]);
});

test('pages follow next_token through every notification once, newest first', async () => {
  const { alice, bob, room } = await dm();
  const sent = [];
  for (let i = 0; i < 7; i++) sent.push(await sendMessage(srv, bob, room, `message ${i}`));

  const seen = [];
  const sizes = [];
  let from;
  for (let page = 0; page < 10; page++) {
    const res = await notifications(alice, { limit: 3, ...(from ? { from } : {}) });
    seen.push(...eventIds(res));
    sizes.push(res.notifications.length);
    if (!res.next_token) break;
    assert.equal(typeof res.next_token, 'string');
    from = res.next_token;
  }
  assert.deepEqual(sizes, [3, 3, 1]);
  assert.deepEqual(seen, [...sent].reverse());
});

test('events from before the caller joined are not notifications', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, bob, { preset: 'public_chat' });
  await sendMessage(srv, bob, room, 'before alice came');
  await join(srv, alice, room);
  const after = await sendMessage(srv, bob, room, 'after alice came');
  assert.deepEqual(eventIds(await notifications(alice)), [after]);
});

test('an only other than highlight is 400 M_INVALID_PARAM', async () => {
  const alice = await fresh('alice');
  assertError(await notificationsRaw(alice, { only: 'everything' }), 400, 'M_INVALID_PARAM');
});

test('a from that is no token of ours is 400 M_INVALID_PARAM', async () => {
  const alice = await fresh('alice');
  assertError(await notificationsRaw(alice, { from: 'yesterday' }), 400, 'M_INVALID_PARAM');
});

test('a request looks at a bounded number of events and gives next_token to go on', async () => {
  const { alice, bob, room } = await dm();
  const old = await sendMessage(srv, bob, room, 'under a pile of notices');
  // 1000 events (the bound per request) that notify nobody: notices.
  for (let i = 0; i < 1000; i++) {
    const res = await send(srv, bob, room, 'm.room.message', { msgtype: 'm.notice', body: `notice ${i}` });
    assert.equal(res.status, 200, res.text);
  }
  const first = await notifications(alice);
  assert.deepEqual(first.notifications, []);
  assert.equal(typeof first.next_token, 'string', 'older events remain to be looked at');
  const second = await notifications(alice, { from: first.next_token });
  assert.deepEqual(eventIds(second), [old]);
  assert.equal(second.next_token, undefined);
});
