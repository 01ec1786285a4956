// canonical_json.test.mjs -- event content must have a canonical JSON form
// (room versions 6 and later): floats and integers beyond 2^53 are refused
// with 400 M_BAD_JSON on every path that makes events, and nothing is
// stored; what is stored is hashed over the canonical bytes; the server's
// signing key is made once and kept in the database.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { canonicalJson } from './lib/e2ee.mjs';
import { V3, assertError, createRoom, register, seg, sqlite, txnId } from './lib/matrix.mjs';
import { startServer } from './lib/server.mjs';

const eventCount = async (srv) => Number((await sqlite(srv, 'SELECT count(*) FROM events'))[0]);

describe('event content and canonical JSON', () => {
  let srv, alice, room;
  before(async () => {
    srv = await startServer({ args: ['--no-rate-limit'] });
    alice = await register(srv, 'alice');
    room = await createRoom(srv, alice);
  });
  after(() => srv.stop());

  // Raw bodies: JSON.stringify cannot write 2^53 + 1 or -0.
  const sendRaw = (text) => srv.fetch(`${V3}/rooms/${seg(room)}/send/m.room.message/${txnId()}`, {
    method: 'PUT', body: text, token: alice.token, headers: { 'content-type': 'application/json' },
  });

  test('floats and integers beyond 2^53 - 1 are refused, saying where', async () => {
    const before = await eventCount(srv);
    for (const [text, where] of [
      ['{"body":"x","n":1.5}', 'n'],
      ['{"body":"x","n":1e10}', 'n'],
      ['{"body":"x","n":-0.0}', 'n'],
      ['{"body":"x","deep":{"list":[1,2,9007199254740992]}}', 'deep.list[2]'],
      ['{"body":"x","n":-9007199254740992}', 'n'],
      ['{"body":"x","m.relates_to":{"n":123456789012345678}}', 'm.relates_to'],
    ]) {
      const res = await sendRaw(text);
      assertError(res, 400, 'M_BAD_JSON');
      assert.ok(res.json.error.includes(where), `${text}: ${res.json.error}`);
    }
    assert.equal(await eventCount(srv), before, 'nothing was stored');
  });

  test('integers up to 2^53 - 1 and -0 are accepted', async () => {
    const res = await sendRaw('{"body":"x","max":9007199254740991,"min":-9007199254740991,"zero":-0}');
    assert.equal(res.status, 200, res.text);
    const ev = await srv.fetch(`${V3}/rooms/${seg(room)}/event/${seg(res.json.event_id)}`, { token: alice.token });
    assert.equal(ev.status, 200, ev.text);
    assert.equal(ev.json.content.max, 9007199254740991);
    assert.equal(ev.json.content.min, -9007199254740991);
    assert.ok(Object.is(ev.json.content.zero, 0), 'stored as 0');
  });

  test('state events and createRoom refuse them too', async () => {
    const before = await eventCount(srv);
    const state = await srv.fetch(`${V3}/rooms/${seg(room)}/state/org.example.x/key`, {
      method: 'PUT', body: '{"v":0.5}', token: alice.token, headers: { 'content-type': 'application/json' },
    });
    assertError(state, 400, 'M_BAD_JSON');
    const created = await srv.fetch(`${V3}/createRoom`, {
      method: 'POST', token: alice.token,
      body: { name: 'fine', initial_state: [{ type: 'org.example.x', state_key: '', content: { v: 2 ** 60 } }] },
    });
    assertError(created, 400, 'M_BAD_JSON');
    assert.equal(await eventCount(srv), before, 'no room half-made');
    const rooms = (await srv.fetch(`${V3}/joined_rooms`, { token: alice.token })).json.joined_rooms;
    assert.deepEqual(rooms, [room]);
  });

  test('the stored content hash is over the canonical bytes (control characters in lower case)', async () => {
    const body = 'escape \u001b, unit separator \u001f, tab \t, line separator \u2028';
    const res = await srv.fetch(`${V3}/rooms/${seg(room)}/send/m.room.message/${txnId()}`, {
      method: 'PUT', body: { msgtype: 'm.text', body }, token: alice.token,
    });
    assert.equal(res.status, 200, res.text);
    const [json] = await sqlite(srv, `SELECT json FROM events WHERE event_id = '${res.json.event_id}'`);
    const stored = JSON.parse(json);
    const { hashes, signatures, unsigned, ...rest } = stored;
    const canonical = canonicalJson(rest);
    assert.ok(canonical.includes('\\u001b') && !canonical.includes('\\u001B'));
    const expected = createHash('sha256').update(canonical).digest('base64').replace(/=+$/, '');
    assert.equal(hashes.sha256, expected);
  });
});

describe('the server signing key', () => {
  test('is made at the first start and kept in the database across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hometab-key-'));
    const db = join(dir, 'kept.sqlite');
    const srv = await startServer({ db });
    const seedRow = "SELECT value FROM meta WHERE key = 'server_signing_seed_ed25519'";
    const [seed] = await sqlite(srv, seedRow);
    assert.match(seed, /^[A-Za-z0-9+/]{43}$/, 'unpadded base64 of 32 bytes');
    const alice = await register(srv, 'alice');
    const room = await createRoom(srv, alice);
    const texts = [];
    for (const path of ['/_matrix/client/versions', `${V3}/capabilities`, `${V3}/sync`, `${V3}/rooms/${seg(room)}/state`]) {
      texts.push((await srv.fetch(path, { token: alice.token })).text);
    }
    assert.ok(texts.every((t) => !t.includes(seed)), 'no answer carries the seed');
    await srv.stop();
    // A restart on the same file: the same seed, not a new one.
    const again = await startServer({ db });
    assert.deepEqual(await sqlite(again, seedRow), [seed]);
    await again.stop();
    rmSync(dir, { recursive: true, force: true });
  });
});
