// signing.mjs -- keys, signed JSON and signed events, as the Matrix spec defines them
// ("Appendices: Signing JSON", server-server "Signing Events", the room versions' redaction
// algorithms), on node's own Ed25519 and SHA-256.
//
//   const key = SigningKey.generate();                 // or SigningKey.fromSeed(seed, '1')
//   const signed = signJson(obj, 'example.org', key);  // a copy with signatures.example.org
//   verifyJson(signed, 'example.org', key.keyId, key.publicKey)  // true
//   hashAndSignEvent('10', pdu, 'example.org', key);   // adds hashes.sha256 and a signature
//   eventId('10', pdu)                                 // '$' + URL-safe reference hash
//
// The one design decision: everything works on plain copies (structuredClone) and returns new
// objects, so a caller can keep a PDU as sent and still build a broken variant of it.

import crypto from 'node:crypto';

import { canonicalBytes, isCanonicalValue } from './canonical-json.mjs';

// ---- unpadded base64 ("Appendices: Unpadded Base64") --------------------------------------

export function b64(bytes) {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

export function b64url(bytes) {
  return b64(bytes).replace(/\+/g, '-').replace(/\//g, '_');
}

// Strict: Buffer's own decoder skips characters it does not know, which would let a mangled
// signature decode to something.
export function unb64(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
    throw new Error('not base64');
  }
  return Buffer.from(text, 'base64');
}

export function sha256(bytes) {
  return crypto.createHash('sha256').update(bytes).digest();
}

// ---- ed25519 keys -----------------------------------------------------------------------------

// DER wrappers around the raw 32-byte keys (RFC 8410): node imports keys only in a container.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function publicKeyObject(raw) {
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export class SigningKey {
  // seed: 32 bytes; version: the key id after "ed25519:".
  constructor(seed, version) {
    if (seed.length !== 32) throw new Error('an ed25519 seed is 32 bytes');
    this.seed = Buffer.from(seed);
    this.keyId = `ed25519:${version}`;
    this.privateKey = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, this.seed]), format: 'der', type: 'pkcs8' });
    this.publicKey = crypto.createPublicKey(this.privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);
  }

  static generate(version = `a_${crypto.randomBytes(3).toString('hex')}`) {
    return new SigningKey(crypto.randomBytes(32), version);
  }

  static fromSeed(seedBase64, version) {
    return new SigningKey(Buffer.from(seedBase64, 'base64'), version);
  }

  sign(bytes) {
    return crypto.sign(null, bytes, this.privateKey);
  }
}

export function verifyBytes(bytes, signature, publicKeyRaw) {
  if (signature.length !== 64 || publicKeyRaw.length !== 32) return false;
  return crypto.verify(null, bytes, publicKeyObject(publicKeyRaw), signature);
}

// ---- signed JSON ----------------------------------------------------------------------------

function withoutSignaturesAndUnsigned(obj) {
  const { signatures, unsigned, ...rest } = obj; // eslint-disable-line no-unused-vars
  return rest;
}

// A copy of obj with one more signature by (serverName, key); other signatures are kept.
// options.lenient: sign even over floats (see canonical-json.mjs).
export function signJson(obj, serverName, key, options) {
  const signature = b64(key.sign(canonicalBytes(withoutSignaturesAndUnsigned(obj), options)));
  const out = structuredClone(obj);
  out.signatures ??= {};
  out.signatures[serverName] = { ...(out.signatures[serverName] ?? {}), [key.keyId]: signature };
  return out;
}

// "Checking for a Signature": true when obj carries a valid signature by serverName with keyId.
export function verifyJson(obj, serverName, keyId, publicKeyRaw, options) {
  const sig = obj?.signatures?.[serverName]?.[keyId];
  if (typeof sig !== 'string') return false;
  let signature;
  try {
    signature = unb64(sig);
  } catch {
    return false;
  }
  return verifyBytes(canonicalBytes(withoutSignaturesAndUnsigned(obj), options), signature, publicKeyRaw);
}

// ---- room versions --------------------------------------------------------------------------

// What the kit knows of each room version: its redaction algorithm. Both use the v4 event
// format (ids are URL-safe reference hashes, no event_id in the PDU).
const KEEP_TOP_V9 = ['event_id', 'type', 'room_id', 'sender', 'state_key', 'content', 'hashes', 'signatures',
  'depth', 'prev_events', 'prev_state', 'auth_events', 'origin', 'origin_server_ts', 'membership'];
const KEEP_TOP_V11 = ['event_id', 'type', 'room_id', 'sender', 'state_key', 'content', 'hashes', 'signatures',
  'depth', 'prev_events', 'auth_events', 'origin_server_ts'];
