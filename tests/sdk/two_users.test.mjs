// two_users.test.mjs -- hometab driven by a real client: matrix-js-sdk.
//
// Two users register and log in through the SDK, start its sync loop, and
// meet in a room: invite, join, messages, typing, read receipts, a display
// name, and a file uploaded by one and downloaded by the other through the
// authenticated media API. Everything the other user sees must arrive through
// the SDK's own /sync loop (its events), not through a call the test makes.
//
// The SDK is pinned at 43.x, which declares node >= 22; on node 20 it only
// lacks Promise.withResolvers, so that is polyfilled before the SDK is loaded
// (hence the dynamic import). The server runs with --log-requests, and every
// request it answered with M_UNRECOGNIZED (an endpoint hometab lacks) is
// printed as a diagnostic, so a new SDK's new calls are visible.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { SANITIZED, startServer } from '../api/lib/server.mjs';

if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
// The SDK logs every request at debug level and chats at warn level (default
// push rules it adds, call sessions); keep its errors. Its logger is set up
// before the rest of the SDK loads, so every child logger inherits this.
const { logger: sdkLogger } = await import('matrix-js-sdk/lib/logger.js');
sdkLogger.methodFactory = (method) => (method === 'error' ? (...m) => console.error('[sdk]', ...m) : () => {});
sdkLogger.rebuild();
const quiet = {
  trace() {}, debug() {}, info() {}, warn() {},
  error: (...m) => console.error('[sdk]', ...m),
  getChild() { return quiet; },
};

// The SDK arms a watchdog timer for every request (80-110 s, its AbortSignal
// timeout ponyfill) and a 6-hour capabilities refresh, and never clears them:
// in node they would hold this test file open for two minutes after it ends.
// Timers of a minute or more are unref'd; this file's own waits are shorter.
const setTimeoutRef = globalThis.setTimeout;
globalThis.setTimeout = function setTimeoutUnrefLong(fn, ms, ...args) {
  const timer = setTimeoutRef(fn, ms, ...args);
  if (ms >= 60000) timer.unref();
  return timer;
};

const sdk = await import('matrix-js-sdk');

const SLOW = SANITIZED ? 4 : 1;
const WAIT_MS = 10000 * SLOW;

