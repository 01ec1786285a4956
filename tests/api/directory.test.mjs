// directory.test.mjs -- room aliases, m.room.canonical_alias checks, room
// visibility in the directory, and /publicRooms.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, assertError, createRoom, getState, join, putState, register, seg, setState } from './lib/matrix.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

const aliasPath = (alias) => `${V3}/directory/room/${seg(alias)}`;
const putAlias = (who, alias, roomId) => srv.fetch(aliasPath(alias), { method: 'PUT', body: { room_id: roomId }, token: who.token });
const deleteAlias = (who, alias) => srv.fetch(aliasPath(alias), { method: 'DELETE', token: who.token });
const visibility = (roomId) => `${V3}/directory/list/room/${seg(roomId)}`;

describe('room aliases', () => {
  test('an alias is created and resolves, without a token', async () => {
    const a = await register(srv, 'al1');
    const room = await createRoom(srv, a);
    assert.equal((await putAlias(a, '#al1:localhost', room)).status, 200);
    const res = await srv.fetch(aliasPath('#al1:localhost'));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { room_id: room, servers: ['localhost'] });
  });

  test('an alias taken is 409', async () => {
    const a = await register(srv, 'al2');
    const room = await createRoom(srv, a);
    await putAlias(a, '#al2:localhost', room);
    assertError(await putAlias(a, '#al2:localhost', room), 409, 'M_UNKNOWN');
  });

  test('bad aliases and rooms are refused', async () => {
    const a = await register(srv, 'al3');
    const room = await createRoom(srv, a);
    assertError(await putAlias(a, 'al3', room), 400, 'M_INVALID_PARAM');
    assertError(await putAlias(a, '#al3:elsewhere.org', room), 400, 'M_INVALID_PARAM');
    assertError(await putAlias(a, '#al3:localhost', '!nosuch:localhost'), 404, 'M_NOT_FOUND');
    assertError(await putAlias(a, '#al3:localhost', 'nope'), 400, 'M_INVALID_PARAM');
    assertError(await srv.fetch(aliasPath('#al3:localhost'), { method: 'PUT', body: {}, token: a.token }), 400, 'M_MISSING_PARAM');
    assertError(await srv.fetch(aliasPath('#al3:localhost')), 404, 'M_NOT_FOUND');
    assertError(await srv.fetch(aliasPath('bad')), 400, 'M_INVALID_PARAM');
  });

  test('only members may give a room an alias', async () => {
    const a = await register(srv, 'al4');
    const outsider = await register(srv, 'al4out');
    const room = await createRoom(srv, a);
    assertError(await putAlias(outsider, '#al4:localhost', room), 403, 'M_FORBIDDEN');
  });

  test('the creator, or a room admin, deletes an alias; others may not', async () => {
    const a = await register(srv, 'al5');
    const b = await register(srv, 'al5b');
    const room = await createRoom(srv, a, { preset: 'public_chat' });
    await join(srv, b, room);
    await putAlias(b, '#al5-by-b:localhost', room);
    await putAlias(a, '#al5-by-a:localhost', room);
    assertError(await deleteAlias(b, '#al5-by-a:localhost'), 403, 'M_FORBIDDEN');
    assert.equal((await deleteAlias(b, '#al5-by-b:localhost')).status, 200);
    await putAlias(b, '#al5-again:localhost', room);
    assert.equal((await deleteAlias(a, '#al5-again:localhost')).status, 200, 'the room admin');
    assertError(await srv.fetch(aliasPath('#al5-again:localhost')), 404, 'M_NOT_FOUND');
    assertError(await deleteAlias(a, '#al5-again:localhost'), 404, 'M_NOT_FOUND');
  });

  test('deleting an alias removes it from the canonical alias event', async () => {
    const a = await register(srv, 'al6');
    const room = await createRoom(srv, a, { room_alias_name: 'al6main' });
    await putAlias(a, '#al6alt:localhost', room);
    await setState(srv, a, room, 'm.room.canonical_alias', '', { alias: '#al6main:localhost', alt_aliases: ['#al6alt:localhost'] });
    assert.equal((await deleteAlias(a, '#al6alt:localhost')).status, 200);
    const ev = (await getState(srv, a, room)).find((e) => e.type === 'm.room.canonical_alias');
    assert.deepEqual(ev.content, { alias: '#al6main:localhost', alt_aliases: [] });
  });

  test('a room\'s local aliases are listed to members only', async () => {
    const a = await register(srv, 'al7');
    const room = await createRoom(srv, a, { room_alias_name: 'al7x' });
    await putAlias(a, '#al7y:localhost', room);
    const res = await srv.fetch(`${V3}/rooms/${seg(room)}/aliases`, { token: a.token });
    assert.deepEqual(res.json, { aliases: ['#al7x:localhost', '#al7y:localhost'] });
    const outsider = await register(srv, 'al7out');
    assertError(await srv.fetch(`${V3}/rooms/${seg(room)}/aliases`, { token: outsider.token }), 403, 'M_FORBIDDEN');
  });
});

