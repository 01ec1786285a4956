// update.test.mjs -- a new build of the worker takes over a page that an
// old one controls, and the data carries over.

import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { createRoomInUi, launch, messageLocator, openDemo, registerInUi, sendInUi, startNative,
  stopWorkers, tempDir, waitForState } from './lib/harness.mjs';

let native;
let browser;
let page;
const root = join(tempDir('hometab-www-'), 'www');

before(async () => {
  cpSync(process.env.HOMETAB_WEB_ROOT, root, { recursive: true });
  native = await startNative({ webRoot: root });
  browser = await launch();
  page = await openDemo(browser, native);
  await registerInUi(page, 'uma');
  await createRoomInUi(page, 'Upgrades');
  await sendInUi(page, 'written by the old worker');
});

after(async () => {
  await browser.close();
  await native.stop();
});

test('a new build replaces the worker on the next load, keeping the database', async () => {
  const oldScript = await page.evaluate(() => navigator.serviceWorker.controller.scriptURL);
  const version = JSON.parse(readFileSync(join(root, 'version.json'), 'utf8'));
  writeFileSync(join(root, 'version.json'), JSON.stringify({ ...version, build: `${version.build}-next` }));
  await page.reload();
  await waitForState(page, 'ready');
  const newScript = await page.evaluate(() => navigator.serviceWorker.controller.scriptURL);
  assert.notEqual(newScript, oldScript);
  assert.match(newScript, /-next$/);
  await messageLocator(page, 'written by the old worker').waitFor({ timeout: 10000 });
  await sendInUi(page, 'written by the new worker');
  const registrations = await page.evaluate(async () =>
    (await navigator.serviceWorker.getRegistrations()).map((r) => r.active?.scriptURL));
  assert.deepEqual(registrations, [newScript], 'one registration, running the new build');
});

test('after the update, writes of both builds survive a worker stop', async () => {
  await stopWorkers(page);
  await page.reload();
  await waitForState(page, 'ready');
  await messageLocator(page, 'written by the old worker').waitFor({ timeout: 10000 });
  await messageLocator(page, 'written by the new worker').waitFor();
  assert.deepEqual(native.matrixRequests(), []);
});
