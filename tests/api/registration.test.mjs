// registration.test.mjs -- who may create an account: open, closed (the
// default off loopback), or by registration token (the spec's
// m.login.registration_token stage and its validity endpoint), with tokens
// made by the admin API, use limits and expiry.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, register } from './lib/matrix.mjs';

const VALIDITY = '/_matrix/client/v1/register/m.login.registration_token/validity';

// An admin made by the operator's command on the server's own database.
function makeAdmin(srv, name) {
  execFileSync(process.env.HOMETAB_BIN, ['--db', srv.db, 'create-user', name, '--admin'],
    { input: `pw-${name}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
}

async function loginAs(srv, name) {
  const res = await srv.fetch(`${V3}/login`, {
    method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: name }, password: `pw-${name}` },
  });
  assert.equal(res.status, 200, res.text);
  return res.json.access_token;
}

// The first /register answer: the flows and a session.
async function challenge(srv, username) {
  const res = await srv.fetch(`${V3}/register`, { method: 'POST', body: { username, password: 'a password' } });
  assert.equal(res.status, 401, res.text);
  return res.json;
}

function registerWithToken(srv, username, session, token) {
  return srv.fetch(`${V3}/register`, {
    method: 'POST',
    body: { username, password: 'a password', auth: { type: 'm.login.registration_token', token, session } },
  });
}

describe('open registration (loopback, the default there)', () => {
  let srv;
  before(async () => { srv = await startServer(); });
  after(() => srv.stop());

  test('the dummy stage registers, and the token endpoint answers for a token nobody made', async () => {
    const flows = await challenge(srv, 'olive');
    assert.deepEqual(flows.flows, [{ stages: ['m.login.dummy'] }]);
    const olive = await register(srv, 'olive');
    assert.equal(olive.user_id, '@olive:localhost');
    const v = await srv.fetch(`${VALIDITY}?token=nothing`);
    assert.equal(v.status, 200);
    assert.equal(v.json.valid, false);
  });

  test('the start line says registration is open and why', () => {
    assert.match(srv.stderr, /registration open \(a loopback address/);
  });
});

describe('closed registration', () => {
  let srv;
  before(async () => { srv = await startServer({ args: ['--registration', 'closed'] }); });
  after(() => srv.stop());

  test('POST /register answers 403 M_FORBIDDEN and creates nothing', async () => {
    for (const body of [{}, { username: 'carl', password: 'a password', auth: { type: 'm.login.dummy' } }]) {
      const res = await srv.fetch(`${V3}/register`, { method: 'POST', body });
      assert.equal(res.status, 403);
      assert.equal(res.json.errcode, 'M_FORBIDDEN');
    }
    const login = await srv.fetch(`${V3}/login`, {
      method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'carl' }, password: 'a password' },
    });
    assert.equal(login.status, 403);
  });

  test('/register/available and the token validity answer 403 too', async () => {
    const available = await srv.fetch(`${V3}/register/available?username=carl`);
    assert.equal(available.status, 403);
    assert.equal(available.json.errcode, 'M_FORBIDDEN');
    const validity = await srv.fetch(`${VALIDITY}?token=abc`);
    assert.equal(validity.status, 403);
    assert.equal(validity.json.errcode, 'M_FORBIDDEN');
  });

  test('an admin still creates accounts through the admin API', async () => {
    makeAdmin(srv, 'root');
    const token = await loginAs(srv, 'root');
    const res = await srv.fetch('/_synapse/admin/v2/users/@dora:localhost', {
      method: 'PUT', body: { password: 'dora password' }, token,
    });
    assert.equal(res.status, 201, res.text);
    const login = await srv.fetch(`${V3}/login`, {
      method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'dora' }, password: 'dora password' },
    });
    assert.equal(login.status, 200);
  });
});

describe('registration is closed by default when listening beyond loopback', () => {
  let srv;
  // 0.0.0.0 accepts the test's loopback connections; the address decides the default.
  before(async () => { srv = await startServer({ args: ['--listen', '0.0.0.0:0'] }); });
  after(() => srv.stop());

  test('POST /register answers 403 and the start line says why', async () => {
    const res = await srv.fetch(`${V3}/register`, {
      method: 'POST', body: { username: 'eve', password: 'a password', auth: { type: 'm.login.dummy' } },
    });
    assert.equal(res.status, 403);
    assert.equal(res.json.errcode, 'M_FORBIDDEN');
    assert.match(srv.stderr, /registration closed \(the default off loopback/);
  });

  test('--registration open there is honoured, with a warning in the log', async () => {
    const open = await startServer({ args: ['--listen', '0.0.0.0:0', '--registration', 'open'] });
    try {
      await register(open, 'frank');
      assert.match(open.stderr, /WARN .*registration is open to anyone who can reach 0\.0\.0\.0/);
    } finally {
      await open.stop();
    }
  });
});

describe('registration by token', () => {
  let srv;
  let admin;
  const newToken = async (body) => {
    const res = await srv.fetch('/_synapse/admin/v1/registration_tokens/new', { method: 'POST', body, token: admin });
    assert.equal(res.status, 200, res.text);
    return res.json;
  };
  before(async () => {
    srv = await startServer({ args: ['--registration', 'token', '--no-rate-limit'] });
    makeAdmin(srv, 'root');
    admin = await loginAs(srv, 'root');
  });
  after(() => srv.stop());

  test('the flows name m.login.registration_token; the dummy stage is refused', async () => {
    const flows = await challenge(srv, 'gina');
    assert.deepEqual(flows.flows, [{ stages: ['m.login.registration_token'] }]);
    const dummy = await srv.fetch(`${V3}/register`, {
      method: 'POST', body: { username: 'gina', password: 'a password', auth: { type: 'm.login.dummy', session: flows.session } },
    });
    assert.equal(dummy.status, 400);
    assert.equal(dummy.json.errcode, 'M_UNRECOGNIZED');
  });

  test('a wrong token is refused with 401 M_UNAUTHORIZED and the flows again', async () => {
    const { session } = await challenge(srv, 'gina');
    for (const token of ['no-such-token', '', 'bad token!', 'x'.repeat(65)]) {
      const res = await registerWithToken(srv, 'gina', session, token);
      assert.equal(res.status, 401, token);
      assert.equal(res.json.errcode, 'M_UNAUTHORIZED');
      assert.deepEqual(res.json.flows, [{ stages: ['m.login.registration_token'] }]);
    }
  });

  test('a token with one use registers once; the second person is refused', async () => {
    const t = await newToken({ uses_allowed: 1 });
    assert.match(t.token, /^[A-Za-z0-9._~-]{16}$/);
    assert.equal((await srv.fetch(`${VALIDITY}?token=${t.token}`)).json.valid, true);
    const first = await challenge(srv, 'hana');
    const ok = await registerWithToken(srv, 'hana', first.session, t.token);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.user_id, '@hana:localhost');
    assert.ok(ok.json.access_token);
    const after = await srv.fetch(`/_synapse/admin/v1/registration_tokens/${t.token}`, { token: admin });
    assert.deepEqual(after.json, { token: t.token, uses_allowed: 1, pending: 0, completed: 1, expiry_time: null });
    assert.equal((await srv.fetch(`${VALIDITY}?token=${t.token}`)).json.valid, false);
    const second = await challenge(srv, 'ivan');
    const refused = await registerWithToken(srv, 'ivan', second.session, t.token);
    assert.equal(refused.status, 401);
    assert.equal(refused.json.errcode, 'M_UNAUTHORIZED');
  });

  test('a registration that fails after the token stage does not use the token up', async () => {
    const t = await newToken({ uses_allowed: 1 });
    const { session } = await challenge(srv, 'jack');
    // No password: the stage passes, the registration does not.
    const res = await srv.fetch(`${V3}/register`, {
      method: 'POST', body: { username: 'jack', auth: { type: 'm.login.registration_token', token: t.token, session } },
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.errcode, 'M_MISSING_PARAM');
    const now = await srv.fetch(`/_synapse/admin/v1/registration_tokens/${t.token}`, { token: admin });
    assert.equal(now.json.completed, 0);
    assert.equal((await srv.fetch(`${VALIDITY}?token=${t.token}`)).json.valid, true);
  });

  test('an expired token is refused; a token without limits serves many', async () => {
    const soon = await newToken({ expiry_time: Date.now() + 300 });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await srv.fetch(`${VALIDITY}?token=${soon.token}`)).json.valid, false);
    const { session } = await challenge(srv, 'kate');
    assert.equal((await registerWithToken(srv, 'kate', session, soon.token)).status, 401);

    const many = await newToken({ token: 'open-day', uses_allowed: null });
    for (const name of ['lena', 'mike', 'nina']) {
      const c = await challenge(srv, name);
      assert.equal((await registerWithToken(srv, name, c.session, 'open-day')).status, 200);
    }
    const after = await srv.fetch('/_synapse/admin/v1/registration_tokens/open-day', { token: admin });
    assert.equal(after.json.completed, 3);
    assert.equal(many.uses_allowed, null);
  });

  test('the validity endpoint needs its token parameter', async () => {
    const res = await srv.fetch(VALIDITY);
    assert.equal(res.status, 400);
    assert.equal(res.json.errcode, 'M_MISSING_PARAM');
  });
});

test('the validity endpoint takes from the registration bucket: a token-guessing loop is slowed', async () => {
  const srv = await startServer({ args: ['--registration', 'token', '--rate-limit', 'register=0.01/3'] });
  try {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await srv.fetch(`${VALIDITY}?token=guess${i}`)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  } finally {
    await srv.stop();
  }
});
