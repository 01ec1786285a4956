// security.test.mjs -- one user's token never reads or changes another
// user's data; hostile identifiers (SQL metacharacters, path traversal) in
// every path parameter are harmless; answers and logs never echo secrets.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { sleep, startServer } from './lib/server.mjs';
import {
  V3, assertError, createRoom, login, register, send, sendMessage, seg, sync, txnId,
} from './lib/matrix.mjs';

describe('one user cannot touch another user\'s data', () => {
  let srv;
  let alice;
  let bob;
  let room;
  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit'] });
    alice = await register(srv, 'alice', { device_id: 'ALICEPHONE', initial_device_display_name: 'phone' });
    bob = await register(srv, 'bob', { device_id: 'BOBLAPTOP' });
    room = await createRoom(srv, alice, { preset: 'private_chat', name: 'secret plans' });
    await sendMessage(srv, alice, room, 'the secret');
  });
  after(() => srv.stop());

  const aliceDevice = async () => {
    const res = await srv.fetch(`${V3}/devices/ALICEPHONE`, { token: alice.token });
    assert.equal(res.status, 200, res.text);
    return res.json;
  };

  test('devices: listing shows only your own', async () => {
    const res = await srv.fetch(`${V3}/devices`, { token: bob.token });
    assert.deepEqual(res.json.devices.map((d) => d.device_id), ['BOBLAPTOP']);
  });

  test('devices: another user\'s device cannot be read, renamed or deleted', async () => {
    assertError(await srv.fetch(`${V3}/devices/ALICEPHONE`, { token: bob.token }), 404, 'M_NOT_FOUND');
    assertError(await srv.fetch(`${V3}/devices/ALICEPHONE`, {
      method: 'PUT', body: { display_name: 'pwned' }, token: bob.token,
    }), 404, 'M_NOT_FOUND');
    const del = await srv.fetch(`${V3}/devices/ALICEPHONE`, {
      method: 'DELETE', token: bob.token,
      body: { auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bob' }, password: 'pw-bob' } },
    });
    assertError(del, 404, 'M_NOT_FOUND');
    // delete_devices names alice's device with bob's own valid password.
    const first = await srv.fetch(`${V3}/delete_devices`, { method: 'POST', body: { devices: ['ALICEPHONE'] }, token: bob.token });
    assert.equal(first.status, 401);
    const bulk = await srv.fetch(`${V3}/delete_devices`, {
      method: 'POST', token: bob.token,
      body: {
        devices: ['ALICEPHONE'],
        auth: { type: 'm.login.password', session: first.json.session, identifier: { type: 'm.id.user', user: 'bob' }, password: 'pw-bob' },
      },
    });
    assert.equal(bulk.status, 200, bulk.text); // bob has no such device: nothing to do
    const d = await aliceDevice();
    assert.equal(d.display_name, 'phone');
    assert.equal((await srv.fetch(`${V3}/account/whoami`, { token: alice.token })).status, 200, 'alice is still logged in');
  });

  test('user-interactive auth with another user\'s password does not pass', async () => {
    const first = await srv.fetch(`${V3}/account/password`, { method: 'POST', body: { new_password: 'x' }, token: bob.token });
    assert.equal(first.status, 401);
    const res = await srv.fetch(`${V3}/account/password`, {
      method: 'POST', token: bob.token,
      body: {
        new_password: 'taken-over',
        auth: { type: 'm.login.password', session: first.json.session, identifier: { type: 'm.id.user', user: 'alice' }, password: 'pw-alice' },
      },
    });
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json.errcode, 'M_FORBIDDEN');
    // Neither password changed.
    await login(srv, 'alice', 'pw-alice');
    await login(srv, 'bob', 'pw-bob');
  });

  test('filters: another user\'s filters cannot be created, read, or used in a sync', async () => {
    const made = await srv.fetch(`${V3}/user/${seg(alice.user_id)}/filter`, {
      method: 'POST', body: { room: { timeline: { limit: 1 } } }, token: alice.token,
    });
    assert.equal(made.status, 200);
    const id = made.json.filter_id;
    assertError(await srv.fetch(`${V3}/user/${seg(alice.user_id)}/filter/${id}`, { token: bob.token }), 403, 'M_FORBIDDEN');
    assertError(await srv.fetch(`${V3}/user/${seg(bob.user_id)}/filter/${id}`, { token: bob.token }), 404, 'M_NOT_FOUND');
    assertError(await srv.fetch(`${V3}/user/${seg(alice.user_id)}/filter`, {
      method: 'POST', body: {}, token: bob.token,
    }), 403, 'M_FORBIDDEN');
    assertError(await srv.fetch(`${V3}/sync?filter=${id}`, { token: bob.token }), 404, 'M_NOT_FOUND');
  });

  test('a private room is closed to someone who is not in it', async () => {
    const r = seg(room);
    const { chunk } = (await srv.fetch(`${V3}/rooms/${r}/messages?dir=b`, { token: alice.token })).json;
    const eventId = chunk.find((e) => e.type === 'm.room.message').event_id;
    for (const path of [`/rooms/${r}/messages?dir=b`, `/rooms/${r}/state`, `/rooms/${r}/state/m.room.name`,
      `/rooms/${r}/members`, `/rooms/${r}/joined_members`, `/rooms/${r}/event/${seg(eventId)}`,
      `/rooms/${r}/context/${seg(eventId)}`]) {
      const res = await srv.fetch(V3 + path, { token: bob.token });
      // An event you may not see is "not found" (the spec's answer for /event).
      if (res.status === 404) assert.ok(path.includes('/event/') || path.includes('/context/'), path);
      assertError(res, res.status === 404 ? 404 : 403, res.status === 404 ? 'M_NOT_FOUND' : 'M_FORBIDDEN');
      assert.ok(!res.text.includes('the secret') && !res.text.includes('secret plans'), path);
    }
    assertError(await send(srv, bob, room, 'm.room.message', { msgtype: 'm.text', body: 'hi' }), 403, 'M_FORBIDDEN');
    assertError(await srv.fetch(`${V3}/join/${r}`, { method: 'POST', body: {}, token: bob.token }), 403, 'M_FORBIDDEN');
    const s = await sync(srv, bob);
    assert.equal(s.rooms.join[room], undefined);
    assert.ok(!JSON.stringify(s).includes('the secret'));
  });

  test('to-device messages reach only the device they were sent to', async () => {
    const carol = await register(srv, 'carol', { device_id: 'CAROLPC' });
    const since = { bob: (await sync(srv, bob)).next_batch, carol: (await sync(srv, carol)).next_batch };
    const res = await srv.fetch(`${V3}/sendToDevice/org.example.secret/${txnId()}`, {
      method: 'PUT', token: alice.token, body: { messages: { [bob.user_id]: { BOBLAPTOP: { key: 'for bob only' } } } },
    });
    assert.equal(res.status, 200, res.text);
    const forBob = await sync(srv, bob, { since: since.bob });
    assert.ok(JSON.stringify(forBob.to_device ?? {}).includes('for bob only'));
    const forCarol = await sync(srv, carol, { since: since.carol });
    assert.ok(!JSON.stringify(forCarol).includes('for bob only'));
    const forAlice = await sync(srv, alice);
    assert.ok(!JSON.stringify(forAlice).includes('for bob only'), 'the sender does not get it back');
  });

  test('key backups: another user\'s backup cannot be read, changed or deleted', async () => {
    const made = await srv.fetch(`${V3}/room_keys/version`, {
      method: 'POST', token: alice.token, body: { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'abc' } },
    });
    assert.equal(made.status, 200, made.text);
    const { version } = made.json;
    const session = { first_message_index: 0, forwarded_count: 0, is_verified: true, session_data: { ciphertext: 'alice-secret' } };
    const put = await srv.fetch(`${V3}/room_keys/keys/${seg(room)}/S1?version=${version}`, { method: 'PUT', token: alice.token, body: session });
    assert.equal(put.status, 200, put.text);

    assertError(await srv.fetch(`${V3}/room_keys/version`, { token: bob.token }), 404, 'M_NOT_FOUND');
    assertError(await srv.fetch(`${V3}/room_keys/version/${version}`, { token: bob.token }), 404, 'M_NOT_FOUND');
    const read = await srv.fetch(`${V3}/room_keys/keys?version=${version}`, { token: bob.token });
    assert.ok(read.status >= 400 && !read.text.includes('alice-secret'), read.text);
    const overwrite = await srv.fetch(`${V3}/room_keys/keys/${seg(room)}/S1?version=${version}`, {
      method: 'PUT', token: bob.token, body: { ...session, session_data: { ciphertext: 'bob-was-here' } },
    });
    assert.ok(overwrite.status >= 400, overwrite.text);
    const wipe = await srv.fetch(`${V3}/room_keys/keys?version=${version}`, { method: 'DELETE', token: bob.token });
    assert.ok(wipe.status >= 400 || !wipe.text.includes('alice'), wipe.text);
    assertError(await srv.fetch(`${V3}/room_keys/version/${version}`, { method: 'DELETE', token: bob.token }), 404, 'M_NOT_FOUND');
    assert.equal((await srv.fetch(`${V3}/room_keys/version/${version}`, {
      method: 'PUT', token: bob.token, body: { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: {}, version },
    })).status >= 400, true);

    const mine = await srv.fetch(`${V3}/room_keys/keys/${seg(room)}/S1?version=${version}`, { token: alice.token });
    assert.equal(mine.status, 200, mine.text);
    assert.equal(mine.json.session_data.ciphertext, 'alice-secret');
    assert.equal((await srv.fetch(`${V3}/room_keys/version`, { token: alice.token })).json.version, version);
  });

  test('device keys can only be uploaded for your own device', async () => {
    const keys = (user_id, device_id) => ({
      device_keys: { user_id, device_id, algorithms: ['m.olm.v1.curve25519-aes-sha2'], keys: { [`ed25519:${device_id}`]: 'x' }, signatures: {} },
    });
    assertError(await srv.fetch(`${V3}/keys/upload`, { method: 'POST', token: bob.token, body: keys(alice.user_id, 'ALICEPHONE') }),
      400, 'M_INVALID_PARAM');
    const q = await srv.fetch(`${V3}/keys/query`, { method: 'POST', token: bob.token, body: { device_keys: { [alice.user_id]: [] } } });
    assert.equal(q.status, 200, q.text);
    assert.deepEqual(q.json.device_keys[alice.user_id] ?? {}, {});
  });

  test('account data, tags, profile, presence and typing of another user cannot be read or set', async () => {
    const a = seg(alice.user_id);
    const r = seg(room);
    const own = await srv.fetch(`${V3}/user/${a}/account_data/org.example.private`, {
      method: 'PUT', body: { secret: 'alice-notes' }, token: alice.token,
    });
    assert.equal(own.status, 200, own.text);
    assert.equal((await srv.fetch(`${V3}/user/${a}/rooms/${r}/tags/u.work`, { method: 'PUT', body: {}, token: alice.token })).status, 200);
    const attempts = [
      ['GET', `/user/${a}/account_data/org.example.private`],
      ['PUT', `/user/${a}/account_data/org.example.private`, { secret: 'bob-was-here' }],
      ['GET', `/user/${a}/rooms/${r}/account_data/org.example.private`],
      ['PUT', `/user/${a}/rooms/${r}/account_data/org.example.private`, { x: 1 }],
      ['GET', `/user/${a}/rooms/${r}/tags`],
      ['PUT', `/user/${a}/rooms/${r}/tags/u.bob`, {}],
      ['DELETE', `/user/${a}/rooms/${r}/tags/u.work`],
      ['PUT', `/profile/${a}/displayname`, { displayname: 'pwned' }],
      ['DELETE', `/profile/${a}/displayname`],
      ['PUT', `/presence/${a}/status`, { presence: 'offline' }],
      ['PUT', `/rooms/${r}/typing/${a}`, { typing: true, timeout: 1000 }],
    ];
    for (const [method, path, body] of attempts) {
      const res = await srv.fetch(V3 + path, { method, body, token: bob.token });
      assert.ok(res.status === 403 || res.status === 404, `${method} ${path}: ${res.status} ${res.text}`);
      assert.ok(!res.text.includes('alice-notes'), `${method} ${path} leaked account data`);
    }
    const still = await srv.fetch(`${V3}/user/${a}/account_data/org.example.private`, { token: alice.token });
    assert.deepEqual(still.json, { secret: 'alice-notes' });
    const tags = await srv.fetch(`${V3}/user/${a}/rooms/${r}/tags`, { token: alice.token });
    assert.deepEqual(Object.keys(tags.json.tags), ['u.work']);
    const name = await srv.fetch(`${V3}/profile/${a}/displayname`);
    assert.notEqual(name.json?.displayname, 'pwned');
    const bobSync = await sync(srv, bob);
    assert.ok(!JSON.stringify(bobSync).includes('alice-notes'), 'another user\'s account data in sync');
  });

  test('logging out everywhere ends only your own sessions', async () => {
    const other = await login(srv, 'bob', 'pw-bob');
    assert.equal((await srv.fetch(`${V3}/logout/all`, { method: 'POST', token: other.token })).status, 200);
    assertError(await srv.fetch(`${V3}/account/whoami`, { token: bob.token }), 401, 'M_UNKNOWN_TOKEN');
    assert.equal((await srv.fetch(`${V3}/account/whoami`, { token: alice.token })).status, 200);
    bob = await login(srv, 'bob', 'pw-bob');
  });
});