describe('canonical alias', () => {
  test('aliases that do not point to the room are refused with M_BAD_ALIAS', async () => {
    const a = await register(srv, 'ca1');
    const room = await createRoom(srv, a);
    const other = await createRoom(srv, a, { room_alias_name: 'ca1other' });
    assert.ok(other);
    assertError(await putState(srv, a, room, 'm.room.canonical_alias', '', { alias: '#ca1none:localhost' }), 400, 'M_BAD_ALIAS');
    assertError(await putState(srv, a, room, 'm.room.canonical_alias', '', { alias: '#ca1other:localhost' }), 400, 'M_BAD_ALIAS');
    assertError(await putState(srv, a, room, 'm.room.canonical_alias', '', { alt_aliases: ['#ca1none:localhost'] }), 400, 'M_BAD_ALIAS');
  });

  test('malformed canonical aliases are refused', async () => {
    const a = await register(srv, 'ca2');
    const room = await createRoom(srv, a);
    assertError(await putState(srv, a, room, 'm.room.canonical_alias', '', { alias: 'nope' }), 400, 'M_INVALID_PARAM');
    assertError(await putState(srv, a, room, 'm.room.canonical_alias', '', { alt_aliases: '#x:localhost' }), 400, 'M_INVALID_PARAM');
  });

  test('an alias of the room is accepted, and an empty content clears it', async () => {
    const a = await register(srv, 'ca3');
    const room = await createRoom(srv, a);
    await putAlias(a, '#ca3:localhost', room);
    assert.equal((await putState(srv, a, room, 'm.room.canonical_alias', '', { alias: '#ca3:localhost' })).status, 200);
    assert.equal((await putState(srv, a, room, 'm.room.canonical_alias', '', {})).status, 200);
  });
});

describe('the published room directory', () => {
  test('a room\'s visibility is read and set by its admins', async () => {
    const a = await register(srv, 'dv1');
    const b = await register(srv, 'dv1b');
    const room = await createRoom(srv, a, { preset: 'public_chat' });
    await join(srv, b, room);
    assert.deepEqual((await srv.fetch(visibility(room))).json, { visibility: 'private' });
    assertError(await srv.fetch(visibility(room), { method: 'PUT', body: { visibility: 'public' }, token: b.token }), 403, 'M_FORBIDDEN');
    assert.equal((await srv.fetch(visibility(room), { method: 'PUT', body: { visibility: 'public' }, token: a.token })).status, 200);
    assert.deepEqual((await srv.fetch(visibility(room))).json, { visibility: 'public' });
    assert.equal((await srv.fetch(visibility(room), { method: 'PUT', body: {}, token: a.token })).status, 200, 'defaults to public');
    await srv.fetch(visibility(room), { method: 'PUT', body: { visibility: 'private' }, token: a.token });
    assert.deepEqual((await srv.fetch(visibility(room))).json, { visibility: 'private' });
  });

  test('bad visibility requests are refused', async () => {
    const a = await register(srv, 'dv2');
    const room = await createRoom(srv, a);
    assertError(await srv.fetch(visibility('!nosuch:localhost')), 404, 'M_NOT_FOUND');
    assertError(await srv.fetch(visibility(room), { method: 'PUT', body: { visibility: 'hidden' }, token: a.token }), 400, 'M_INVALID_PARAM');
    assertError(await srv.fetch(visibility(room), { method: 'PUT', body: { visibility: 3 }, token: a.token }), 400, 'M_BAD_JSON');
  });
});

