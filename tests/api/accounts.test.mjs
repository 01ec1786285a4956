// accounts.test.mjs -- registration (UIA), login, logout, whoami, password
// changes, devices and access tokens, per the client-server spec.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, assertError, login, register, seg, sqlite } from './lib/matrix.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--no-rate-limit'] }); });
after(async () => { await srv.stop(); });

const post = (path, body, token) => srv.fetch(`${V3}${path}`, { method: 'POST', body, token });
const get = (path, token) => srv.fetch(`${V3}${path}`, { token });
const whoami = (token) => get('/account/whoami', token);

// ---- registration -----------------------------------------------------------

test('register without auth answers 401 with a session and the m.login.dummy flow', async () => {
  const res = await post('/register', { username: 'uia1', password: 'secret-1' });
  assert.equal(res.status, 401);
  assert.equal(typeof res.json.session, 'string');
  assert.ok(res.json.session.length > 0);
  assert.ok(res.json.flows.some((f) => f.stages.includes('m.login.dummy')), res.text);
  assert.equal(typeof res.json.params, 'object');
  // Nothing was created by the challenge.
  const avail = await get('/register/available?username=uia1');
  assert.equal(avail.status, 200);
  assert.equal(avail.json.available, true);
});

test('completing the dummy stage with the session creates the account and logs it in', async () => {
  const first = await post('/register', { username: 'uia2', password: 'secret-2' });
  const res = await post('/register', {
    username: 'uia2', password: 'secret-2', auth: { type: 'm.login.dummy', session: first.json.session },
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.user_id, '@uia2:localhost');
  assert.equal(typeof res.json.access_token, 'string');
  assert.equal(typeof res.json.device_id, 'string');
  const me = await whoami(res.json.access_token);
  assert.equal(me.status, 200);
  assert.equal(me.json.user_id, '@uia2:localhost');
  assert.equal(me.json.device_id, res.json.device_id);
});

test('register with inhibit_login creates the account without a session', async () => {
  const res = await post('/register', {
    username: 'inhibited', password: 'pw', inhibit_login: true, auth: { type: 'm.login.dummy' },
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.user_id, '@inhibited:localhost');
  assert.equal(res.json.access_token, undefined);
  assert.equal(res.json.device_id, undefined);
  const taken = await get('/register/available?username=inhibited');
  assertError(taken, 400, 'M_USER_IN_USE');
  await login(srv, 'inhibited', 'pw');
});

test('register uses the device_id and initial_device_display_name given', async () => {
  const u = await register(srv, 'withdevice', { device_id: 'MYPHONE', initial_device_display_name: 'My phone' });
  assert.equal(u.device_id, 'MYPHONE');
  const dev = await get('/devices/MYPHONE', u.token);
  assert.equal(dev.status, 200, dev.text);
  assert.equal(dev.json.device_id, 'MYPHONE');
  assert.equal(dev.json.display_name, 'My phone');
});

test('register refuses an invalid user name with M_INVALID_USERNAME', async () => {
  for (const username of ['Alice', 'al ice', 'bob@home', 'é', '', 'a:b']) {
    const res = await post('/register', { username, password: 'pw', auth: { type: 'm.login.dummy' } });
    assertError(res, 400, 'M_INVALID_USERNAME');
  }
});

test('register refuses a taken user name with M_USER_IN_USE', async () => {
  await register(srv, 'taken');
  const res = await post('/register', { username: 'taken', password: 'other', auth: { type: 'm.login.dummy' } });
  assertError(res, 400, 'M_USER_IN_USE');
  // The first owner's password still works.
  await login(srv, 'taken', 'pw-taken');
});

test('register/available answers available, in use, or invalid', async () => {
  const free = await get('/register/available?username=freename');
  assert.equal(free.status, 200);
  assert.deepEqual(free.json, { available: true });
  await register(srv, 'notfree');
  assertError(await get('/register/available?username=notfree'), 400, 'M_USER_IN_USE');
  assertError(await get('/register/available?username=NotValid!'), 400, 'M_INVALID_USERNAME');
  assertError(await get('/register/available'), 400, 'M_MISSING_PARAM');
});

test('guest registration is refused with M_GUEST_ACCESS_FORBIDDEN', async () => {
  const res = await post('/register?kind=guest', {});
  assertError(res, 403, 'M_GUEST_ACCESS_FORBIDDEN');
});

test('register with fields of the wrong type is refused with M_BAD_JSON', async () => {
  for (const body of [
    { username: 5, password: 'pw', auth: { type: 'm.login.dummy' } },
    { username: 'typed', password: ['pw'], auth: { type: 'm.login.dummy' } },
    { username: 'typed', password: 'pw', inhibit_login: 'yes', auth: { type: 'm.login.dummy' } },
    { username: 'typed', password: 'pw', device_id: 7, auth: { type: 'm.login.dummy' } },
  ])
    assertError(await post('/register', body), 400, 'M_BAD_JSON');
  assertError(await post('/register', '{"username":'), 400, 'M_NOT_JSON');
  assertError(await post('/register', '[1,2]'), 400, 'M_BAD_JSON');
  // None of them created the account.
  assert.equal((await get('/register/available?username=typed')).json.available, true);
});

test('the password is stored only as an Argon2id hash', async () => {
  await register(srv, 'hashed', { password: 'correct horse battery staple' });
  const [hash] = await sqlite(srv, "SELECT password_hash FROM users WHERE user_id = '@hashed:localhost'");
  assert.match(hash, /^\$argon2id\$/);
  assert.ok(!hash.includes('correct horse'), 'the password is not in clear');
  const dump = (await sqlite(srv, 'SELECT * FROM users')).join('\n');
  assert.ok(!dump.includes('correct horse battery staple'));
});

test('password hashing does not hold up other clients: a read is answered amid a flood of logins', async () => {
  await register(srv, 'flooded');
  const finished = [];
  const logins = [];
  for (let i = 0; i < 16; i++) {
    logins.push(srv.fetch(`${V3}/login`, {
      method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'flooded' }, password: `guess-${i}` },
    }).then((res) => { finished.push('login'); return res; }));
  }
  await new Promise((r) => setImmediate(r)); // the logins are on their way first
  const read = srv.fetch('/_matrix/client/versions').then((res) => { finished.push('versions'); return res; });
  const [versions, ...refused] = await Promise.all([read, ...logins]);
  assert.equal(versions.status, 200);
  for (const res of refused) assertError(res, 403, 'M_FORBIDDEN');
  // Hashed on the event loop, most logins would finish before the read.
  const before = finished.indexOf('versions');
  assert.ok(before <= 4, `${before} of 16 logins were answered before the read: ${finished.join(' ')}`);
});

