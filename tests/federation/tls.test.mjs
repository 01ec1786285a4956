// Federation over TLS, as deployed: each hometab behind a TLS front
// (stunnel4, the reverse proxy's part) with a certificate from a test CA
// that the other trusts (--federation-ca). The other suites use the
// loopback plain-HTTP mode; this one checks the path a real server takes.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeTestCa } from '../interop/lib/ca.mjs';
import { startFederating } from './lib/hometab.mjs';
import { V3, createRoom, register, seg, sendMessage, sync } from '../api/lib/matrix.mjs';

let dir, tls, a, b, alice, bob;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hometab-ca-'));
  tls = makeTestCa(dir);
  a = await startFederating({ tls });
  b = await startFederating({ tls });
  alice = await register(a, 'alice');
  bob = await register(b, 'bob');
});

after(async () => {
  await a?.stop();
  await b?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('two servers behind TLS fronts share a room', async () => {
  const roomId = await createRoom(a, alice, { preset: 'public_chat' });
  const res = await b.fetch(`${V3}/join/${seg(roomId)}?server_name=${seg(a.serverName)}`, {
    method: 'POST', body: {}, token: bob.token,
  });
  assert.equal(res.status, 200, res.text);
  await sendMessage(b, bob, roomId, 'over TLS');
  let since;
  for (const deadline = Date.now() + 20000; ;) {
    const s = await sync(a, alice, { since, timeout: 1000 });
    const events = s.rooms?.join?.[roomId]?.timeline?.events ?? [];
    if (events.some((e) => e.content?.body === 'over TLS' && e.sender === bob.user_id)) break;
    since = s.next_batch;
    assert.ok(Date.now() < deadline, 'the message crossed within 20 s');
  }
});

test('a server that does not trust the certificate does not talk', async () => {
  // The same server, without the test CA: its requests to a and b fail the
  // certificate check, and the client hears which server could not be reached.
  const stranger = await startFederating({ tls, trustCa: false });
  try {
    const carol = await register(stranger, 'carol');
    const res = await stranger.fetch(`${V3}/profile/${seg(alice.user_id)}`, { token: carol.token });
    assert.equal(res.status, 502, res.text);
    assert.match(res.json.error, new RegExp(a.serverName.replace(/\./g, '\\.')));
  } finally {
    await stranger.stop();
  }
});
