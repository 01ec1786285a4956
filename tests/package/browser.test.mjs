// browser.test.mjs -- the installed package in Chromium with no bundler and
// no test runner around it: plain ES modules served as files (by the native
// hometab's --web-root, from the scratch project's folder), imported by a
// page and by a dedicated module Worker. The native server answers no Matrix
// request here: every answer comes from the server inside the browser.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch, startNative } from '../browser/lib/harness.mjs';
import { SCRATCH } from './lib/scratch.mjs';

const ENTRY = '/node_modules/hometab/js-bridge/package/browser.js';

// The same steps in the page and in the worker: two servers side by side,
// a user on each, their isolation, and listen()'s refusal.
const STEPS = `
import { createHomeserver } from '${ENTRY}';
export async function steps() {
  const [a, b] = await Promise.all([createHomeserver({ serverName: 'a.test' }), createHomeserver({ serverName: 'b.test' })]);
  const alice = await a.registerUser('alice');
  const whoami = (hs) => hs.fetch('/_matrix/client/v3/account/whoami', { headers: { authorization: 'Bearer ' + alice.accessToken } });
  const onA = await (await whoami(a)).json();
  const onB = (await whoami(b)).status;
  let listen;
  try { await a.listen(); } catch (e) { listen = e.message; }
  await Promise.all([a.close(), b.close()]);
  return { userId: onA.user_id, statusOnB: onB, listen };
}
`;

let native;
let browser;
before(async () => {
  writeFileSync(join(SCRATCH, 'browser-steps.js'), STEPS);
  writeFileSync(join(SCRATCH, 'browser-worker.js'),
    "import { steps } from '/browser-steps.js';\nsteps().then((r) => postMessage(r), (e) => postMessage({ error: String(e) }));\n");
  writeFileSync(join(SCRATCH, 'browser-check.html'), `<!doctype html><title>hometab package</title>
<script type="module">
import { steps } from '/browser-steps.js';
window.inPage = steps().catch((e) => ({ error: String(e) }));
window.inWorker = new Promise((resolve) => {
  const worker = new Worker('/browser-worker.js', { type: 'module' });
  worker.onmessage = (e) => resolve(e.data);
  worker.onerror = (e) => resolve({ error: e.message || 'the worker failed to load' });
});
</script>`);
  native = await startNative({ webRoot: SCRATCH });
  browser = await launch();
});
after(() => browser?.close());

test('a page and a module worker each run two servers from the package, with no bundler', async () => {
  const page = await browser.context.newPage();
  await page.goto(`${native.url}/browser-check.html`);
  const expected = { userId: '@alice:a.test', statusOnB: 401, listen: "listen() needs node (node:http); in a browser, hand hs.fetch to the client instead" };
  assert.deepEqual(await page.evaluate(() => window.inPage), expected);
  assert.deepEqual(await page.evaluate(() => window.inWorker), expected);
  assert.deepEqual(native.matrixRequests(), [], 'no Matrix request reached the native server');
  assert.deepEqual(browser.errors, []);
});
