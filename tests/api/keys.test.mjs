// keys.test.mjs -- end-to-end encryption keys: upload, query, claim,
// changes, cross-signing (with user-interactive auth), signatures, the
// e2ee parts of /sync, and what logging out removes.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { crossSigningKey, deviceKeys, ed25519, oneTimeKeys } from './lib/e2ee.mjs';
import { assertError, createRoom, join, leave, login, register, sync, V3 } from './lib/matrix.mjs';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
});
after(() => srv.stop());

let userCounter = 0;
const fresh = (name) => register(srv, `${name}${++userCounter}`);
const post = (who, path, body) => srv.fetch(`${V3}${path}`, { method: 'POST', token: who.token, body });

async function ok(res) {
  assert.equal(res.status, 200, res.text);
  return res.json;
}

async function uploadDevice(who, { otks = [], fallback = [] } = {}) {
  const dk = deviceKeys(who);
  const body = { device_keys: dk.json };
  if (otks.length) body.one_time_keys = oneTimeKeys(who, dk.key, otks);
  if (fallback.length) body.fallback_keys = oneTimeKeys(who, dk.key, fallback, { fallback: true });
  const json = await ok(await post(who, '/keys/upload', body));
  return { ...dk, counts: json.one_time_key_counts };
}

const query = (who, users) => post(who, '/keys/query', { device_keys: users });
const claim = (who, map) => post(who, '/keys/claim', { one_time_keys: map });
const changes = (who, from, to) =>
  srv.fetch(`${V3}/keys/changes?from=${from}&to=${to}`, { token: who.token });

// ---- upload ----------------------------------------------------------------

test('upload of device and one-time keys answers the one-time key counts', async () => {
  const alice = await fresh('alice');
  const up = await uploadDevice(alice, { otks: ['A', 'B', 'C'] });
  assert.deepEqual(up.counts, { signed_curve25519: 3 });
});

test('an empty upload reports signed_curve25519: 0', async () => {
  const alice = await fresh('alice');
  const json = await ok(await post(alice, '/keys/upload', {}));
  assert.deepEqual(json.one_time_key_counts, { signed_curve25519: 0 });
});

test('device keys for another device are refused', async () => {
  const alice = await fresh('alice');
  const other = deviceKeys({ user_id: alice.user_id, device_id: 'NOTMINE' });
  assertError(await post(alice, '/keys/upload', { device_keys: other.json }), 400, 'M_INVALID_PARAM');
  const bob = await fresh('bob');
  const bobs = deviceKeys(bob);
  assertError(await post(alice, '/keys/upload', { device_keys: bobs.json }), 400, 'M_INVALID_PARAM');
});

test('malformed keys are refused with M_BAD_JSON, a non-JSON body with M_NOT_JSON', async () => {
  const alice = await fresh('alice');
  assertError(await post(alice, '/keys/upload', { device_keys: { user_id: alice.user_id } }), 400, 'M_BAD_JSON');
  assertError(await post(alice, '/keys/upload', { one_time_keys: { nocolon: 'x' } }), 400, 'M_BAD_JSON');
  assertError(await post(alice, '/keys/upload', { one_time_keys: { 'a:b': 7 } }), 400, 'M_BAD_JSON');
  assertError(await post(alice, '/keys/upload', { fallback_keys: [] }), 400, 'M_BAD_JSON');
  assertError(await srv.fetch(`${V3}/keys/upload`, { method: 'POST', token: alice.token, body: '{nope' }),
    400, 'M_NOT_JSON');
});

test('too many one-time keys in one upload are refused', async () => {
  const alice = await fresh('alice');
  const otks = {};
  for (let i = 0; i < 1001; i++) otks[`signed_curve25519:${i}`] = { key: `k${i}` };
  assertError(await post(alice, '/keys/upload', { one_time_keys: otks }), 400, 'M_BAD_JSON');
});

