// contains_url.test.mjs -- a RoomEventFilter's contains_url (spec
// "Filtering"): true keeps only events whose content has a url (files,
// images), false only those without. Every place a filter applies honours
// it: /messages, /context, /sync's timeline and state, /search (issue 9:
// it was ignored everywhere).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, createRoom, messages, register, send, sendMessage, seg, setState, sync } from './lib/matrix.mjs';

describe('contains_url', () => {
  let srv;
  let alice;
  let roomId;
  let file;
  let text;
  const bodies = (events) => events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit'] });
    alice = await register(srv, 'alice');
    roomId = await createRoom(srv, alice, { preset: 'public_chat' });
    await setState(srv, alice, roomId, 'm.room.avatar', '', { url: 'mxc://localhost/avatar' });
    text = await sendMessage(srv, alice, roomId, 'plain words');
    const res = await send(srv, alice, roomId, 'm.room.message',
      { msgtype: 'm.file', body: 'report words.pdf', url: 'mxc://localhost/report' });
    assert.equal(res.status, 200, res.text);
    file = res.json.event_id;
    await sendMessage(srv, alice, roomId, 'more words');
  });
  after(() => srv.stop());

  test('/messages', async () => {
    const withUrl = await messages(srv, alice, roomId, { dir: 'b', filter: { contains_url: true } });
    assert.deepEqual(withUrl.json.chunk.map((e) => e.type).sort(), ['m.room.avatar', 'm.room.message']);
    assert.deepEqual(bodies(withUrl.json.chunk), ['report words.pdf']);
    const without = await messages(srv, alice, roomId, { dir: 'b', filter: { contains_url: false } });
    assert.deepEqual(bodies(without.json.chunk), ['more words', 'plain words']);
    assert.ok(!without.json.chunk.some((e) => e.content.url));
    const any = await messages(srv, alice, roomId, { dir: 'b', filter: { types: ['m.room.message'] } });
    assert.equal(bodies(any.json.chunk).length, 3);
  });

  test('/context', async () => {
    const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/context/${seg(text)}?limit=10&filter=${
      encodeURIComponent(JSON.stringify({ contains_url: true }))}`, { token: alice.token });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.events_after.map((e) => e.event_id), [file]);
    assert.ok(res.json.events_before.every((e) => e.content.url));
  });

  test('/sync timeline and state', async () => {
    const s = await sync(srv, alice, { filter: { room: { timeline: { contains_url: false }, state: { contains_url: true } } } });
    const room = s.rooms.join[roomId];
    assert.ok(room.timeline.events.length > 0);
    assert.ok(room.timeline.events.every((e) => !e.content.url));
    assert.ok(room.state.events.every((e) => e.content.url), JSON.stringify(room.state.events.map((e) => e.type)));
  });

  test('/search', async () => {
    const search = async (filter) => {
      const res = await srv.fetch(`${V3}/search`, {
        method: 'POST', token: alice.token,
        body: { search_categories: { room_events: { search_term: 'words', filter } } },
      });
      assert.equal(res.status, 200, res.text);
      return res.json.search_categories.room_events;
    };
    const files = await search({ contains_url: true });
    assert.deepEqual(files.results.map((r) => r.result.event_id), [file]);
    assert.equal(files.count, 1);
    const texts = await search({ contains_url: false });
    assert.equal(texts.count, 2);
    assert.ok(texts.results.every((r) => !r.result.content.url));
  });
});
