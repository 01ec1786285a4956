// group_commit.test.mjs -- the native host commits writes that arrive
// together in one transaction (issue 15; server.c, hometab.h "Group
// commit"), and nothing a client can see changes for it:
//   - many senders at once: every message stored once, each sender's in
//     its order, a repeated transaction id answered with the same event;
//     refused requests among them change nothing; and the server's exit
//     report shows the writes were indeed committed together;
//   - a write and a read pipelined on one connection: the read sees it;
//   - reads beside writes see only what is committed: kill -9 while
//     readers and writers run, and everything any reader saw, like
//     everything any writer was told was stored, is there after a restart.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, createRoom, history, join, messages, register, seg, txnId } from './lib/matrix.mjs';

// "...; N writes committed together in G groups" -> {writes, groups}.
function groupReport(stderr) {
  const m = /(\d+) writes committed together in (\d+) groups/.exec(stderr);
  assert.ok(m, `no group report in:\n${stderr}`);
  return { writes: Number(m[1]), groups: Number(m[2]) };
}

function put(srv, who, path, body) {
  return srv.fetch(`${V3}${path}`, { method: 'PUT', token: who.token, body });
}

const SENDERS = 16;
const PER_SENDER = 25;

test('many senders at once: every message stored once and in order, refusals change nothing, writes grouped', async () => {
  const srv = await startServer({ args: ['--no-rate-limit'] });
  const people = [];
  for (let k = 0; k < SENDERS; k++) people.push(await register(srv, `s${k}`));
  const roomId = await createRoom(srv, people[0], { preset: 'public_chat' });
  for (const p of people.slice(1)) await join(srv, p, roomId);

  const first = new Map();
  await Promise.all(people.map(async (who, k) => {
    for (let i = 0; i < PER_SENDER; i++) {
      const txn = `g${k}-${i}`;
      const res = await put(srv, who, `/rooms/${seg(roomId)}/send/m.room.message/${txn}`,
        { msgtype: 'm.text', body: `s${k}-${i}` });
      assert.equal(res.status, 200, res.text);
      if (i === 0) first.set(k, res.json.event_id);
      // Beside each send, one refused in the same breath: only the room's
      // creator may change its name (power levels), so the others' change
      // is refused and must leave nothing behind.
      if (k > 0 && i % 5 === 0) {
        const refused = await put(srv, who, `/rooms/${seg(roomId)}/state/m.room.name/`, { name: `by s${k}` });
        assert.equal(refused.status, 403, refused.text);
      }
    }
    // The first transaction id again: the same event, not a second one.
    const again = await put(srv, who, `/rooms/${seg(roomId)}/send/m.room.message/g${k}-0`,
      { msgtype: 'm.text', body: `s${k}-0` });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.event_id, first.get(k));
  }));

  const events = await history(srv, people[0], roomId);
  const bodies = events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);
  assert.equal(bodies.length, SENDERS * PER_SENDER, 'no message lost or duplicated');
  assert.equal(new Set(bodies).size, bodies.length);
  for (let k = 0; k < SENDERS; k++) {
    const mine = bodies.filter((b) => b.startsWith(`s${k}-`));
    assert.deepEqual(mine, Array.from({ length: PER_SENDER }, (_, i) => `s${k}-${i}`), `s${k}: in order`);
  }
  assert.equal(events.filter((e) => e.type === 'm.room.name').length, 0, 'no refused name change stored');

  await srv.stop();
  const { writes, groups } = groupReport(srv.stderr);
  assert.ok(groups >= 1 && writes >= 2 * groups, `writes were committed together: ${writes} in ${groups} groups`);
});

test('a write and a read pipelined on one connection: the read sees the write', async () => {
  const srv = await startServer({ args: ['--no-rate-limit'] });
  const alice = await register(srv, 'alice');
  const roomId = await createRoom(srv, alice, {});
  const conn = await srv.connect();
  for (let i = 0; i < 5; i++) {
    const body = JSON.stringify({ msgtype: 'm.text', body: `piped ${i}` });
    const auth = `Authorization: Bearer ${alice.token}\r\nHost: t\r\n`;
    // Both requests in one write: the read arrives while the write waits
    // for its group.
    conn.write(`PUT ${V3}/rooms/${seg(roomId)}/send/m.room.message/p${i} HTTP/1.1\r\n${auth}` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}` +
      `GET ${V3}/rooms/${seg(roomId)}/messages?dir=b&limit=1 HTTP/1.1\r\n${auth}\r\n`);
    const sent = await conn.response();
    assert.equal(sent.status, 200);
    const read = await conn.response();
    assert.equal(read.status, 200);
    assert.equal(read.json.chunk[0].content.body, `piped ${i}`);
    assert.equal(read.json.chunk[0].event_id, sent.json.event_id);
  }
  conn.destroy();
  await srv.stop();
});

const WRITERS = 8;
const READERS = 4;
const KILL_AFTER_ACKS = 150;

test('reads beside writes see only what is committed: after kill -9, everything read or acknowledged is there', async () => {
  let srv = await startServer({ args: ['--no-rate-limit'] });
  const dbDir = srv.dir;
  const db = srv.db;
  const people = [];
  for (let k = 0; k < WRITERS; k++) people.push(await register(srv, `w${k}`));
  const roomId = await createRoom(srv, people[0], { preset: 'public_chat' });
  for (const p of people.slice(1)) await join(srv, p, roomId);

  const acked = new Map(); // event id -> body
  const seen = new Map();  // event id -> body, as readers saw it
  let dead = false;
  const victim = srv;
  const writer = async (who, k) => {
    for (let i = 0; !dead; i++) {
      let res;
      try {
        res = await put(victim, who, `/rooms/${seg(roomId)}/send/m.room.message/${txnId()}`,
          { msgtype: 'm.text', body: `w${k}-${i}` });
      } catch {
        return; // the server died under this request
      }
      assert.equal(res.status, 200, res.text);
      acked.set(res.json.event_id, `w${k}-${i}`);
      if (acked.size === KILL_AFTER_ACKS) {
        dead = true;
        victim.proc.kill('SIGKILL');
      }
    }
  };
  const reader = async () => {
    while (!dead) {
      let res;
      try {
        res = await messages(victim, people[0], roomId, { dir: 'b', limit: 20 });
      } catch {
        return;
      }
      if (dead) return; // an answer racing the kill is not counted
      assert.equal(res.status, 200, res.text);
      for (const e of res.json.chunk) if (e.type === 'm.room.message') seen.set(e.event_id, e.content.body);
    }
  };
  await Promise.all([...people.map(writer), ...Array.from({ length: READERS }, reader)]);
  await victim.stop({ keepFiles: true }).catch(() => {});
  assert.equal((await victim.exited).signal, 'SIGKILL');
  assert.ok(seen.size > 0, 'the readers saw messages');
  assert.equal(execFileSync('sqlite3', [db, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim(), 'ok');

  srv = await startServer({ db, args: ['--no-rate-limit'] });
  try {
    const stored = new Map((await history(srv, people[0], roomId)).map((e) => [e.event_id, e.content.body]));
    for (const [id, body] of acked) assert.equal(stored.get(id), body, `acknowledged ${body} is missing`);
    for (const [id, body] of seen) assert.equal(stored.get(id), body, `${body} was read before it was committed`);
  } finally {
    await srv.stop();
  }
  rmSync(dbDir, { recursive: true, force: true });
});
