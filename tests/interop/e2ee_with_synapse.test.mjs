// e2ee_with_synapse.test.mjs -- an encrypted room and files between hometab and Synapse 1.67.0
// (loopback TLS, as hometab_vs_synapse.test.mjs): a matrix-js-sdk client with Rust crypto on
// each server; each decrypts the other's message, which needs each server to serve and ask
// device keys, one-time keys and to-device messages the other's way. Then files cross both
// ways: Synapse 1.67 fetches hometab's over the old media path, and hometab, finding Synapse
// does not know the federation v1 media path, falls back to it. Run with `make interop`.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { httpRequest } from '../federation/lib/http.mjs';
import { sdk, quiet, registerUser, waitFor } from '../sdk/lib/client.mjs';
import { eventually as until, startPair } from './lib/pair.mjs';

const WAIT_MS = 60000;

// A running client with Rust crypto (its store in memory: node has no IndexedDB).
async function startClient(baseUrl, userId, accessToken, deviceId) {
  const client = sdk.createClient({ baseUrl, userId, accessToken, deviceId, logger: quiet });
  await client.initRustCrypto({ useIndexedDB: false });
  const prepared = waitFor(client, sdk.ClientEvent.Sync, (s) => s === 'PREPARED', `${userId} to reach PREPARED`);
  await client.startClient({ initialSyncLimit: 10 });
  await prepared;
  return client;
}

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

describe('hometab and Synapse 1.67.0: encrypted rooms and files', () => {
  let pair, syn, ht, alice, sam;

  before(async () => {
    pair = await startPair();
    ({ syn, ht } = pair);
    const aliceId = await registerUser(ht.url, 'alice', 'alice-password');
    const login = await sdk.createClient({ baseUrl: ht.url, logger: quiet }).loginWithPassword(aliceId, 'alice-password');
    alice = await startClient(ht.url, aliceId, login.access_token, login.device_id);
    const s = await syn.registerUser('sam');
    sam = await startClient(syn.clientUrl, s.userId, s.accessToken, s.deviceId);
  });

  after(async () => {
    alice?.stopClient();
    sam?.stopClient();
    await pair?.stop();
  });

  test('a client on each server decrypts what the other sent', { timeout: 5 * WAIT_MS }, async () => {
    const { room_id: roomId } = await alice.createRoom({
      preset: 'private_chat', name: 'Secret with Synapse',
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await alice.invite(roomId, sam.getUserId());
    await until(() => sam.getRoom(roomId)?.getMyMembership() === 'invite', 'sam to be invited');
    await sam.joinRoom(roomId);
    await until(() => alice.getRoom(roomId)?.getMember(sam.getUserId())?.membership === 'join', 'alice to see sam join');
    await until(() => alice.getCrypto().isEncryptionEnabledInRoom(roomId), 'alice\'s crypto to know the room');
    await until(() => sam.getCrypto().isEncryptionEnabledInRoom(roomId), 'sam\'s crypto to know the room');

    const toSam = decrypted(sam, roomId, 'sam to decrypt alice\'s message');
    await alice.sendTextMessage(roomId, 'from hometab, encrypted');
    const got = await toSam;
    assert.equal(got.getWireType(), 'm.room.encrypted');
    assert.equal(got.getContent().body, 'from hometab, encrypted');

    const toAlice = decrypted(alice, roomId, 'alice to decrypt sam\'s message');
    await sam.sendTextMessage(roomId, 'from Synapse, encrypted');
    const back = await toAlice;
    assert.equal(back.getWireType(), 'm.room.encrypted');
    assert.equal(back.getContent().body, 'from Synapse, encrypted');
  });

  test('files cross both ways', async () => {
    const mine = randomBytes(100 * 1024);
    const up = await ht.fetch('/_matrix/media/v3/upload?filename=a.bin', {
      method: 'POST', body: mine, token: alice.getAccessToken(), headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(up.status, 200, up.text);
    const htId = up.json.content_uri.split('/').pop();
    const viaSyn = await httpRequest({
      url: `${syn.clientUrl}/_matrix/media/v3/download/${encodeURIComponent(ht.serverName)}/${htId}`, timeoutMs: 60000,
    });
    assert.equal(viaSyn.status, 200, viaSyn.bytes.toString());
    assert.ok(Buffer.compare(viaSyn.bytes, mine) === 0, 'Synapse served hometab\'s bytes');

    const theirs = randomBytes(100 * 1024);
    const synUp = await httpRequest({
      url: `${syn.clientUrl}/_matrix/media/v3/upload?filename=s.png`, method: 'POST', body: theirs, timeoutMs: 60000,
      headers: { Authorization: `Bearer ${sam.getAccessToken()}`, 'Content-Type': 'image/png' },
    });
    assert.equal(synUp.status, 200, synUp.bytes.toString());
    const synId = JSON.parse(synUp.bytes).content_uri.split('/').pop();
    const viaHt = await ht.fetch(`/_matrix/client/v1/media/download/${encodeURIComponent(syn.serverName)}/${synId}`,
      { token: alice.getAccessToken() });
    assert.equal(viaHt.status, 200, viaHt.text);
    assert.equal(viaHt.headers['content-type'], 'image/png');
    assert.ok(Buffer.compare(viaHt.bytes, theirs) === 0, 'hometab served Synapse\'s bytes');

    // A thumbnail of it: hometab asks Synapse for one (the old path: 1.67 has no federation
    // v1 media), which cannot scale bytes that are no image, so hometab serves the small
    // file itself, as it does its own.
    const thumb = await ht.fetch(
      `/_matrix/client/v1/media/thumbnail/${encodeURIComponent(syn.serverName)}/${synId}?width=96&height=96&method=crop`,
      { token: alice.getAccessToken() });
    assert.equal(thumb.status, 200, thumb.text);
    assert.equal(thumb.headers['content-type'], 'image/png');
    assert.ok(Buffer.compare(thumb.bytes, theirs) === 0, 'the file served as its own thumbnail');
  });
});
