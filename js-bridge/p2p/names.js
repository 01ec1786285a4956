// names.js -- the names of browser servers: a server's name IS its ed25519
// public key, so the name proves which key speaks for it (self-certifying)
// and finding the peer needs no directory.
//
// A key name is the lowercase RFC 4648 base32 of the 32-byte public key, no
// padding: 52 characters, one DNS label (a later gateway domain can follow it:
// <key>.p2p.example.org). Only the canonical spelling counts: lowercase, and
// the 4 bits left over after the 256 key bits must be zero, so one key has
// exactly one name. The libp2p peer id of the same key (Noise authenticates
// peers by it) is the base58btc multihash "12D3KooW..." computed below
// without libp2p, so the worker, the relay and tests share one small module.
//
// Whether the 32 bytes are a valid curve point is not judged here: a name
// whose bytes are no key simply never completes a Noise handshake or verifies
// a signature.

export const KEY_NAME_LENGTH = 52;
const PUBLIC_KEY_BYTES = 32;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
// identity multihash (0x00, length 36) of the protobuf PublicKey
// { Type: Ed25519 (field 1 = 1), Data: 32 bytes (field 2, length 32) }
const PEER_ID_PREFIX = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20);

export function base32Encode(bytes) {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

// The bytes of lowercase unpadded base32, or null when the text is not its
// canonical form (another character, or non-zero bits past the last byte).
export function base32Decode(text) {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (const ch of text) {
    const value = BASE32.indexOf(ch);
    if (value < 0) return null;
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[at++] = (buffer >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  if (bits >= 5 || (buffer & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

function base58Encode(bytes) {
  const digits = [];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i++) {
      carry += digits[i] << 8;
      digits[i] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  let out = '';
  for (const byte of bytes) {
    if (byte !== 0) break;
    out += '1';
  }
  for (let i = digits.length - 1; i >= 0; i--) out += BASE58[digits[i]];
  return out;
}

function base58Decode(text) {
  const bytes = [];
  for (const ch of text) {
    let carry = BASE58.indexOf(ch);
    if (carry < 0) return null;
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i] * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  for (const ch of text) {
    if (ch !== '1') break;
    bytes.push(0);
  }
  return Uint8Array.from(bytes.reverse());
}

export function nameFromPublicKey(publicKey) {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) {
    throw new TypeError('an ed25519 public key is 32 bytes');
  }
  return base32Encode(publicKey);
}

// The public key a server name stands for, or null when the name is not a
// key name. The key is the name's first DNS label; a port is not part of it.
export function publicKeyFromName(serverName) {
  if (typeof serverName !== 'string') return null;
  const host = serverName.replace(/:\d{1,5}$/, '');
  const label = host.split('.', 1)[0];
  if (label.length !== KEY_NAME_LENGTH) return null;
  if (host.length > label.length && !/^\.[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(host.slice(label.length))) return null;
  const key = base32Decode(label);
  return key && key.length === PUBLIC_KEY_BYTES ? key : null;
}

export function isKeyName(serverName) {
  return publicKeyFromName(serverName) !== null;
}

// True when serverName is self-certifying for publicKey: its first label is
// exactly that key.
export function certifies(serverName, publicKey) {
  const key = publicKeyFromName(serverName);
  return key !== null && publicKey instanceof Uint8Array && key.length === publicKey.length &&
    key.every((byte, i) => byte === publicKey[i]);
}

export function peerIdFromPublicKey(publicKey) {
  nameFromPublicKey(publicKey); // checks the length
  const multihash = new Uint8Array(PEER_ID_PREFIX.length + PUBLIC_KEY_BYTES);
  multihash.set(PEER_ID_PREFIX);
  multihash.set(publicKey, PEER_ID_PREFIX.length);
  return base58Encode(multihash);
}

// The ed25519 key inside a "12D3KooW..." peer id, or null for any other
// kind of peer id (RSA, secp256k1, a CID spelling).
export function publicKeyFromPeerId(peerId) {
  if (typeof peerId !== 'string' || peerId.length > 64) return null;
  const bytes = base58Decode(peerId);
  if (!bytes || bytes.length !== PEER_ID_PREFIX.length + PUBLIC_KEY_BYTES) return null;
  if (!PEER_ID_PREFIX.every((byte, i) => bytes[i] === byte)) return null;
  return bytes.slice(PEER_ID_PREFIX.length);
}

export function peerIdFromName(serverName) {
  const key = publicKeyFromName(serverName);
  return key && peerIdFromPublicKey(key);
}

export function nameFromPeerId(peerId) {
  const key = publicKeyFromPeerId(peerId);
  return key && nameFromPublicKey(key);
}
