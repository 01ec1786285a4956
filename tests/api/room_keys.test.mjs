// room_keys.test.mjs -- server-side key backups: versions and keys.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertError, register, V3 } from './lib/matrix.mjs';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
});
after(() => srv.stop());

let userCounter = 0;
const fresh = (name) => register(srv, `${name}${++userCounter}`);
const call = (who, method, path, body) => srv.fetch(`${V3}/room_keys${path}`, { method, token: who.token, body });
const ALG = 'm.megolm_backup.v1.curve25519-aes-sha2';

async function ok(res) {
  assert.equal(res.status, 200, res.text);
  return res.json;
}

async function newVersion(who, authData = { public_key: 'pk' }) {
  return (await ok(await call(who, 'POST', '/version', { algorithm: ALG, auth_data: authData }))).version;
}

const keyData = (fmi, fc, verified, marker) =>
  ({ first_message_index: fmi, forwarded_count: fc, is_verified: verified, session_data: { marker } });

test('without a backup, GET /room_keys/version is 404 M_NOT_FOUND', async () => {
  const alice = await fresh('alice');
  const res = await call(alice, 'GET', '/version');
  assertError(res, 404, 'M_NOT_FOUND');
  assert.equal(res.json.error, 'No current backup version.');
});

test('a created version is current, with its algorithm, auth_data, count and etag', async () => {
  const alice = await fresh('alice');
  const v1 = await newVersion(alice);
  const v2 = await newVersion(alice, { public_key: 'second' });
  assert.notEqual(v1, v2);
  const current = await ok(await call(alice, 'GET', '/version'));
  assert.equal(current.version, v2);
  assert.equal(current.algorithm, ALG);
  assert.deepEqual(current.auth_data, { public_key: 'second' });
  assert.equal(current.count, 0);
  assert.equal(typeof current.etag, 'string');
  const old = await ok(await call(alice, 'GET', `/version/${v1}`));
  assert.deepEqual(old.auth_data, { public_key: 'pk' });
});

test('backups are per user', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const v = await newVersion(alice);
  assertError(await call(bob, 'GET', '/version'), 404, 'M_NOT_FOUND');
  assertError(await call(bob, 'GET', `/version/${v}`), 404, 'M_NOT_FOUND');
});

test('creating a version with a malformed body is refused', async () => {
  const alice = await fresh('alice');
  assertError(await call(alice, 'POST', '/version', { algorithm: ALG }), 400, 'M_BAD_JSON');
  assertError(await call(alice, 'POST', '/version', { algorithm: 5, auth_data: {} }), 400, 'M_BAD_JSON');
});

test('updating a version changes auth_data, never the algorithm', async () => {
  const alice = await fresh('alice');
  const v = await newVersion(alice);
  await ok(await call(alice, 'PUT', `/version/${v}`, { algorithm: ALG, auth_data: { public_key: 'pk', extra: 1 }, version: v }));
  assert.deepEqual((await ok(await call(alice, 'GET', `/version/${v}`))).auth_data, { public_key: 'pk', extra: 1 });
  assertError(await call(alice, 'PUT', `/version/${v}`, { algorithm: 'other', auth_data: {} }), 400, 'M_INVALID_PARAM');
  assertError(await call(alice, 'PUT', `/version/${v}`, { algorithm: ALG, auth_data: {}, version: '999' }),
    400, 'M_INVALID_PARAM');
  assertError(await call(alice, 'PUT', '/version/999', { algorithm: ALG, auth_data: {} }), 404, 'M_NOT_FOUND');
});

test('deleting a version removes it and its keys', async () => {
  const alice = await fresh('alice');
  const v = await newVersion(alice);
  await ok(await call(alice, 'PUT', `/keys/!r:localhost/s1?version=${v}`, keyData(0, 0, true, 'a')));
  await ok(await call(alice, 'DELETE', `/version/${v}`));
  assertError(await call(alice, 'GET', `/version/${v}`), 404, 'M_NOT_FOUND');
  assertError(await call(alice, 'GET', '/version'), 404, 'M_NOT_FOUND');
  assertError(await call(alice, 'GET', `/keys?version=${v}`), 404, 'M_NOT_FOUND');
  assertError(await call(alice, 'DELETE', `/version/${v}`), 404, 'M_NOT_FOUND');
});

