// export-import.test.mjs -- the in-browser database moves as a .sqlite file:
// to the native server, into a fresh browser, and back.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { createRoomInUi, launch, loginInUi, messageLocator, openDemo, registerInUi, sendInUi,
  startNative, stopWorkers, tempDir, waitForState } from './lib/harness.mjs';

// The server's signing key seed, as a file keeps it (the server's identity).
const seedOf = (file) => execFileSync('sqlite3', ['-readonly', file,
  "SELECT value FROM meta WHERE key = 'server_signing_seed_ed25519'"], { encoding: 'utf8' }).trim();

let native;
let browser;
let page;
let password;
let roomId;
const dir = tempDir('hometab-export-');
const exported = join(dir, 'exported.sqlite');

before(async () => {
  native = await startNative();
  browser = await launch();
  page = await openDemo(browser, native);
  password = await registerInUi(page, 'erin');
  roomId = (await createRoomInUi(page, 'Moving day')).trim();
  await sendInUi(page, 'packed in the browser');
});

after(async () => {
  await browser.close();
  await native.stop();
});

async function importInUi(target, file) {
  const reloaded = target.waitForEvent('load');
  await target.setInputFiles('#import-input', file);
  await reloaded; // the demo reloads after an import
  await waitForState(target, 'ready');
}

test('export gives a .sqlite file of the whole database', async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
  assert.match(download.suggestedFilename(), /^hometab-.*\.sqlite$/);
  await download.saveAs(exported);
  const bytes = readFileSync(exported);
  assert.equal(bytes.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
  const status = await page.evaluate(() => globalThis.hometabDemo.link.status());
  assert.equal(bytes.length, status.dbBytes);
});

test('the native server opens the exported file and finds the messages', async () => {
  const copy = join(dir, 'native-copy.sqlite');
  copyFileSync(exported, copy);
  const other = await startNative({ db: copy, serverName: native.serverName });
  const login = await other.fetchJson('/_matrix/client/v3/login', { method: 'POST', body: {
    type: 'm.login.password', identifier: { type: 'm.id.user', user: 'erin' }, password } });
  assert.equal(login.status, 200, JSON.stringify(login.json));
  const token = login.json.access_token;
  const rooms = await other.fetchJson('/_matrix/client/v3/joined_rooms', { token });
  assert.ok(rooms.json.joined_rooms.includes(roomId.split(' · ').pop()));
  const messages = await other.fetchJson(
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId.split(' · ').pop())}/messages?dir=b&limit=50`, { token });
  const bodies = messages.json.chunk.map((e) => e.content?.body);
  assert.ok(bodies.includes('packed in the browser'), JSON.stringify(bodies));
  // And the native server writes to it: that message must come back with an
  // import of the native file.
  const send = await other.fetchJson(
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId.split(' · ').pop())}/send/m.room.message/n1`,
    { method: 'PUT', token, body: { msgtype: 'm.text', body: 'written by the native server' } });
  assert.equal(send.status, 200);
  await other.stop(); // merges the WAL into the file
  copyFileSync(copy, join(dir, 'from-native.sqlite'));
  // The in-browser server made its signing key at its first start; the file
  // carries it, and the native server goes on with it rather than a new one.
  const seed = seedOf(exported);
  assert.match(seed, /^[A-Za-z0-9+/]{43}$/);
  assert.equal(seedOf(copy), seed);
});

test('a fresh browser imports the exported file and signs in with the same account', async () => {
  const fresh = await launch();
  const target = await openDemo(fresh, native);
  await importInUi(target, exported);
  await loginInUi(target, 'erin', password);
  await messageLocator(target, 'packed in the browser').waitFor({ timeout: 10000 });
  // The import is saved: it outlives the worker.
  await stopWorkers(target);
  await target.reload();
  await waitForState(target, 'ready');
  await messageLocator(target, 'packed in the browser').waitFor({ timeout: 10000 });
  await fresh.close();
});

test('a file written by the native server (WAL mode) imports too', async () => {
  const header = readFileSync(join(dir, 'from-native.sqlite')).subarray(18, 20);
  assert.deepEqual([...header], [2, 2], 'the native file is in WAL mode');
  await importInUi(page, join(dir, 'from-native.sqlite'));
  // The file descends from this browser's own database: the tab's session
  // is still valid in it.
  await messageLocator(page, 'written by the native server').waitFor({ timeout: 10000 });
});

test('a file that is not a database is refused and the old one stays', async () => {
  const junk = join(dir, 'junk.sqlite');
  writeFileSync(junk, 'this is not a database at all'.repeat(100));
  const alerted = page.waitForEvent('dialog', (d) => d.type() === 'alert');
  await page.setInputFiles('#import-input', junk);
  const dialog = await alerted;
  assert.match(dialog.message(), /not an SQLite database/);
  await messageLocator(page, 'written by the native server').waitFor();
  const answer = await page.evaluate(async () => (await fetch('/_matrix/client/versions')).status);
  assert.equal(answer, 200);
});

test('a file made under another server name is warned about before it is imported', async () => {
  const elsewhere = join(dir, 'elsewhere.sqlite');
  const other = await startNative({ db: elsewhere, serverName: 'elsewhere.test' });
  const reg = await other.fetchJson('/_matrix/client/v3/register', { method: 'POST',
    body: { username: 'faye', password: 'pw-faye-123456', auth: { type: 'm.login.dummy' } } });
  assert.equal(reg.status, 200, JSON.stringify(reg.json));
  await other.stop(); // merges the WAL into the file
  const fresh = await launch();
  const target = await openDemo(fresh, native);
  const asked = target.waitForEvent('dialog', (d) => d.type() === 'confirm');
  const reloaded = target.waitForEvent('load');
  await target.setInputFiles('#import-input', elsewhere);
  const question = (await asked).message();
  const here = new URL(native.url).host;
  assert.match(question, new RegExp(`made by a server named “elsewhere\\.test”, and this one is named “${here}”`));
  assert.match(question, /nobody can sign in to them here/);
  assert.match(question, /--server-name elsewhere\.test/);
  // The harness accepts: the import goes ahead, and the warning was right.
  await reloaded;
  await waitForState(target, 'ready');
  await target.fill('#login-username', 'faye');
  await target.fill('#login-password', 'pw-faye-123456');
  await target.click('#login-button');
  await target.locator('#login-message', { hasText: 'live in this browser only' }).waitFor({ timeout: 10000 });
  await fresh.close();
});
