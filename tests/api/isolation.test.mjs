// isolation.test.mjs -- issue 9, authorization: what one user may not learn
// or claim through another door. A canonical alias only through the alias
// check, whichever endpoint sets it; counts and summaries that count only
// what the caller may see; previous state only for who saw it. Each test
// failed on the server before.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import {
  V3, assertError, createRoom, join, leave, register, sendMessage, sendThreadReply, seg, setState, sync,
} from './lib/matrix.mjs';

describe('isolation', () => {
  let srv;
  let alice;
  let bob;
  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit'] });
    alice = await register(srv, 'alice');
    bob = await register(srv, 'bob');
  });
  after(() => srv.stop());

  const joinedOnly = { initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'joined' } }] };

  test('createRoom\'s initial_state may not claim another room\'s alias', async () => {
    await createRoom(srv, alice, { preset: 'public_chat', room_alias_name: 'lobby' });
    const before = (await srv.fetch(`${V3}/joined_rooms`, { token: bob.token })).json.joined_rooms;
    for (const content of [{ alias: '#lobby:localhost' }, { alt_aliases: ['#lobby:localhost'] }]) {
      const res = await srv.fetch(`${V3}/createRoom`, {
        method: 'POST', token: bob.token,
        body: { preset: 'public_chat', initial_state: [{ type: 'm.room.canonical_alias', content }] },
      });
      assertError(res, 400, 'M_BAD_ALIAS');
    }
    const afterwards = (await srv.fetch(`${V3}/joined_rooms`, { token: bob.token })).json.joined_rooms;
    assert.deepEqual(afterwards, before, 'no room was made');
    // Its own new alias it may name.
    const own = await srv.fetch(`${V3}/createRoom`, {
      method: 'POST', token: bob.token,
      body: { room_alias_name: 'bobs', initial_state: [{ type: 'm.room.canonical_alias', content: { alias: '#bobs:localhost' } }] },
    });
    assert.equal(own.status, 200, own.text);
  });

  test('search counts only the hits the caller may see', async () => {
    const roomId = await createRoom(srv, alice, { preset: 'public_chat', ...joinedOnly });
    for (let i = 0; i < 3; i++) await sendMessage(srv, alice, roomId, `the password is swordfish ${i}`);
    await join(srv, bob, roomId);
    await sendMessage(srv, alice, roomId, 'swordfish again, now that bob is here');
    const res = await srv.fetch(`${V3}/search`, {
      method: 'POST', token: bob.token,
      body: { search_categories: { room_events: { search_term: 'swordfish', filter: { rooms: [roomId] } } } },
    });
    assert.equal(res.status, 200, res.text);
    const found = res.json.search_categories.room_events;
    assert.equal(found.results.length, 1);
    assert.equal(found.count, 1, 'words said before bob joined are not counted');
    const mine = await srv.fetch(`${V3}/search`, {
      method: 'POST', token: alice.token,
      body: { search_categories: { room_events: { search_term: 'swordfish', filter: { rooms: [roomId] } } } },
    });
    assert.equal(mine.json.search_categories.room_events.count, 4);
  });

  test('a thread summary counts only the replies the viewer may see', async () => {
    const roomId = await createRoom(srv, alice, { preset: 'public_chat', ...joinedOnly });
    await join(srv, bob, roomId);
    const root = await sendMessage(srv, alice, roomId, 'a thread');
    await leave(srv, bob, roomId);
    for (let i = 0; i < 3; i++) await sendThreadReply(srv, alice, roomId, root, `while bob was away ${i}`);
    await join(srv, bob, roomId);
    await sendThreadReply(srv, alice, roomId, root, 'welcome back');
    const summary = async (who) => {
      const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/event/${seg(root)}`, { token: who.token });
      assert.equal(res.status, 200, res.text);
      return res.json.unsigned['m.relations']['m.thread'];
    };
    assert.equal((await summary(alice)).count, 4);
    const seen = await summary(bob);
    assert.equal(seen.count, 1, 'bob was away for three replies');
    assert.equal(seen.latest_event.content.body, 'welcome back');
  });

  test('prev_content of a state event is shown only to who may see the previous event', async () => {
    const roomId = await createRoom(srv, alice, { preset: 'public_chat', ...joinedOnly });
    await setState(srv, alice, roomId, 'm.room.topic', '', { topic: 'before bob: the launch is on friday' });
    await join(srv, bob, roomId);
    await setState(srv, alice, roomId, 'm.room.topic', '', { topic: 'hello bob' });
    const topicOf = async (who) => {
      const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/state/m.room.topic?format=event`, { token: who.token });
      assert.equal(res.status, 200, res.text);
      return res.json;
    };
    assert.equal((await topicOf(alice)).unsigned.prev_content.topic, 'before bob: the launch is on friday');
    const bobs = await topicOf(bob);
    assert.equal(bobs.content.topic, 'hello bob');
    assert.equal(bobs.unsigned.prev_content, undefined);
    assert.equal(bobs.unsigned.prev_sender, undefined);
    assert.ok(bobs.unsigned.replaces_state, 'replaces_state is given whatever the visibility (spec)');
    const s = await sync(srv, bob);
    const events = [...s.rooms.join[roomId].state.events, ...s.rooms.join[roomId].timeline.events];
    const topic = events.find((e) => e.type === 'm.room.topic' && e.content.topic === 'hello bob');
    assert.ok(topic);
    assert.equal(topic.unsigned.prev_content, undefined);
  });
});
