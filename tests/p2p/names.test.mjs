// names.test.mjs -- key names (js-bridge/p2p/names.js) against fixed
// vectors and against libp2p's own implementation of the same keys.
//
// Vector: RFC 8032 section 7.1, test 1 (seed 9d61b1...7f60, public key
// d75a98...511a). The name is that key in lowercase RFC 4648 base32; the
// peer id is what @libp2p/peer-id computes for it (checked below too).

import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  KEY_NAME_LENGTH, base32Decode, base32Encode, certifies, isKeyName, nameFromPeerId, nameFromPublicKey,
  peerIdFromName, peerIdFromPublicKey, publicKeyFromName, publicKeyFromPeerId,
} from '../../js-bridge/p2p/names.js';
import './lib/harness.mjs'; // Promise.withResolvers for libp2p on node 20

const hex = (text) => Uint8Array.from(Buffer.from(text, 'hex'));
const RFC8032_SEED = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const RFC8032_PUBLIC = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
const NAME = '25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkena';
const PEER_ID = '12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV';

function nodePublicKey(seed) {
  // PKCS#8 wrapping of an ed25519 seed; the SPKI's last 32 bytes are the key.
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const spki = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
  return Uint8Array.from(spki.subarray(-32));
}

describe('base32 (RFC 4648, lowercase, no padding)', () => {
  test('the RFC 4648 section 10 vectors', () => {
    const vectors = [['', ''], ['f', 'my'], ['fo', 'mzxq'], ['foo', 'mzxw6'], ['foob', 'mzxw6yq'],
      ['fooba', 'mzxw6ytb'], ['foobar', 'mzxw6ytboi']];
    for (const [plain, encoded] of vectors) {
      assert.equal(base32Encode(new TextEncoder().encode(plain)), encoded);
      assert.equal(Buffer.from(base32Decode(encoded)).toString(), plain);
    }
  });

  test('only the canonical spelling decodes', () => {
    assert.equal(base32Decode('MZXW6'), null, 'uppercase');
    assert.equal(base32Decode('mzxw6='), null, 'padding');
    assert.equal(base32Decode('mzxw1'), null, 'a digit outside 2-7');
    assert.equal(base32Decode('mz'), null, "'mz' leaves non-zero bits: 'my' is the spelling of 'f'");
    assert.equal(base32Decode('m'), null, 'a lone character is no byte');
  });
});

describe('server name <-> public key <-> peer id', () => {
  test('the RFC 8032 key has the fixed name and peer id', () => {
    assert.deepEqual(nodePublicKey(RFC8032_SEED), RFC8032_PUBLIC);
    assert.equal(nameFromPublicKey(RFC8032_PUBLIC), NAME);
    assert.equal(NAME.length, KEY_NAME_LENGTH);
    assert.deepEqual(publicKeyFromName(NAME), RFC8032_PUBLIC);
    assert.equal(peerIdFromPublicKey(RFC8032_PUBLIC), PEER_ID);
    assert.equal(peerIdFromName(NAME), PEER_ID);
    assert.equal(nameFromPeerId(PEER_ID), NAME);
    assert.deepEqual(publicKeyFromPeerId(PEER_ID), RFC8032_PUBLIC);
  });

  test('libp2p agrees: same key from the seed, same peer id, for random seeds too', async () => {
    const { generateKeyPairFromSeed } = await import('@libp2p/crypto/keys');
    const { peerIdFromPublicKey: libp2pPeerId, peerIdFromString } = await import('@libp2p/peer-id');
    for (const seed of [RFC8032_SEED, ...Array.from({ length: 50 }, () => Uint8Array.from(randomBytes(32)))]) {
      const key = await generateKeyPairFromSeed('Ed25519', seed);
      assert.deepEqual(key.publicKey.raw, nodePublicKey(seed), 'libp2p and node (libsodium\'s algorithm) derive one key');
      const name = nameFromPublicKey(key.publicKey.raw);
      assert.equal(peerIdFromName(name), libp2pPeerId(key.publicKey).toString());
      assert.deepEqual(peerIdFromString(peerIdFromName(name)).publicKey.raw, key.publicKey.raw);
    }
  });

  test('a key name is self-certifying for its key only', () => {
    assert.equal(certifies(NAME, RFC8032_PUBLIC), true);
    const other = Uint8Array.from(RFC8032_PUBLIC);
    other[31] ^= 1;
    assert.equal(certifies(NAME, other), false);
    assert.equal(certifies(nameFromPublicKey(other), RFC8032_PUBLIC), false);
    assert.equal(certifies('matrix.org', RFC8032_PUBLIC), false);
  });

  test('the key is the first label; a domain after it or a port does not change it', () => {
    assert.deepEqual(publicKeyFromName(`${NAME}.p2p.example.org`), RFC8032_PUBLIC);
    assert.deepEqual(publicKeyFromName(`${NAME}:8448`), RFC8032_PUBLIC);
    assert.equal(isKeyName(`${NAME}.p2p.example.org:443`), true);
  });

  test('anything else is not a key name', () => {
    const notNames = ['matrix.org', '127.0.0.1:8448', NAME.toUpperCase(), NAME.slice(1), `${NAME}a`,
      `${NAME.slice(0, 51)}b` /* the last character carries 4 bits that must be zero */, `x.${NAME}`,
      `${NAME}..org`, `${NAME}.ex ample.org`, '', null, undefined, 42];
    for (const name of notNames) assert.equal(isKeyName(name), false, String(name));
    assert.equal(publicKeyFromPeerId('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'), null, 'an RSA-style id');
    assert.equal(publicKeyFromPeerId(`${PEER_ID}x`), null);
    assert.equal(publicKeyFromPeerId('0OIl'), null, 'characters outside base58');
    assert.throws(() => nameFromPublicKey(new Uint8Array(31)), TypeError);
  });
});