test('access tokens are not stored in clear', async () => {
  const u = await register(srv, 'tokenstore');
  const dump = (await sqlite(srv, 'SELECT hex(token_hash), user_id FROM access_tokens')).join('\n');
  assert.ok(!dump.includes(u.token));
  assert.ok(!dump.toLowerCase().includes(Buffer.from(u.token).toString('hex')));
});

// ---- login ------------------------------------------------------------------

test('GET /login offers m.login.password', async () => {
  const res = await get('/login');
  assert.equal(res.status, 200);
  assert.ok(res.json.flows.some((f) => f.type === 'm.login.password'));
});

test('login with an m.id.user identifier by localpart and by full user id', async () => {
  await register(srv, 'carol', { password: 'carol-pw' });
  const a = await login(srv, 'carol', 'carol-pw');
  assert.equal(a.user_id, '@carol:localhost');
  const b = await login(srv, '@carol:localhost', 'carol-pw');
  assert.equal(b.user_id, '@carol:localhost');
  assert.notEqual(a.device_id, b.device_id, 'each login is a new device');
  assert.equal((await whoami(a.token)).json.user_id, '@carol:localhost');
  assert.equal((await whoami(b.token)).json.user_id, '@carol:localhost');
});

test('login with the legacy user field', async () => {
  await register(srv, 'legacy', { password: 'legacy-pw' });
  const res = await post('/login', { type: 'm.login.password', user: 'legacy', password: 'legacy-pw' });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.user_id, '@legacy:localhost');
  const full = await post('/login', { type: 'm.login.password', user: '@legacy:localhost', password: 'legacy-pw' });
  assert.equal(full.status, 200, full.text);
});