test('keys upload in all three shapes and read back; count and etag follow', async () => {
  const alice = await fresh('alice');
  const v = await newVersion(alice);
  const r1 = await ok(await call(alice, 'PUT', `/keys?version=${v}`,
    { rooms: { '!a:localhost': { sessions: { s1: keyData(0, 0, false, 'a1') } } } }));
  assert.equal(r1.count, 1);
  const r2 = await ok(await call(alice, 'PUT', `/keys/!a:localhost?version=${v}`, { sessions: { s2: keyData(0, 0, false, 'a2') } }));
  assert.equal(r2.count, 2);
  assert.notEqual(r2.etag, r1.etag);
  const r3 = await ok(await call(alice, 'PUT', `/keys/!b:localhost/s3?version=${v}`, keyData(1, 0, true, 'b3')));
  assert.equal(r3.count, 3);
  const all = await ok(await call(alice, 'GET', `/keys?version=${v}`));
  assert.deepEqual(Object.keys(all.rooms).sort(), ['!a:localhost', '!b:localhost']);
  assert.deepEqual(all.rooms['!b:localhost'].sessions.s3, keyData(1, 0, true, 'b3'));
  const room = await ok(await call(alice, 'GET', `/keys/!a:localhost?version=${v}`));
  assert.deepEqual(Object.keys(room.sessions).sort(), ['s1', 's2']);
  const one = await ok(await call(alice, 'GET', `/keys/!a:localhost/s2?version=${v}`));
  assert.deepEqual(one, keyData(0, 0, false, 'a2'));
  const empty = await ok(await call(alice, 'GET', `/keys/!none:localhost?version=${v}`));
  assert.deepEqual(empty, { sessions: {} });
  assertError(await call(alice, 'GET', `/keys/!a:localhost/nope?version=${v}`), 404, 'M_NOT_FOUND');
  assert.equal((await ok(await call(alice, 'GET', '/version'))).count, 3);
});

test('the better copy of a key is kept', async () => {
  const alice = await fresh('alice');
  const v = await newVersion(alice);
  const path = `/keys/!r:localhost/s?version=${v}`;
  await ok(await call(alice, 'PUT', path, keyData(5, 1, false, 'first')));
  await ok(await call(alice, 'PUT', path, keyData(6, 0, false, 'worse index')));
  assert.equal((await ok(await call(alice, 'GET', path))).session_data.marker, 'first');
  await ok(await call(alice, 'PUT', path, keyData(5, 0, false, 'fewer forwards')));
  assert.equal((await ok(await call(alice, 'GET', path))).session_data.marker, 'fewer forwards');
  await ok(await call(alice, 'PUT', path, keyData(9, 9, true, 'verified')));
  assert.equal((await ok(await call(alice, 'GET', path))).session_data.marker, 'verified');
  const before = (await ok(await call(alice, 'GET', '/version'))).etag;
  await ok(await call(alice, 'PUT', path, keyData(0, 0, false, 'unverified')));
  assert.equal((await ok(await call(alice, 'GET', path))).session_data.marker, 'verified');
  assert.equal((await ok(await call(alice, 'GET', '/version'))).etag, before, 'no change, same etag');
});

test('uploading to an old version is 403 M_WRONG_ROOM_KEYS_VERSION with the current one', async () => {
  const alice = await fresh('alice');
  const old = await newVersion(alice);
  const current = await newVersion(alice);
  const res = await call(alice, 'PUT', `/keys/!r:localhost/s?version=${old}`, keyData(0, 0, false, 'x'));
  assertError(res, 403, 'M_WRONG_ROOM_KEYS_VERSION');
  assert.equal(res.json.current_version, current);
});

test('keys requests need a known version and well-formed key data', async () => {
  const alice = await fresh('alice');
  const v = await newVersion(alice);
  assertError(await call(alice, 'GET', '/keys'), 400, 'M_MISSING_PARAM');
  assertError(await call(alice, 'GET', '/keys?version=42'), 404, 'M_NOT_FOUND');
  assertError(await call(alice, 'GET', '/keys?version=abc'), 404, 'M_NOT_FOUND');
  assertError(await call(alice, 'PUT', `/keys/!r:localhost/s?version=${v}`, { first_message_index: 0 }), 400, 'M_BAD_JSON');
  assertError(await call(alice, 'PUT', `/keys?version=${v}`, { rooms: [] }), 400, 'M_BAD_JSON');
  assertError(await call(alice, 'PUT', `/keys/!r:localhost/s?version=${v}`, keyData(-1, 0, false, 'x')), 400, 'M_BAD_JSON');
});

test('keys can be deleted one, by room, or all', async () => {
  const alice = await fresh('alice');
  const v = await newVersion(alice);
  await ok(await call(alice, 'PUT', `/keys?version=${v}`, { rooms: {
    '!a:localhost': { sessions: { s1: keyData(0, 0, false, '1'), s2: keyData(0, 0, false, '2') } },
    '!b:localhost': { sessions: { s3: keyData(0, 0, false, '3') } },
    '!c:localhost': { sessions: { s4: keyData(0, 0, false, '4') } } } }));
  assert.equal((await ok(await call(alice, 'DELETE', `/keys/!a:localhost/s1?version=${v}`))).count, 3);
  assert.equal((await ok(await call(alice, 'DELETE', `/keys/!a:localhost?version=${v}`))).count, 2);
  assert.equal((await ok(await call(alice, 'DELETE', `/keys?version=${v}`))).count, 0);
  assert.deepEqual((await ok(await call(alice, 'GET', `/keys?version=${v}`))).rooms, {});
});
