// checkpoint.test.mjs -- the native server copies its WAL into the database
// file on a thread of its own (src/host/native/checkpoints.c), holding the
// writes only for the last pass, so the WAL starts over; writes that outrun
// the thread are held sooner (past 48 MiB not copied). Left to itself the
// core would let the WAL of a host that checkpoints grow to 256 MiB, so a
// WAL that stays well below shows the host's checkpoints ran; the exit line
// counts them. A kill -9 while they run loses no acknowledged message.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, createRoom, join, register, seg, txnId } from './lib/matrix.mjs';

const CLIENTS = 4;
// Random base64: hundreds of words for the search index, so a message
// writes some hundred WAL pages (the writes outrun the thread).
const BODY_CHARS = 40000;
const MESSAGES = 400; // about 190 MiB of WAL
const MiB = 1024 * 1024;

const body = (tag) => `${tag} ${randomBytes(BODY_CHARS * 0.75).toString('base64')}`;

// CLIENTS senders share `count` messages; returns what was acknowledged,
// stopping quietly at the first failed connection (a killed server).
async function sendMany(srv, people, roomId, count, tag, onAck = () => {}) {
  const acked = [];
  let next = 0;
  await Promise.all(people.map(async (who) => {
    while (next < count) {
      const text = body(`${tag}${next++}`);
      let res;
      try {
        res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`, {
          method: 'PUT', body: { msgtype: 'm.text', body: text }, token: who.token,
        });
      } catch {
        return;
      }
      assert.equal(res.status, 200, res.text);
      acked.push({ eventId: res.json.event_id, text });
      onAck(acked.length);
    }
  }));
  return acked;
}

async function assertStored(srv, reader, roomId, acked) {
  for (const { eventId, text } of acked) {
    const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/event/${seg(eventId)}`, { token: reader.token });
    assert.equal(res.status, 200, `acknowledged ${eventId} is missing: ${res.text}`);
    assert.equal(res.json.content.body, text, `${eventId} came back altered`);
  }
}

const integrityCheck = (db) => execFileSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim();

test('the WAL is checkpointed off the loop and starts over; kill -9 meanwhile loses nothing', async () => {
  let srv = await startServer({ args: ['--no-rate-limit'] });
  const { db, dir } = srv;
  try {
    const people = [];
    for (let k = 0; k < CLIENTS; k++) people.push(await register(srv, `w${k}`));
    const roomId = await createRoom(srv, people[0], { preset: 'public_chat' });
    for (const p of people.slice(1)) await join(srv, p, roomId);

    const first = await sendMany(srv, people, roomId, MESSAGES, 'a');
    const wal = statSync(`${db}-wal`).size; // the file keeps its largest size
    assert.ok(wal < 96 * MiB, `the WAL grew to ${(wal / MiB).toFixed(1)} MiB`);
    await srv.stop({ keepFiles: true });
    const m = /(\d+) checkpoints off the loop/.exec(srv.stderr);
    assert.ok(m, `no checkpoint count in the exit line:\n${srv.stderr}`);
    assert.ok(Number(m[1]) >= 3, `${m[1]} checkpoints off the loop for ~190 MiB of WAL`);
    assert.equal(integrityCheck(db), 'ok');

    // Again, killed while sending (and so, likely, while checkpointing).
    srv = await startServer({ db, args: ['--no-rate-limit'] });
    const victim = srv;
    const second = await sendMany(victim, people, roomId, MESSAGES, 'b', (n) => {
      if (n === MESSAGES / 2) victim.proc.kill('SIGKILL');
    });
    await victim.stop({ keepFiles: true }).catch(() => {});
    assert.equal((await victim.exited).signal, 'SIGKILL');
    if (victim.dir !== dir) rmSync(victim.dir, { recursive: true, force: true });
    assert.equal(integrityCheck(db), 'ok');

    srv = await startServer({ db, args: ['--no-rate-limit'] });
    await assertStored(srv, people[0], roomId, [...first, ...second]);
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
