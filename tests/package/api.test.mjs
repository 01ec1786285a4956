// api.test.mjs -- the package's API beyond the README's examples, on the
// tarball installed in the scratch project (imported through its "exports"):
// fetch's inputs, snapshots (and that they are real .sqlite files the native
// server opens), both clocks, many servers at once, the HTTP listener's
// framing and bounds, the CLI's flags and exit codes, and the errors a
// caller can provoke.

import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { UNDO_MEMBER_KEYS, UNDO_STREAM_INDEXES, UNDO_WORD_INDEX } from '../api/lib/schema.mjs';
import { PACKAGE_DIR, SCRATCH, createHomeserver, entryPath } from './lib/scratch.mjs';

const HOMETAB_BIN = process.env.HOMETAB_BIN;
if (!HOMETAB_BIN) throw new Error('HOMETAB_BIN is not set: run these tests through `make test-package`');
const tmp = mkdtempSync(join(tmpdir(), 'hometab-package-api-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const auth = (user) => ({ authorization: `Bearer ${user.accessToken}` });
const json = async (response) => ({ status: response.status, body: await response.json() });

async function until(check, what, ms = 20000) {
  for (const end = Date.now() + ms; !check();) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function sendText(hs, user, roomId, body, txn) {
  return hs.fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`,
    { method: 'PUT', headers: auth(user), body: JSON.stringify({ msgtype: 'm.text', body }) });
}

describe('the installed package', () => {
  test('resolves to its node entry through "exports", with types, a bin and no dependencies', () => {
    assert.equal(entryPath, join(PACKAGE_DIR, 'js-bridge/package/node.js'));
    const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8'));
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.dependencies, undefined);
    assert.equal(pkg.exports['.'].browser, './js-bridge/package/browser.js');
    assert.match(readFileSync(join(PACKAGE_DIR, pkg.types), 'utf8'), /export function createHomeserver/);
    assert.match(readFileSync(join(PACKAGE_DIR, pkg.bin.hometab), 'utf8'), /^#!\/usr\/bin\/env node/);
    assert.ok(readFileSync(join(PACKAGE_DIR, 'wasm/hometab-core.wasm')).subarray(0, 4).equals(Buffer.from('\0asm')));
  });
});

describe('fetch', () => {
  test('takes a path, an absolute URL, a URL object or a Request, and answers like the server', async (t) => {
    const hs = await createHomeserver({ serverName: 'fetch.test' });
    t.after(() => hs.close());
    assert.equal(hs.baseUrl, 'http://fetch.test');
    for (const input of ['/_matrix/client/versions', `${hs.baseUrl}/_matrix/client/versions`,
      new URL('/_matrix/client/versions', hs.baseUrl), new Request(`${hs.baseUrl}/_matrix/client/versions`)]) {
      const { status, body } = await json(await hs.fetch(input));
      assert.equal(status, 200, String(input));
      assert.ok(body.versions.includes('v1.6'));
    }
    const missing = await json(await hs.fetch('/_matrix/client/v3/no/such/endpoint'));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.errcode, 'M_UNRECOGNIZED');
    const wellKnown = await json(await hs.fetch('/.well-known/matrix/client'));
    assert.equal(wellKnown.body['m.homeserver'].base_url, 'http://fetch.test');
  });

  test('registerUser and createRoom give what a client needs; their errors carry the errcode', async (t) => {
    const hs = await createHomeserver();
    t.after(() => hs.close());
    const alice = await hs.registerUser('alice', { displayName: 'Alice A.', password: 'alice-secret-1' });
    const bob = await hs.registerUser('bob');
    const carol = await hs.registerUser('carol');
    assert.equal(alice.password, 'alice-secret-1');
    assert.equal((await json(await hs.fetch('/_matrix/client/v3/account/whoami', { headers: auth(alice) }))).body.user_id,
      '@alice:localhost');
    const profile = await json(await hs.fetch('/_matrix/client/v3/profile/@alice:localhost/displayname'));
    assert.equal(profile.body.displayname, 'Alice A.');
    const login = await json(await hs.fetch('/_matrix/client/v3/login', { method: 'POST', body: JSON.stringify({
      type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bob' }, password: bob.password }) }));
    assert.equal(login.status, 200, 'the default password logs in');

    const roomId = await hs.createRoom(alice, { join: [bob], invite: [carol], name: 'Set-up' });
    const members = await json(await hs.fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/members`,
      { headers: auth(alice) }));
    const membership = Object.fromEntries(members.body.chunk.map((e) => [e.state_key, e.content.membership]));
    assert.deepEqual(membership, { [alice.userId]: 'join', [bob.userId]: 'join', [carol.userId]: 'invite' });

    await assert.rejects(hs.registerUser('alice'), { errcode: 'M_USER_IN_USE', status: 400 });
  });
});

