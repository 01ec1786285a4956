// beyond_chat.test.mjs -- matrix-js-sdk calling what goes past plain chat:
// a space and its hierarchy, a room joined through the space (restricted
// join rule), knocking, the thread list, the event at a time, and account
// deactivation. Each goes through the SDK's own request and response code,
// so a shape the SDK does not accept fails here.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../api/lib/server.mjs';
import { loginAndStart, quiet, registerUser, sdk, waitFor } from './lib/client.mjs';

describe('matrix-js-sdk: spaces, knocking, threads, time, deactivation', () => {
  let srv;
  let alice;
  let bob;
  let spaceId;

  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit'] });
    const aliceId = await registerUser(srv.url, 'alice', 'alice-password');
    const bobId = await registerUser(srv.url, 'bob', 'bob-password');
    alice = await loginAndStart(srv.url, aliceId, 'alice-password');
    bob = await loginAndStart(srv.url, bobId, 'bob-password');
  });

  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    await srv?.stop();
  });

  test('a space lists its child room in the hierarchy the SDK reads', async () => {
    ({ room_id: spaceId } = await alice.createRoom({
      name: 'sdk space', preset: 'public_chat', creation_content: { type: 'm.space' },
    }));
    const { room_id: childId } = await alice.createRoom({ name: 'child room', preset: 'public_chat' });
    await alice.sendStateEvent(spaceId, 'm.space.child', { via: [alice.getDomain()] }, childId);
    const hierarchy = await bob.getRoomHierarchy(spaceId);
    assert.equal(hierarchy.rooms[0].room_id, spaceId);
    assert.equal(hierarchy.rooms[0].room_type, 'm.space');
    assert.deepEqual(hierarchy.rooms[0].children_state.map((e) => e.state_key), [childId]);
    const child = hierarchy.rooms.find((r) => r.room_id === childId);
    assert.equal(child?.name, 'child room');
  });

  test('a members-only room of the space: refused before joining the space, joined after', async () => {
    const { room_id: roomId } = await alice.createRoom({
      name: 'space members only',
      initial_state: [{ type: 'm.room.join_rules', state_key: '',
        content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: spaceId }] } }],
    });
    await assert.rejects(bob.joinRoom(roomId), (e) => e.httpStatus === 403 && e.errcode === 'M_FORBIDDEN');
    await bob.joinRoom(spaceId);
    const joined = waitFor(bob, sdk.RoomEvent.MyMembership,
      (room, membership) => room.roomId === roomId && membership === 'join', 'bob to see his join');
    await bob.joinRoom(roomId);
    await joined;
    const mine = bob.getRoom(roomId).currentState.getStateEvents('m.room.member', bob.getUserId());
    assert.equal(mine.getContent().join_authorised_via_users_server, alice.getUserId());
  });

  test('a knock reaches the room, and an invite answers it', async () => {
    const { room_id: roomId } = await alice.createRoom({
      name: 'knock here',
      initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }],
    });
    const aliceSees = waitFor(alice, sdk.RoomMemberEvent.Membership,
      (ev, member) => member.roomId === roomId && member.userId === bob.getUserId() && member.membership === 'knock',
      'alice to see bob knock');
    const bobKnocked = waitFor(bob, sdk.RoomEvent.MyMembership,
      (room, membership) => room.roomId === roomId && membership === 'knock', 'bob to see his knock');
    const res = await bob.knockRoom(roomId, { reason: 'let me in' });
    assert.equal(res.room_id, roomId);
    await Promise.all([aliceSees, bobKnocked]);
    const invited = waitFor(bob, sdk.RoomEvent.MyMembership,
      (room, membership) => room.roomId === roomId && membership === 'invite', 'bob to see the invite');
    await alice.invite(roomId, bob.getUserId());
    await invited;
  });

  test('the thread list carries the root with its summary, and the event at a time is found', async () => {
    const { room_id: roomId } = await alice.createRoom({ name: 'threads', preset: 'public_chat' });
    await bob.joinRoom(roomId);
    const before = Date.now();
    const { event_id: rootId } = await alice.sendTextMessage(roomId, 'thread root');
    await bob.sendMessage(roomId, rootId, {
      msgtype: 'm.text', body: 'a reply', 'm.relates_to': { rel_type: 'm.thread', event_id: rootId },
    });
    const list = await bob.createThreadListMessagesRequest(roomId, null, 10, sdk.Direction.Backward,
      sdk.ThreadFilterType.All);
    assert.deepEqual(list.chunk.map((e) => e.event_id), [rootId]);
    const summary = list.chunk[0].unsigned['m.relations']['m.thread'];
    assert.equal(summary.count, 1);
    assert.equal(summary.latest_event.content.body, 'a reply');
    assert.equal(summary.current_user_participated, true);

    const found = await alice.timestampToEvent(roomId, before, sdk.Direction.Forward);
    assert.equal(found.event_id, rootId);
    assert.ok(found.origin_server_ts >= before);
  });

  test('an account deactivated through user-interactive auth can no longer log in', async () => {
    const carolId = await registerUser(srv.url, 'carol', 'carol-password');
    const login = await sdk.createClient({ baseUrl: srv.url, logger: quiet }).loginWithPassword(carolId, 'carol-password');
    const carol = sdk.createClient({ baseUrl: srv.url, userId: carolId, accessToken: login.access_token, logger: quiet });
    let session;
    await assert.rejects(carol.deactivateAccount(undefined, true), (e) => {
      session = e.data?.session;
      return e.httpStatus === 401 && e.data.flows.some((f) => f.stages.includes('m.login.password'));
    });
    const res = await carol.deactivateAccount({
      type: 'm.login.password', session, identifier: { type: 'm.id.user', user: carolId }, password: 'carol-password',
    }, true);
    assert.equal(res.id_server_unbind_result, 'success');
    await assert.rejects(sdk.createClient({ baseUrl: srv.url, logger: quiet }).loginWithPassword(carolId, 'carol-password'),
      (e) => e.httpStatus === 403 && e.errcode === 'M_USER_DEACTIVATED');
  });
});
