// keyring.mjs -- other servers' signing keys: fetched from the server itself on a miss
// (GET /_matrix/key/v2/server, no notary), checked, cached until their valid_until_ts.
//
//   const ring = new KeyRing((server) => getJson(server, '/_matrix/key/v2/server'));
//   await ring.keysOf('127.0.0.1:8448')        // { 'ed25519:abc': <32 raw bytes> }
//   await ring.keyFor(server, keyId)           // one key, refetching once when it is unknown
//
// The one design decision: a key response is used only if it names the server asked for, is
// still valid, and is signed by a key it lists (server-server "Retrieving server keys"); a
// failed fetch is not cached, so a later request tries again.

import { unb64, verifyJson } from './signing.mjs';

export class KeyRing {
  constructor(fetchKeyJson) {
    this.fetchKeyJson = fetchKeyJson;
    this.cache = new Map(); // server -> { keys, validUntil }
    this.fetches = 0;
  }

  // Keys known without fetching (a test may preload them).
  add(server, keys, validUntil = Date.now() + 3600e3) {
    this.cache.set(server, { keys: { ...(this.cache.get(server)?.keys ?? {}), ...keys }, validUntil });
  }

  async keysOf(server, { refresh = false } = {}) {
    const hit = this.cache.get(server);
    if (hit && !refresh && hit.validUntil > Date.now()) return hit.keys;
    this.fetches++;
    const json = await this.fetchKeyJson(server);
    const keys = checkKeyResponse(json, server);
    this.cache.set(server, { keys, validUntil: json.valid_until_ts });
    return keys;
  }

  async keyFor(server, keyId) {
    let keys = await this.keysOf(server);
    if (!keys[keyId]) keys = await this.keysOf(server, { refresh: true });
    const key = keys[keyId];
    if (!key) throw new Error(`${server} has no key ${keyId}`);
    return key;
  }
}

// Validates a /_matrix/key/v2/server answer and returns its verify_keys as raw bytes.
export function checkKeyResponse(json, server) {
  if (!json || typeof json !== 'object') throw new Error(`${server}: key answer is not a JSON object`);
  if (json.server_name !== server) throw new Error(`${server}: key answer names ${JSON.stringify(json.server_name)}`);
  if (!Number.isSafeInteger(json.valid_until_ts) || json.valid_until_ts <= Date.now()) {
    throw new Error(`${server}: key answer is expired or has no valid_until_ts`);
  }
  const keys = {};
  for (const [keyId, v] of Object.entries(json.verify_keys ?? {})) {
    if (!keyId.startsWith('ed25519:')) continue;
    const raw = unb64(v?.key);
    if (raw.length !== 32) throw new Error(`${server}: key ${keyId} is not 32 bytes`);
    keys[keyId] = raw;
  }
  if (Object.keys(keys).length === 0) throw new Error(`${server}: key answer lists no ed25519 key`);
  const selfSigned = Object.entries(keys).some(([keyId, raw]) => verifyJson(json, server, keyId, raw));
  if (!selfSigned) throw new Error(`${server}: key answer is not signed by a key it lists`);
  return keys;
}
