// crash_safety.test.mjs -- "a write acknowledged to a client is committed":
// kill -9 the server while several clients send, restart it on the same
// database, and check that SQLite's file is intact and that every message
// whose send returned 200 is there, in the order it was sent.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, createRoom, history, join, register, seg, txnId } from './lib/matrix.mjs';

const CLIENTS = 4;
const KILL_AFTER_ACKS = 100;
const ROUNDS = 3;

function integrityCheck(db) {
  return execFileSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim();
}

// One client: sends <prefix><i> for i = 0, 1, 2... one after another until
// the server dies. Records every acknowledged send and the one in flight.
async function sendUntilDeath(srv, who, roomId, prefix, round) {
  for (let i = 0; ; i++) {
    const body = `${prefix}${i}`;
    round.inFlight.set(prefix, body);
    let res;
    try {
      res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`, {
        method: 'PUT', body: { msgtype: 'm.text', body }, token: who.token,
      });
    } catch {
      return; // the connection died with the server
    }
    assert.equal(res.status, 200, res.text);
    round.acked.push({ body, eventId: res.json.event_id });
    if (round.acked.length === KILL_AFTER_ACKS) round.kill();
  }
}

// Checks, on a running server, that everything acknowledged in `round` is
// stored, and that each client's messages are in order with no gaps: beyond
// the acknowledged ones, at most the one that was in flight.
async function checkRound(srv, reader, roomId, round) {
  const events = (await history(srv, reader, roomId)).filter((e) => e.type === 'm.room.message');
  const stored = new Map(events.map((e) => [e.content.body, e.event_id]));
  for (const { body, eventId } of round.acked)
    assert.equal(stored.get(body), eventId, `acknowledged ${body} (${eventId}) is missing after the crash`);
  for (const [prefix, inFlight] of round.inFlight) {
    const mine = events.map((e) => e.content.body).filter((b) => b.startsWith(prefix));
    assert.deepEqual(mine, mine.map((_, i) => `${prefix}${i}`), `${prefix}: out of order or with gaps`);
    const ackedCount = round.acked.filter((a) => a.body.startsWith(prefix)).length;
    assert.ok(mine.length === ackedCount || (mine.length === ackedCount + 1 && mine.at(-1) === inFlight),
      `${prefix}: ${ackedCount} acknowledged, ${mine.length} stored`);
  }
}

test('kill -9 under load loses no acknowledged message and leaves an intact database', async () => {
  let srv = await startServer({ args: ['--no-rate-limit'] });
  const db = srv.db;
  const dbDir = srv.dir;
  const people = [];
  for (let k = 0; k < CLIENTS; k++) people.push(await register(srv, `c${k}`));
  const roomId = await createRoom(srv, people[0], { preset: 'public_chat' });
  for (const p of people.slice(1)) await join(srv, p, roomId);

  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    // A kill a few milliseconds after the threshold lands at a different
    // point of a request each round: parsing, mid-transaction, mid-answer.
    const victim = srv;
    const round = {
      acked: [], inFlight: new Map(),
      kill: () => setTimeout(() => victim.proc.kill('SIGKILL'), r * 2),
    };
    rounds.push(round);
    await Promise.all(people.map((p, k) => sendUntilDeath(victim, p, roomId, `r${r}c${k}-`, round)));
    // stop() would insist on a clean exit; this one was killed on purpose.
    await victim.stop({ keepFiles: true }).catch(() => {});
    assert.equal((await victim.exited).signal, 'SIGKILL', 'the server was killed, not stopped');
    if (victim.dir !== dbDir) rmSync(victim.dir, { recursive: true, force: true });
    assert.ok(round.acked.length >= KILL_AFTER_ACKS);

    // The file as the crash left it (WAL included) is consistent...
    assert.equal(integrityCheck(db), 'ok', `round ${r}`);
    // ...and the restarted server has every message acknowledged so far.
    srv = await startServer({ db, args: ['--no-rate-limit'] });
    for (const done of rounds) await checkRound(srv, people[0], roomId, done);
  }

  try {
    // The server goes on: a new message is stored after the old ones.
    const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`, {
      method: 'PUT', body: { msgtype: 'm.text', body: 'after the crashes' }, token: people[1].token,
    });
    assert.equal(res.status, 200, res.text);
    const after = await history(srv, people[0], roomId);
    assert.equal(after.at(-1).content.body, 'after the crashes');
  } finally {
    await srv.stop(); // removes its own (empty) folder; the database is in dbDir
  }
  assert.equal(integrityCheck(db), 'ok');
  rmSync(dbDir, { recursive: true, force: true });
});
