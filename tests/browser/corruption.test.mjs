// corruption.test.mjs -- a store that cannot be read back gives a visible
// error, and is kept exactly as it is.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { createRoomInUi, launch, openDemo, readStore, registerInUi, sendInUi, startNative,
  stopWorkers, waitForState } from './lib/harness.mjs';

let native;

before(async () => {
  native = await startNative();
});

after(async () => {
  await native.stop();
});

// A browser whose demo database holds an account, a room and a message.
async function browserWithData() {
  const browser = await launch();
  const page = await openDemo(browser, native);
  await registerInUi(page, 'carol');
  await createRoomInUi(page, 'Fragile');
  await sendInUi(page, 'please do not lose me');
  return { browser, page };
}

// Changes the stored chunks behind the worker's back: `edit` runs in the
// page with the IndexedDB connection and the chunk store's name.
function tamper(page, edit) {
  return page.evaluate(async (source) => {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('hometab');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const tx = db.transaction(['chunks'], 'readwrite');
    // eslint-disable-next-line no-new-func
    new Function('chunks', source)(tx.objectStore('chunks'));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error);
    });
    db.close();
  }, edit);
}

async function restartWorker(page) {
  await stopWorkers(page);
  await page.reload();
  await waitForState(page, 'error');
}

test('a damaged first chunk: a clear error on the page, the store untouched', async () => {
  const { browser, page } = await browserWithData();
  await tamper(page, `
    const junk = new Uint8Array(65536);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 251;
    chunks.put(junk.buffer, 0);`);
  const before = await readStore(page);
  await restartWorker(page);
  const banner = page.locator('#status-error');
  await banner.waitFor({ state: 'visible' });
  assert.match(await banner.textContent(), /cannot run: .*SQLite header.*damaged.*kept/s);
  // Requests are refused with the reason, not answered from an empty database.
  const answer = await page.evaluate(async () => {
    const r = await fetch('/_matrix/client/v3/login', { method: 'POST',
      body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'carol' },
        password: 'x' }) });
    return { status: r.status, json: await r.json() };
  });
  assert.equal(answer.status, 503);
  assert.match(answer.json.error, /damaged/);
  const afterwards = await readStore(page);
  assert.deepEqual(afterwards, before, 'the stored chunks and header record are unchanged');
  await browser.close();
});

test('a missing chunk: a clear error, the other chunks kept', async () => {
  const { browser, page } = await browserWithData();
  const full = await readStore(page);
  assert.ok(Object.keys(full.chunks).length >= 2, 'the database spans several chunks');
  await tamper(page, 'chunks.delete(1);');
  const before = await readStore(page);
  await restartWorker(page);
  assert.match(await page.locator('#status-error').textContent(), /chunk 1 of \d+ .* missing/);
  assert.deepEqual(await readStore(page), before);
  // What is there can still be exported, to be rescued elsewhere.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
  const bytes = readFileSync(await download.path());
  assert.equal(bytes.length, before.meta.size);
  assert.equal(bytes.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
  assert.deepEqual(bytes.subarray(0, 65536), Buffer.from(before.chunks[0], 'base64'));
  assert.ok(bytes.subarray(65536, 131072).every((b) => b === 0), 'the missing chunk as zeros');
  // A second restart finds the same store and says the same.
  await restartWorker(page);
  assert.deepEqual(await readStore(page), before);
  await browser.close();
});

test('the page and worker run on after the error; importing a good file is the way out', async () => {
  const { browser, page } = await browserWithData();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-button')]);
  const good = await download.path();
  await tamper(page, 'chunks.put(new Uint8Array(10).buffer, 0);');
  await restartWorker(page);
  assert.match(await page.locator('#status-error').textContent(), /chunk 0 .* damaged/);
  const reloaded = page.waitForEvent('load');
  await page.setInputFiles('#import-input', good);
  await reloaded;
  await waitForState(page, 'ready');
  assert.ok(await page.locator('#status-error').isHidden());
  await page.locator('#events li.message .body', { hasText: 'please do not lose me' }).waitFor({ timeout: 10000 });
  await browser.close();
});
