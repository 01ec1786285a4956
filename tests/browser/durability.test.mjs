// durability.test.mjs -- an acknowledged write is in IndexedDB: it survives
// the worker being killed at once, and the browser being closed.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertAllFromWorker, createRoomInUi, launch, messageLocator, openDemo, registerInUi,
  sendInUi, startNative, stopWorkers, waitForState } from './lib/harness.mjs';

let native;
let browser;
let page;

before(async () => {
  native = await startNative();
  browser = await launch();
  page = await openDemo(browser, native);
  await registerInUi(page, 'dora');
  await createRoomInUi(page, 'Archive');
  await sendInUi(page, 'a first message');
});

after(async () => {
  await browser.close();
  await native.stop();
});

// Sends through the composer and returns as soon as the server acknowledged
// the PUT -- before the page's sync has even seen the event.
async function sendAndWaitForAck(text) {
  const ack = page.waitForResponse((r) => r.request().method() === 'PUT' &&
    /\/send\/m\.room\.message\//.test(r.url()));
  await page.fill('#composer-input', text);
  await page.press('#composer-input', 'Enter');
  const response = await ack;
  assert.equal(response.status(), 200);
  return response;
}

test('a message acknowledged just before the worker is stopped is there after a reload', async () => {
  await sendAndWaitForAck('written before the crash');
  await stopWorkers(page);
  await page.reload();
  await waitForState(page, 'ready');
  // The restarted worker restored the database from IndexedDB.
  const status = await page.evaluate(() => globalThis.hometabDemo.link.status());
  assert.ok(status.restored.chunks > 0, 'the worker restored chunks from IndexedDB');
  await messageLocator(page, 'written before the crash').waitFor({ timeout: 10000 });
  await messageLocator(page, 'a first message').waitFor();
});

test('several quick sends, then a stop: every acknowledged one is kept', async () => {
  const texts = ['burst one', 'burst two', 'burst three', 'burst four'];
  for (const text of texts) await sendAndWaitForAck(text);
  await stopWorkers(page);
  await page.reload();
  await waitForState(page, 'ready');
  for (const text of texts) await messageLocator(page, text).waitFor({ timeout: 10000 });
});

test('the database survives closing and relaunching the browser', async () => {
  await sendAndWaitForAck('written before the browser closed');
  const profile = browser.userDataDir;
  await browser.close();
  browser = await launch({ userDataDir: profile });
  page = await openDemo(browser, native);
  // A new browser session: the tab offers the session this browser knew.
  await page.locator('#known-session-list button', { hasText: '@dora:' }).click();
  await messageLocator(page, 'written before the browser closed').waitFor({ timeout: 10000 });
  await messageLocator(page, 'a first message').waitFor();
  assertAllFromWorker(page);
  assert.deepEqual(native.matrixRequests(), [], 'the native server answered no Matrix request');
});