test('re-uploading the same one-time key is accepted and counted once', async () => {
  const alice = await fresh('alice');
  const body = { one_time_keys: { 'signed_curve25519:AAA': { key: 'k1' } } };
  await ok(await post(alice, '/keys/upload', body));
  const again = await ok(await post(alice, '/keys/upload', body));
  assert.equal(again.one_time_key_counts.signed_curve25519, 1);
});

test('a one-time key id reused with different content is refused and changes nothing', async () => {
  const alice = await fresh('alice');
  await ok(await post(alice, '/keys/upload', { one_time_keys: { 'signed_curve25519:AAA': { key: 'k1' } } }));
  const res = await post(alice, '/keys/upload', {
    one_time_keys: { 'signed_curve25519:BBB': { key: 'k2' }, 'signed_curve25519:AAA': { key: 'other' } },
  });
  assertError(res, 400, 'M_INVALID_PARAM');
  const counts = await ok(await post(alice, '/keys/upload', {}));
  assert.equal(counts.one_time_key_counts.signed_curve25519, 1);
});

test('upload without a token is 401 M_MISSING_TOKEN', async () => {
  assertError(await srv.fetch(`${V3}/keys/upload`, { method: 'POST', body: {} }), 401, 'M_MISSING_TOKEN');
});

// ---- query -------------------------------------------------------------

test('query returns a user\'s device keys as uploaded, with the display name', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  await srv.fetch(`${V3}/devices/${alice.device_id}`, { method: 'PUT', token: alice.token, body: { display_name: 'Phone' } });
  const up = await uploadDevice(alice);
  const json = await ok(await query(bob, { [alice.user_id]: [] }));
  const got = json.device_keys[alice.user_id][alice.device_id];
  assert.deepEqual(got.keys, up.json.keys);
  assert.deepEqual(got.signatures, up.json.signatures);
  assert.equal(got.unsigned.device_display_name, 'Phone');
  assert.deepEqual(json.failures, {});
});

test('query can ask for particular devices only', async () => {
  const alice = await fresh('alice');
  const second = await login(srv, alice.user_id, alice.password);
  await uploadDevice(alice);
  await uploadDevice(second);
  const all = await ok(await query(alice, { [alice.user_id]: [] }));
  assert.equal(Object.keys(all.device_keys[alice.user_id]).length, 2);
  const one = await ok(await query(alice, { [alice.user_id]: [second.device_id] }));
  assert.deepEqual(Object.keys(one.device_keys[alice.user_id]), [second.device_id]);
});

test('query of a user without keys gives an empty map; other servers are failures', async () => {
  const alice = await fresh('alice');
  const json = await ok(await query(alice, { '@nobody:localhost': [], '@someone:elsewhere.example': [] }));
  assert.deepEqual(json.device_keys['@nobody:localhost'], {});
  assert.ok(json.failures['elsewhere.example'], 'the unreachable server is listed');
});

test('query with a malformed body is refused', async () => {
  const alice = await fresh('alice');
  assertError(await post(alice, '/keys/query', {}), 400, 'M_BAD_JSON');
  assertError(await query(alice, { [alice.user_id]: 'all' }), 400, 'M_BAD_JSON');
  assertError(await query(alice, { [alice.user_id]: [1] }), 400, 'M_BAD_JSON');
  assertError(await query(alice, { 'not-a-user': [] }), 400, 'M_INVALID_PARAM');
  assertError(await post(alice, '/keys/query', { device_keys: {}, timeout: 'soon' }), 400, 'M_BAD_JSON');
});

// ---- claim -------------------------------------------------------------