test('login with a wrong password or unknown user is 403 M_FORBIDDEN', async () => {
  await register(srv, 'dave', { password: 'dave-pw' });
  const wrong = await post('/login', {
    type: 'm.login.password', identifier: { type: 'm.id.user', user: 'dave' }, password: 'nope',
  });
  assertError(wrong, 403, 'M_FORBIDDEN');
  const unknown = await post('/login', {
    type: 'm.login.password', identifier: { type: 'm.id.user', user: 'nobody' }, password: 'nope',
  });
  assertError(unknown, 403, 'M_FORBIDDEN');
  const otherServer = await post('/login', {
    type: 'm.login.password', identifier: { type: 'm.id.user', user: '@dave:elsewhere' }, password: 'dave-pw',
  });
  assertError(otherServer, 403, 'M_FORBIDDEN');
});

test('login with an unknown type or a malformed body is refused', async () => {
  assertError(await post('/login', { type: 'm.login.token', token: 'x' }), 400, 'M_UNKNOWN');
  assertError(await post('/login', { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'dave' } }),
    400, 'M_BAD_JSON');
  assertError(await post('/login', { type: 'm.login.password', user: 'dave', password: 5 }), 400, 'M_BAD_JSON');
  assertError(await post('/login', 'not json'), 400, 'M_NOT_JSON');
});

test('login with a device_id reuses that device and replaces its old token', async () => {
  await register(srv, 'reuse', { password: 'reuse-pw' });
  const a = await login(srv, 'reuse', 'reuse-pw', { device_id: 'LAPTOP', initial_device_display_name: 'Laptop' });
  assert.equal(a.device_id, 'LAPTOP');
  const b = await login(srv, 'reuse', 'reuse-pw', { device_id: 'LAPTOP' });
  assert.equal(b.device_id, 'LAPTOP');
  assertError(await whoami(a.token), 401, 'M_UNKNOWN_TOKEN');
  assert.equal((await whoami(b.token)).json.device_id, 'LAPTOP');
  const dev = await get('/devices/LAPTOP', b.token);
  assert.equal(dev.json.display_name, 'Laptop');
});

// ---- tokens -----------------------------------------------------------------

test('an access token is at least 32 random bytes and differs per login', async () => {
  await register(srv, 'tokens', { password: 'tokens-pw' });
  const seen = new Set();
  for (let i = 0; i < 5; i++) {
    const { token } = await login(srv, 'tokens', 'tokens-pw');
    assert.match(token, /^[A-Za-z0-9_\-+/=.~]+$/);
    assert.ok(token.length >= 43, `token ${token} is shorter than 43 characters`);
    assert.ok(!seen.has(token), 'tokens repeat');
    seen.add(token);
  }
});

test('the access token is accepted as a Bearer header and as the access_token parameter', async () => {
  const u = await register(srv, 'bearer');
  assert.equal((await whoami(u.token)).status, 200);
  const viaQuery = await get(`/account/whoami?access_token=${encodeURIComponent(u.token)}`);
  assert.equal(viaQuery.status, 200);
  assert.equal(viaQuery.json.user_id, '@bearer:localhost');
});

test('a request without a token is 401 M_MISSING_TOKEN', async () => {
  assertError(await get('/account/whoami'), 401, 'M_MISSING_TOKEN');
  assertError(await post('/createRoom', {}), 401, 'M_MISSING_TOKEN');
});

