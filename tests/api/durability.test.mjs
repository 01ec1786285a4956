// durability.test.mjs -- the native server syncs its commits off its loop
// (src/host/native/wal_sync.c; server.c, "Durability"), and nothing it sends
// may run ahead of that sync: not a write's acknowledgement, nor a woken
// long-poll showing what the write made, nor the next write's answer.
//
// Under the server, tests/api/shims/slow_sync.c (LD_PRELOAD) makes every
// fdatasync of the WAL take SLOW_MS longer and logs when each returned. An
// answer that left before the sync of its commit had returned would arrive
// before any logged return after its request started.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath, resolve } from 'node:path';
import { test } from 'node:test';

import { startFakeServer } from '../federation/lib/fake-server.mjs';
import { startFederating } from '../federation/lib/hometab.mjs';
import { startServer } from './lib/server.mjs';
import { V3, createRoom, join, register, seg, sync, txnId } from './lib/matrix.mjs';

const SHIM = resolve('build/test-shims/slow_sync.so');
const SLOW_MS = 150;

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

// The returns of WAL syncs the shim logged, in microseconds since the epoch.
const syncReturns = (log) => readFileSync(log, 'utf8').split('\n').filter(Boolean).map(Number);

// The server's environment: the shim under it, logging to `log`.
const slowSyncEnv = (log) => ({
  LD_PRELOAD: SHIM,
  // The sanitizer build wants its runtime first among the libraries.
  ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ''}:verify_asan_link_order=0`,
  SLOW_SYNC_MS: String(SLOW_MS),
  SLOW_SYNC_LOG: log,
});

test('no answer leaves before the WAL sync of the commits before it has returned', async () => {
  const dir = mkdtempSync(joinPath(tmpdir(), 'durability-'));
  const log = joinPath(dir, 'syncs.log');
  const srv = await startServer({ args: ['--no-rate-limit'], env: slowSyncEnv(log) });
  try {
    const alice = await register(srv, 'alice');
    const bob = await register(srv, 'bob');
    const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
    await join(srv, bob, roomId);
    assert.ok(syncReturns(log).length > 0, 'the shim saw no WAL sync: is it under the server?');

    // Bob waits for news; Alice sends. Both answers must come after a sync
    // that returned after the send began (the commit came after that).
    const { next_batch: since } = await sync(srv, bob, { timeout: 0 });
    const woken = (async () => {
      const s = await sync(srv, bob, { since, timeout: 20000 });
      return { at: nowUs(), events: s.rooms?.join?.[roomId]?.timeline?.events ?? [] };
    })();
    await new Promise((r) => setTimeout(r, 200)); // Bob's long-poll is parked
    const sentAt = nowUs();
    const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`, {
      method: 'PUT', token: alice.token, body: { msgtype: 'm.text', body: 'durable first' },
    });
    const answeredAt = nowUs();
    assert.equal(res.status, 200, res.text);
    const bobs = await woken;
    assert.ok(bobs.events.some((e) => e.event_id === res.json.event_id), JSON.stringify(bobs.events));

    const returns = syncReturns(log).filter((t) => t > sentAt);
    assert.ok(returns.length > 0, 'no WAL sync returned after the send began');
    assert.ok(returns[0] <= answeredAt,
      `the send was answered ${(returns[0] - answeredAt) / 1000} ms before the first sync after it returned`);
    assert.ok(returns[0] <= bobs.at,
      `the woken long-poll was answered ${(returns[0] - bobs.at) / 1000} ms before that sync returned`);
    assert.ok(answeredAt - sentAt >= SLOW_MS * 1000, `answered in ${(answeredAt - sentAt) / 1000} ms`);

    // Many writes at once, each on its own connection: every answer after
    // a sync that returned after its own request began.
    const results = await Promise.all(Array.from({ length: 8 }, async (_, k) => {
      const start = nowUs();
      const r = await srv.fetch(`${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`, {
        method: 'PUT', token: k % 2 ? alice.token : bob.token, body: { msgtype: 'm.text', body: `burst ${k}` },
      });
      assert.equal(r.status, 200, r.text);
      return { start, end: nowUs() };
    }));
    const all = syncReturns(log);
    for (const { start, end } of results) {
      assert.ok(all.some((t) => t > start && t <= end), `an answer in [${start}, ${end}] with no sync returned in it`);
    }
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// Other servers are sent an event only once it is durable here: they build
// on it, and one a power cut took back would leave them holding an event
// this server no longer has.
test('the outbox sends another server an event only after its WAL sync has returned', async () => {
  const dir = mkdtempSync(joinPath(tmpdir(), 'durability-'));
  const log = joinPath(dir, 'syncs.log');
  const hs = await startFederating({ env: slowSyncEnv(log) });
  const fake = await startFakeServer();
  try {
    const alice = await register(hs, 'alice');
    const roomId = await createRoom(hs, alice, { preset: 'public_chat' });
    await fake.joinRoom(hs.serverName, roomId, `@bob:${fake.serverName}`);
    const sentAt = nowUs();
    const res = await hs.fetch(`${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`, {
      method: 'PUT', token: alice.token, body: { msgtype: 'm.text', body: 'for the other server' },
    });
    assert.equal(res.status, 200, res.text);
    const deadline = Date.now() + 20000;
    let got;
    while (!(got = fake.pdusReceived.find((p) => p.eventId === res.json.event_id))) {
      assert.ok(Date.now() < deadline, 'the other server never received the event');
      await new Promise((r) => setTimeout(r, 20));
    }
    const first = syncReturns(log).find((t) => t > sentAt);
    assert.ok(first !== undefined, 'no WAL sync returned after the send began');
    assert.ok(first <= (got.at + 1) * 1000,
      `the other server had the event ${(first - got.at * 1000) / 1000} ms before its WAL sync returned`);
  } finally {
    await fake.stop();
    await hs.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// A sync that fails leaves nothing to vouch for the commits it was to cover
// (the kernel may have dropped the pages it could not write): the server
// stops at once and answers none of the writes that waited for it. What it
// acknowledged before is all there after a restart, in an intact database.
test('a failed WAL sync stops the server without acknowledging what waited for it', async () => {
  const dir = mkdtempSync(joinPath(tmpdir(), 'durability-'));
  const failFile = joinPath(dir, 'fail-now');
  const srv = await startServer({ args: ['--no-rate-limit'], env: { ...slowSyncEnv(joinPath(dir, 'syncs.log')), SLOW_SYNC_MS: '0', SLOW_SYNC_FAIL_FILE: failFile } });
  let again;
  try {
    const alice = await register(srv, 'alice');
    const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
    const before = await srv.fetch(`${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`, {
      method: 'PUT', token: alice.token, body: { msgtype: 'm.text', body: 'acknowledged' },
    });
    assert.equal(before.status, 200, before.text);

    writeFileSync(failFile, '');
    const lost = await srv.fetch(`${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`, {
      method: 'PUT', token: alice.token, body: { msgtype: 'm.text', body: 'never acknowledged' },
    }).then((r) => r, (e) => ({ error: e }));
    assert.ok(lost.error, `the write was answered ${lost.status} though its sync failed`);
    const { code, stderr } = await srv.died();
    assert.equal(code, 5, stderr);
    assert.match(stderr, /could not be made durable \(fdatasync: Input\/output error\)/);

    rmSync(failFile);
    again = await startServer({ args: ['--no-rate-limit'], db: srv.db });
    assert.equal(execFileSync('sqlite3', [srv.db, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim(), 'ok');
    const login = await again.fetch(`${V3}/login`, {
      method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'pw-alice' },
    });
    assert.equal(login.status, 200, login.text);
    const got = await again.fetch(`${V3}/rooms/${seg(roomId)}/event/${seg(before.json.event_id)}`, { token: login.json.access_token });
    assert.equal(got.status, 200, got.text);
    assert.equal(got.json.content.body, 'acknowledged');
  } finally {
    await again?.stop();
    rmSync(srv.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
