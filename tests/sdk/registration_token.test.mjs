// registration_token.test.mjs -- matrix-js-sdk registers on a server whose
// registration needs a token: its own InteractiveAuth drives the
// m.login.registration_token stage (a wrong token first, then the right
// one), and the account it made logs in and syncs. The token, made with the
// admin API, is then used up, and the SDK is told so.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { startServer } from '../api/lib/server.mjs';
import { loginAndStart, quiet, sdk } from './lib/client.mjs';

// Registers through the SDK's InteractiveAuth, answering the token stage
// with each of `tokens` in turn. Resolves with {result} once registered,
// or {refused: [errcodes]} once the tokens run out.
function registerWithTokens(baseUrl, username, password, tokens) {
  const client = sdk.createClient({ baseUrl, logger: quiet });
  const seen = [];
  const stages = [];
  return new Promise((resolve, reject) => {
    const auth = new sdk.InteractiveAuth({
      matrixClient: client,
      doRequest: (authDict) => client.registerRequest({ username, password, auth: authDict ?? undefined }),
      stateUpdated: (stage, status) => {
        stages.push(stage);
        if (status?.errcode) seen.push(status.errcode);
        if (stage !== 'm.login.registration_token') return reject(new Error(`unexpected stage ${stage}`));
        const next = tokens.shift();
        if (next === undefined) return resolve({ refused: seen, stages });
        auth.submitAuthDict({ type: 'm.login.registration_token', token: next });
      },
      requestEmailToken: () => Promise.reject(new Error('no email here')),
    });
    auth.attemptAuth().then((result) => resolve({ result, refused: seen, stages }), reject);
  });
}

describe('matrix-js-sdk: registration with a token', () => {
  let srv;
  let adminToken;
  let clientOfNew;

  before(async () => {
    srv = await startServer({ args: ['--registration', 'token', '--no-rate-limit'] });
    execFileSync(process.env.HOMETAB_BIN, ['--db', srv.db, 'create-user', 'root', '--admin'], { input: 'root password\n' });
    const anon = sdk.createClient({ baseUrl: srv.url, logger: quiet });
    adminToken = (await anon.loginWithPassword('@root:localhost', 'root password')).access_token;
  });

  after(async () => {
    clientOfNew?.stopClient();
    await srv?.stop();
  });

  test("the SDK's InteractiveAuth completes the token stage after a wrong token, and the account syncs", async () => {
    const made = await srv.fetch('/_synapse/admin/v1/registration_tokens/new', {
      method: 'POST', body: { token: 'welcome-tess', uses_allowed: 1 }, token: adminToken,
    });
    assert.equal(made.status, 200, made.text);

    const { result, refused, stages } = await registerWithTokens(srv.url, 'tess', 'tess password', ['wrong-token', 'welcome-tess']);
    assert.ok(result, 'registered');
    assert.equal(result.user_id, '@tess:localhost');
    assert.equal(typeof result.access_token, 'string');
    assert.deepEqual(refused, ['M_UNAUTHORIZED']);
    assert.deepEqual(stages, ['m.login.registration_token', 'm.login.registration_token']);

    clientOfNew = await loginAndStart(srv.url, '@tess:localhost', 'tess password');
    assert.ok(['PREPARED', 'SYNCING'].includes(clientOfNew.getSyncState()));
    const token = await srv.fetch('/_synapse/admin/v1/registration_tokens/welcome-tess', { token: adminToken });
    assert.equal(token.json.completed, 1);
  });

  test('a used-up token is refused to the next person, who gets no account', async () => {
    const { result, refused } = await registerWithTokens(srv.url, 'uma', 'uma password', ['welcome-tess']);
    assert.equal(result, undefined);
    assert.deepEqual(refused, ['M_UNAUTHORIZED']);
    const users = await srv.fetch('/_synapse/admin/v2/users', { token: adminToken });
    assert.deepEqual(users.json.users.map((u) => u.name), ['@root:localhost', '@tess:localhost']);
  });
});