test('a one-time key is claimed once, then the next, then the fallback key (repeatedly)', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const carol = await fresh('carol');
  await uploadDevice(alice, { otks: ['K1', 'K2'], fallback: ['F1'] });
  const want = { [alice.user_id]: { [alice.device_id]: 'signed_curve25519' } };
  const first = await ok(await claim(bob, want));
  const k1 = first.one_time_keys[alice.user_id][alice.device_id];
  assert.deepEqual(Object.keys(k1), ['signed_curve25519:K1']);
  assert.equal(k1['signed_curve25519:K1'].key, `otk-${alice.device_id}-K1`);
  const second = await ok(await claim(carol, want));
  assert.deepEqual(Object.keys(second.one_time_keys[alice.user_id][alice.device_id]), ['signed_curve25519:K2']);
  for (let i = 0; i < 2; i++) {
    const fb = await ok(await claim(bob, want));
    const got = fb.one_time_keys[alice.user_id][alice.device_id]['signed_curve25519:F1'];
    assert.equal(got.fallback, true);
  }
  const counts = await ok(await post(alice, '/keys/upload', {}));
  assert.equal(counts.one_time_key_counts.signed_curve25519, 0);
});

test('claiming from a device without keys returns nothing for it', async () => {
  const alice = await fresh('alice');
  const json = await ok(await claim(alice, { [alice.user_id]: { [alice.device_id]: 'signed_curve25519' },
    '@x:elsewhere.example': { D: 'signed_curve25519' } }));
  assert.deepEqual(json.one_time_keys, {});
  assert.ok(json.failures['elsewhere.example']);
});

test('claim with a malformed body is refused', async () => {
  const alice = await fresh('alice');
  assertError(await claim(alice, { [alice.user_id]: ['DEV'] }), 400, 'M_BAD_JSON');
  assertError(await claim(alice, { [alice.user_id]: { DEV: 5 } }), 400, 'M_BAD_JSON');
  assertError(await post(alice, '/keys/claim', {}), 400, 'M_BAD_JSON');
});

test('sync reports one-time key counts and unused fallback key types', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  await uploadDevice(alice, { otks: ['K1'], fallback: ['F1'] });
  const initial = await sync(srv, alice);
  assert.deepEqual(initial.device_one_time_keys_count, { signed_curve25519: 1 });
  assert.deepEqual(initial.device_unused_fallback_key_types, ['signed_curve25519']);
  const want = { [alice.user_id]: { [alice.device_id]: 'signed_curve25519' } };
  await ok(await claim(bob, want));
  await ok(await claim(bob, want)); // takes the fallback key
  const later = await sync(srv, alice, { since: initial.next_batch });
  assert.deepEqual(later.device_one_time_keys_count, { signed_curve25519: 0 });
  assert.deepEqual(later.device_unused_fallback_key_types, []);
});

test('a new fallback key is unused again; re-uploading the same one keeps it used', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const up = await uploadDevice(alice, { fallback: ['F1'] });
  const fb = oneTimeKeys(alice, up.key, ['F1'], { fallback: true });
  await ok(await claim(bob, { [alice.user_id]: { [alice.device_id]: 'signed_curve25519' } }));
  await ok(await post(alice, '/keys/upload', { fallback_keys: fb }));
  assert.deepEqual((await sync(srv, alice)).device_unused_fallback_key_types, []);
  await ok(await post(alice, '/keys/upload', { fallback_keys: oneTimeKeys(alice, up.key, ['F2'], { fallback: true }) }));
  assert.deepEqual((await sync(srv, alice)).device_unused_fallback_key_types, ['signed_curve25519']);
});

test('claiming a device\'s key wakes its waiting sync', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  await uploadDevice(alice, { otks: ['K1', 'K2'] });
  const { next_batch } = await sync(srv, alice);
  const started = Date.now();
  const waiting = sync(srv, alice, { since: next_batch, timeout: 10000 });
  await new Promise((r) => setTimeout(r, 200));
  await ok(await claim(bob, { [alice.user_id]: { [alice.device_id]: 'signed_curve25519' } }));
  const woke = await waiting;
  assert.ok(Date.now() - started < 8000, 'the sync answered before its timeout');
  assert.equal(woke.device_one_time_keys_count.signed_curve25519, 1);
});

// ---- changes -----------------------------------------------------------

