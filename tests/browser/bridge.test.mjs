// bridge.test.mjs -- the JS bridge on its own, in node (no browser, no
// IndexedDB: persist false): request and response bytes, parking, the
// queue around an import.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';

const root = process.env.HOMETAB_WEB_ROOT;
if (!root) throw new Error('HOMETAB_WEB_ROOT is not set: run the browser tests through `make test-browser`');
const { start } = await import(pathToFileURL(join(root, 'js-bridge/hometab.js')));
const { requestToBytes, responseFromBytes } = await import(pathToFileURL(join(root, 'js-bridge/http.js')));
const { default: createHometabCore } = await import(pathToFileURL(join(root, 'wasm/hometab-core.js')));

const BASE = 'http://demo.test:8080';
// Short enough for a quick test, long enough that a wake-up on a busy
// machine is not mistaken for the cap.
const PARK_CAP_MS = 1000;
const latin1 = (bytes) => Buffer.from(bytes).toString('latin1');
let server;
let token;
let roomId;

async function call(method, path, body) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const response = await server.handle(new Request(`${BASE}${path}`,
    { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
  return { status: response.status, json: await response.json() };
}

before(async () => {
  server = await start({
    createModule: createHometabCore,
    moduleOptions: { wasmBinary: readFileSync(join(root, 'wasm/hometab-core.wasm')) },
    persist: false,
    serverName: 'demo.test',
    parkCapMs: PARK_CAP_MS,
  });
  assert.equal(server.status().state, 'ready');
  const reg = await call('POST', '/_matrix/client/v3/register',
    { username: 'node', password: 'pw-node-123456', auth: { type: 'm.login.dummy' } });
  token = reg.json.access_token;
  roomId = (await call('POST', '/_matrix/client/v3/createRoom', {})).json.room_id;
});

after(() => server.close());

// Waits (up to 5 s) until the bridge holds `n` parked long-polls.
async function parkedBecomes(n) {
  for (const end = Date.now() + 5000; server.status().parked !== n && Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(server.status().parked, n);
}

test('request bytes carry a computed Host and Content-Length and the body as bytes', async () => {
  const body = new Uint8Array([0, 255, 13, 10, 13, 10, 128, 65]);
  const bytes = await requestToBytes(new Request(`${BASE}/_matrix/media/v3/upload?filename=a%20b.bin`,
    { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body }));
  const text = latin1(bytes);
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  assert.match(head, /^POST \/_matrix\/media\/v3\/upload\?filename=a%20b\.bin HTTP\/1\.1\r\n/);
  assert.match(head, /\r\nHost: demo\.test:8080\r\n/);
  assert.match(head, /\r\ncontent-type: application\/octet-stream\r\n/);
  assert.match(head, /\r\nContent-Length: 8$/);
  assert.deepEqual([...bytes.subarray(bytes.length - 8)], [...body]);
});

test('every method with a body forwards it, an empty one as Content-Length: 0', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const text = latin1(await requestToBytes(new Request(`${BASE}/x`, { method, body: 'é' })));
    assert.match(text, /Content-Length: 2\r\n\r\n\xc3\xa9$/, method);
  }
  const empty = latin1(await requestToBytes(new Request(`${BASE}/x`, { method: 'POST' })));
  assert.match(empty, /Content-Length: 0\r\n\r\n$/);
  const get = latin1(await requestToBytes(new Request(`${BASE}/x`)));
  assert.doesNotMatch(get, /Content-Length/);
});

test('response bytes become a Response with a binary body; HEAD and 204 have none', async () => {
  const raw = Buffer.concat([Buffer.from('HTTP/1.1 201 Created\r\nContent-Type: image/png\r\n' +
    'X-Thing: a, b\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n', 'latin1'),
  Buffer.from([0, 1, 254, 255])]);
  const r = responseFromBytes(new Uint8Array(raw));
  assert.equal(r.status, 201);
  assert.equal(r.statusText, 'Created');
  assert.equal(r.headers.get('content-type'), 'image/png');
  assert.equal(r.headers.get('x-thing'), 'a, b');
  assert.equal(r.headers.get('connection'), null);
  assert.deepEqual([...new Uint8Array(await r.arrayBuffer())], [0, 1, 254, 255]);
  assert.equal(responseFromBytes(new Uint8Array(raw), 'HEAD').body, null);
  const noContent = Buffer.from('HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n', 'latin1');
  assert.equal(responseFromBytes(new Uint8Array(noContent)).body, null);
});

async function since() {
  return (await call('GET', '/_matrix/client/v3/sync?timeout=0')).json.next_batch;
}

// A file larger than the core copies whole is streamed by the core; the
// browser host puts it back together (src/host/wasm/host.c).
test('a large media file comes back whole and byte-exact', async () => {
  const file = new Uint8Array(300 * 1024);
  for (let i = 0; i < file.length; i++) file[i] = (i * 7 + (i >> 9)) & 0xff;
  const up = await server.handle(new Request(`${BASE}/_matrix/media/v3/upload?filename=big.bin`,
    { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: file }));
  assert.equal(up.status, 200);
  const path = (await up.json()).content_uri.slice('mxc://'.length);
  const down = await server.handle(new Request(`${BASE}/_matrix/client/v1/media/download/${path}`,
    { headers: { authorization: `Bearer ${token}` } }));
  assert.equal(down.status, 200);
  assert.deepEqual(new Uint8Array(await down.arrayBuffer()), file);
});

test('a long-poll longer than the cap is answered at the cap', async () => {
  const from = await since();
  const t0 = Date.now();
  const r = await call('GET', `/_matrix/client/v3/sync?since=${from}&timeout=30000`);
  const waited = Date.now() - t0;
  assert.equal(r.status, 200);
  assert.ok(waited >= PARK_CAP_MS - 50 && waited < PARK_CAP_MS + 3000,
    `answered after ${waited} ms, the cap is ${PARK_CAP_MS}`);
  assert.equal(server.status().parked, 0);
});

test('a parked long-poll wakes when another request writes', async () => {
  const from = await since();
  const t0 = Date.now();
  const sync = call('GET', `/_matrix/client/v3/sync?since=${from}&timeout=30000`);
  await parkedBecomes(1);
  await call('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/w1`,
    { msgtype: 'm.text', body: 'wake up' });
  const r = await sync;
  assert.ok(Date.now() - t0 < PARK_CAP_MS - 50, 'woken before the cap');
  const events = r.json.rooms.join[roomId].timeline.events;
  assert.ok(events.some((e) => e.content.body === 'wake up'));
});

test('a long-poll whose client gives up leaves the parked list', async () => {
  const from = await since();
  const controller = new AbortController();
  const pending = server.handle(new Request(`${BASE}/_matrix/client/v3/sync?since=${from}&timeout=30000`,
    { headers: { authorization: `Bearer ${token}` }, signal: controller.signal }));
  await parkedBecomes(1);
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  assert.equal(server.status().parked, 0);
});

test('requests that arrive during an import wait, then see the imported database', async () => {
  const saved = await server.export();
  await call('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/after`,
    { msgtype: 'm.text', body: 'written after the export' });
  const request = await requestToBytes(new Request(
    `${BASE}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=20`,
    { headers: { authorization: `Bearer ${token}` } }));
  const importing = server.import(saved);
  const queued = server.handleBytes(request);
  assert.equal(server.status().queued, 1, 'the request waits for the import');
  await importing;
  const r = responseFromBytes(await queued);
  assert.equal(r.status, 200);
  const bodies = (await r.json()).chunk.map((e) => e.content.body);
  assert.ok(bodies.includes('wake up'));
  assert.ok(!bodies.includes('written after the export'), 'the queued request saw the imported database');
});

test('an import that is not a database leaves the old one serving', async () => {
  await assert.rejects(server.import(new TextEncoder().encode('nope'.repeat(100))), /not an SQLite database/);
  const fake = new Uint8Array(4096);
  fake.set(new TextEncoder().encode('SQLite format 3\0'));
  fake[16] = 16; // page size 4096, but nothing else of a database
  await assert.rejects(server.import(fake), /cannot open this database/);
  const r = await call('GET', '/_matrix/client/v3/joined_rooms');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.joined_rooms, [roomId]);
});

