// limits.test.mjs -- abuse limits: rate limits (429 M_LIMIT_EXCEEDED with
// retry_after_ms), and a bound on everything a client controls: body size,
// JSON nesting, list lengths, pagination, long-polls waiting at once.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { SANITIZED, sleep, startServer } from './lib/server.mjs';
import {
  V3, assertError, createRoom, register, send, sendMessage, seg, sync, syncRaw, txnId,
} from './lib/matrix.mjs';

// A POST from another loopback address (Linux routes all of 127/8 to lo),
// as a second client elsewhere would make it.
function fetchFrom(srv, localAddress, path, body) {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(`${srv.url}${path}`, {
      method: 'POST', localAddress, agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function assertLimited(res) {
  assertError(res, 429, 'M_LIMIT_EXCEEDED');
  assert.equal(typeof res.json.retry_after_ms, 'number');
  assert.ok(res.json.retry_after_ms > 0, `retry_after_ms: ${res.text}`);
  assert.match(res.headers['retry-after'] ?? '', /^\d+$/);
  return res.json.retry_after_ms;
}

const loginBody = (user, password) => ({
  type: 'm.login.password', identifier: { type: 'm.id.user', user }, password,
});

describe('rate limits', () => {
  test('limits are on by default: one address gets a burst of 10 password checks, then 429', async () => {
    const srv = await startServer();
    try {
      await register(srv, 'alice');
      // Each wrong password costs an Argon2 hash; the address's bucket
      // refills one token every 10 s, so the 429 comes right after the 10th.
      const results = [];
      while (results.length < 30 && results.at(-1)?.status !== 429)
        results.push(await srv.fetch(`${V3}/login`, { method: 'POST', body: loginBody('alice', 'wrong') }));
      assert.deepEqual(results.slice(0, 10).map((r) => r.status), Array(10).fill(403));
      assert.ok(results.length <= 12, `the 429 came only at attempt ${results.length}`);
      assert.ok(assertLimited(results.at(-1)) > 5000);
    } finally {
      await srv.stop();
    }
  });

  // The host passes the TCP peer's address to the core (never a header):
  // a client flooding from 127.0.0.1 does not keep alice, on 127.0.0.2, out.
  test('one address flooding wrong passwords does not keep the owner out from another address', async () => {
    const srv = await startServer();
    try {
      await register(srv, 'alice');
      let last;
      for (let i = 0; i < 30 && last?.status !== 429; i++)
        last = await srv.fetch(`${V3}/login`, { method: 'POST', body: loginBody('alice', 'wrong') });
      assertLimited(last);
      // A forged header changes nothing: the address is the connection's.
      const forged = await srv.fetch(`${V3}/login`, { method: 'POST', body: loginBody('alice', 'pw-alice'),
        headers: { 'x-forwarded-for': '10.9.8.7', forwarded: 'for=10.9.8.7' } });
      assertLimited(forged);
      const elsewhere = await fetchFrom(srv, '127.0.0.2', `${V3}/login`, loginBody('alice', 'pw-alice'));
      assert.equal(elsewhere.status, 200, elsewhere.text);
      assert.ok(JSON.parse(elsewhere.text).access_token);
    } finally {
      await srv.stop();
    }
  });

  test('logins for names that do not exist cost no token: the owner still gets in from the same address', async () => {
    const srv = await startServer();
    try {
      await register(srv, 'alice');
      for (let i = 0; i < 40; i++) {
        const res = await srv.fetch(`${V3}/login`, { method: 'POST', body: loginBody(`nobody${i % 3}`, 'wrong') });
        assertError(res, 403, 'M_FORBIDDEN');
      }
      const ok = await srv.fetch(`${V3}/login`, { method: 'POST', body: loginBody('alice', 'pw-alice') });
      assert.equal(ok.status, 200, ok.text);
    } finally {
      await srv.stop();
    }
  });

  test('login attempts share one bucket; after retry_after_ms a login succeeds', async () => {
    // One token every 2 s: slow enough that the two hashes before never see a refill.
    const srv = await startServer({ args: ['--rate-limit', 'login=0.5/2'] });
    try {
      await register(srv, 'alice');
      await register(srv, 'bob');
      assert.equal((await srv.fetch(`${V3}/login`, { method: 'POST', body: loginBody('alice', 'guess') })).status, 403);
      assert.equal((await srv.fetch(`${V3}/login`, { method: 'POST', body: loginBody('alice', 'guess2') })).status, 403);
      // bob's correct password waits too: the bucket is the server's, not alice's.
      const retry = assertLimited(await srv.fetch(`${V3}/login`, { method: 'POST', body: loginBody('bob', 'pw-bob') }));
      assert.ok(retry <= 2000, `one token every 2000 ms, told to wait ${retry}`);
      await sleep(retry + 20);
      const ok = await srv.fetch(`${V3}/login`, { method: 'POST', body: loginBody('bob', 'pw-bob') });
      assert.equal(ok.status, 200, ok.text);
    } finally {
      await srv.stop();
    }
  });

  test('registration is limited, and a refused registration creates nothing', async () => {
    const srv = await startServer({ args: ['--rate-limit', 'register=0.1/2'] });
    try {
      await register(srv, 'u1');
      await register(srv, 'u2');
      const res = await srv.fetch(`${V3}/register`, {
        method: 'POST', body: { username: 'u3', password: 'pw', auth: { type: 'm.login.dummy' } },
      });
      assert.ok(assertLimited(res) > 5000);
      const available = await srv.fetch(`${V3}/register/available?username=u3`);
      assert.equal(available.status, 200);
      assert.equal(available.json.available, true);
    } finally {
      await srv.stop();
    }
  });

  test('sends are limited per user: one user hitting the limit does not slow another', async () => {
    // One token every 2 s, so no refill comes between the four calls on a busy machine.
    const srv = await startServer({ args: ['--rate-limit', 'user=0.5/4'] });
    try {
      const alice = await register(srv, 'alice');
      const bob = await register(srv, 'bob');
      const roomId = await createRoom(srv, alice, { preset: 'public_chat' }); // 1 of alice's 4
      const joined = await srv.fetch(`${V3}/join/${seg(roomId)}`, { method: 'POST', body: {}, token: bob.token });
      assert.equal(joined.status, 200);
      for (let i = 0; i < 3; i++) await sendMessage(srv, alice, roomId, `m${i}`);
      const txn = txnId();
      const refused = await send(srv, alice, roomId, 'm.room.message', { msgtype: 'm.text', body: 'late' }, txn);
      const retry = assertLimited(refused);
      // Reading is not limited; bob sends freely.
      assert.equal((await srv.fetch(`${V3}/rooms/${seg(roomId)}/messages?dir=b`, { token: alice.token })).status, 200);
      await sendMessage(srv, bob, roomId, 'from bob');
      await sleep(retry + 20);
      // The refused send stored nothing: the same transaction id now sends for real.
      const again = await send(srv, alice, roomId, 'm.room.message', { msgtype: 'm.text', body: 'late' }, txn);
      assert.equal(again.status, 200, again.text);
      const history = await srv.fetch(`${V3}/rooms/${seg(roomId)}/messages?dir=b&limit=20`, { token: alice.token });
      const bodies = history.json.chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
      assert.deepEqual(bodies, ['late', 'from bob', 'm2', 'm1', 'm0']);
    } finally {
      await srv.stop();
    }
  });

  test('--no-rate-limit turns every limit off', async () => {
    const srv = await startServer({ args: ['--rate-limit', 'login=0.01/1', '--rate-limit', 'login-address=0.01/1',
      '--rate-limit', 'login-account=0.01/1', '--no-rate-limit'] });
    try {
      await register(srv, 'alice');
      for (let i = 0; i < 5; i++) {
        const res = await srv.fetch(`${V3}/login`, { method: 'POST', body: loginBody('alice', 'x') });
        assertError(res, 403, 'M_FORBIDDEN');
      }
      const ok = await srv.fetch(`${V3}/login`, { method: 'POST', body: loginBody('alice', 'pw-alice') });
      assert.equal(ok.status, 200, ok.text);
    } finally {
      await srv.stop();
    }
  });

  test('a malformed --rate-limit exits 2 and says what it wants', async () => {
    const { runToExit } = await import('./lib/server.mjs');
    for (const bad of ['login', 'login=1', 'login=0/5', 'login=1/0', 'sends=1/5', 'login=x/5', 'login-=1/5',
      'login-addresses=1/5']) {
      const r = await runToExit(['--rate-limit', bad, '--db', ':memory:']);
      assert.equal(r.code, 2, `--rate-limit ${bad}`);
      assert.match(r.stderr, /--rate-limit wants ACTION=PER_SECOND\/BURST/);
    }
  });
});

describe('bounds on what a client sends', () => {
  let srv;
  let alice;
  let roomId;
  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit', '--max-body', '100000'] });
    alice = await register(srv, 'alice');
    await register(srv, 'bob');
    roomId = await createRoom(srv, alice, { preset: 'public_chat' });
  });
  after(() => srv.stop());

  test('a body over --max-body gets 413 M_TOO_LARGE and nothing is stored', async () => {
    const txn = txnId();
    const res = await send(srv, alice, roomId, 'm.room.message', { msgtype: 'm.text', body: 'x'.repeat(100001) }, txn);
    assertError(res, 413, 'M_TOO_LARGE');
    const history = await srv.fetch(`${V3}/rooms/${seg(roomId)}/messages?dir=b`, { token: alice.token });
    assert.ok(!history.json.chunk.some((e) => e.type === 'm.room.message'));
  });

  test('an event over 65536 bytes gets 413 M_TOO_LARGE', async () => {
    const res = await send(srv, alice, roomId, 'm.room.message', { msgtype: 'm.text', body: 'x'.repeat(70000) });
    assertError(res, 413, 'M_TOO_LARGE');
  });

  test('JSON nested deeper than 64 levels gets 400 M_BAD_JSON; 64 levels are fine', async () => {
    const nest = (n) => '['.repeat(n) + ']'.repeat(n);
    const path = `${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`;
    const deep = await srv.fetch(path, { method: 'PUT', body: `{"msgtype":"m.text","body":"x","n":${nest(64)}}`, token: alice.token });
    assertError(deep, 400, 'M_BAD_JSON');
    assert.match(deep.json.error, /64/);
    const ok = await srv.fetch(`${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`, {
      method: 'PUT', body: `{"msgtype":"m.text","body":"x","n":${nest(63)}}`, token: alice.token,
    });
    assert.equal(ok.status, 200, ok.text);
    // jansson alone would parse 2048 levels; 10000 must still be a clean 400.
    const huge = await srv.fetch(`${V3}/createRoom`, { method: 'POST', body: nest(10000), token: alice.token });
    assertError(huge, 400, 'M_BAD_JSON');
  });

  test('an inline filter nested too deep gets 400 M_BAD_JSON', async () => {
    let filter = '{}';
    for (let i = 0; i < 70; i++) filter = `{"room":${filter}}`;
    const res = await srv.fetch(`${V3}/sync?filter=${encodeURIComponent(filter)}`, { token: alice.token });
    assertError(res, 400, 'M_BAD_JSON');
  });

  test('createRoom takes at most 100 invites and 100 initial state events', async () => {
    const invite = Array.from({ length: 101 }, () => '@bob:localhost');
    assertError(await srv.fetch(`${V3}/createRoom`, { method: 'POST', body: { invite }, token: alice.token }),
      400, 'M_INVALID_PARAM');
    const initial_state = Array.from({ length: 101 }, (_, i) => ({ type: 'org.example.s', state_key: `${i}`, content: {} }));
    assertError(await srv.fetch(`${V3}/createRoom`, { method: 'POST', body: { initial_state }, token: alice.token }),
      400, 'M_INVALID_PARAM');
    const rooms = await srv.fetch(`${V3}/joined_rooms`, { token: alice.token });
    assert.deepEqual(rooms.json.joined_rooms, [roomId]);
    const hundred = Array.from({ length: 100 }, (_, i) => ({ type: 'org.example.s', state_key: `${i}`, content: {} }));
    const ok = await srv.fetch(`${V3}/createRoom`, { method: 'POST', body: { initial_state: hundred }, token: alice.token });
    assert.equal(ok.status, 200, ok.text);
  });

  test('a filter list longer than 500 entries, or a filter over 64 KiB, is refused', async () => {
    const path = `${V3}/user/${seg(alice.user_id)}/filter`;
    const long = { room: { timeline: { types: Array.from({ length: 501 }, (_, i) => `t${i}`) } } };
    assertError(await srv.fetch(path, { method: 'POST', body: long, token: alice.token }), 400, 'M_BAD_JSON');
    const big = { room: { timeline: { types: Array.from({ length: 500 }, () => 'x'.repeat(150)) } } };
    assertError(await srv.fetch(path, { method: 'POST', body: big, token: alice.token }), 413, 'M_TOO_LARGE');
    const inline = encodeURIComponent(JSON.stringify(long));
    assertError(await srv.fetch(`${V3}/rooms/${seg(roomId)}/messages?dir=b&filter=${inline}`, { token: alice.token }),
      400, 'M_BAD_JSON');
  });

  test('a filter pattern built to backtrack is answered at once', async () => {
    // A type of 200 characters and a pattern with many stars: a naive
    // matcher would take longer than the age of the universe.
    await sendMessage(srv, alice, roomId, 'before');
    const res = await send(srv, alice, roomId, 'a'.repeat(200), { x: 1 });
    assert.equal(res.status, 200, res.text);
    const filter = { types: ['*a'.repeat(40) + 'b'] };
    const started = Date.now();
    const page = await srv.fetch(`${V3}/rooms/${seg(roomId)}/messages?dir=b&filter=${encodeURIComponent(JSON.stringify(filter))}`,
      { token: alice.token });
    assert.equal(page.status, 200, page.text);
    assert.deepEqual(page.json.chunk, []);
    assert.ok(Date.now() - started < 5000 * (SANITIZED ? 4 : 1));
  });

  test('pagination limits must be whole numbers and are capped', async () => {
    const base = `${V3}/rooms/${seg(roomId)}/messages?dir=b`;
    for (const bad of ['-1', 'abc', '1.5', ''])
      assertError(await srv.fetch(`${base}&limit=${bad}`, { token: alice.token }), 400, 'M_INVALID_PARAM');
    const huge = await srv.fetch(`${base}&limit=99999999999999999999999`, { token: alice.token });
    assert.equal(huge.status, 200, 'a huge limit is capped, not an error');
    // /messages gives at most 1000 events a page, and says where to go on.
    const big = await createRoom(srv, alice, { preset: 'public_chat' });
    for (let i = 0; i < 1005; i += 15)
      await Promise.all(Array.from({ length: Math.min(15, 1005 - i) }, (_, j) => sendMessage(srv, alice, big, `p${i + j}`)));
    const page = await srv.fetch(`${V3}/rooms/${seg(big)}/messages?dir=b&limit=5000`, { token: alice.token });
    assert.equal(page.status, 200);
    assert.equal(page.json.chunk.length, 1000);
    assert.ok(page.json.end, 'more history is announced');
    // A sync timeline never carries more than 100 events, whatever the filter asks.
    const room = await createRoom(srv, alice, { preset: 'public_chat' });
    await Promise.all(Array.from({ length: 110 }, (_, i) => sendMessage(srv, alice, room, `n${i}`)));
    const s = await sync(srv, alice, { filter: { room: { rooms: [room], timeline: { limit: 100000 } } } });
    const timeline = s.rooms.join[room].timeline;
    assert.equal(timeline.events.length, 100);
    assert.equal(timeline.limited, true);
  });
});

describe('long-polls waiting at once', () => {
  // Each test opens its own server: the caps are flags.
  async function parkedSync(srv, who, since) {
    const p = syncRaw(srv, who, { since, timeout: 20000 });
    return p;
  }

  async function setUp(args) {
    const srv = await startServer({ args: ['--no-rate-limit', ...args] });
    const alice = await register(srv, 'alice');
    const roomId = await createRoom(srv, alice);
    const { next_batch: since } = await sync(srv, alice);
    return { srv, alice, roomId, since };
  }

  // Waits until the server holds `n` parked requests: a sync that finds
  // nothing new only answers when news comes, so poll with a short one.
  const settle = () => sleep(300 * (SANITIZED ? 4 : 1));

  test('over --max-parked-per-ip a long-poll gets 429 at once; the waiting ones still wake', async () => {
    const { srv, alice, roomId, since } = await setUp(['--max-parked-per-ip', '2']);
    try {
      const waiting = [parkedSync(srv, alice, since), parkedSync(srv, alice, since)];
      await settle();
      const started = Date.now();
      const refused = await syncRaw(srv, alice, { since, timeout: 20000 });
      assert.ok(Date.now() - started < 5000, 'refused at once, not after the timeout');
      assertLimited(refused);
      await sendMessage(srv, alice, roomId, 'news');
      const woken = await Promise.all(waiting);
      for (const res of woken) {
        assert.equal(res.status, 200, res.text);
        assert.ok(res.json.rooms.join[roomId].timeline.events.some((e) => e.content.body === 'news'));
      }
      // The places are free again: two more may wait.
      const later = woken[0].json.next_batch;
      const again = [parkedSync(srv, alice, later), parkedSync(srv, alice, later)];
      await settle();
      await sendMessage(srv, alice, roomId, 'more news');
      for (const res of await Promise.all(again)) assert.equal(res.status, 200, res.text);
    } finally {
      await srv.stop();
    }
  });

  test('over --max-parked a long-poll gets 503 M_LIMIT_EXCEEDED at once', async () => {
    const { srv, alice, roomId, since } = await setUp(['--max-parked', '1']);
    try {
      const waiting = parkedSync(srv, alice, since);
      await settle();
      const refused = await syncRaw(srv, alice, { since, timeout: 20000 });
      assertError(refused, 503, 'M_LIMIT_EXCEEDED');
      assert.ok(refused.json.retry_after_ms > 0);
      // A sync that has news answers without waiting, so the cap does not touch it.
      await sendMessage(srv, alice, roomId, 'news');
      assert.equal((await waiting).status, 200);
      assert.equal((await syncRaw(srv, alice, { since, timeout: 20000 })).status, 200);
    } finally {
      await srv.stop();
    }
  });

  test('a refused long-poll leaves its connection open for the next request', async () => {
    const { srv, alice, since } = await setUp(['--max-parked-per-ip', '1']);
    try {
      const waiting = parkedSync(srv, alice, since);
      await settle();
      const conn = await srv.connect();
      const head = (path) => `GET ${path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${alice.token}\r\n\r\n`;
      conn.write(head(`${V3}/sync?since=${since}&timeout=20000`) + head(`${V3}/account/whoami`));
      const first = await conn.response();
      assert.equal(first.status, 429);
      const second = await conn.response();
      assert.equal(second.status, 200);
      assert.equal(second.json.user_id, alice.user_id);
      conn.destroy();
      // Let the parked one end: a state change in one of alice's rooms wakes it.
      await srv.fetch(`${V3}/createRoom`, { method: 'POST', body: {}, token: alice.token });
      assert.equal((await waiting).status, 200);
    } finally {
      await srv.stop();
    }
  });

  test('a malformed --max-parked exits 2', async () => {
    const { runToExit } = await import('./lib/server.mjs');
    for (const flag of ['--max-parked', '--max-parked-per-ip']) {
      const r = await runToExit([flag, '0', '--db', ':memory:']);
      assert.equal(r.code, 2, `${flag} 0`);
    }
  });
});