test('keys/changes lists a contact who uploaded new device keys, not strangers', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const stranger = await fresh('stranger');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, room);
  const from = (await sync(srv, alice)).next_batch;
  await uploadDevice(bob);
  await uploadDevice(stranger);
  const to = (await sync(srv, alice)).next_batch;
  const json = await ok(await changes(alice, from, to));
  assert.ok(json.changed.includes(bob.user_id));
  assert.ok(!json.changed.includes(stranger.user_id));
  assert.deepEqual(json.left, []);
});

test('keys/changes lists users who left every shared room', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, room);
  const from = (await sync(srv, alice)).next_batch;
  await leave(srv, bob, room);
  const to = (await sync(srv, alice)).next_batch;
  const json = await ok(await changes(alice, from, to));
  assert.deepEqual(json.left, [bob.user_id]);
});

test('keys/changes requires valid from and to tokens', async () => {
  const alice = await fresh('alice');
  assertError(await srv.fetch(`${V3}/keys/changes?to=s1`, { token: alice.token }), 400, 'M_MISSING_PARAM');
  assertError(await srv.fetch(`${V3}/keys/changes?from=s1`, { token: alice.token }), 400, 'M_MISSING_PARAM');
  assertError(await changes(alice, 'bogus', 's1'), 400, 'M_INVALID_PARAM');
});

test('sync device_lists.changed reports a contact\'s new keys and wakes a waiting sync', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, room);
  const { next_batch } = await sync(srv, alice);
  const waiting = sync(srv, alice, { since: next_batch, timeout: 10000 });
  await new Promise((r) => setTimeout(r, 200));
  await uploadDevice(bob);
  const woke = await waiting;
  assert.deepEqual(woke.device_lists.changed, [bob.user_id]);
});

test('sync device_lists.left reports a user who no longer shares a room', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, room);
  const { next_batch } = await sync(srv, alice);
  await leave(srv, bob, room);
  const later = await sync(srv, alice, { since: next_batch });
  assert.deepEqual(later.device_lists.left, [bob.user_id]);
});

test('a newly joined member appears in device_lists.changed', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  const { next_batch } = await sync(srv, alice);
  await join(srv, bob, room);
  const later = await sync(srv, alice, { since: next_batch });
  assert.ok(later.device_lists.changed.includes(bob.user_id));
});

test('a profile change in a shared room is not a device-list change', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, room);
  const { next_batch } = await sync(srv, bob);
  const res = await srv.fetch(`${V3}/rooms/${encodeURIComponent(room)}/state/m.room.member/${encodeURIComponent(bob.user_id)}`,
    { method: 'PUT', token: bob.token, body: { membership: 'join', displayname: 'Bobby' } });
  assert.equal(res.status, 200, res.text);
  const later = await sync(srv, bob, { since: next_batch });
  assert.deepEqual(later.device_lists.changed, []);
  const seen = await sync(srv, alice, { since: next_batch });
  assert.deepEqual(seen.device_lists.changed, []);
});

// ---- cross-signing ---------------------------------------------------------

function crossSigning(who) {
  const mk = ed25519(), ssk = ed25519(), usk = ed25519();
  const master = crossSigningKey(who.user_id, 'master', mk);
  const selfSigning = mk.sign(crossSigningKey(who.user_id, 'self_signing', ssk), who.user_id);
  const userSigning = mk.sign(crossSigningKey(who.user_id, 'user_signing', usk), who.user_id);
  return { mk, ssk, usk, body: { master_key: master, self_signing_key: selfSigning, user_signing_key: userSigning } };
}

const signingUpload = (who, body) => post(who, '/keys/device_signing/upload', body);

test('first cross-signing upload needs no password; others see master and self-signing keys', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const cs = crossSigning(alice);
  await ok(await signingUpload(alice, cs.body));
  const seen = await ok(await query(bob, { [alice.user_id]: [] }));
  assert.deepEqual(seen.master_keys[alice.user_id], cs.body.master_key);
  assert.deepEqual(seen.self_signing_keys[alice.user_id], cs.body.self_signing_key);
  assert.equal(seen.user_signing_keys[alice.user_id], undefined, 'user-signing keys are private');
  const own = await ok(await query(alice, { [alice.user_id]: [] }));
  assert.deepEqual(own.user_signing_keys[alice.user_id], cs.body.user_signing_key);
});