test('an unknown token is 401 M_UNKNOWN_TOKEN', async () => {
  assertError(await whoami('not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), 401, 'M_UNKNOWN_TOKEN');
  assertError(await get('/account/whoami?access_token=nope'), 401, 'M_UNKNOWN_TOKEN');
});

// ---- logout -----------------------------------------------------------------

test('logout ends that session only', async () => {
  await register(srv, 'quitter', { password: 'q-pw' });
  const a = await login(srv, 'quitter', 'q-pw');
  const b = await login(srv, 'quitter', 'q-pw');
  const res = await post('/logout', {}, a.token);
  assert.equal(res.status, 200);
  assertError(await whoami(a.token), 401, 'M_UNKNOWN_TOKEN');
  assert.equal((await whoami(b.token)).status, 200);
  // The logged-out device is gone from the list.
  const devices = await get('/devices', b.token);
  assert.ok(!devices.json.devices.some((d) => d.device_id === a.device_id));
  // Logging out again with the dead token is refused.
  assertError(await post('/logout', {}, a.token), 401, 'M_UNKNOWN_TOKEN');
});

test('logout/all ends every session of the user', async () => {
  await register(srv, 'allout', { password: 'a-pw' });
  const a = await login(srv, 'allout', 'a-pw');
  const b = await login(srv, 'allout', 'a-pw');
  const other = await register(srv, 'bystander');
  const res = await post('/logout/all', {}, a.token);
  assert.equal(res.status, 200);
  assertError(await whoami(a.token), 401, 'M_UNKNOWN_TOKEN');
  assertError(await whoami(b.token), 401, 'M_UNKNOWN_TOKEN');
  assert.equal((await whoami(other.token)).status, 200, 'other users keep their sessions');
  const again = await login(srv, 'allout', 'a-pw');
  const devices = await get('/devices', again.token);
  assert.deepEqual(devices.json.devices.map((d) => d.device_id), [again.device_id]);
});

test('whoami answers the user, the device and is_guest false', async () => {
  const u = await register(srv, 'whom');
  const res = await whoami(u.token);
  assert.deepEqual(res.json, { user_id: '@whom:localhost', device_id: u.device_id, is_guest: false });
});

// ---- password change --------------------------------------------------------

test('changing the password needs m.login.password UIA', async () => {
  const u = await register(srv, 'pwuser', { password: 'old-pw' });
  const first = await post('/account/password', { new_password: 'new-pw' }, u.token);
  assert.equal(first.status, 401);
  assert.ok(first.json.flows.some((f) => f.stages.includes('m.login.password')), first.text);
  assert.ok(first.json.session);
  const wrong = await post('/account/password', {
    new_password: 'new-pw',
    auth: { type: 'm.login.password', session: first.json.session, password: 'bad',
            identifier: { type: 'm.id.user', user: 'pwuser' } },
  }, u.token);
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.errcode, 'M_FORBIDDEN');
  // The password is unchanged so far.
  await login(srv, 'pwuser', 'old-pw');
});

test('a password change logs out the other devices and keeps this one', async () => {
  const u = await register(srv, 'changer', { password: 'old-pw' });
  const other = await login(srv, 'changer', 'old-pw');
  const first = await post('/account/password', { new_password: 'new-pw' }, u.token);
  const res = await post('/account/password', {
    new_password: 'new-pw',
    auth: { type: 'm.login.password', session: first.json.session, password: 'old-pw',
            identifier: { type: 'm.id.user', user: '@changer:localhost' } },
  }, u.token);
  assert.equal(res.status, 200, res.text);
  assert.equal((await whoami(u.token)).status, 200);
  assertError(await whoami(other.token), 401, 'M_UNKNOWN_TOKEN');
  const old = await post('/login', { type: 'm.login.password', user: 'changer', password: 'old-pw' });
  assertError(old, 403, 'M_FORBIDDEN');
  await login(srv, 'changer', 'new-pw');
});

test('a password change with logout_devices false keeps the other devices', async () => {
  const u = await register(srv, 'keeper', { password: 'old-pw' });
  const other = await login(srv, 'keeper', 'old-pw');
  const first = await post('/account/password', { new_password: 'new-pw', logout_devices: false }, u.token);
  const res = await post('/account/password', {
    new_password: 'new-pw', logout_devices: false,
    auth: { type: 'm.login.password', session: first.json.session, password: 'old-pw', user: 'keeper' },
  }, u.token);
  assert.equal(res.status, 200, res.text);
  assert.equal((await whoami(other.token)).status, 200);
});

test('a UIA session of one user cannot be used by another', async () => {
  const a = await register(srv, 'uiaowner', { password: 'a-pw' });
  const b = await register(srv, 'uiathief', { password: 'b-pw' });
  const first = await post('/account/password', { new_password: 'x' }, a.token);
  const res = await post('/account/password', {
    new_password: 'x',
    auth: { type: 'm.login.password', session: first.json.session, password: 'a-pw', user: 'uiaowner' },
  }, b.token);
  assert.equal(res.status, 401);
  await login(srv, 'uiaowner', 'a-pw');
  await login(srv, 'uiathief', 'b-pw');
});

// ---- devices ----------------------------------------------------------------

test('devices are listed, read and renamed', async () => {
  const u = await register(srv, 'devuser', { device_id: 'DEV1', initial_device_display_name: 'One' });
  await login(srv, 'devuser', u.password, { device_id: 'DEV2' });
  const list = await get('/devices', u.token);
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.devices.map((d) => d.device_id).sort(), ['DEV1', 'DEV2']);
  const put = await srv.fetch(`${V3}/devices/DEV2`, { method: 'PUT', body: { display_name: 'Two' }, token: u.token });
  assert.equal(put.status, 200, put.text);
  const dev = await get('/devices/DEV2', u.token);
  assert.equal(dev.json.display_name, 'Two');
  const bad = await srv.fetch(`${V3}/devices/DEV2`, { method: 'PUT', body: { display_name: 3 }, token: u.token });
  assertError(bad, 400, 'M_BAD_JSON');
  assert.equal((await get('/devices/DEV2', u.token)).json.display_name, 'Two');
});