describe('snapshot, restore, reset', () => {
  test('restore goes back to the snapshot; reset to the empty server', async (t) => {
    const hs = await createHomeserver();
    t.after(() => hs.close());
    const alice = await hs.registerUser('alice');
    const withAlice = await hs.snapshot();
    assert.equal(new TextDecoder().decode(withAlice.subarray(0, 15)), 'SQLite format 3');
    await hs.registerUser('bob');
    await hs.restore(withAlice);
    const whoami = await hs.fetch('/_matrix/client/v3/account/whoami', { headers: auth(alice) });
    assert.equal(whoami.status, 200, "alice's token from before the snapshot still works");
    assert.equal((await hs.registerUser('bob')).userId, '@bob:localhost', 'bob is free again');
    await hs.reset();
    assert.equal((await hs.fetch('/_matrix/client/v3/account/whoami', { headers: auth(alice) })).status, 401);
    assert.equal((await hs.registerUser('alice')).userId, '@alice:localhost');
  });

  test('a server started from a snapshot has its data, and reset() goes back to it', async (t) => {
    const first = await createHomeserver();
    const alice = await first.registerUser('alice');
    const roomId = await first.createRoom(alice, { name: 'Kept' });
    const saved = await first.snapshot();
    await first.close();
    const hs = await createHomeserver({ snapshot: saved });
    t.after(() => hs.close());
    await hs.registerUser('bob');
    await hs.reset();
    const joined = await json(await hs.fetch('/_matrix/client/v3/joined_rooms', { headers: auth(alice) }));
    assert.deepEqual(joined.body.joined_rooms, [roomId]);
    assert.equal((await hs.registerUser('bob')).userId, '@bob:localhost', 'reset dropped what came after');
  });

  test('restoring bytes that are not a database is refused and changes nothing', async (t) => {
    const hs = await createHomeserver();
    t.after(() => hs.close());
    const alice = await hs.registerUser('alice');
    await assert.rejects(hs.restore(new TextEncoder().encode('not a database at all')), /not an SQLite database/);
    const half = (await hs.snapshot()).subarray(0, 5000);
    await assert.rejects(hs.restore(half), /truncated or damaged/);
    await assert.rejects(hs.restore('a string'), TypeError);
    assert.equal((await hs.fetch('/_matrix/client/v3/account/whoami', { headers: auth(alice) })).status, 200);
  });

  test('a snapshot is a .sqlite file the native server opens, with the same accounts', async (t) => {
    const hs = await createHomeserver();
    t.after(() => hs.close());
    const alice = await hs.registerUser('alice', { password: 'carried-over-1' });
    const roomId = await hs.createRoom(alice, { name: 'Moved' });
    const file = join(tmp, 'moved.sqlite');
    writeFileSync(file, await hs.snapshot());
    const native = spawn(HOMETAB_BIN, ['--listen', '127.0.0.1:0', '--db', file, '--no-rate-limit']);
    t.after(() => native.kill('SIGKILL'));
    let out = '';
    native.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    await until(() => /listening on (http:\/\/[^/\s]+)\//.test(out), 'the native server to listen', 15000);
    const base = /listening on (http:\/\/[^/\s]+)\//.exec(out)[1];
    const login = await json(await fetch(`${base}/_matrix/client/v3/login`, { method: 'POST', body: JSON.stringify({
      type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'carried-over-1' }) }));
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const joined = await json(await fetch(`${base}/_matrix/client/v3/joined_rooms`, { headers: auth({ accessToken: login.body.access_token }) }));
    assert.deepEqual(joined.body.joined_rooms, [roomId]);
    native.kill('SIGTERM');
    const code = await new Promise((resolve) => native.on('exit', resolve));
    assert.equal(code, 0);
  });

  test('a snapshot with the FTS5 search index of before migration 15 opens in the wasm core, which has no FTS5',
    async (t) => {
      const first = await createHomeserver();
      const alice = await first.registerUser('alice');
      const roomId = await first.createRoom(alice, { name: 'Orchard' });
      const sent = await json(await sendText(first, alice, roomId, 'Old cider from the orchard', 'fts1'));
      const file = join(tmp, 'fts5.sqlite');
      writeFileSync(file, await first.snapshot());
      await first.close();
      const sqlite = (db, text) => execFileSync('sqlite3', [db, text]).toString().trim();
      // As a hometab before migration 15 left it (the sqlite3 tool has FTS5).
      sqlite(file, `${UNDO_STREAM_INDEXES} ${UNDO_MEMBER_KEYS} ${UNDO_WORD_INDEX}
        INSERT INTO event_search(rowid, value, key, room_id) VALUES (1, 'old', 'content.body', 'x');
        PRAGMA user_version = 14;`);
      const hs = await createHomeserver({ snapshot: readFileSync(file) });
      t.after(() => hs.close());
      const found = await json(await hs.fetch('/_matrix/client/v3/search', { method: 'POST', headers: auth(alice),
        body: JSON.stringify({ search_categories: { room_events: { search_term: 'CIDER orch' } } }) }));
      assert.equal(found.status, 200, JSON.stringify(found.body));
      assert.deepEqual(found.body.search_categories.room_events.results.map((r) => r.result.event_id),
        [sent.body.event_id]);
      const migrated = join(tmp, 'fts5-migrated.sqlite');
      writeFileSync(migrated, await hs.snapshot());
      assert.equal(sqlite(migrated, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'event_search%'"), '0');
      assert.equal(sqlite(migrated, 'PRAGMA integrity_check'), 'ok');
    });

  test("password hashes: 'fast' by default, the native cost with 'strong'", async (t) => {
    const costs = {};
    for (const passwordHashing of ['fast', 'strong']) {
      const hs = await createHomeserver({ passwordHashing });
      t.after(() => hs.close());
      await hs.registerUser('alice');
      const file = join(tmp, `${passwordHashing}.sqlite`);
      writeFileSync(file, await hs.snapshot());
      const { stdout } = await promisify(execFile)('sqlite3', [file, 'SELECT password_hash FROM users']);
      costs[passwordHashing] = /^\$argon2id\$v=19\$(m=\d+,t=\d+)/.exec(stdout)?.[1];
    }
    assert.deepEqual(costs, { fast: 'm=8,t=1', strong: 'm=19456,t=2' });
    await assert.rejects(createHomeserver({ passwordHashing: 'none' }), TypeError);
  });
});

describe('the clock', () => {
  test('manual: events carry the start time; a long-poll waits until advance() passes its deadline', async (t) => {
    const start = Date.UTC(2030, 0, 1);
    const hs = await createHomeserver({ clock: 'manual', startTime: new Date(start) });
    t.after(() => hs.close());
    assert.equal(hs.clock.mode, 'manual');
    const alice = await hs.registerUser('alice');
    const roomId = await hs.createRoom(alice);
    const sent = await json(await sendText(hs, alice, roomId, 'at the start', 't1'));
    const event = await json(await hs.fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(sent.body.event_id)}`,
      { headers: auth(alice) }));
    assert.equal(event.body.origin_server_ts, start);

    const since = (await json(await hs.fetch('/_matrix/client/v3/sync?timeout=0', { headers: auth(alice) }))).body.next_batch;
    let answered = false;
    const poll = hs.fetch(`/_matrix/client/v3/sync?timeout=5000&since=${since}`, { headers: auth(alice) })
      .then((r) => { answered = true; return r; });
    await new Promise((r) => setTimeout(r, 300)); // real time passes; server time does not
    assert.equal(answered, false);
    assert.equal(hs.status().parked, 1);
    await hs.clock.advance(4999);
    assert.equal(answered, false);
    await hs.clock.advance(1);
    assert.equal(answered, true, 'answered by the time advance() resolved');
    assert.equal((await poll).status, 200);
    assert.equal(hs.clock.now(), start + 5000);
    await assert.rejects(hs.clock.advance(-1), RangeError);
  });

  test('real: time runs, and advance() jumps it forward (typing expires at once)', async (t) => {
    const hs = await createHomeserver();
    t.after(() => hs.close());
    assert.equal(hs.clock.mode, 'real');
    assert.ok(Math.abs(hs.clock.now() - Date.now()) < 1000);
    const alice = await hs.registerUser('alice');
    const bob = await hs.registerUser('bob');
    const roomId = await hs.createRoom(alice, { join: [bob] });
    await hs.fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(alice.userId)}`,
      { method: 'PUT', headers: auth(alice), body: JSON.stringify({ typing: true, timeout: 60000 }) });
    const first = (await json(await hs.fetch('/_matrix/client/v3/sync?timeout=0', { headers: auth(bob) }))).body;
    const typing = (b) => b.rooms?.join?.[roomId]?.ephemeral?.events.find((e) => e.type === 'm.typing')?.content.user_ids;
    assert.deepEqual(typing(first), [alice.userId]);
    const poll = hs.fetch(`/_matrix/client/v3/sync?timeout=120000&since=${first.next_batch}`, { headers: auth(bob) });
    await until(() => hs.status().parked === 1, 'the long-poll to park');
    const before = Date.now();
    await hs.clock.advance(60000);
    const after = (await json(await poll)).body;
    assert.ok(Date.now() - before < 5000, 'answered without waiting a minute');
    assert.deepEqual(typing(after), []);
    const sent = await json(await sendText(hs, alice, roomId, 'later', 't2'));
    const event = await json(await hs.fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(sent.body.event_id)}`,
      { headers: auth(alice) }));
    assert.ok(event.body.origin_server_ts >= Date.now() + 59000, 'stamped with the advanced time');
  });

  test('bad options are refused: a clock, a typo, a server name, a snapshot, a wasm module', async () => {
    await assert.rejects(createHomeserver({ clock: 'fake' }), TypeError);
    await assert.rejects(createHomeserver({ servername: 'typo.test' }), /no option servername/);
    await assert.rejects(createHomeserver({ serverName: 'has space' }), TypeError);
    await assert.rejects(createHomeserver({ snapshot: new Uint8Array(100) }), /not an SQLite database/);
    // A module that is not hometab's (an empty one): an error, not a promise that never settles.
    const empty = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    await assert.rejects(createHomeserver({ wasmModule: empty }), /did not instantiate|did not load/);
    await assert.rejects(createHomeserver({ clock: 'manual', startTime: 'yesterday' }), RangeError);
  });
});

describe('several servers in one process', () => {
  test('eight servers at once, each with its own data; closing one leaves the others serving', async () => {
    const servers = await Promise.all(Array.from({ length: 8 }, (_, i) => createHomeserver({ serverName: `s${i}.test` })));
    const users = await Promise.all(servers.map((hs) => hs.registerUser('same-name')));
    const rooms = await Promise.all(servers.map((hs, i) => hs.createRoom(users[i], { name: `room ${i}` })));
    assert.equal(new Set(rooms).size, 8);
    await servers[3].close();
    for (const [i, hs] of servers.entries()) {
      if (i === 3) {
        await assert.rejects(hs.fetch('/_matrix/client/versions'), /closed/);
        continue;
      }
      const joined = await json(await hs.fetch('/_matrix/client/v3/joined_rooms', { headers: auth(users[i]) }));
      assert.deepEqual(joined.body.joined_rooms, [rooms[i]], `server ${i}`);
      const other = await hs.fetch('/_matrix/client/v3/joined_rooms', { headers: auth(users[(i + 1) % 8]) });
      assert.equal(other.status, 401, `server ${i} does not know server ${(i + 1) % 8}'s token`);
    }
    await Promise.all(servers.map((hs) => hs.close()));
  });

  test('close() answers a waiting long-poll; then fetch is refused', async () => {
    const hs = await createHomeserver();
    const alice = await hs.registerUser('alice');
    const since = (await json(await hs.fetch('/_matrix/client/v3/sync?timeout=0', { headers: auth(alice) }))).body.next_batch;
    const poll = hs.fetch(`/_matrix/client/v3/sync?timeout=60000&since=${since}`, { headers: auth(alice) });
    await until(() => hs.status().parked === 1, 'the long-poll to park');
    await hs.close();
    assert.equal((await poll).status, 200);
    await assert.rejects(hs.fetch('/_matrix/client/versions'), TypeError);
    await hs.close(); // twice is fine
  });
});

describe('listen()', () => {
  test('answers pipelined requests on one keep-alive connection', async (t) => {
    const hs = await createHomeserver();
    t.after(() => hs.close());
    const url = await hs.listen({ port: 0 });
    assert.equal(hs.url, url);
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1').on('data', (d) => (text += d));
    socket.write('GET /_matrix/client/versions HTTP/1.1\r\nHost: a\r\n\r\n' +
      'GET /_matrix/client/v3/nothing HTTP/1.1\r\nHost: a\r\n\r\n');
    await until(() => text.includes('M_UNRECOGNIZED'), 'two answers');
    socket.destroy();
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    // The second answer follows the first one's body, in order, on the same connection.
    assert.match(text, /"unstable_features":\{\}\}HTTP\/1\.1 404 Not Found\r\n/);
  });

  test('a chunked body arrives whole; a body over the limit gets 413 without being read', async (t) => {
    const hs = await createHomeserver({ maxBodyBytes: 4096 });
    t.after(() => hs.close());
    const url = await hs.listen();
    const body = new TextEncoder().encode(JSON.stringify({ username: 'chunky', password: 'chunky-password',
      auth: { type: 'm.login.dummy' } }));
    const stream = new ReadableStream({ start(c) { c.enqueue(body.subarray(0, 10)); c.enqueue(body.subarray(10)); c.close(); } });
    const registered = await json(await fetch(`${url}/_matrix/client/v3/register`, { method: 'POST', body: stream, duplex: 'half' }));
    assert.equal(registered.body.user_id, '@chunky:localhost');

    const tooBig = await json(await fetch(`${url}/_matrix/client/v3/register`, { method: 'POST', body: 'x'.repeat(10000) }));
    assert.equal(tooBig.status, 413);
    assert.equal(tooBig.body.errcode, 'M_TOO_LARGE');
    // A declared length past the limit is refused before any body is sent.
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1').on('data', (d) => (text += d));
    socket.write('POST /_matrix/client/v3/register HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000\r\n\r\n');
    await until(() => text.includes('M_TOO_LARGE'), 'a 413 before the body');
    socket.destroy();
    assert.match(text, /^HTTP\/1\.1 413 /);
  });

  test('a client that disconnects takes its long-poll out of the waiting list', async (t) => {
    const hs = await createHomeserver();
    t.after(() => hs.close());
    const url = await hs.listen();
    const alice = await hs.registerUser('alice');
    const since = (await json(await hs.fetch('/_matrix/client/v3/sync?timeout=0', { headers: auth(alice) }))).body.next_batch;
    const controller = new AbortController();
    const poll = fetch(`${url}/_matrix/client/v3/sync?timeout=60000&since=${since}`, { headers: auth(alice), signal: controller.signal });
    await until(() => hs.status().parked === 1, 'the long-poll to park');
    controller.abort();
    await assert.rejects(poll, { name: 'AbortError' });
    await until(() => hs.status().parked === 0, 'the long-poll to leave');
  });

  test('close() stops the listener; a port in use and listening twice are refused', async () => {
    const busy = createServer();
    await new Promise((r) => busy.listen(0, '127.0.0.1', r));
    const hs = await createHomeserver();
    await assert.rejects(hs.listen(busy.address().port), { code: 'EADDRINUSE' });
    busy.close();
    const url = await hs.listen(0);
    await assert.rejects(hs.listen(0), /already listening/);
    assert.equal((await fetch(`${url}/_matrix/client/versions`)).status, 200);
    await hs.close();
    await assert.rejects(fetch(`${url}/_matrix/client/versions`), /fetch failed/);
  });
});

