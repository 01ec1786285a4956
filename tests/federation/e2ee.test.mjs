// An encrypted room across two real hometab servers, driven by matrix-js-sdk
// with its Rust crypto (matrix-sdk-crypto-wasm), each client on its own
// server: everything their devices need of each other (device keys, one-time
// keys, the Olm-encrypted room keys sent to-device, device list updates)
// crosses between the servers through the server-server API. Each client
// decrypts what the other sent. Then a file crosses: uploaded on one server,
// downloaded through the other.
//
// Rust crypto runs in node with its store in memory (initRustCrypto
// { useIndexedDB: false }): node has no IndexedDB, and nothing here needs the
// keys to outlive the process.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startFederating } from './lib/hometab.mjs';
import { SANITIZED } from '../api/lib/server.mjs';
import { sqlite } from '../api/lib/matrix.mjs';
import { sdk, quiet, registerUser, waitFor } from '../sdk/lib/client.mjs';

const WAIT_MS = SANITIZED ? 120000 : 40000;

let a, b, alice, bob;

// A logged-in client with Rust crypto and a running sync loop.
async function start(srv, name) {
  const userId = await registerUser(srv.url, name, `${name}-password`);
  const anon = sdk.createClient({ baseUrl: srv.url, logger: quiet });
  const res = await anon.loginWithPassword(userId, `${name}-password`);
  const client = sdk.createClient({
    baseUrl: srv.url, userId, accessToken: res.access_token, deviceId: res.device_id, logger: quiet,
  });
  await client.initRustCrypto({ useIndexedDB: false });
  const prepared = waitFor(client, sdk.ClientEvent.Sync, (s) => {
    if (s === 'ERROR') throw new Error(`${userId}: sync loop entered ERROR`);
    return s === 'PREPARED';
  }, `${userId} to reach PREPARED`);
  await client.startClient({ initialSyncLimit: 10 });
  await prepared;
  return client;
}

// Resolves with the first event in `roomId` that `client` decrypted with a
// plaintext body (or rejects after WAIT_MS naming `what`).
function decrypted(client, roomId, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(sdk.MatrixEventEvent.Decrypted, listener);
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`));
    }, WAIT_MS);
    function listener(ev) {
      if (ev.getRoomId() !== roomId || ev.isDecryptionFailure() || !ev.getContent()?.body) return;
      clearTimeout(timer);
      client.off(sdk.MatrixEventEvent.Decrypted, listener);
      resolve(ev);
    }
    client.on(sdk.MatrixEventEvent.Decrypted, listener);
  });
}

// Waits until `check()` holds, polling (the SDK's state follows its sync).
async function until(check, what) {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  a = await startFederating();
  b = await startFederating();
  alice = await start(a, 'alice');
  bob = await start(b, 'bob');
});

after(async () => {
  alice?.stopClient();
  bob?.stopClient();
  await a?.stop();
  await b?.stop();
});

test('two clients on two servers each decrypt what the other sent in an encrypted room', { timeout: 4 * WAIT_MS },
  async () => {
    const { room_id: roomId } = await alice.createRoom({
      preset: 'private_chat', name: 'Secret across',
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await alice.invite(roomId, bob.getUserId());
    await until(() => bob.getRoom(roomId)?.getMyMembership() === 'invite', 'bob to be invited');
    await bob.joinRoom(roomId);
    await until(() => alice.getRoom(roomId)?.getMember(bob.getUserId())?.membership === 'join',
      'alice to see bob join');
    // Each client's crypto takes the room's encryption settings from its sync.
    await until(() => alice.getCrypto().isEncryptionEnabledInRoom(roomId), 'alice\'s crypto to know the room');
    await until(() => bob.getCrypto().isEncryptionEnabledInRoom(roomId), 'bob\'s crypto to know the room');

    // Alice's client finds bob's device through her server, which asks his.
    const toBob = decrypted(bob, roomId, 'bob to decrypt alice\'s message');
    const sent = await alice.sendTextMessage(roomId, 'a secret from A');
    const got = await toBob;
    assert.equal(got.getId(), sent.event_id);
    assert.equal(got.getWireType(), 'm.room.encrypted', 'it crossed encrypted');
    assert.equal(got.getContent().body, 'a secret from A');
    assert.equal(got.getSender(), alice.getUserId());

    const toAlice = decrypted(alice, roomId, 'alice to decrypt bob\'s message');
    await bob.sendTextMessage(roomId, 'a secret from B');
    const back = await toAlice;
    assert.equal(back.getWireType(), 'm.room.encrypted');
    assert.equal(back.getContent().body, 'a secret from B');
    assert.equal(back.getSender(), bob.getUserId());

    // What the servers hold is ciphertext only.
    const raw = await a.fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${
      encodeURIComponent(sent.event_id)}`, { token: alice.getAccessToken() });
    assert.equal(raw.status, 200, raw.text);
    assert.equal(raw.json.type, 'm.room.encrypted');
    assert.ok(!raw.text.includes('a secret from A'));
  });

test('a file uploaded on one server is downloaded through the other, on both download paths', async () => {
  const bytes = randomBytes(300 * 1024); // several of the store's 64 KiB parts
  const up = await a.fetch('/_matrix/media/v3/upload?filename=photo.png', {
    method: 'POST', body: bytes, token: alice.getAccessToken(), headers: { 'content-type': 'image/png' },
  });
  assert.equal(up.status, 200, up.text);
  const { content_uri: uri } = up.json;
  assert.ok(uri.startsWith(`mxc://${a.serverName}/`), uri);
  const mediaId = uri.slice(`mxc://${a.serverName}/`.length);
  const where = `${encodeURIComponent(a.serverName)}/${mediaId}`;

  // The authenticated path (B asks A over federation v1, multipart)...
  const v1 = await b.fetch(`/_matrix/client/v1/media/download/${where}`, { token: bob.getAccessToken() });
  assert.equal(v1.status, 200, v1.text);
  assert.equal(v1.headers['content-type'], 'image/png');
  assert.ok(Buffer.compare(v1.bytes, bytes) === 0, 'the same bytes');
  // ...and the old one, served from what B kept.
  const kept = await sqlite(b, `SELECT size FROM media WHERE media_id = '${a.serverName}/${mediaId}'`);
  assert.deepEqual(kept, [String(bytes.length)]);
  const v3 = await b.fetch(`/_matrix/media/v3/download/${where}/renamed.png`);
  assert.equal(v3.status, 200, v3.text);
  assert.ok(Buffer.compare(v3.bytes, bytes) === 0, 'the same bytes again');
  assert.match(v3.headers['content-disposition'], /renamed\.png/);

  const missing = await b.fetch(`/_matrix/client/v1/media/download/${encodeURIComponent(a.serverName)}/NoSuchFile`,
    { token: bob.getAccessToken() });
  assert.equal(missing.status, 404, missing.text);
});
