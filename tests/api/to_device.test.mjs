// to_device.test.mjs -- PUT /sendToDevice and the to_device section of
// /sync: delivery to one device or all, acknowledgement by the next since
// token, idempotent transactions, long-poll wake-up, limits, logout.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertError, login, register, sqlite, sync, txnId, V3 } from './lib/matrix.mjs';
import { startServer } from './lib/server.mjs';

let srv;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
});
after(() => srv.stop());

let userCounter = 0;
const fresh = (name) => register(srv, `${name}${++userCounter}`);

function sendToDevice(who, messages, { type = 'm.test', txn = txnId() } = {}) {
  return srv.fetch(`${V3}/sendToDevice/${encodeURIComponent(type)}/${txn}`,
    { method: 'PUT', token: who.token, body: { messages } });
}

async function sent(who, messages, options) {
  const res = await sendToDevice(who, messages, options);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, {});
}

test('a message to one device arrives in that device\'s sync only', async () => {
  const alice = await fresh('alice');
  const phone = await login(srv, alice.user_id, alice.password);
  const bob = await fresh('bob');
  await sent(bob, { [alice.user_id]: { [alice.device_id]: { hello: 'laptop' } } }, { type: 'm.room_key_request' });
  const got = await sync(srv, alice);
  assert.deepEqual(got.to_device.events, [{ sender: bob.user_id, type: 'm.room_key_request', content: { hello: 'laptop' } }]);
  const other = await sync(srv, phone);
  assert.deepEqual(other.to_device.events, []);
});

test('"*" sends to every device of the user', async () => {
  const alice = await fresh('alice');
  const phone = await login(srv, alice.user_id, alice.password);
  const bob = await fresh('bob');
  await sent(bob, { [alice.user_id]: { '*': { n: 1 } } });
  for (const device of [alice, phone]) {
    const got = await sync(srv, device);
    assert.deepEqual(got.to_device.events.map((e) => e.content), [{ n: 1 }]);
  }
});

test('messages repeat until the next sync\'s since token acknowledges them', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const start = (await sync(srv, alice)).next_batch;
  await sent(bob, { [alice.user_id]: { [alice.device_id]: { n: 1 } } });
  const first = await sync(srv, alice, { since: start });
  assert.equal(first.to_device.events.length, 1);
  const again = await sync(srv, alice, { since: start });
  assert.equal(again.to_device.events.length, 1, 'not acknowledged yet: delivered again');
  const acked = await sync(srv, alice, { since: first.next_batch });
  assert.deepEqual(acked.to_device.events, []);
  const replay = await sync(srv, alice, { since: start });
  assert.deepEqual(replay.to_device.events, [], 'deleted once acknowledged');
  const rows = await sqlite(srv, `SELECT count(*) FROM to_device WHERE user_id = '${alice.user_id}'`);
  assert.deepEqual(rows, ['0']);
});

test('the same transaction id sends only once', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const txn = txnId();
  await sent(bob, { [alice.user_id]: { [alice.device_id]: { n: 1 } } }, { txn });
  await sent(bob, { [alice.user_id]: { [alice.device_id]: { n: 2 } } }, { txn });
  const got = await sync(srv, alice);
  assert.deepEqual(got.to_device.events.map((e) => e.content), [{ n: 1 }]);
});

test('a to-device message wakes a waiting sync', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const { next_batch } = await sync(srv, alice);
  const started = Date.now();
  const waiting = sync(srv, alice, { since: next_batch, timeout: 10000 });
  await new Promise((r) => setTimeout(r, 200));
  await sent(bob, { [alice.user_id]: { [alice.device_id]: { wake: true } } });
  const woke = await waiting;
  assert.ok(Date.now() - started < 8000);
  assert.deepEqual(woke.to_device.events.map((e) => e.content), [{ wake: true }]);
});

test('messages to unknown devices and other servers are dropped without error', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  await sent(bob, { [alice.user_id]: { NOSUCHDEVICE: { n: 1 } }, '@x:elsewhere.example': { D: { n: 2 } } });
  const got = await sync(srv, alice);
  assert.deepEqual(got.to_device.events, []);
});

test('more waiting messages than one sync carries come in order over several syncs', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  for (let i = 0; i < 130; i++) await sent(bob, { [alice.user_id]: { [alice.device_id]: { i } } });
  const first = await sync(srv, alice);
  assert.equal(first.to_device.events.length, 100);
  const second = await sync(srv, alice, { since: first.next_batch });
  const all = [...first.to_device.events, ...second.to_device.events].map((e) => e.content.i);
  assert.deepEqual(all, Array.from({ length: 130 }, (_, i) => i));
});

test('malformed requests are refused', async () => {
  const alice = await fresh('alice');
  assertError(await srv.fetch(`${V3}/sendToDevice/m.test/${txnId()}`, { method: 'PUT', token: alice.token, body: {} }),
    400, 'M_BAD_JSON');
  assertError(await sendToDevice(alice, { [alice.user_id]: { [alice.device_id]: 'text' } }), 400, 'M_BAD_JSON');
  assertError(await sendToDevice(alice, { [alice.user_id]: [] }), 400, 'M_BAD_JSON');
  assertError(await sendToDevice(alice, { 'not a user': { D: {} } }), 400, 'M_INVALID_PARAM');
  assertError(await srv.fetch(`${V3}/sendToDevice/m.test/${'t'.repeat(256)}`,
    { method: 'PUT', token: alice.token, body: { messages: {} } }), 400, 'M_INVALID_PARAM');
  assertError(await srv.fetch(`${V3}/sendToDevice/m.test/t1`, { method: 'PUT', body: { messages: {} } }),
    401, 'M_MISSING_TOKEN');
});

test('a refused request does not use up its transaction id', async () => {
  const alice = await fresh('alice');
  const bob = await fresh('bob');
  const txn = txnId();
  assertError(await sendToDevice(bob, { [alice.user_id]: { [alice.device_id]: 'bad' } }, { txn }), 400, 'M_BAD_JSON');
  await sent(bob, { [alice.user_id]: { [alice.device_id]: { ok: true } } }, { txn });
  assert.equal((await sync(srv, alice)).to_device.events.length, 1);
});

test('logging out deletes the device\'s waiting messages', async () => {
  const alice = await fresh('alice');
  const phone = await login(srv, alice.user_id, alice.password);
  const bob = await fresh('bob');
  await sent(bob, { [alice.user_id]: { [phone.device_id]: { n: 1 } } });
  assert.deepEqual(await sqlite(srv, `SELECT count(*) FROM to_device WHERE device_id = '${phone.device_id}'`), ['1']);
  const res = await srv.fetch(`${V3}/logout`, { method: 'POST', token: phone.token, body: {} });
  assert.equal(res.status, 200);
  assert.deepEqual(await sqlite(srv, `SELECT count(*) FROM to_device WHERE device_id = '${phone.device_id}'`), ['0']);
});
