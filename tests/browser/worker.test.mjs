// worker.test.mjs -- the service worker serves Matrix inside the browser.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertAllFromWorker, createRoomInUi, launch, messageLocator, openDemo, registerInUi,
  sendInUi, startNative, stopWorkers } from './lib/harness.mjs';

let native;
let browser;
let page;

before(async () => {
  native = await startNative();
  browser = await launch();
  page = await openDemo(browser, native);
});

after(async () => {
  await browser.close();
  await native.stop();
});

test('the first load of the demo is controlled by the worker', async () => {
  const state = await page.evaluate(() => ({
    controller: navigator.serviceWorker.controller?.scriptURL ?? null,
  }));
  assert.match(state.controller, /\/sw\/sw\.js\?v=[0-9a-f]{12}$/);
  assert.equal(await page.locator('#status-state').getAttribute('data-state'), 'ready');
});

test('/versions is answered by the worker, not the network', async () => {
  const answer = await page.evaluate(async () => {
    const r = await fetch('/_matrix/client/versions');
    return { status: r.status, json: await r.json() };
  });
  assert.equal(answer.status, 200);
  assert.ok(answer.json.versions.includes('v1.1'));
  assertAllFromWorker(page);
  assert.deepEqual(native.matrixRequests(), []);
});

test('paths outside /_matrix/ go to the network', async () => {
  const r = await page.evaluate(async () => (await fetch('/version.json', { cache: 'no-store' })).status);
  assert.equal(r, 200);
  const fromWorker = await page.evaluate(async () => {
    const r = await fetch('/no-such-file.txt');
    return r.status;
  });
  assert.equal(fromWorker, 404); // the native static server's answer
});

test('a PUT body of any size and content arrives intact', async () => {
  const result = await page.evaluate(async () => {
    const reg = await fetch('/_matrix/client/v3/register', { method: 'POST',
      body: JSON.stringify({ username: 'bodies', password: 'pw-bodies-123456',
        auth: { type: 'm.login.dummy' } }) });
    const { access_token: token } = await reg.json();
    const auth = { authorization: `Bearer ${token}` };
    const room = await (await fetch('/_matrix/client/v3/createRoom', { method: 'POST', headers: auth,
      body: '{}' })).json();
    // Multi-byte UTF-8 throughout (45 KB: near the spec's 64 KB event
    // limit, and larger than the bridge's first buffer).
    const text = 'héllo wörld ✓ 你好 🎉 '.repeat(1500);
    const put = await fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(room.room_id)}/send/m.room.message/t1`,
      { method: 'PUT', headers: auth, body: new TextEncoder().encode(JSON.stringify({ msgtype: 'm.text', body: text })) });
    const { event_id: eventId, error } = await put.json();
    if (!eventId) return { status: put.status, error };
    const got = await (await fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(room.room_id)}/event/${encodeURIComponent(eventId)}`,
      { headers: auth })).json();
    return { status: put.status, same: got.content.body === text, length: text.length };
  });
  assert.equal(result.status, 200, result.error);
  assert.ok(result.same, 'the body read back is the body sent');
});

test('a binary upload comes back byte for byte, through POST and PUT', async () => {
  const result = await page.evaluate(async () => {
    const login = await fetch('/_matrix/client/v3/login', { method: 'POST', body: JSON.stringify({
      type: 'm.login.password', identifier: { type: 'm.id.user', user: 'bodies' }, password: 'pw-bodies-123456' }) });
    const auth = { authorization: `Bearer ${(await login.json()).access_token}` };
    // Every byte value, CR LF sequences and NULs included, 300 KB in all.
    const data = new Uint8Array(300 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >> 8)) & 255;
    data.set([13, 10, 13, 10, 0, 0], 1000);
    const same = async (uri) => {
      const [serverName, mediaId] = uri.slice('mxc://'.length).split('/');
      const r = await fetch(`/_matrix/client/v1/media/download/${serverName}/${mediaId}`, { headers: auth });
      const got = new Uint8Array(await r.arrayBuffer());
      return r.status === 200 && got.length === data.length && got.every((b, i) => b === data[i]);
    };
    const posted = await fetch('/_matrix/media/v3/upload?filename=blob.bin', { method: 'POST',
      headers: { ...auth, 'content-type': 'application/octet-stream' }, body: data });
    const { content_uri: postedUri } = await posted.json();
    const created = await (await fetch('/_matrix/media/v1/create', { method: 'POST', headers: auth })).json();
    const [serverName, mediaId] = created.content_uri.slice('mxc://'.length).split('/');
    const put = await fetch(`/_matrix/media/v3/upload/${serverName}/${mediaId}`, { method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream' }, body: data });
    return { posted: posted.status, postSame: await same(postedUri), put: put.status,
      putSame: await same(created.content_uri) };
  });
  assert.deepEqual(result, { posted: 200, postSame: true, put: 200, putSame: true });
});

test('a person registers, creates a room and chats; sync long-polls through the worker', async () => {
  await registerInUi(page, 'alice');
  assert.match(await page.locator('#whoami-name').textContent(), /^@alice:127\.0\.0\.1:\d+$/);
  await createRoomInUi(page, 'Lobby');
  await sendInUi(page, 'hello from inside the browser');
  // The page's sync loop is parked in the worker; a message sent by another
  // fetch must wake it and show up without a reload.
  const parkedSince = Date.now();
  await page.evaluate(async () => {
    const session = JSON.parse(sessionStorage.getItem('hometab-demo-session'));
    const roomId = document.querySelector('#room-list li.active').dataset.roomId;
    const r = await fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/side-1`, {
      method: 'PUT', headers: { authorization: `Bearer ${session.accessToken}` },
      body: JSON.stringify({ msgtype: 'm.text', body: 'sent beside the page' }) });
    if (!r.ok) throw new Error(`send failed: ${r.status}`);
  });
  await messageLocator(page, 'sent beside the page').waitFor({ timeout: 5000 });
  assert.ok(Date.now() - parkedSince < 5000, 'the parked sync woke on the new event');
  const syncs = page.matrixResponses.filter((r) => /\/sync\?.*since=/.test(r.url()));
  assert.ok(syncs.length > 0, 'the page used long-polling syncs');
  assertAllFromWorker(page);
  assert.deepEqual(native.matrixRequests(), [], 'the native server answered no Matrix request');
});

test('an open page keeps getting status reports after the worker restarts', async () => {
  const before = await page.evaluate(() => globalThis.hometabDemo.panel.last.instance);
  await stopWorkers(page);
  // The next request starts a new worker, which restores and reports.
  const status = await page.evaluate(async () => (await fetch('/_matrix/client/versions')).status);
  assert.equal(status, 200);
  await page.waitForFunction((old) => {
    const last = globalThis.hometabDemo.panel.last;
    return last.instance !== old && last.state === 'ready';
  }, before, { timeout: 10000 });
  const shown = await page.evaluate(() => globalThis.hometabDemo.panel.last);
  assert.ok(shown.restored.chunks > 0, 'the new worker restored the saved database');
  assert.equal(await page.locator('#status-state').getAttribute('data-state'), 'ready');
});