// Resolves with the first emission of `event` on `emitter` for which
// `check(...args)` is true; rejects after WAIT_MS with `what` in the message.
// `already()` is consulted first, for state the SDK may already hold. A
// `check` that throws rejects with its error.
function waitFor(emitter, event, check, what, already = () => false) {
  return new Promise((resolve, reject) => {
    if (already()) return resolve();
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`));
    }, WAIT_MS);
    function listener(...args) {
      let done;
      try {
        done = check(...args);
      } catch (e) {
        done = e; // a check that throws ends the wait with its error
      }
      if (!done) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      if (done instanceof Error) reject(done);
      else resolve(args);
    }
    emitter.on(event, listener);
  });
}

// Registers through the user-interactive auth flow as a client does: the first
// call returns the flows and a session, the second completes m.login.dummy.
async function registerUser(baseUrl, name, password) {
  const client = sdk.createClient({ baseUrl, logger: quiet });
  let session;
  try {
    await client.registerRequest({ username: name, password });
    assert.fail('register without auth must start user-interactive auth');
  } catch (e) {
    assert.equal(e.httpStatus, 401, `register ${name}: ${e.message}`);
    assert.ok(e.data.flows.some((f) => f.stages.includes('m.login.dummy')), JSON.stringify(e.data));
    session = e.data.session;
    assert.equal(typeof session, 'string');
  }
  const res = await client.registerRequest({
    username: name, password, auth: { type: 'm.login.dummy', session }, initial_device_display_name: 'sdk test',
  });
  assert.match(res.user_id, new RegExp(`^@${name}:`));
  assert.equal(typeof res.access_token, 'string');
  return res.user_id;
}

// Logs in with the SDK (it sends the legacy `user` field too) and starts the
// sync loop; resolves once the client reports PREPARED.
async function loginAndStart(baseUrl, userId, password) {
  const anon = sdk.createClient({ baseUrl, logger: quiet });
  const res = await anon.loginWithPassword(userId, password);
  assert.equal(res.user_id, userId);
  const client = sdk.createClient({
    baseUrl, userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id, logger: quiet,
  });
  const prepared = waitFor(client, sdk.ClientEvent.Sync, (state) => {
    if (state === 'ERROR') throw new Error(`${userId}: sync loop entered ERROR`);
    return state === 'PREPARED';
  }, `${userId} to reach PREPARED`);
  await client.startClient({ initialSyncLimit: 10 });
  await prepared;
  return client;
}

describe('matrix-js-sdk: two users', () => {
  let srv;
  let alice;
  let bob;
  let roomId;

  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit', '--log-requests'] });
  });

  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    if (!srv) return;
    // Endpoints the SDK called that hometab does not know (404/405 M_UNRECOGNIZED).
    const unknown = srv.stderr.split('\n').filter((l) => / -> 40[45]$/.test(l));
    const calls = [...new Set(unknown.map((l) => l.replace(/^\S+ /, '').replace(/\?.*? HTTP/, ' HTTP')))];
    for (const c of calls) console.log(`hometab answered 404/405: ${c}`);
    // SDK_SERVER_LOG=<file> keeps the server's request log, for debugging.
    if (process.env.SDK_SERVER_LOG) writeFileSync(process.env.SDK_SERVER_LOG, srv.stderr);
    await srv.stop();
  });

  test('both users register through user-interactive auth and reach PREPARED', async () => {
    const aliceId = await registerUser(srv.url, 'alice', 'alice-password');
    const bobId = await registerUser(srv.url, 'bob', 'bob-password');
    alice = await loginAndStart(srv.url, aliceId, 'alice-password');
    bob = await loginAndStart(srv.url, bobId, 'bob-password');
    // After PREPARED the loop moves on to SYNCING; both are healthy.
    assert.ok(['PREPARED', 'SYNCING'].includes(alice.getSyncState()), alice.getSyncState());
    assert.ok(['PREPARED', 'SYNCING'].includes(bob.getSyncState()), bob.getSyncState());
  });

  test('an invite reaches the invitee and joining makes both members', async () => {
    const invited = waitFor(bob, sdk.RoomEvent.MyMembership, (room, membership) => membership === 'invite',
      'bob to see his invite');
    ({ room_id: roomId } = await alice.createRoom({ name: 'sdk room', preset: 'private_chat' }));
    await alice.invite(roomId, bob.getUserId());
    const [room] = await invited;
    assert.equal(room.roomId, roomId);
    assert.equal(room.getMyMembership(), 'invite');
    assert.equal(room.getMember(bob.getUserId()).events.member.getSender(), alice.getUserId());

    const aliceSeesJoin = waitFor(alice, sdk.RoomMemberEvent.Membership,
      (ev, member) => member.roomId === roomId && member.userId === bob.getUserId() && member.membership === 'join',
      'alice to see bob join');
    // joinRoom answers when the server has the join; bob's own room state
    // changes when his sync brings it, maybe a moment later.
    const bobSeesJoin = waitFor(bob, sdk.RoomEvent.MyMembership,
      (room, membership) => room.roomId === roomId && membership === 'join', 'bob to see his own join');
    await bob.joinRoom(roomId);
    await Promise.all([aliceSeesJoin, bobSeesJoin]);
    assert.deepEqual(alice.getRoom(roomId).getJoinedMembers().map((m) => m.userId).sort(),
      [alice.getUserId(), bob.getUserId()].sort());
    assert.equal(bob.getRoom(roomId).getMyMembership(), 'join');
    assert.equal(bob.getRoom(roomId).name, 'sdk room');
  });

  test('messages sent by each user arrive in the other timeline in order', async () => {
    const texts = (client) => client.getRoom(roomId).getLiveTimeline().getEvents()
      .filter((e) => e.getType() === 'm.room.message').map((e) => e.getContent().body);
    const bobGot = waitFor(bob, sdk.RoomEvent.Timeline,
      (ev) => ev.getRoomId() === roomId && ev.getContent().body === 'hello 2', 'bob to receive hello 2',
      () => texts(bob).includes('hello 2'));
    await alice.sendTextMessage(roomId, 'hello 1');
    await alice.sendTextMessage(roomId, 'hello 2');
    await bobGot;
    assert.deepEqual(texts(bob), ['hello 1', 'hello 2']);

    const aliceGot = waitFor(alice, sdk.RoomEvent.Timeline,
      (ev) => ev.getRoomId() === roomId && ev.getSender() === bob.getUserId() && ev.getContent().body === 'hi alice',
      'alice to receive hi alice');
    const { event_id: eventId } = await bob.sendTextMessage(roomId, 'hi alice');
    const [ev] = await aliceGot;
    assert.equal(ev.getId(), eventId);
    assert.deepEqual(texts(alice), ['hello 1', 'hello 2', 'hi alice']);
  });

  test('typing starts and stops for the other user through sync', async () => {
    const started = waitFor(bob, sdk.RoomMemberEvent.Typing,
      (ev, member) => member.roomId === roomId && member.userId === alice.getUserId() && member.typing,
      'bob to see alice typing');
    await alice.sendTyping(roomId, true, 30000);
    await started;
    assert.equal(bob.getRoom(roomId).getMember(alice.getUserId()).typing, true);

    const stopped = waitFor(bob, sdk.RoomMemberEvent.Typing,
      (ev, member) => member.roomId === roomId && member.userId === alice.getUserId() && !member.typing,
      'bob to see alice stop typing');
    await alice.sendTyping(roomId, false, 0);
    await stopped;
    assert.equal(bob.getRoom(roomId).getMember(alice.getUserId()).typing, false);
  });

  test('a read receipt reaches the sender through sync', async () => {
    // A receipt on alice's newest message, so it is also where bob has read up to.
    const bobGot = waitFor(bob, sdk.RoomEvent.Timeline,
      (ev) => ev.getRoomId() === roomId && ev.getContent().body === 'did you read this?', 'bob to receive the question');
    const { event_id: eventId } = await alice.sendTextMessage(roomId, 'did you read this?');
    const [event] = await bobGot;
    assert.equal(event.getId(), eventId);

    const seen = waitFor(alice, sdk.RoomEvent.Receipt,
      (ev, room) => room.roomId === roomId
        && ev.getContent()[eventId]?.['m.read']?.[bob.getUserId()] !== undefined,
      'alice to see bob\'s read receipt');
    await bob.sendReadReceipt(event);
    await seen;
    const room = alice.getRoom(roomId);
    assert.equal(room.getEventReadUpTo(bob.getUserId()), eventId);
    assert.ok(room.getUsersReadUpTo(room.findEventById(eventId)).includes(bob.getUserId()));
  });

  test('a display name set by one user is seen by the other', async () => {
    const renamed = waitFor(bob, sdk.RoomMemberEvent.Name,
      (ev, member) => member.roomId === roomId && member.userId === alice.getUserId() && member.name === 'Alice A.',
      'bob to see alice\'s new display name');
    await alice.setDisplayName('Alice A.');
    await renamed;
    assert.equal(bob.getRoom(roomId).getMember(alice.getUserId()).rawDisplayName, 'Alice A.');
    const profile = await bob.getProfileInfo(alice.getUserId());
    assert.equal(profile.displayname, 'Alice A.');
  });

  test('a file uploaded by one user downloads byte-identical for the other', async () => {
    // Every byte value, in an order that is not trivially sequential.
    const bytes = new Uint8Array(70000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 151 + (i >> 8)) & 0xff;
    const { content_uri: mxc } = await alice.uploadContent(new Blob([bytes], { type: 'application/octet-stream' }), {
      name: 'data.bin', type: 'application/octet-stream',
    });
    assert.match(mxc, /^mxc:\/\/[^/]+\/[A-Za-z0-9_-]+$/);

    const bobGot = waitFor(bob, sdk.RoomEvent.Timeline,
      (ev) => ev.getRoomId() === roomId && ev.getContent().msgtype === 'm.file', 'bob to receive the file event');
    await alice.sendMessage(roomId, { msgtype: 'm.file', body: 'data.bin', url: mxc, info: { size: bytes.length } });
    const [ev] = await bobGot;
    const url = bob.mxcUrlToHttp(ev.getContent().url, undefined, undefined, undefined, false, true, true);
    assert.match(url, /\/_matrix\/client\/v1\/media\/download\//);

    const res = await fetch(url, { headers: { authorization: `Bearer ${bob.getAccessToken()}` } });
    assert.equal(res.status, 200);
    const got = new Uint8Array(await res.arrayBuffer());
    assert.equal(got.length, bytes.length);
    assert.ok(Buffer.from(got).equals(Buffer.from(bytes)), 'downloaded bytes differ from the upload');

    const anonymous = await fetch(url);
    assert.equal(anonymous.status, 401, 'authenticated media must refuse a request without a token');
    await anonymous.arrayBuffer();
  });

  test('both clients stop cleanly', async () => {
    alice.stopClient();
    bob.stopClient();
    assert.equal(alice.clientRunning, false);
    assert.equal(bob.clientRunning, false);
  });
});
