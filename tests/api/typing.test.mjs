// typing.test.mjs -- PUT /rooms/{roomId}/typing/{userId} and m.typing in /sync.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { assertError, createRoom, join, register, sqlite, sync } from './lib/matrix.mjs';
import { ephemeral, sleep, timed, typing, typingRaw } from './lib/rest.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

// Two members of one room, both synced once.
async function pair(name) {
  const a = await register(srv, `${name}a`);
  const b = await register(srv, `${name}b`);
  const room = await createRoom(srv, a, { preset: 'public_chat' });
  await join(srv, b, room);
  const since = (await sync(srv, b)).next_batch;
  return { a, b, room, since };
}

describe('typing notices', () => {
  test('a member typing appears in the others\' sync as m.typing', async () => {
    const { a, b, room, since } = await pair('t1');
    await typing(srv, a, room, true, 30000);
    const res = await sync(srv, b, { since, timeout: 5000 });
    assert.deepEqual(ephemeral(res.rooms.join[room], 'm.typing'), { type: 'm.typing', content: { user_ids: [a.user_id] } });
  });

  test('a parked sync wakes when someone starts typing', async () => {
    const { a, b, room, since } = await pair('t2');
    const waiting = timed(sync(srv, b, { since, timeout: 20000 }));
    await sleep(300);
    await typing(srv, a, room, true, 30000);
    const { value, ms } = await waiting;
    assert.ok(ms < 10000, `woke after ${ms} ms`);
    assert.deepEqual(ephemeral(value.rooms.join[room], 'm.typing').content.user_ids, [a.user_id]);
  });

  test('stopping typing is synced as an empty list', async () => {
    const { a, b, room } = await pair('t3');
    await typing(srv, a, room, true, 30000);
    const mid = await sync(srv, b, { since: (await sync(srv, b)).next_batch, timeout: 0 });
    await typing(srv, a, room, false);
    const res = await sync(srv, b, { since: mid.next_batch, timeout: 5000 });
    assert.deepEqual(ephemeral(res.rooms.join[room], 'm.typing').content.user_ids, []);
  });

  test('a typing notice expires, and a sync after the expiry sees it gone', async () => {
    const { a, b, room, since } = await pair('t4');
    await typing(srv, a, room, true, 400);
    const seen = await sync(srv, b, { since, timeout: 5000 });
    assert.deepEqual(ephemeral(seen.rooms.join[room], 'm.typing').content.user_ids, [a.user_id]);
    await sleep(700);
    const res = await sync(srv, b, { since: seen.next_batch, timeout: 0 });
    assert.deepEqual(ephemeral(res.rooms.join[room], 'm.typing').content.user_ids, []);
  });

  test('a parked sync wakes when a typing notice expires', async () => {
    const { a, b, room, since } = await pair('t5');
    await typing(srv, a, room, true, 1500);
    const seen = await sync(srv, b, { since, timeout: 5000 });
    const { value, ms } = await timed(sync(srv, b, { since: seen.next_batch, timeout: 20000 }));
    assert.ok(ms < 8000, `woke after ${ms} ms, not at the long-poll deadline`);
    assert.deepEqual(ephemeral(value.rooms.join[room], 'm.typing').content.user_ids, []);
  });

  test('repeating "still typing" does not wake syncs', async () => {
    const { a, b, room } = await pair('t6');
    await typing(srv, a, room, true, 30000);
    const seen = await sync(srv, b, { since: (await sync(srv, b)).next_batch, timeout: 0 });
    await typing(srv, a, room, true, 30000);
    const res = await sync(srv, b, { since: seen.next_batch, timeout: 500 });
    assert.equal(res.rooms.join[room], undefined);
  });

  test('an initial sync shows who is typing now', async () => {
    const { a, b, room } = await pair('t7');
    await typing(srv, a, room, true, 30000);
    const res = await sync(srv, b);
    assert.deepEqual(ephemeral(res.rooms.join[room], 'm.typing').content.user_ids, [a.user_id]);
  });

  test('typing for 0 ms stops typing', async () => {
    const { a, b, room } = await pair('t11');
    await typing(srv, a, room, true, 30000);
    const seen = await sync(srv, b, { since: (await sync(srv, b)).next_batch, timeout: 0 });
    await typing(srv, a, room, true, 0);
    const res = await sync(srv, b, { since: seen.next_batch, timeout: 5000 });
    assert.deepEqual(ephemeral(res.rooms.join[room], 'm.typing').content.user_ids, []);
  });

  test('the timeout is capped at two minutes', async () => {
    const { a, room } = await pair('t8');
    const before = Date.now();
    await typing(srv, a, room, true, 10 ** 12);
    const [expires] = await sqlite(srv, `SELECT expires_ms FROM typing WHERE user_id = '${a.user_id}'`);
    assert.ok(Number(expires) - before <= 120000 + 5000, `expires in ${Number(expires) - before} ms`);
  });

  test('one may only type as oneself, in a room one is joined to', async () => {
    const { a, b, room } = await pair('t9');
    assertError(await typingRaw(srv, a, room, true, 1000, b.user_id), 403, 'M_FORBIDDEN');
    const stranger = await register(srv, 't9stranger');
    assertError(await typingRaw(srv, stranger, room, true, 1000), 403, 'M_FORBIDDEN');
    assertError(await typingRaw(srv, a, '!nosuch:localhost', true, 1000), 404, 'M_NOT_FOUND');
  });

  test('a typing body must have a boolean typing and an integer timeout', async () => {
    const { a, room } = await pair('t10');
    const put = (body) => srv.fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(room)}/typing/${encodeURIComponent(a.user_id)}`,
      { method: 'PUT', body, token: a.token });
    assertError(await put({}), 400, 'M_MISSING_PARAM');
    assertError(await put({ typing: 'yes' }), 400, 'M_BAD_JSON');
    assertError(await put({ typing: true, timeout: '30s' }), 400, 'M_BAD_JSON');
    assertError(await put({ typing: true, timeout: -5 }), 400, 'M_INVALID_PARAM');
  });
});