test('replacing cross-signing keys requires the password (user-interactive auth)', async () => {
  const alice = await fresh('alice');
  await ok(await signingUpload(alice, crossSigning(alice).body));
  const next = crossSigning(alice);
  const challenge = await signingUpload(alice, next.body);
  assert.equal(challenge.status, 401);
  assert.deepEqual(challenge.json.flows, [{ stages: ['m.login.password'] }]);
  const session = challenge.json.session;
  const wrong = await signingUpload(alice, { ...next.body, auth: { type: 'm.login.password', session,
    identifier: { type: 'm.id.user', user: alice.user_id }, password: 'wrong' } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.errcode, 'M_FORBIDDEN');
  const before = await ok(await query(alice, { [alice.user_id]: [] }));
  assert.notDeepEqual(before.master_keys[alice.user_id], next.body.master_key);
  await ok(await signingUpload(alice, { ...next.body, auth: { type: 'm.login.password', session,
    identifier: { type: 'm.id.user', user: alice.user_id }, password: alice.password } }));
  const afterwards = await ok(await query(alice, { [alice.user_id]: [] }));
  assert.deepEqual(afterwards.master_keys[alice.user_id], next.body.master_key);
});

test('re-uploading exactly the stored cross-signing keys needs no password', async () => {
  const alice = await fresh('alice');
  const cs = crossSigning(alice);
  await ok(await signingUpload(alice, cs.body));
  await ok(await signingUpload(alice, cs.body));
});

test('a self-signing key not signed by the master key is refused', async () => {
  const alice = await fresh('alice');
  const cs = crossSigning(alice);
  const forged = ed25519().sign(crossSigningKey(alice.user_id, 'self_signing', cs.ssk), alice.user_id,
    `ed25519:${cs.mk.publicKey}`);
  assertError(await signingUpload(alice, { master_key: cs.body.master_key, self_signing_key: forged }),
    400, 'M_INVALID_SIGNATURE');
  const none = await ok(await query(alice, { [alice.user_id]: [] }));
  assert.deepEqual(none.master_keys, {}, 'nothing was stored');
});

test('cross-signing keys without a master key, or of the wrong shape, are refused', async () => {
  const alice = await fresh('alice');
  const cs = crossSigning(alice);
  assertError(await signingUpload(alice, { self_signing_key: cs.body.self_signing_key }), 400, 'M_MISSING_PARAM');
  assertError(await signingUpload(alice, { master_key: { ...cs.body.master_key, usage: ['self_signing'] } }),
    400, 'M_BAD_JSON');
  assertError(await signingUpload(alice, { master_key: { ...cs.body.master_key, user_id: '@bob:localhost' } }),
    400, 'M_INVALID_PARAM');
  assertError(await signingUpload(alice, { master_key: { ...cs.body.master_key, keys: { 'ed25519:abc': 'abc' } } }),
    400, 'M_INVALID_PARAM');
});

// ---- signatures ------------------------------------------------------------

test('a device signed by the self-signing key shows the signature to everyone', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const cs = crossSigning(alice);
  await ok(await signingUpload(alice, cs.body));
  const dev = await uploadDevice(alice);
  const signed = cs.ssk.sign(dev.json, alice.user_id);
  const res = await ok(await post(alice, '/keys/signatures/upload', { [alice.user_id]: { [alice.device_id]: signed } }));
  assert.deepEqual(res.failures, {});
  const seen = await ok(await query(bob, { [alice.user_id]: [] }));
  const sigs = seen.device_keys[alice.user_id][alice.device_id].signatures[alice.user_id];
  assert.ok(sigs[`ed25519:${cs.ssk.publicKey}`], 'the self-signing signature is there');
  assert.ok(sigs[`ed25519:${alice.device_id}`], 'the device\'s own signature stays');
});

