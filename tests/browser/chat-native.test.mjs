// chat-native.test.mjs -- the same chat client against the native server:
// the page is served by hometab at 127.0.0.1, and its users sign in to the
// native server under another name of the same machine (localhost), an
// origin the service worker does not answer for. The main flows must work
// there too, and reach the native server rather than the worker.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { launch, openDemo, startNative, tempDir } from './lib/harness.mjs';
import { PNG_8x6, openRoomInUi } from './lib/chat.mjs';

let native;
let browser;
let alice;
let bob;
let remote;

async function registerOnNative(page, user) {
  await page.check('#server-remote');
  await page.fill('#server-url', remote);
  await page.fill('#login-username', user);
  await page.fill('#login-password', `pw-${user}-123456`);
  await page.click('#register-button');
  await page.locator('#chat-view').waitFor({ state: 'visible', timeout: 20000 });
}

const line = (page, text) => page.locator('#events li.message[data-event-id]')
  .filter({ has: page.locator('.body', { hasText: text }) });

async function send(page, text) {
  await page.fill('#composer-input', text);
  await page.press('#composer-input', 'Enter');
  await line(page, text).waitFor({ timeout: 10000 });
}

before(async () => {
  native = await startNative({ serverName: 'native.test' });
  remote = `http://localhost:${native.port}`;
  browser = await launch();
  alice = await openDemo(browser, native);
  bob = await openDemo(browser, native);
});

after(async () => {
  await browser.close();
  await native.stop();
});

test('the page\'s own address is refused as a network server, with the reason', async () => {
  await alice.check('#server-remote');
  await alice.fill('#server-url', native.url);
  await alice.fill('#login-username', 'alice');
  await alice.fill('#login-password', 'pw-alice-123456');
  await alice.click('#register-button');
  await alice.locator('#login-message', { hasText: 'this page\'s own address' }).waitFor();
});

test('accounts are made on the native server, which says so', async () => {
  await registerOnNative(alice, 'alice');
  await registerOnNative(bob, 'bob');
  assert.equal(await alice.locator('#whoami-name').textContent(), '@alice:native.test');
  assert.equal(await alice.locator('#whoami-server').textContent(), `server: ${remote}`);
  // The native server has the account: a plain HTTP client can sign in.
  const loginNative = await native.fetchJson('/_matrix/client/v3/login', { method: 'POST', body: {
    type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'pw-alice-123456' } });
  assert.equal(loginNative.status, 200);
});

test('create, invite, join and chat', async () => {
  await alice.fill('#create-room-name', 'Workshop');
  await alice.click('#create-room-button');
  await alice.locator('#room-name', { hasText: 'Workshop' }).waitFor({ timeout: 10000 });
  await alice.fill('#invite-input', 'bob');
  await alice.click('#invite-button');
  await openRoomInUi(bob, 'Workshop');
  await bob.click('#accept-invite');
  await send(alice, 'hello over the network');
  await line(bob, 'hello over the network').waitFor({ timeout: 10000 });
});

test('an image is uploaded and shown', async () => {
  const file = join(tempDir('hometab-native-img-'), 'dot.png');
  writeFileSync(file, PNG_8x6);
  await alice.setInputFiles('#attach-input', file);
  const img = bob.locator('#events li.message[data-event-id] img.inline-image[alt="dot.png"]');
  await img.waitFor({ timeout: 15000 });
  await bob.waitForFunction((el) => el.complete && el.naturalWidth === 8, await img.elementHandle(), { timeout: 10000 });
});

test('reply, react, edit and delete', async () => {
  const original = line(bob, 'hello over the network');
  await original.hover();
  await original.locator('[data-action="reply"]').click();
  await send(bob, 'hello back');
  await line(alice, 'hello back').locator('.reply-text', { hasText: 'hello over the network' }).waitFor({ timeout: 10000 });

  const reply = line(alice, 'hello back');
  await reply.hover();
  await reply.locator('[data-action="react"][data-key="😂"]').click();
  await line(bob, 'hello back').locator('.reaction', { hasText: '😂' }).waitFor({ timeout: 10000 });

  const mine = line(alice, 'hello over the network');
  await mine.hover();
  await mine.locator('[data-action="edit"]').click();
  await alice.fill('#composer-input', 'hello over the wire');
  await alice.press('#composer-input', 'Enter');
  await line(bob, 'hello over the wire').locator('.edited').waitFor({ timeout: 10000 });

  const edited = line(alice, 'hello over the wire');
  await edited.hover();
  await edited.locator('[data-action="delete"]').click();
  await bob.locator('#events li.message.deleted').waitFor({ timeout: 10000 });
});

test('it all went to the native server, none of it to the worker', () => {
  const fromWorker = [...alice.matrixResponses, ...bob.matrixResponses].filter((r) => r.fromServiceWorker());
  assert.deepEqual(fromWorker.map((r) => r.url()), []);
  const seen = native.matrixRequests().join('\n');
  for (const path of ['/register', '/createRoom', '/invite', '/join/', '/media/v3/upload', '/send/m.reaction/',
    '/redact/', '/sync']) assert.ok(seen.includes(path), `the native server answered ${path}`);
});
