// browser-native.test.mjs -- a browser server (the demo in p2p mode, its
// own wasm homeserver named by its key) and a native hometab share a room
// through the relay's HTTP gateway, both ways: the browser's requests for
// the native server's name go to the relay on the transport and out of the
// gateway by http (--gateway-insecure-http: loopback only); the native
// server's requests for the key name go to the gateway (--p2p-gateway) with
// `Host: <key name>` and reach the browser's page over its own relay
// connection. The native server also serves the page; its name is its
// address (an IP literal, what the gateway resolves).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isKeyName } from '../../js-bridge/p2p/names.js';
import { startRelay } from './lib/harness.mjs';
import {
  WAIT_MS, api, bodies, launchBrowser, openP2p, register, say, stateOf, statusOf, until, startNative,
} from './lib/servers.mjs';

// A client of the native server, from node.
function nativeApi(native, method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${native.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    .then(async (r) => ({ status: r.status, json: await r.json().catch(() => null) }));
}

describe('a browser server and a native hometab, through the gateway', { timeout: 5 * WAIT_MS }, () => {
  test('invite from the browser, join from the native server, chat both ways', async () => {
    const relay = await startRelay({ gateway: true, insecureHttp: true });
    const gateway = new URL(relay.gateway).host;
    const native = await startNative({ relay, args: ['--federation', '--federation-insecure-http', '--p2p-gateway', gateway] });
    const page = await openP2p(await launchBrowser(), native);
    const nameA = (await statusOf(page)).serverName;
    assert.ok(isKeyName(nameA));

    const alice = await register(page, 'alice');
    const carolReg = await nativeApi(native, 'POST', '/_matrix/client/v3/register',
      { body: { username: 'carol', password: 'pw-carol-123456', auth: { type: 'm.login.dummy' } } });
    assert.equal(carolReg.status, 200, JSON.stringify(carolReg.json));
    const carol = carolReg.json;
    assert.equal(carol.user_id, `@carol:${native.serverName}`);

    const created = await api(page, 'POST', '/_matrix/client/v3/createRoom',
      { token: alice.access_token, body: { preset: 'private_chat', name: 'Browser and native' } });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const roomId = created.json.room_id;
    const room = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;
    // Browser -> native: the invite goes out through the gateway.
    const invited = await api(page, 'POST', `${room}/invite`, { token: alice.access_token, body: { user_id: carol.user_id } });
    assert.equal(invited.status, 200, JSON.stringify(invited.json));
    await until('the invite on the native server', async () => {
      const r = await nativeApi(native, 'GET', '/_matrix/client/v3/sync?timeout=0', { token: carol.access_token });
      return r.json?.rooms?.invite?.[roomId];
    });
    // Native -> browser: make_join and send_join go to the key name, through the gateway.
    const joined = await nativeApi(native, 'POST', `${room}/join`, { token: carol.access_token, body: {} });
    assert.equal(joined.status, 200, JSON.stringify(joined.json));

    await say(page, alice.access_token, roomId, 'hello native');
    await until('alice\'s message on the native server', async () => {
      const r = await nativeApi(native, 'GET', `${room}/messages?dir=b&limit=50`, { token: carol.access_token });
      return r.json?.chunk?.some((e) => e.content?.body === 'hello native');
    });
    const sent = await nativeApi(native, 'PUT', `${room}/send/m.room.message/c1`,
      { token: carol.access_token, body: { msgtype: 'm.text', body: 'hello browser' } });
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    await until('carol\'s message in the browser', async () => (await bodies(page, alice.access_token, roomId)).includes('hello browser'));
    assert.deepEqual(await bodies(page, alice.access_token, roomId), ['hello native', 'hello browser']);
    // Both ways crossed the gateway (its log names each request it carried).
    assert.match(relay.log, /gateway native->browser PUT \/_matrix\/federation\/v1\/send\/\S+ host=\S+ 200/);
    assert.match(relay.log, /gateway browser->native .* 200/);
    // On the sanitizer build (HOMETAB_SANITIZED=1), any report fails the test.
    assert.equal(await native.stop(), 0, native.log.slice(-4000));
    assert.doesNotMatch(native.log, /AddressSanitizer|LeakSanitizer|runtime error/);
  });

  // The join's answer holds more events than three of the joining core's
  // slices (federation/join_intake.c): the browser's server takes them a
  // slice a pass, parking the request until now between them, which the
  // service worker's host (js-bridge) must carry like any park.
  test('the browser joins a big room of the native server, taken in slices', async () => {
    const relay = await startRelay({ gateway: true, insecureHttp: true });
    const gateway = new URL(relay.gateway).host;
    const native = await startNative({ relay, args: ['--federation', '--federation-insecure-http', '--p2p-gateway', gateway] });
    const page = await openP2p(await launchBrowser(), native);
    const alice = await register(page, 'alice');
    const carol = (await nativeApi(native, 'POST', '/_matrix/client/v3/register',
      { body: { username: 'carol', password: 'pw-carol-123456', auth: { type: 'm.login.dummy' } } })).json;
    const created = await nativeApi(native, 'POST', '/_matrix/client/v3/createRoom',
      { token: carol.access_token, body: { preset: 'public_chat', name: 'Big native room' } });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const roomId = created.json.room_id;
    const room = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;
    const EXTRA = 400;
    for (let k = 0; k < EXTRA; k++) {
      const r = await nativeApi(native, 'PUT', `${room}/state/org.hometab.test/key${k}`, { token: carol.access_token, body: { k } });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
    const joined = await api(page, 'POST',
      `/_matrix/client/v3/join/${encodeURIComponent(roomId)}?server_name=${encodeURIComponent(native.serverName)}`,
      { token: alice.access_token, body: {} });
    assert.equal(joined.status, 200, JSON.stringify(joined.json));
    const state = await api(page, 'GET', `${room}/state`, { token: alice.access_token });
    assert.equal(state.status, 200);
    assert.equal(state.json.filter((e) => e.type === 'org.hometab.test').length, EXTRA);
    assert.equal((await stateOf(page, alice.access_token, roomId, 'm.room.name')).name, 'Big native room');
    await say(page, alice.access_token, roomId, 'hello from a slice-taken room');
    await until('alice\'s message on the native server', async () => {
      const r = await nativeApi(native, 'GET', `${room}/messages?dir=b&limit=10`, { token: carol.access_token });
      return r.json?.chunk?.some((e) => e.content?.body === 'hello from a slice-taken room');
    });
    assert.equal(await native.stop(), 0, native.log.slice(-4000));
  });
});
