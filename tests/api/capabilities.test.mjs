// capabilities.test.mjs -- start-up endpoints (/capabilities, TURN, third-party
// protocols, the unstable RTC transports) and reporting events.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, assertError, createRoom, join, register, seg, sendMessage, sqlite } from './lib/matrix.mjs';

let srv;
let alice;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
  alice = await register(srv, 'alice');
});
after(async () => { await srv.stop(); });

describe('start-up endpoints', () => {
  test('capabilities name room version 10 and what may change', async () => {
    const res = await srv.fetch(`${V3}/capabilities`, { token: alice.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.capabilities, {
      'm.change_password': { enabled: true },
      'm.room_versions': { default: '10', available: { 10: 'stable', 11: 'stable' } },
      'm.set_displayname': { enabled: true },
      'm.set_avatar_url': { enabled: true },
      'm.3pid_changes': { enabled: false },
    });
  });

  test('capabilities need a token', async () => {
    assertError(await srv.fetch(`${V3}/capabilities`), 401, 'M_MISSING_TOKEN');
  });

  test('there is no TURN server: an empty answer', async () => {
    const res = await srv.fetch(`${V3}/voip/turnServer`, { token: alice.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {});
  });

  test('there are no third-party protocols', async () => {
    const res = await srv.fetch(`${V3}/thirdparty/protocols`, { token: alice.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {});
  });

  test('accounts have no third-party identifiers', async () => {
    const res = await srv.fetch(`${V3}/account/3pid`, { token: alice.token });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { threepids: [] });
  });

  test('the unstable RTC transports endpoint is not offered', async () => {
    const res = await srv.fetch('/_matrix/client/unstable/org.matrix.msc4143/rtc/transports', { token: alice.token });
    assertError(res, 404, 'M_UNRECOGNIZED');
  });
});

describe('reporting events', () => {
  const report = (who, roomId, eventId, body = {}) =>
    srv.fetch(`${V3}/rooms/${seg(roomId)}/report/${seg(eventId)}`, { method: 'POST', body, token: who.token });

  test('a member reports an event and the report is kept', async () => {
    const room = await createRoom(srv, alice, { preset: 'public_chat' });
    const ev = await sendMessage(srv, alice, room, 'rude words');
    const bob = await register(srv, 'reporter');
    await join(srv, bob, room);
    const res = await report(bob, room, ev, { reason: 'rude', score: -100 });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {});
    const rows = await sqlite(srv, `SELECT room_id, event_id, reporter, reason, score FROM event_reports`);
    assert.deepEqual(rows, [`${room}|${ev}|${bob.user_id}|rude|-100`]);
  });

  test('reports of unknown events, or from outside the room, are 404', async () => {
    const room = await createRoom(srv, alice, { preset: 'public_chat' });
    const ev = await sendMessage(srv, alice, room, 'hello');
    const outsider = await register(srv, 'outsider');
    assertError(await report(outsider, room, ev), 404, 'M_NOT_FOUND');
    assertError(await report(alice, room, '$nosuchevent'), 404, 'M_NOT_FOUND');
    assertError(await report(alice, '!nosuchroom:localhost', ev), 404, 'M_NOT_FOUND');
  });

  test('a report with a bad reason or score is refused', async () => {
    const room = await createRoom(srv, alice);
    const ev = await sendMessage(srv, alice, room, 'x');
    assertError(await report(alice, room, ev, { reason: 7 }), 400, 'M_BAD_JSON');
    assertError(await report(alice, room, ev, { score: 5 }), 400, 'M_INVALID_PARAM');
    assertError(await report(alice, room, ev, { score: 'bad' }), 400, 'M_BAD_JSON');
  });
});
