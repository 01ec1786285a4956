// profile.test.mjs -- GET/PUT/DELETE /profile and POST /user_directory/search.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, assertError, createRoom, getState, join, leave, register, seg, sync } from './lib/matrix.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

const profile = (userId, key = '') => `${V3}/profile/${seg(userId)}${key ? `/${key}` : ''}`;
const putProfile = (who, key, body, userId = who.user_id) =>
  srv.fetch(profile(userId, key), { method: 'PUT', body, token: who.token });

describe('profiles', () => {
  test('a new account is shown by its localpart', async () => {
    const u = await register(srv, 'newcomer');
    const res = await srv.fetch(profile(u.user_id));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { displayname: 'newcomer' });
  });

  test('a display name set is read back, alone and in the whole profile', async () => {
    const u = await register(srv, 'setter');
    assert.equal((await putProfile(u, 'displayname', { displayname: 'Sétter Ω' })).status, 200);
    assert.equal((await putProfile(u, 'avatar_url', { avatar_url: 'mxc://localhost/abc' })).status, 200);
    const one = await srv.fetch(profile(u.user_id, 'displayname'));
    assert.deepEqual(one.json, { displayname: 'Sétter Ω' });
    const avatar = await srv.fetch(profile(u.user_id, 'avatar_url'));
    assert.deepEqual(avatar.json, { avatar_url: 'mxc://localhost/abc' });
    const all = await srv.fetch(profile(u.user_id));
    assert.deepEqual(all.json, { displayname: 'Sétter Ω', avatar_url: 'mxc://localhost/abc' });
  });

  test('an unknown user has no profile (404)', async () => {
    assertError(await srv.fetch(profile('@nobody:localhost')), 404, 'M_NOT_FOUND');
    assertError(await srv.fetch(profile('@nobody:localhost', 'displayname')), 404, 'M_NOT_FOUND');
  });

  test('a malformed user id is refused', async () => {
    assertError(await srv.fetch(profile('nobody')), 400, 'M_INVALID_PARAM');
  });

  test('an unset field is 404', async () => {
    const u = await register(srv, 'noavatar');
    assertError(await srv.fetch(profile(u.user_id, 'avatar_url')), 404, 'M_NOT_FOUND');
  });

  test('nobody may change another user\'s profile', async () => {
    const a = await register(srv, 'owner1');
    const b = await register(srv, 'intruder1');
    assertError(await putProfile(b, 'displayname', { displayname: 'x' }, a.user_id), 403, 'M_FORBIDDEN');
    assertError(await srv.fetch(profile(a.user_id, 'displayname'), { method: 'DELETE', token: b.token }),
      403, 'M_FORBIDDEN');
    assert.deepEqual((await srv.fetch(profile(a.user_id))).json, { displayname: 'owner1' });
  });

  test('changing a profile needs a token', async () => {
    const a = await register(srv, 'tokenless');
    const res = await srv.fetch(profile(a.user_id, 'displayname'), { method: 'PUT', body: { displayname: 'x' } });
    assertError(res, 401, 'M_MISSING_TOKEN');
  });

  test('bad profile values are refused and change nothing', async () => {
    const u = await register(srv, 'badvalues');
    assertError(await putProfile(u, 'displayname', {}), 400, 'M_MISSING_PARAM');
    assertError(await putProfile(u, 'displayname', { displayname: 42 }), 400, 'M_BAD_JSON');
    assertError(await putProfile(u, 'displayname', { displayname: 'x'.repeat(257) }), 400, 'M_INVALID_PARAM');
    assertError(await putProfile(u, 'avatar_url', { avatar_url: 'https://example.org/a.png' }), 400, 'M_INVALID_PARAM');
    assertError(await putProfile(u, 'm.tz', { 'm.tz': 'Europe/Paris' }), 400, 'M_INVALID_PARAM');
    assertError(await putProfile(u, 'displayname', '{not json'), 400, 'M_NOT_JSON');
    assert.deepEqual((await srv.fetch(profile(u.user_id))).json, { displayname: 'badvalues' });
  });

  test('a new display name is announced in every joined room, not in rooms left', async () => {
    const u = await register(srv, 'announcer');
    const kept = await createRoom(srv, u, { preset: 'public_chat' });
    const left = await createRoom(srv, u, { preset: 'public_chat' });
    await leave(srv, u, left);
    assert.equal((await putProfile(u, 'displayname', { displayname: 'Announced' })).status, 200);
    const member = (await getState(srv, u, kept)).find((e) => e.type === 'm.room.member' && e.state_key === u.user_id);
    assert.equal(member.content.displayname, 'Announced');
    assert.equal(member.content.membership, 'join');
    assert.equal(member.unsigned.prev_content.displayname, 'announcer');
    const other = await register(srv, 'watcher');
    await join(srv, other, left);
    const inLeft = (await getState(srv, other, left)).find((e) => e.type === 'm.room.member' && e.state_key === u.user_id);
    assert.equal(inLeft.content.membership, 'leave');
    assert.equal(inLeft.content.displayname, undefined);
  });

  test('a profile change reaches other members through sync', async () => {
    const a = await register(srv, 'syncname');
    const b = await register(srv, 'syncwatch');
    const room = await createRoom(srv, a, { preset: 'public_chat' });
    await join(srv, b, room);
    const first = await sync(srv, b);
    await putProfile(a, 'avatar_url', { avatar_url: 'mxc://localhost/new' });
    const next = await sync(srv, b, { since: first.next_batch, timeout: 5000 });
    const events = next.rooms.join[room].timeline.events;
    const ev = events.find((e) => e.type === 'm.room.member' && e.state_key === a.user_id);
    assert.ok(ev, 'member event in the timeline');
    assert.equal(ev.content.avatar_url, 'mxc://localhost/new');
    assert.equal(ev.content.displayname, 'syncname');
  });

  test('deleting the display name removes it from the profile and the rooms', async () => {
    const u = await register(srv, 'deleter');
    const room = await createRoom(srv, u);
    const res = await srv.fetch(profile(u.user_id, 'displayname'), { method: 'DELETE', token: u.token });
    assert.equal(res.status, 200);
    assertError(await srv.fetch(profile(u.user_id, 'displayname')), 404, 'M_NOT_FOUND');
    const member = (await getState(srv, u, room)).find((e) => e.type === 'm.room.member' && e.state_key === u.user_id);
    assert.equal(member.content.displayname, undefined);
  });

  test('setting the same name again sends no new member event', async () => {
    const u = await register(srv, 'sameagain');
    const room = await createRoom(srv, u);
    const before = (await getState(srv, u, room)).find((e) => e.type === 'm.room.member');
    assert.equal((await putProfile(u, 'displayname', { displayname: 'sameagain' })).status, 200);
    const after = (await getState(srv, u, room)).find((e) => e.type === 'm.room.member');
    assert.equal(after.event_id, before.event_id);
  });
});

