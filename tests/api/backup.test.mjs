// backup.test.mjs -- `hometab backup PATH` copies a live database while
// clients write to it, with SQLite's online backup API: each copy opens,
// passes PRAGMA integrity_check (the sqlite3 shell), and holds every message
// acknowledged before the copy began; `hometab restore` puts a copy back and
// a server started on it serves those messages.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { SANITIZED, startServer } from './lib/server.mjs';
import { V3, createRoom, history, join as joinRoom, register, seg, txnId } from './lib/matrix.mjs';

const CLIENTS = 4;
const BACKUPS = 3;
const BIN = process.env.HOMETAB_BIN;

let dir;
before(() => { dir = mkdtempSync(join(tmpdir(), 'hometab-backup-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

function sqlite(db, sql) {
  return execFileSync('sqlite3', [db, sql], { encoding: 'utf8' }).trim();
}

// The binary as a child process, awaited without blocking the event loop
// (the clients keep writing meanwhile).
function runBinary(args) {
  return new Promise((resolve) => {
    const p = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('backups taken under write load are whole and hold every acknowledged message; restore brings them back', async () => {
  const srv = await startServer({ args: ['--no-rate-limit'] });
  let restored;
  try {
    const people = [];
    for (let k = 0; k < CLIENTS; k++) people.push(await register(srv, `w${k}`));
    const roomId = await createRoom(srv, people[0], { preset: 'public_chat' });
    for (const p of people.slice(1)) await joinRoom(srv, p, roomId);

    const acked = []; // {body, eventId}, in acknowledgement order
    let writing = true;
    const writers = people.map(async (p, k) => {
      for (let i = 0; writing; i++) {
        const body = `w${k}-${i}`;
        const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`, {
          method: 'PUT', body: { msgtype: 'm.text', body }, token: p.token,
        });
        assert.equal(res.status, 200, res.text);
        acked.push({ body, eventId: res.json.event_id });
      }
    });

    // Backups while the writers run: each must hold what was acknowledged
    // before it began (and may hold more).
    const copies = [];
    for (let b = 0; b < BACKUPS; b++) {
      await new Promise((r) => setTimeout(r, SANITIZED ? 600 : 200));
      const ackedBefore = acked.length;
      const path = join(dir, `copy-${b}.sqlite`);
      const r = await runBinary(['--db', srv.db, 'backup', path]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`backup of .* written to ${path.replace(/[.]/g, '\\.')} \\(\\d+ bytes`));
      copies.push({ path, ackedBefore });
    }
    writing = false;
    await Promise.all(writers);
    assert.ok(acked.length > 50, `only ${acked.length} messages were sent during the backups`);
    assert.ok(copies.at(-1).ackedBefore > copies[0].ackedBefore, 'the writers kept going between backups');

    for (const { path, ackedBefore } of copies) {
      assert.equal(sqlite(path, 'PRAGMA integrity_check;'), 'ok', path);
      // One self-contained file: not in WAL mode, nothing beside it, owner-only.
      assert.equal(sqlite(path, 'PRAGMA journal_mode;'), 'delete');
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const stored = new Set(sqlite(path, "SELECT event_id FROM events WHERE type = 'm.room.message';").split('\n'));
      for (const { body, eventId } of acked.slice(0, ackedBefore))
        assert.ok(stored.has(eventId), `${body} was acknowledged before the backup but is not in ${path}`);
    }

    // A last copy after the load holds every acknowledged message.
    const final = join(dir, 'final.sqlite');
    const r = await runBinary(['--db', srv.db, 'backup', final]);
    assert.equal(r.code, 0, r.stderr);
    const finalIds = new Set(sqlite(final, "SELECT event_id FROM events WHERE type = 'm.room.message';").split('\n'));
    for (const { eventId } of acked) assert.ok(finalIds.has(eventId));
    await srv.stop({ keepFiles: true });

    // Restore into a new place (as after losing the disk), then start a
    // server on it: every acknowledged message is there, in order.
    const target = join(dir, 'restored.sqlite');
    const back = await runBinary(['--db', target, 'restore', final]);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /restored from/);
    restored = await startServer({ db: target, args: ['--no-rate-limit'] });
    const login = await restored.fetch(`${V3}/login`, {
      method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'w0' }, password: people[0].password },
    });
    assert.equal(login.status, 200, 'accounts come back with their passwords');
    const events = (await history(restored, { token: login.json.access_token }, roomId)).filter((e) => e.type === 'm.room.message');
    const served = new Map(events.map((e) => [e.content.body, e.event_id]));
    for (const { body, eventId } of acked) assert.equal(served.get(body), eventId, `${body} after restore`);
    for (let k = 0; k < CLIENTS; k++) {
      const mine = events.map((e) => e.content.body).filter((b) => b.startsWith(`w${k}-`));
      assert.deepEqual(mine, mine.map((_, i) => `w${k}-${i}`), `w${k}: in order`);
    }
    // And it takes new writes.
    const more = await restored.fetch(`${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`, {
      method: 'PUT', body: { msgtype: 'm.text', body: 'after restore' }, token: login.json.access_token,
    });
    assert.equal(more.status, 200);
    await restored.stop({ keepFiles: true });
    assert.equal(sqlite(target, 'PRAGMA integrity_check;'), 'ok');

    // Restoring over an existing database (--replace) puts the copy's
    // content back: the message sent after the restore is gone again.
    const over = await runBinary(['--db', target, 'restore', copies[0].path, '--replace']);
    assert.equal(over.code, 0, over.stderr);
    const bodies = sqlite(target, "SELECT json ->> '$.content.body' FROM events WHERE type = 'm.room.message';").split('\n');
    assert.ok(!bodies.includes('after restore'));
    assert.equal(sqlite(target, 'PRAGMA integrity_check;'), 'ok');
    rmSync(restored.dir, { recursive: true, force: true });
  } finally {
    await srv.stop().catch(() => {});
    rmSync(srv.dir, { recursive: true, force: true });
  }
});

test('a failed backup leaves nothing at the destination', async () => {
  const r = await runBinary(['--db', join(dir, 'missing.sqlite'), 'backup', join(dir, 'never.sqlite')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no backup made: cannot open .*missing\.sqlite/);
  assert.throws(() => statSync(join(dir, 'never.sqlite')));
  assert.throws(() => statSync(join(dir, 'never.sqlite.partial')));
});