// Strings that would do damage if they reached SQL text or a file path.
const HOSTILE = [
  "'; DROP TABLE users; --",
  '" OR 1=1 --',
  "!x' OR '1'='1:localhost",
  '../../../../etc/passwd',
  '..',
  '%',
  '\\..\\..\\windows',
  '*',
  '`id`',
  '$(id)',
  'a\u202eb',
];

// Encodes every character a client library might interpret, dots included.
const hseg = (s) => encodeURIComponent(s).replace(/\./g, '%2E').replace(/\*/g, '%2A');

// Like srv.fetch, but the path goes out exactly as written: a URL parser
// resolves "..", "%2E%2E" included, before the request leaves.
function rawPath(srv, path, { method = 'GET', body, token } = {}) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('hostile identifiers are harmless', () => {
  let srv;
  let alice;
  let room;
  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit'] });
    alice = await register(srv, 'alice');
    room = await createRoom(srv, alice, { preset: 'public_chat' });
  });
  after(() => srv.stop());

  async function stillIntact() {
    const out = execFileSync('sqlite3', [srv.db, 'PRAGMA integrity_check; SELECT count(*) FROM users;'], { encoding: 'utf8' });
    assert.deepEqual(out.trim().split('\n'), ['ok', '1']);
    await login(srv, 'alice', 'pw-alice');
  }

  // Every answer is a proper 4xx Matrix error; never a 500, never a crash.
  function assertRefused(res, what) {
    assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${res.text}`);
    assert.match(res.json?.errcode ?? '', /^M_/, `${what}: ${res.text}`);
  }

  test('in room ids, event ids, user ids, aliases, device ids and filter ids they are refused', async () => {
    const r = seg(room);
    for (const bad of HOSTILE) {
      const s = hseg(bad);
      const t = alice.token;
      const calls = [
        [`/rooms/${s}/messages?dir=b`, {}], [`/rooms/${s}/state`, {}], [`/rooms/${s}/members`, {}],
        [`/rooms/${s}/send/m.room.message/${txnId()}`, { method: 'PUT', body: { body: 'x' } }],
        [`/rooms/${s}/join`, { method: 'POST', body: {} }], [`/join/${s}`, { method: 'POST', body: {} }],
        [`/rooms/${r}/event/${s}`, {}], [`/rooms/${r}/context/${s}`, {}],
        [`/rooms/${r}/redact/${s}/${txnId()}`, { method: 'PUT', body: {} }],
        [`/rooms/${r}/invite`, { method: 'POST', body: { user_id: bad } }],
        [`/rooms/${r}/kick`, { method: 'POST', body: { user_id: bad } }],
        [`/devices/${s}`, {}], [`/devices/${s}`, { method: 'PUT', body: { display_name: 'x' } }],
        [`/user/${s}/filter`, { method: 'POST', body: {} }], [`/user/${seg(alice.user_id)}/filter/${s}`, {}],
        [`/sync?filter=${s}`, {}], [`/sync?since=${s}`, {}],
        [`/rooms/${r}/messages?dir=b&from=${s}`, {}],
      ];
      for (const [path, opts] of calls) assertRefused(await rawPath(srv, V3 + path, { token: t, ...opts }), `${path}`);
      // Some of these are valid user names ('.', '/' and '=' are allowed): the
      // answer is then an honest "available".
      const available = await rawPath(srv, `${V3}/register/available?username=${s}`);
      if (available.status !== 200) assertError(available, 400, 'M_INVALID_USERNAME');
      assertRefused(await srv.fetch(`${V3}/login`, {
        method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: bad }, password: bad },
      }), `login as ${bad}`);
      // Alias localparts may hold anything but ':' (spec appendix): either
      // refused, or stored as the literal text it is.
      const made = await srv.fetch(`${V3}/createRoom`, { method: 'POST', body: { room_alias_name: bad }, token: t });
      if (made.status === 200) {
        const joined = await rawPath(srv, `${V3}/join/${hseg(`#${bad}:localhost`)}`, { method: 'POST', body: {}, token: t });
        assert.equal(joined.json.room_id, made.json.room_id, `alias #${bad}:localhost`);
      } else {
        assertRefused(made, `alias ${bad}`);
      }
    }
    await stillIntact();
  });

  test('as transaction ids, event types and state keys they are stored as plain text', async () => {
    for (const bad of HOSTILE) {
      const txn = `${bad}-${txnId()}`;
      const path = `${V3}/rooms/${seg(room)}/send/${hseg(bad)}/${hseg(txn)}`;
      const put = (body) => rawPath(srv, path, { method: 'PUT', body, token: alice.token });
      const first = await put({ body: bad });
      assert.equal(first.status, 200, `${bad}: ${first.text}`);
      const again = await put({ body: bad });
      assert.equal(again.json.event_id, first.json.event_id, 'the same transaction id answers the same event');
      const event = await rawPath(srv, `${V3}/rooms/${seg(room)}/event/${seg(first.json.event_id)}`, { token: alice.token });
      assert.equal(event.json.type, bad);
      assert.equal(event.json.content.body, bad);

      const state = await rawPath(srv, `${V3}/rooms/${seg(room)}/state/org.example.test/${hseg(bad)}`, {
        method: 'PUT', body: { v: bad }, token: alice.token,
      });
      assert.equal(state.status, 200, `${bad}: ${state.text}`);
      const got = await rawPath(srv, `${V3}/rooms/${seg(room)}/state/org.example.test/${hseg(bad)}`, { token: alice.token });
      assert.deepEqual(got.json, { v: bad });
    }
    await stillIntact();
  });

  test('as a device id at login they name a device and nothing else', async () => {
    for (const bad of HOSTILE.slice(0, 4)) {
      const session = await login(srv, 'alice', 'pw-alice', { device_id: bad });
      assert.equal(session.device_id, bad);
      const d = await rawPath(srv, `${V3}/devices/${hseg(bad)}`, { token: session.token });
      assert.equal(d.json.device_id, bad);
    }
    const all = await srv.fetch(`${V3}/devices`, { token: alice.token });
    assert.ok(all.json.devices.length >= 5);
    await stillIntact();
  });
});