test("another user's device is 404 and cannot be renamed", async () => {
  const a = await register(srv, 'devowner', { device_id: 'OWNED' });
  const b = await register(srv, 'devsnoop');
  assertError(await get('/devices/OWNED', b.token), 404, 'M_NOT_FOUND');
  const put = await srv.fetch(`${V3}/devices/OWNED`, { method: 'PUT', body: { display_name: 'pwned' }, token: b.token });
  assertError(put, 404, 'M_NOT_FOUND');
  const del = await srv.fetch(`${V3}/devices/OWNED`, { method: 'DELETE', body: {}, token: b.token });
  assertError(del, 404, 'M_NOT_FOUND');
  assert.equal((await whoami(a.token)).status, 200);
});

test('deleting a device needs UIA and ends its session', async () => {
  const u = await register(srv, 'deleter', { password: 'd-pw', device_id: 'KEEP' });
  const victim = await login(srv, 'deleter', 'd-pw', { device_id: 'DROP' });
  const first = await srv.fetch(`${V3}/devices/DROP`, { method: 'DELETE', body: {}, token: u.token });
  assert.equal(first.status, 401);
  assert.ok(first.json.flows.some((f) => f.stages.includes('m.login.password')));
  assert.equal((await whoami(victim.token)).status, 200, 'nothing deleted by the challenge');
  const res = await srv.fetch(`${V3}/devices/DROP`, {
    method: 'DELETE', token: u.token,
    body: { auth: { type: 'm.login.password', session: first.json.session, password: 'd-pw',
                    identifier: { type: 'm.id.user', user: 'deleter' } } },
  });
  assert.equal(res.status, 200, res.text);
  assertError(await whoami(victim.token), 401, 'M_UNKNOWN_TOKEN');
  assertError(await get('/devices/DROP', u.token), 404, 'M_NOT_FOUND');
});

test('delete_devices removes several devices after UIA', async () => {
  const u = await register(srv, 'bulk', { password: 'b-pw', device_id: 'MAIN' });
  const x = await login(srv, 'bulk', 'b-pw', { device_id: 'X' });
  const y = await login(srv, 'bulk', 'b-pw', { device_id: 'Y' });
  assertError(await post('/delete_devices', { devices: 'X' }, u.token), 400, 'M_BAD_JSON');
  const first = await post('/delete_devices', { devices: ['X', 'Y'] }, u.token);
  assert.equal(first.status, 401);
  const res = await post('/delete_devices', {
    devices: ['X', 'Y'],
    auth: { type: 'm.login.password', session: first.json.session, password: 'b-pw', user: 'bulk' },
  }, u.token);
  assert.equal(res.status, 200, res.text);
  assertError(await whoami(x.token), 401, 'M_UNKNOWN_TOKEN');
  assertError(await whoami(y.token), 401, 'M_UNKNOWN_TOKEN');
  const list = await get('/devices', u.token);
  assert.deepEqual(list.json.devices.map((d) => d.device_id), ['MAIN']);
});

test('an unknown device is 404', async () => {
  const u = await register(srv, 'nodev');
  assertError(await get(`/devices/${seg('NOPE')}`, u.token), 404, 'M_NOT_FOUND');
});