describe('the CLI', () => {
  const bin = join(SCRATCH, 'node_modules/.bin/hometab');
  const runToExit = (args) => new Promise((resolve) => {
    execFile(bin, args, { cwd: SCRATCH }, (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });

  function start(args) {
    const child = spawn(bin, args, { cwd: SCRATCH });
    after(() => child.kill('SIGKILL')); // a failed test leaves no server behind
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
    return { child, exited, output: () => out };
  }

  test('starts on a free port, serves, and exits 0 on SIGTERM and on SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT']) {
      const server = start(['--port', '0', '--server-name', 'cli.test']);
      await until(() => /listening on/.test(server.output()), 'the CLI to listen', 15000);
      const [, url] = /^hometab: listening on (http:\/\/127\.0\.0\.1:\d+)\/ \(server name cli\.test\)$/m.exec(server.output());
      const registered = await json(await fetch(`${url}/_matrix/client/v3/register`, { method: 'POST',
        body: JSON.stringify({ username: 'alice', password: 'alice-password', auth: { type: 'm.login.dummy' } }) }));
      assert.equal(registered.body.user_id, '@alice:cli.test');
      server.child.kill(signal);
      assert.equal(await server.exited, 0, signal);
    }
  });

  test('--snapshot starts from a .sqlite file', async () => {
    const hs = await createHomeserver();
    const alice = await hs.registerUser('alice');
    const file = join(tmp, 'cli.sqlite');
    writeFileSync(file, await hs.snapshot());
    await hs.close();
    const server = start(['--port', '0', '--snapshot', file]);
    await until(() => /listening on/.test(server.output()), 'the CLI to listen', 15000);
    const url = /listening on (http:\/\/[^/\s]+)\//.exec(server.output())[1];
    const whoami = await json(await fetch(`${url}/_matrix/client/v3/account/whoami`, { headers: auth(alice) }));
    assert.equal(whoami.body.user_id, '@alice:localhost');
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  });

  test('--help, a bad flag, a bad port, an unreadable snapshot and a port in use have their exit codes', async () => {
    const help = await runToExit(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--server-name NAME/);
    const unknown = await runToExit(['--nonsense']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /nonsense/);
    assert.equal((await runToExit(['--port', '70000'])).code, 2);
    const missing = await runToExit(['--snapshot', join(tmp, 'does-not-exist.sqlite')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read --snapshot/);
    const garbage = join(tmp, 'garbage.sqlite');
    writeFileSync(garbage, 'this is not a database');
    const bad = await runToExit(['--port', '0', '--snapshot', garbage]);
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /not an SQLite database/);
    const busy = createServer();
    await new Promise((r) => busy.listen(0, '127.0.0.1', r));
    const inUse = await runToExit(['--port', String(busy.address().port)]);
    busy.close();
    assert.equal(inUse.code, 3);
    assert.match(inUse.stderr, /cannot listen/);
  });
});