test('a signature on another user\'s master key is visible to the signer only', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const carol = await fresh('carol');
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, carol, room);
  const a = crossSigning(alice), b = crossSigning(bob);
  await ok(await signingUpload(alice, a.body));
  await ok(await signingUpload(bob, b.body));
  const bobSince = (await sync(srv, bob)).next_batch, carolSince = (await sync(srv, carol)).next_batch;
  const signed = b.usk.sign(a.body.master_key, bob.user_id);
  const res = await ok(await post(bob, '/keys/signatures/upload', { [alice.user_id]: { [a.mk.publicKey]: signed } }));
  assert.deepEqual(res.failures, {});
  assert.deepEqual((await sync(srv, bob, { since: bobSince })).device_lists.changed, [alice.user_id],
    'the signer\'s devices refetch alice\'s keys');
  assert.deepEqual((await sync(srv, carol, { since: carolSince })).device_lists.changed, [],
    'nobody else is told');
  const bobView = await ok(await query(bob, { [alice.user_id]: [] }));
  assert.ok(bobView.master_keys[alice.user_id].signatures?.[bob.user_id]?.[`ed25519:${b.usk.publicKey}`]);
  const carolView = await ok(await query(carol, { [alice.user_id]: [] }));
  assert.equal(carolView.master_keys[alice.user_id].signatures?.[bob.user_id], undefined);
});

test('signatures that do not verify, on unknown keys or on altered keys are reported as failures', async () => {
  const alice = await fresh('alice');
  const cs = crossSigning(alice);
  await ok(await signingUpload(alice, cs.body));
  const dev = await uploadDevice(alice);
  const forged = ed25519().sign(dev.json, alice.user_id, `ed25519:${cs.ssk.publicKey}`);
  const altered = cs.ssk.sign({ ...dev.json, algorithms: ['other'] }, alice.user_id);
  const res = await ok(await post(alice, '/keys/signatures/upload', {
    [alice.user_id]: { [alice.device_id]: forged, NOSUCHDEVICE: cs.ssk.sign(dev.json, alice.user_id) },
  }));
  assert.equal(res.failures[alice.user_id][alice.device_id].errcode, 'M_INVALID_SIGNATURE');
  assert.equal(res.failures[alice.user_id].NOSUCHDEVICE.errcode, 'M_NOT_FOUND');
  const res2 = await ok(await post(alice, '/keys/signatures/upload', { [alice.user_id]: { [alice.device_id]: altered } }));
  assert.equal(res2.failures[alice.user_id][alice.device_id].errcode, 'M_INVALID_SIGNATURE');
  const seen = await ok(await query(alice, { [alice.user_id]: [] }));
  assert.equal(seen.device_keys[alice.user_id][alice.device_id].signatures[alice.user_id][`ed25519:${cs.ssk.publicKey}`],
    undefined, 'no forged signature was stored');
  assertError(await post(alice, '/keys/signatures/upload', { [alice.user_id]: 'x' }), 400, 'M_BAD_JSON');
});

// ---- devices going away ----------------------------------------------------

test('logging out deletes the device\'s keys and tells its contacts', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const second = await login(srv, alice.user_id, alice.password);
  const room = await createRoom(srv, alice, { preset: 'public_chat' });
  await join(srv, bob, room);
  await uploadDevice(second, { otks: ['X'] });
  const from = (await sync(srv, bob)).next_batch;
  await ok(await srv.fetch(`${V3}/logout`, { method: 'POST', token: second.token, body: {} }));
  const json = await ok(await query(bob, { [alice.user_id]: [] }));
  assert.equal(json.device_keys[alice.user_id][second.device_id], undefined);
  const claimed = await ok(await claim(bob, { [alice.user_id]: { [second.device_id]: 'signed_curve25519' } }));
  assert.deepEqual(claimed.one_time_keys, {});
  const later = await sync(srv, bob, { since: from });
  assert.ok(later.device_lists.changed.includes(alice.user_id));
});