describe('user directory', () => {
  const search = (who, body) => srv.fetch(`${V3}/user_directory/search`, { method: 'POST', body, token: who.token });

  test('finds people sharing a room by display name, case-insensitively', async () => {
    const a = await register(srv, 'dirseeker');
    const b = await register(srv, 'dirfriend');
    await putProfile(b, 'displayname', { displayname: 'Zebulon Friend' });
    const room = await createRoom(srv, a);
    await srv.fetch(`${V3}/rooms/${seg(room)}/invite`, { method: 'POST', body: { user_id: b.user_id }, token: a.token });
    await join(srv, b, room);
    const res = await search(a, { search_term: 'zebulon' });
    assert.equal(res.status, 200);
    assert.equal(res.json.limited, false);
    assert.deepEqual(res.json.results, [{ user_id: b.user_id, display_name: 'Zebulon Friend' }]);
  });

  test('does not find strangers, but finds members of public rooms', async () => {
    const a = await register(srv, 'dirlonely');
    const hidden = await register(srv, 'qqhidden');
    await createRoom(srv, hidden, { preset: 'private_chat' });
    assert.deepEqual((await search(a, { search_term: 'qqhidden' })).json.results, []);
    const open = await register(srv, 'qqopen');
    await createRoom(srv, open, { preset: 'public_chat' });
    const found = (await search(a, { search_term: 'qqopen' })).json.results;
    assert.deepEqual(found.map((r) => r.user_id), [open.user_id]);
  });

  test('limit cuts the list and says so', async () => {
    const owner = await register(srv, 'limitowner');
    const room = await createRoom(srv, owner, { preset: 'public_chat' });
    for (const n of ['lim1', 'lim2', 'lim3']) await join(srv, await register(srv, `xylim${n}`), room);
    const res = await search(owner, { search_term: 'xylim', limit: 2 });
    assert.equal(res.json.results.length, 2);
    assert.equal(res.json.limited, true);
    const all = await search(owner, { search_term: 'xylim', limit: 10 });
    assert.equal(all.json.results.length, 3);
    assert.equal(all.json.limited, false);
  });

  test('a search needs a string search_term', async () => {
    const a = await register(srv, 'dirbad');
    assertError(await search(a, {}), 400, 'M_MISSING_PARAM');
    assertError(await search(a, { search_term: 5 }), 400, 'M_BAD_JSON');
    assertError(await search(a, { search_term: 'x', limit: 'ten' }), 400, 'M_BAD_JSON');
  });
});
