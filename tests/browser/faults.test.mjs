// faults.test.mjs -- the wasm build, in node, under fault injection: "an
// SQL statement failed: 500, and nothing changed" (issue 9), as
// tests/unit/test_faults.c proves it natively.
//
// The core is the one the page loads, linked with two more exports
// (build/wasm-test, see the Makefile) that arm the store's fault countdown.
// Each request of a small scenario is sent with its 1st, 2nd, ... SQL
// statement failing until it gets through; every failed attempt must answer
// 500 and leave the database file (memvfs, exported through the bridge)
// byte for byte as it was.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';

const root = process.env.HOMETAB_WEB_ROOT;
const faultBuild = process.env.HOMETAB_FAULT_WASM;
if (!root || !faultBuild) {
  throw new Error('HOMETAB_WEB_ROOT and HOMETAB_FAULT_WASM are not set: run the browser tests through `make test-browser`');
}
const { start } = await import(pathToFileURL(join(root, 'js-bridge/hometab.js')));
const { default: createHometabCore } = await import(pathToFileURL(join(faultBuild, 'hometab-core.js')));

const BASE = 'http://faults.test';
let server;
let wasm; // the Emscripten module, for the two fault exports

before(async () => {
  server = await start({
    createModule: async (options) => (wasm = await createHometabCore(options)),
    moduleOptions: { wasmBinary: readFileSync(join(faultBuild, 'hometab-core.wasm')) },
    persist: false,
    serverName: 'faults.test',
  });
  assert.equal(server.status().state, 'ready');
  assert.equal(typeof wasm._ht_store_inject_fault, 'function');
});

after(() => server.close());

let attempts = 0;
let failures = 0;

async function once(method, path, token, body) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const response = await server.handle(new Request(`${BASE}${path}`,
    { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
  return { status: response.status, json: await response.json() };
}

// The request, with its nth statement failing for n = 1, 2, ... until it
// passes; returns the passing answer's JSON.
async function throughFaults(method, path, token, body) {
  for (let nth = 1; ; nth++) {
    const before = await server.export();
    wasm._ht_store_inject_fault(nth);
    const res = await once(method, path, token, body);
    const fired = wasm._ht_store_fault_fired() !== 0;
    wasm._ht_store_inject_fault(0);
    attempts++;
    if (!fired) {
      assert.equal(res.status, 200, `${method} ${path} without a fault: ${JSON.stringify(res.json)}`);
      return res.json;
    }
    failures++;
    assert.equal(res.status, 500, `${method} ${path} with statement ${nth} failing: ${JSON.stringify(res.json)}`);
    assert.equal(res.json.errcode, 'M_UNKNOWN');
    const after = await server.export();
    assert.ok(Buffer.compare(Buffer.from(before), Buffer.from(after)) === 0,
      `${method} ${path} with statement ${nth} failing answered 500 but changed the database`);
  }
}

const V3 = '/_matrix/client/v3';
const seg = encodeURIComponent;

test('every failing statement answers 500 and leaves the database as it was', async (t) => {
  const reg = await throughFaults('POST', `${V3}/register`, null,
    { username: 'alice', password: 'pw-alice-123456', auth: { type: 'm.login.dummy' } });
  const token = reg.access_token;
  const { room_id: room } = await throughFaults('POST', `${V3}/createRoom`, token,
    { preset: 'public_chat', name: 'Faults', room_alias_name: 'faults' });
  await throughFaults('PUT', `${V3}/rooms/${seg(room)}/send/m.room.message/t1`, token,
    { msgtype: 'm.text', body: 'first words' });
  await throughFaults('PUT', `${V3}/rooms/${seg(room)}/state/m.room.topic`, token, { topic: 'faults' });
  await throughFaults('PUT', `${V3}/user/${seg(reg.user_id)}/account_data/org.example.s`, token, { x: 1 });
  await throughFaults('PUT', `${V3}/user/${seg(reg.user_id)}/rooms/${seg(room)}/tags/u.work`, token, { order: 0.5 });
  await throughFaults('GET', `${V3}/sync`, token);
  await throughFaults('POST', `${V3}/search`, token, { search_categories: { room_events: { search_term: 'words' } } });
  const history = await throughFaults('GET', `${V3}/rooms/${seg(room)}/messages?dir=b&limit=50`, token);
  const sent = history.chunk.filter((e) => e.content?.body === 'first words');
  assert.equal(sent.length, 1, 'each retried send is in the history once');
  assert.ok(failures > 100, `only ${failures} of ${attempts} attempts met a failing statement`);
  t.diagnostic(`wasm fault injection: ${attempts} attempts, ${failures} answered 500`);
});