test('a core that crashes is replaced by a fresh module; requests wait for it', async () => {
  // A separate server: this one's core traps on its next call.
  await server.close();
  let trap = false;
  const crashing = await start({
    createModule: async (options) => {
      const module = await createHometabCore(options);
      const handle = module._ht_wasm_handle;
      module._ht_wasm_handle = (...args) => {
        if (trap) {
          trap = false;
          throw new WebAssembly.RuntimeError('unreachable');
        }
        return handle(...args);
      };
      return module;
    },
    moduleOptions: { wasmBinary: readFileSync(join(root, 'wasm/hometab-core.wasm')) },
    persist: false,
    serverName: 'demo.test',
  });
  const versions = () => crashing.handle(new Request(`${BASE}/_matrix/client/versions`));
  trap = true;
  const crashed = await versions();
  assert.equal(crashed.status, 500);
  assert.match((await crashed.json()).error, /failed/);
  const next = await versions(); // queued behind the restart
  assert.equal(next.status, 200);
  assert.equal(crashing.status().state, 'ready');
  await crashing.close();
  server = await start({ createModule: createHometabCore, persist: false, serverName: 'demo.test',
    moduleOptions: { wasmBinary: readFileSync(join(root, 'wasm/hometab-core.wasm')) } });
});

// Scoped waking (src/hometab.h): the bridge files a parked long-poll under
// the keys it waits on, and a write calls again only those it touched.
// Counted at the module: a recomputed long-poll is one more call.
test('a write calls again only the long-polls it concerns', async () => {
  await server.close();
  let calls = 0;
  const counting = await start({
    createModule: async (options) => {
      const module = await createHometabCore(options);
      // Emscripten's export stub replaces itself with the raw function on
      // its first call: keep counting whatever it installs.
      let inner = module._ht_wasm_handle;
      const counted = (...args) => {
        calls++;
        return inner(...args);
      };
      Object.defineProperty(module, '_ht_wasm_handle', { get: () => counted, set: (f) => { inner = f; } });
      return module;
    },
    moduleOptions: { wasmBinary: readFileSync(join(root, 'wasm/hometab-core.wasm')) },
    persist: false,
    serverName: 'demo.test',
  });
  const ask = async (who, method, path, body) => {
    const response = await counting.handle(new Request(`${BASE}${path}`, {
      method, headers: who ? { authorization: `Bearer ${who}` } : {},
      body: body === undefined ? undefined : JSON.stringify(body),
    }));
    return response.json();
  };
  const account = async (name) => (await ask(null, 'POST', '/_matrix/client/v3/register',
    { username: name, password: `pw-${name}-123456`, auth: { type: 'm.login.dummy' } })).access_token;
  const [alice, bob] = [await account('alice'), await account('bob')];
  const roomA = (await ask(alice, 'POST', '/_matrix/client/v3/createRoom', {})).room_id;
  const roomB = (await ask(bob, 'POST', '/_matrix/client/v3/createRoom', {})).room_id;
  const from = (await ask(bob, 'GET', '/_matrix/client/v3/sync?timeout=0')).next_batch;

  const waiting = ask(bob, 'GET', `/_matrix/client/v3/sync?since=${from}&timeout=30000`);
  for (const end = Date.now() + 5000; counting.status().parked !== 1 && Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(counting.status().parked, 1);
  const before = calls;
  for (let i = 0; i < 10; i++) {
    await ask(alice, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomA)}/send/m.room.message/a${i}`,
      { msgtype: 'm.text', body: `not for bob ${i}` });
  }
  assert.equal(calls - before, 10, 'ten writes, and bob\'s long-poll never called again');
  assert.equal(counting.status().parked, 1);

  await ask(bob, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomB)}/send/m.room.message/b1`,
    { msgtype: 'm.text', body: 'for bob' });
  const woken = await waiting;
  assert.deepEqual(Object.keys(woken.rooms.join), [roomB]);
  assert.deepEqual(woken.rooms.join[roomB].timeline.events.map((e) => e.content.body), ['for bob']);
  await counting.close();
  server = await start({ createModule: createHometabCore, persist: false, serverName: 'demo.test',
    moduleOptions: { wasmBinary: readFileSync(join(root, 'wasm/hometab-core.wasm')) } });
});
