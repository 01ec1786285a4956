// two-users.test.mjs -- two tabs of one browser share the one in-browser
// server: two people chat live through it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertAllFromWorker, createRoomInUi, launch, messageLocator, openDemo, registerInUi,
  sendInUi, startNative } from './lib/harness.mjs';

let native;
let browser;
let alice;
let bob;

before(async () => {
  native = await startNative();
  browser = await launch();
  alice = await openDemo(browser, native);
  bob = await openDemo(browser, native);
  await registerInUi(alice, 'alice');
  await registerInUi(bob, 'bob');
});

after(async () => {
  await browser.close();
  await native.stop();
});

const roomEntry = (page, name) => page.locator('#room-list li', { hasText: name });

test('each tab keeps its own person', async () => {
  assert.match(await alice.locator('#whoami-name').textContent(), /^@alice:/);
  assert.match(await bob.locator('#whoami-name').textContent(), /^@bob:/);
});

test('an invitation reaches the other tab, which joins', async () => {
  await createRoomInUi(alice, 'Tea room');
  await alice.fill('#invite-input', 'bob');
  await alice.click('#invite-button');
  await alice.locator('#member-list li', { hasText: 'bob' }).waitFor();
  await roomEntry(bob, 'Tea room').locator('.tag', { hasText: 'invited' }).waitFor({ timeout: 10000 });
  await roomEntry(bob, 'Tea room').locator('button').click();
  await bob.click('#accept-invite');
  await bob.locator('#composer').waitFor({ state: 'visible' });
  await bob.locator('#member-list li', { hasText: 'alice' }).waitFor();
  await alice.locator('#events li.notice', { hasText: 'bob joined' }).waitFor({ timeout: 10000 });
});

test('messages go both ways live, with names and times', async () => {
  await sendInUi(alice, 'hello bob, tea?');
  await messageLocator(bob, 'hello bob, tea?').waitFor({ timeout: 10000 });
  const line = bob.locator('#events li.message', { hasText: 'hello bob, tea?' });
  assert.equal(await line.locator('.sender').textContent(), 'alice');
  assert.match(await line.locator('time').textContent(), /\d{1,2}:\d{2}/);
  await sendInUi(bob, 'yes please');
  await messageLocator(alice, 'yes please').waitFor({ timeout: 10000 });
});

test('typing shows in the other tab, and stops with the message', async () => {
  await alice.locator('#composer-input').pressSequentially('I am wri', { delay: 20 });
  await bob.locator('#typing', { hasText: 'alice is typing…' }).waitFor({ timeout: 10000 });
  await alice.locator('#composer-input').pressSequentially('ting', { delay: 20 });
  await alice.press('#composer-input', 'Enter');
  await messageLocator(bob, 'I am writing').waitFor({ timeout: 10000 });
  await bob.waitForFunction(() => document.getElementById('typing').textContent === '', null,
    { timeout: 10000 });
});

test('a message in a room the reader is not looking at counts as unread', async () => {
  await createRoomInUi(bob, 'Bob notes'); // bob now looks at another room
  await sendInUi(alice, 'are you there?');
  const badge = roomEntry(bob, 'Tea room').locator('.unread');
  await badge.waitFor({ timeout: 10000 });
  assert.equal(await badge.textContent(), '1');
  await roomEntry(bob, 'Tea room').locator('button').click();
  await messageLocator(bob, 'are you there?').waitFor();
  await badge.waitFor({ state: 'detached' });
});

test('a public room is joined by its alias', async () => {
  await alice.check('#create-room-public');
  await createRoomInUi(alice, 'Garden', 'garden');
  const alias = `#garden:${native.serverName}`;
  assert.match(await alice.locator('#room-id').textContent(), new RegExp(`^${alias.replace(/[.]/g, '\\.')} · !`));
  await bob.fill('#join-room-input', alias);
  await bob.click('#join-room-button');
  await bob.locator('#room-name', { hasText: 'Garden' }).waitFor({ timeout: 10000 });
  await alice.locator('#member-list li', { hasText: 'bob' }).waitFor({ timeout: 10000 });
});

test('none of it reached the native server', () => {
  assertAllFromWorker(alice);
  assertAllFromWorker(bob);
  assert.deepEqual(native.matrixRequests(), []);
});