const KEEP_CONTENT_V9 = {
  'm.room.member': ['membership', 'join_authorised_via_users_server'],
  'm.room.create': ['creator'],
  'm.room.join_rules': ['join_rule', 'allow'],
  'm.room.power_levels': ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'],
  'm.room.history_visibility': ['history_visibility'],
};
const KEEP_CONTENT_V11 = {
  'm.room.member': ['membership', 'join_authorised_via_users_server', 'third_party_invite'],
  'm.room.create': null, // all of it
  'm.room.join_rules': ['join_rule', 'allow'],
  'm.room.power_levels': ['ban', 'events', 'events_default', 'invite', 'kick', 'redact', 'state_default', 'users',
    'users_default'],
  'm.room.history_visibility': ['history_visibility'],
  'm.room.redaction': ['redacts'],
};

export const ROOM_VERSIONS = {
  10: { keepTop: KEEP_TOP_V9, keepContent: KEEP_CONTENT_V9 },
  11: { keepTop: KEEP_TOP_V11, keepContent: KEEP_CONTENT_V11 },
};

export function roomVersion(id) {
  const rv = ROOM_VERSIONS[id];
  if (!rv || typeof id !== 'string') throw new Error(`room version ${JSON.stringify(id)} is not one the kit knows`);
  return rv;
}

function pick(obj, keys) {
  const out = {};
  for (const k of keys) if (Object.hasOwn(obj, k)) out[k] = obj[k];
  return out;
}

// The redaction algorithm of the room version: a new object (unsigned is dropped).
export function redact(version, event) {
  const rv = roomVersion(version);
  const out = structuredClone(pick(event, rv.keepTop));
  const content = event.content && typeof event.content === 'object' && !Array.isArray(event.content) ? event.content : {};
  const keep = rv.keepContent[event.type];
  if (keep === null) {
    out.content = structuredClone(content);
  } else {
    out.content = structuredClone(pick(content, keep ?? []));
    // v11: third_party_invite keeps only its `signed`.
    const tpi = out.content.third_party_invite;
    if (event.type === 'm.room.member' && tpi !== undefined) {
      if (tpi && typeof tpi === 'object' && Object.hasOwn(tpi, 'signed')) out.content.third_party_invite = { signed: tpi.signed };
      else delete out.content.third_party_invite;
    }
  }
  return out;
}

// ---- hashes, ids and signatures of events ("Signing Events") --------------------------------

export function contentHash(event, options) {
  const { unsigned, signatures, hashes, ...rest } = event; // eslint-disable-line no-unused-vars
  return sha256(canonicalBytes(rest, options));
}

export function referenceHash(version, event, options) {
  return sha256(canonicalBytes(withoutSignaturesAndUnsigned(redact(version, event)), options));
}

export function eventId(version, event, options) {
  return `$${b64url(referenceHash(version, event, options))}`;
}

// A copy of the event with hashes.sha256 and a signature by (serverName, key) over its redacted
// form; options.lenient lets floats through (to build events other servers must drop).
export function hashAndSignEvent(version, event, serverName, key, options = {}) {
  const out = structuredClone(event);
  out.hashes = { sha256: b64(contentHash(out, options)) };
  return signEvent(version, out, serverName, key, options);
}

// A copy with one more signature (the resident's on a join, the invitee's on an invite).
export function signEvent(version, event, serverName, key, options = {}) {
  const redacted = withoutSignaturesAndUnsigned(redact(version, event));
  const signature = b64(key.sign(canonicalBytes(redacted, options)));
  const out = structuredClone(event);
  out.signatures ??= {};
  out.signatures[serverName] = { ...(out.signatures[serverName] ?? {}), [key.keyId]: signature };
  return out;
}

export function serverOf(id) {
  const i = typeof id === 'string' ? id.indexOf(':') : -1;
  return i < 0 ? null : id.slice(i + 1);
}

// Checks 2 and 3 of "Checks performed on receipt of a PDU" for one event: a valid signature by
// the sender's server (with a key from keysOf(server) -> {keyId: raw public key}) and the
// content hash. keysOf may be async (it may fetch). Answers { eventId, signed, hashOk, reason }.
export async function checkEvent(version, event, keysOf, { extraSigners = [] } = {}) {
  if (!isCanonicalValue(event)) return { eventId: null, signed: false, hashOk: false, reason: 'not canonical JSON' };
  const id = eventId(version, event);
  const servers = [serverOf(event.sender), ...extraSigners];
  for (const server of servers) {
    if (!server) return { eventId: id, signed: false, hashOk: false, reason: 'no sender server' };
    const keys = (await keysOf(server)) ?? {};
    const redacted = redact(version, event);
    const mine = event.signatures?.[server] ?? {};
    const usable = Object.keys(mine).filter((k) => k.startsWith('ed25519:') && keys[k]);
    if (usable.length === 0) return { eventId: id, signed: false, hashOk: false, reason: `no signature by a known key of ${server}` };
    for (const keyId of usable) {
      if (!verifyJson(redacted, server, keyId, keys[keyId])) {
        return { eventId: id, signed: false, hashOk: false, reason: `bad signature by ${server} ${keyId}` };
      }
    }
  }
  const expected = b64(contentHash(event));
  const hashOk = event.hashes?.sha256 === expected;
  return { eventId: id, signed: true, hashOk, reason: hashOk ? null : 'content hash mismatch' };
}
