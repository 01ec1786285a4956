// client.mjs -- matrix-js-sdk as the SDK tests use it: loaded once (with
// the one polyfill it needs on node 20), quiet, and a few steps every test
// takes: register through user-interactive auth, log in and start the sync
// loop, wait for an event.
//
// The SDK is pinned at 43.x, which declares node >= 22; on node 20 it only
// lacks Promise.withResolvers, so that is polyfilled before the SDK is loaded
// (hence the dynamic import).

import assert from 'node:assert/strict';
import { SANITIZED } from '../../api/lib/server.mjs';

if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}
// The SDK logs every request at debug level and chats at warn level (default
// push rules it adds, call sessions); keep its errors. Its logger is set up
// before the rest of the SDK loads, so every child logger inherits this.
const { logger: sdkLogger } = await import('matrix-js-sdk/lib/logger.js');
sdkLogger.methodFactory = (method) => (method === 'error' ? (...m) => console.error('[sdk]', ...m) : () => {});
sdkLogger.rebuild();
export const quiet = {
  trace() {}, debug() {}, info() {}, warn() {},
  error: (...m) => console.error('[sdk]', ...m),
  getChild() { return quiet; },
};

// The SDK arms a watchdog timer for every request (80-110 s, its AbortSignal
// timeout ponyfill) and a 6-hour capabilities refresh, and never clears them:
// in node they would hold this test file open for two minutes after it ends.
// Timers of a minute or more are unref'd; this file's own waits are shorter.
const setTimeoutRef = globalThis.setTimeout;
globalThis.setTimeout = function setTimeoutUnrefLong(fn, ms, ...args) {
  const timer = setTimeoutRef(fn, ms, ...args);
  if (ms >= 60000) timer.unref();
  return timer;
};

export const sdk = await import('matrix-js-sdk');

const SLOW = SANITIZED ? 4 : 1;
const WAIT_MS = 10000 * SLOW;

// Resolves with the first emission of `event` on `emitter` for which
// `check(...args)` is true; rejects after WAIT_MS with `what` in the message.
// `already()` is consulted first, for state the SDK may already hold. A
// `check` that throws rejects with its error.
export function waitFor(emitter, event, check, what, already = () => false) {
  return new Promise((resolve, reject) => {
    if (already()) return resolve();
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`));
    }, WAIT_MS);
    function listener(...args) {
      let done;
      try {
        done = check(...args);
      } catch (e) {
        done = e; // a check that throws ends the wait with its error
      }
      if (!done) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      if (done instanceof Error) reject(done);
      else resolve(args);
    }
    emitter.on(event, listener);
  });
}

// Registers through the user-interactive auth flow as a client does: the first
// call returns the flows and a session, the second completes m.login.dummy.
export async function registerUser(baseUrl, name, password) {
  const client = sdk.createClient({ baseUrl, logger: quiet });
  let session;
  try {
    await client.registerRequest({ username: name, password });
    assert.fail('register without auth must start user-interactive auth');
  } catch (e) {
    assert.equal(e.httpStatus, 401, `register ${name}: ${e.message}`);
    assert.ok(e.data.flows.some((f) => f.stages.includes('m.login.dummy')), JSON.stringify(e.data));
    session = e.data.session;
    assert.equal(typeof session, 'string');
  }
  const res = await client.registerRequest({
    username: name, password, auth: { type: 'm.login.dummy', session }, initial_device_display_name: 'sdk test',
  });
  assert.match(res.user_id, new RegExp(`^@${name}:`));
  assert.equal(typeof res.access_token, 'string');
  return res.user_id;
}

// Logs in with the SDK (it sends the legacy `user` field too) and starts the
// sync loop; resolves once the client reports PREPARED.
export async function loginAndStart(baseUrl, userId, password) {
  const anon = sdk.createClient({ baseUrl, logger: quiet });
  const res = await anon.loginWithPassword(userId, password);
  assert.equal(res.user_id, userId);
  const client = sdk.createClient({
    baseUrl, userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id, logger: quiet,
  });
  const prepared = waitFor(client, sdk.ClientEvent.Sync, (state) => {
    if (state === 'ERROR') throw new Error(`${userId}: sync loop entered ERROR`);
    return state === 'PREPARED';
  }, `${userId} to reach PREPARED`);
  await client.startClient({ initialSyncLimit: 10 });
  await prepared;
  return client;
}
