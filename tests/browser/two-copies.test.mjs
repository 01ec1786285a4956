// two-copies.test.mjs -- two copies of hometab on one origin (here the
// worker and the bridge started in the page itself) never overwrite each
// other's saves: the one that saved second with stale chunks is refused,
// reloads, and the store stays whole.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { createRoomInUi, launch, messageLocator, openDemo, registerInUi, sendInUi, startNative,
  stopWorkers, waitForState } from './lib/harness.mjs';

let native;
let browser;
let page;

before(async () => {
  native = await startNative();
  browser = await launch();
  page = await openDemo(browser, native);
  await registerInUi(page, 'gina');
  await createRoomInUi(page, 'Twins');
  await sendInUi(page, 'before the second copy');
});

after(async () => {
  await browser.close();
  await native.stop();
});

test('a copy that saves over a newer store is refused, reloads, and then writes', async () => {
  // The demo marks what it reads with receipts: those are writes by the
  // worker too, and one landing between the copy's reload and its retry
  // would (rightly) refuse the retry as well. So the scenario runs on a
  // quiet page of the same origin, still controlled by the worker.
  const roomId = await page.locator('#room-list li.active').getAttribute('data-room-id');
  await page.goto(`${native.url}/version.json`);
  const result = await page.evaluate(async (roomId) => {
    const { start } = await import('/js-bridge/hometab.js');
    const { default: createModule } = await import('/wasm/hometab-core.js');
    const session = JSON.parse(sessionStorage.getItem('hometab-demo-session'));
    const path = (txn) => `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`;
    const init = (body) => ({ method: 'PUT', headers: { authorization: `Bearer ${session.accessToken}` },
      body: JSON.stringify({ msgtype: 'm.text', body }) });
    // A second copy, in the page: it restores what the worker saved.
    const copy = await start({ createModule, serverName: location.host });
    const generationAtStart = copy.status().generation;
    // The worker saves a write; the copy's chunks are now stale...
    const byWorker = await fetch(path('w1'), init('saved by the worker'));
    // ...so the copy's own write must not reach the store.
    const refused = await copy.handle(new Request(path('c1'), init('refused to the copy')));
    const refusedBody = await refused.json();
    await new Promise((r) => setTimeout(r, 300)); // the copy reloads
    const retried = await copy.handle(new Request(path('c2'), init('saved by the copy')));
    const status = copy.status();
    await copy.close();
    return { generationAtStart, byWorker: byWorker.status, refused: refused.status, refusedBody,
      retried: retried.status, state: status.state, generation: status.generation };
  }, roomId);
  assert.equal(result.byWorker, 200);
  assert.equal(result.refused, 503);
  assert.match(result.refusedBody.error, /another copy of hometab saved/);
  assert.equal(result.retried, 200);
  assert.equal(result.state, 'ready');
  assert.ok(result.generation >= result.generationAtStart + 2);
});

test('the store holds both copies\' saved writes and not the refused one', async () => {
  await stopWorkers(page);
  await page.goto(`${native.url}/`);
  await waitForState(page, 'ready');
  await messageLocator(page, 'saved by the copy').waitFor({ timeout: 10000 });
  await messageLocator(page, 'saved by the worker').waitFor();
  await messageLocator(page, 'before the second copy').waitFor();
  assert.equal(await messageLocator(page, 'refused to the copy').count(), 0);
  await sendInUi(page, 'and the worker writes on');
});
