// e2ee.mjs -- what an end-to-end encrypting client does with keys, for the
// API tests: ed25519 key pairs, canonical JSON and signed key objects.
//
//   const key = ed25519();                       // {publicKey (unpadded base64), sign(obj, userId, keyId)}
//   const dk = deviceKeys(alice, key);           // signed device_keys for alice's device
//   const master = crossSigningKey(alice.user_id, 'master', mk); ...

import { generateKeyPairSync, sign } from 'node:crypto';

// Canonical JSON (spec "Signing JSON"): sorted keys, no white space.
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const unpadded = (buf) => buf.toString('base64').replace(/=+$/, '');

// A fresh ed25519 key pair. sign() adds signatures[userId][keyId] to a copy
// of obj (signing it without signatures and unsigned, as the spec says).
export function ed25519() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'jwk' }).x;
  const pub = unpadded(Buffer.from(raw, 'base64url'));
  return {
    publicKey: pub,
    sign(obj, userId, keyId = `ed25519:${pub}`) {
      const { signatures = {}, unsigned, ...rest } = obj;
      const sig = unpadded(sign(null, Buffer.from(canonicalJson(rest)), privateKey));
      const out = { ...rest, signatures: { ...signatures, [userId]: { ...(signatures[userId] ?? {}), [keyId]: sig } } };
      if (unsigned !== undefined) out.unsigned = unsigned;
      return out;
    },
  };
}

// A device's identity keys, self-signed with its ed25519 key.
export function deviceKeys(who, key = ed25519()) {
  const dk = {
    user_id: who.user_id,
    device_id: who.device_id,
    algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
    keys: { [`curve25519:${who.device_id}`]: `curve-${who.device_id}`, [`ed25519:${who.device_id}`]: key.publicKey },
  };
  return { key, json: key.sign(dk, who.user_id, `ed25519:${who.device_id}`) };
}

// A cross-signing key object of the given usage, unsigned.
export function crossSigningKey(userId, usage, key) {
  return { user_id: userId, usage: [usage], keys: { [`ed25519:${key.publicKey}`]: key.publicKey } };
}

// Signed one-time keys: {"signed_curve25519:<id>": {key, signatures}}.
export function oneTimeKeys(who, key, ids, { fallback = false } = {}) {
  const out = {};
  for (const id of ids) {
    const k = { key: `otk-${who.device_id}-${id}` };
    if (fallback) k.fallback = true;
    out[`signed_curve25519:${id}`] = key.sign(k, who.user_id, `ed25519:${who.device_id}`);
  }
  return out;
}
