// two_users.test.mjs -- hometab driven by a real client: matrix-js-sdk.
//
// Two users register and log in through the SDK, start its sync loop, and
// meet in a room: invite, join, messages, typing, read receipts, a display
// name, and a file uploaded by one and downloaded by the other through the
// authenticated media API. Everything the other user sees must arrive through
// the SDK's own /sync loop (its events), not through a call the test makes.
//
// The server runs with --log-requests, and every request it answered with
// M_UNRECOGNIZED (an endpoint hometab lacks) is printed as a diagnostic, so a
// new SDK's new calls are visible.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../api/lib/server.mjs';
import { loginAndStart, registerUser, sdk, waitFor } from './lib/client.mjs';

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
    // A log line: time, level, client address, request line, status.
    const calls = [...new Set(unknown.map((l) => l.replace(/^\S+ +\S+ +\S+ /, '').replace(/\?.*? HTTP/, ' HTTP')))];
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
    // The server lists v1.11, so the SDK takes the authenticated media path
    // by itself, as clients gating on the spec version do.
    const authenticated = await bob.isVersionSupported('v1.11');
    assert.equal(authenticated, true, '/versions lists v1.11');
    const url = bob.mxcUrlToHttp(ev.getContent().url, undefined, undefined, undefined, false, true, authenticated);
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