describe('/publicRooms', () => {
  let rooms;
  let owner;
  before(async () => {
    // A fresh server, so the directory holds exactly these rooms.
    await srv.stop();
    srv = await startServer({ args: ['--no-rate-limit'] });
    owner = await register(srv, 'pub');
    const big = await createRoom(srv, owner, {
      visibility: 'public', preset: 'public_chat', name: 'Big Room', topic: 'Everything', room_alias_name: 'big',
    });
    const small = await createRoom(srv, owner, { visibility: 'public', preset: 'public_chat', name: 'Small talk' });
    const space = await createRoom(srv, owner, {
      visibility: 'public', preset: 'public_chat', name: 'A space', creation_content: { type: 'm.space' },
    });
    await createRoom(srv, owner, { preset: 'public_chat', name: 'Unlisted' });
    for (const n of [1, 2]) await join(srv, await register(srv, `pubjoiner${n}`), big);
    await setState(srv, owner, big, 'm.room.history_visibility', '', { history_visibility: 'world_readable' });
    await setState(srv, owner, big, 'm.room.avatar', '', { url: 'mxc://localhost/avatar' });
    rooms = { big, small, space };
  });

  test('lists published rooms, biggest first, with their details', async () => {
    const res = await srv.fetch(`${V3}/publicRooms`);
    assert.equal(res.status, 200);
    assert.equal(res.json.total_room_count_estimate, 3);
    assert.equal(res.json.chunk.length, 3);
    assert.deepEqual(res.json.chunk[0], {
      room_id: rooms.big, name: 'Big Room', topic: 'Everything', canonical_alias: '#big:localhost',
      num_joined_members: 3, world_readable: true, guest_can_join: false, join_rule: 'public',
      avatar_url: 'mxc://localhost/avatar',
    });
    assert.ok(!res.json.chunk.some((r) => r.name === 'Unlisted'));
    assert.equal(res.json.chunk.find((r) => r.room_id === rooms.space).room_type, 'm.space');
    assert.equal(res.json.next_batch, undefined);
  });

  test('pages forward and back with next_batch and prev_batch', async () => {
    const first = await srv.fetch(`${V3}/publicRooms?limit=2`);
    assert.equal(first.json.chunk.length, 2);
    assert.equal(first.json.prev_batch, undefined);
    const second = await srv.fetch(`${V3}/publicRooms?limit=2&since=${first.json.next_batch}`);
    assert.equal(second.json.chunk.length, 1);
    assert.equal(second.json.next_batch, undefined);
    const back = await srv.fetch(`${V3}/publicRooms?limit=2&since=${second.json.prev_batch}`);
    assert.deepEqual(back.json.chunk, first.json.chunk);
    const seen = [...first.json.chunk, ...second.json.chunk].map((r) => r.room_id).sort();
    assert.deepEqual(seen, Object.values(rooms).sort());
  });

  test('POST filters by search term and room type', async () => {
    const post = (body) => srv.fetch(`${V3}/publicRooms`, { method: 'POST', body, token: owner.token });
    const byName = await post({ filter: { generic_search_term: 'small' } });
    assert.deepEqual(byName.json.chunk.map((r) => r.room_id), [rooms.small]);
    assert.equal(byName.json.total_room_count_estimate, 1);
    const byAlias = await post({ filter: { generic_search_term: '#BIG' } });
    assert.deepEqual(byAlias.json.chunk.map((r) => r.room_id), [rooms.big]);
    const spaces = await post({ filter: { room_types: ['m.space'] } });
    assert.deepEqual(spaces.json.chunk.map((r) => r.room_id), [rooms.space]);
    const plain = await post({ filter: { room_types: [null] }, limit: 1 });
    assert.equal(plain.json.chunk.length, 1);
    assert.equal(plain.json.total_room_count_estimate, 2);
    assert.ok(plain.json.next_batch);
  });

  test('bad /publicRooms requests are refused', async () => {
    assertError(await srv.fetch(`${V3}/publicRooms?since=garbage`), 400, 'M_INVALID_PARAM');
    assertError(await srv.fetch(`${V3}/publicRooms?limit=many`), 400, 'M_INVALID_PARAM');
    assertError(await srv.fetch(`${V3}/publicRooms?server=matrix.org`), 400, 'M_INVALID_PARAM');
    assertError(await srv.fetch(`${V3}/publicRooms`, { method: 'POST', body: {} }), 401, 'M_MISSING_TOKEN');
    assertError(await srv.fetch(`${V3}/publicRooms`, { method: 'POST', body: { limit: 'x' }, token: owner.token }), 400, 'M_BAD_JSON');
    assertError(await srv.fetch(`${V3}/publicRooms`, { method: 'POST', body: { filter: { room_types: [1] } }, token: owner.token }), 400, 'M_BAD_JSON');
    assertError(await srv.fetch(`${V3}/publicRooms`, { method: 'POST', body: { filter: { generic_search_term: 'x'.repeat(257) } }, token: owner.token }), 400, 'M_INVALID_PARAM');
  });
});