describe('static files stay inside the web root', () => {
  let srv;
  let base;
  before(async () => {
    // A web root with one file, next to a secret the server must never serve.
    base = mkdtempSync(joinPath(tmpdir(), 'hometab-web-'));
    mkdirSync(joinPath(base, 'web'));
    writeFileSync(joinPath(base, 'web', 'index.html'), '<p>hello</p>');
    writeFileSync(joinPath(base, 'secret.txt'), 'TOP-SECRET-CONTENT');
    srv = await startServer({ args: ['--no-rate-limit', '--web-root', joinPath(base, 'web')] });
  });
  after(async () => {
    await srv.stop();
    rmSync(base, { recursive: true, force: true });
  });

  test('the root itself is served', async () => {
    const res = await srv.fetch('/index.html');
    assert.equal(res.status, 200);
    assert.equal(res.text, '<p>hello</p>');
  });

  for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2E%2E%2Fsecret.txt',
    '/web/../../secret.txt', '/./../secret.txt', '/..%5csecret.txt', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/....//secret.txt', '/%00/../secret.txt', '//etc/passwd', '/../../../../../../etc/passwd']) {
    test(`${path} does not leave the root`, async () => {
      const res = await srv.raw(`GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      const body = res.data.toString('latin1');
      assert.ok(!body.includes('TOP-SECRET') && !body.includes('root:'), `${path} leaked a file`);
    });
  }
});

describe('secrets are never echoed', () => {
  let srv;
  let alice;
  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit', '--log-requests'] });
    alice = await register(srv, 'alice', { password: 'correct-horse-battery' });
  });
  after(() => srv.stop());

  const SECRET = 'Sup3rSecretPassw0rd';

  test('a wrong password is not in the error', async () => {
    const res = await srv.fetch(`${V3}/login`, {
      method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: SECRET },
    });
    assertError(res, 403, 'M_FORBIDDEN');
    assert.ok(!res.text.includes(SECRET));
  });

  test('a password in malformed JSON is not quoted back', async () => {
    for (const body of [`{"type":"m.login.password","user":"alice","password":${SECRET}}`,
      `{"password":"${SECRET}" "x"}`, `{"password":"${SECRET}`, `{"new_password":${SECRET}`]) {
      const res = await srv.fetch(`${V3}/login`, { method: 'POST', body });
      assertError(res, 400, 'M_NOT_JSON');
      assert.ok(!res.text.includes(SECRET.slice(0, 6)), `echoed: ${res.text}`);
    }
  });

  test('passwords in refused registrations and password changes are not in the error', async () => {
    const reg = await srv.fetch(`${V3}/register`, {
      method: 'POST', body: { username: 'BAD NAME!', password: SECRET, auth: { type: 'm.login.dummy' } },
    });
    assertError(reg, 400, 'M_INVALID_USERNAME');
    assert.ok(!reg.text.includes(SECRET));
    const long = await srv.fetch(`${V3}/register`, {
      method: 'POST', body: { username: 'carol', password: SECRET.repeat(100), auth: { type: 'm.login.dummy' } },
    });
    assertError(long, 400, 'M_INVALID_PARAM');
    assert.ok(!long.text.includes(SECRET));
    const first = await srv.fetch(`${V3}/account/password`, { method: 'POST', body: { new_password: SECRET }, token: alice.token });
    const change = await srv.fetch(`${V3}/account/password`, {
      method: 'POST', token: alice.token,
      body: {
        new_password: SECRET,
        auth: { type: 'm.login.password', session: first.json.session, identifier: { type: 'm.id.user', user: 'alice' }, password: `${SECRET}-wrong` },
      },
    });
    assert.equal(change.status, 401);
    assert.ok(!change.text.includes(SECRET));
  });

  test('an unknown access token is not in the error, nor in the request log', async () => {
    const token = 'syt_NotARealToken_Zx9Qw8Er7Ty6';
    for (const res of [
      await srv.fetch(`${V3}/account/whoami`, { token }),
      await srv.fetch(`${V3}/account/whoami?access_token=${token}`),
      await srv.fetch(`${V3}/sync?timeout=0&access_token=${token}&since=s0`),
    ]) {
      assertError(res, 401, 'M_UNKNOWN_TOKEN');
      assert.ok(!res.text.includes(token));
    }
    // A valid token in the query string is not logged either.
    assert.equal((await srv.fetch(`${V3}/account/whoami?access_token=${alice.token}`)).status, 200);
    // The log line travels through a pipe: give it a moment.
    const logged = /whoami\?access_token=<hidden> HTTP\/1\.1 -> 200/;
    for (let i = 0; i < 100 && !logged.test(srv.stderr); i++) await sleep(20);
    assert.match(srv.stderr, logged, srv.stderr);
    assert.ok(!srv.stderr.includes(token), 'the log holds a token');
    assert.ok(!srv.stderr.includes(alice.token), 'the log holds a token');
    assert.ok(!srv.stderr.includes(SECRET), 'the log holds a password');
  });

  // Each empty access_token= was written out longer than it came in
  // ("<hidden>" added), past the end of the log line's 256-byte stack buffer
  // (issue 9; ASan: stack-buffer-overflow). The request line must stay under
  // the 200 bytes the log looks at for its end.
  test('a request line of many empty access_token= parameters is logged cut short, and the server stays up', async () => {
    let target = '/_matrix/a?';
    while (`GET ${target}access_token=& HTTP/1.1`.length < 200) target += 'access_token=&';
    const raw = await srv.raw(`GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    assert.equal(raw.status, 404);
    const logged = /\/_matrix\/a\?(access_token=<hidden>&)+[^\n]* -> 404/;
    for (let i = 0; i < 100 && !logged.test(srv.stderr); i++) await sleep(20);
    const line = srv.stderr.split('\n').find((l) => logged.test(l));
    assert.ok(line, srv.stderr);
    // The request's own part, after the log's time and level.
    const logged_part = line.replace(/^\S+ \S+ +/, '');
    assert.ok(logged_part.length < 300, `the line is ${logged_part.length} bytes long`);
    assert.equal((await srv.fetch('/_matrix/client/versions')).status, 200);
  });
});
