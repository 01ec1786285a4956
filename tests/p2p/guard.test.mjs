// guard.test.mjs -- the inbound guard (js-bridge/p2p/guard.js) on its own:
// which requests a browser server accepts from a peer, and the X-Matrix
// parsing it relies on (the spec's "Authorization header format"). The same
// cases arrive over real streams in hostile.test.mjs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkInbound, parseXMatrix, refusalBytes } from '../../js-bridge/p2p/guard.js';

const PEER = 'ppp2lpmpoaexsrknjpccm4uh7ikarjvsic6dxfly2kp6btjygrxa';
const OTHER = '25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkena';
const enc = (text) => new TextEncoder().encode(text);
const auth = (origin) => `Authorization: X-Matrix origin="${origin}",destination="me",key="ed25519:1",sig="s"\r\n`;
const request = (target, headers = '', body = '') =>
  enc(`PUT ${target} HTTP/1.1\r\nHost: me\r\n${headers}Content-Length: ${body.length}\r\n\r\n${body}`);

describe('the inbound guard', () => {
  test('a peer\'s own federation and key requests pass', () => {
    const ok = checkInbound(request('/_matrix/federation/v1/send/1', auth(PEER), '{}'), { peerName: PEER });
    assert.deepEqual(ok, { ok: true, origin: PEER, method: 'PUT', path: '/_matrix/federation/v1/send/1' });
    assert.equal(checkInbound(request('/_matrix/key/v2/server'), { peerName: PEER }).ok, true);
    assert.equal(checkInbound(request('/_matrix/federation/v1/version'), { peerName: PEER }).ok, true);
    const encoded = checkInbound(request('/_matrix/federation/v1/user/devices/%40a%2Fb%3Aexample.org', auth(PEER)), { peerName: PEER });
    assert.equal(encoded.ok, true, 'escapes in ids (even %2F: user ids may hold a slash) are fine');
  });

  test('client, media and other paths are 403 M_FORBIDDEN', () => {
    for (const target of ['/_matrix/client/v3/sync', '/_matrix/media/v3/upload', '/', '/_matrix/federationx/v1',
      '/_matrix/federation/v1/../../client/v3/sync', '/_matrix/key/%2E%2E/%2e%2e/client', '/_matrix/key/a\\..\\b',
      '/_matrix/key/v2/%00', '/_matrix/federation/./v1/version']) {
      const verdict = checkInbound(request(target, auth(PEER)), { peerName: PEER });
      assert.equal(verdict.status, 403, target);
      assert.equal(verdict.errcode, 'M_FORBIDDEN', target);
    }
  });

  test('the origin must be the authenticated peer', () => {
    const forged = checkInbound(request('/_matrix/federation/v1/send/1', auth(OTHER)), { peerName: PEER });
    assert.equal(forged.status, 403);
    const two = checkInbound(request('/_matrix/federation/v1/send/1', auth(PEER) + auth(OTHER)), { peerName: PEER });
    assert.equal(two.status, 403);
    const none = checkInbound(request('/_matrix/federation/v1/send/1'), { peerName: PEER });
    assert.equal(none.status, 401);
    assert.equal(none.errcode, 'M_UNAUTHORIZED');
    const key = checkInbound(request('/_matrix/key/v2/server', auth(OTHER)), { peerName: PEER });
    assert.equal(key.status, 403, 'an origin that is given must be true even where none is needed');
  });

  test('through the gateway: a native origin passes, a key-named one never', () => {
    const native = checkInbound(request('/_matrix/federation/v1/send/1', auth('matrix.org')), { peerName: null, fromGateway: true });
    assert.equal(native.ok, true);
    assert.equal(native.origin, 'matrix.org');
    const key = checkInbound(request('/_matrix/federation/v1/send/1', auth(OTHER)), { peerName: null, fromGateway: true });
    assert.equal(key.status, 403);
    const client = checkInbound(request('/_matrix/client/v3/sync', auth('matrix.org')), { peerName: null, fromGateway: true });
    assert.equal(client.status, 403);
  });

  test('malformed or ambiguous HTTP is 400 M_UNRECOGNIZED', () => {
    const cases = [
      enc('PUT /_matrix/key/v2/server HTTP/1.1\r\nHost: me\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
      enc('PUT /_matrix/key/v2/server HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx'),
      enc('PUT /_matrix/key/v2/server HTTP/1.1\r\nContent-Length: 5\r\n\r\nx'),
      enc('PUT /_matrix/key/v2/server HTTP/1.1\r\nContent-Length: 0\r\n\r\nextra'),
      enc('\r\nGET /_matrix/key/v2/server HTTP/1.1\r\n\r\n'),
      enc('GET /_matrix/key/v2/server HTTP/1.0\r\n\r\n'),
      enc('GET  /_matrix/key/v2/server HTTP/1.1\r\n\r\n'),
      enc('GET /_matrix/key/v2/server HTTP/1.1\r\nHost : me\r\n\r\n'),
      enc('GET /_matrix/key/v2/server HTTP/1.1\r\n folded\r\n\r\n'),
      enc('GET /_matrix/key/v2/server HTTP/1.1\nHost: me\r\n\r\n'),
      enc('GET /_matrix/key/v2/server HTTP/1.1\r\nX: a\rb\r\n\r\n'),
      enc('GET /_matrix/key/v2/server HTTP/1.1\r\nX: a\x01b\r\n\r\n'),
      enc('GET /_matrix/key/v2/server HTTP/1.1\r\nHost: me\r\n'),
      enc('GET /_matrix/key/%zz HTTP/1.1\r\n\r\n'),
    ];
    for (const bytes of cases) {
      const verdict = checkInbound(bytes, { peerName: PEER });
      assert.equal(verdict.status, 400, JSON.stringify(new TextDecoder().decode(bytes)));
      assert.equal(verdict.errcode, 'M_UNRECOGNIZED');
    }
  });

  test('bounded: a long head is 431 and a body past 8 MB is 413, without parsing it', () => {
    const longHead = enc(`GET /_matrix/key/v2/server HTTP/1.1\r\nX: ${'a'.repeat(17000)}\r\n\r\n`);
    assert.equal(checkInbound(longHead, { peerName: PEER }).status, 431);
    const many = enc(`GET /_matrix/key/v2/server HTTP/1.1\r\n${'X: a\r\n'.repeat(101)}\r\n`);
    assert.equal(checkInbound(many, { peerName: PEER }).status, 431);
    const huge = new Uint8Array(8 * 1024 * 1024 + 1);
    const verdict = checkInbound(huge, { peerName: PEER });
    assert.equal(verdict.status, 413);
    assert.equal(verdict.errcode, 'M_TOO_LARGE');
  });

  test('a refusal is a Matrix error response', () => {
    const bytes = refusalBytes(checkInbound(request('/_matrix/client/v3/sync'), { peerName: PEER }));
    const text = new TextDecoder().decode(bytes);
    assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\nContent-Type: application\/json\r\nContent-Length: \d+\r\n\r\n/);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    assert.equal(body.errcode, 'M_FORBIDDEN');
    assert.match(body.error, /peers may reach only/);
  });
});

describe('X-Matrix parsing (spec: "Authorization header format")', () => {
  test('the spec\'s example and its allowed variations', () => {
    const plain = parseXMatrix('X-Matrix origin="origin.hs.example.com",destination="destination.hs.example.com",key="ed25519:key1",sig="ABCDEF"');
    assert.deepEqual(plain, { origin: 'origin.hs.example.com', destination: 'destination.hs.example.com', key: 'ed25519:key1', sig: 'ABCDEF' });
    const loose = parseXMatrix('x-matrix  Origin=origin.hs.example.com ,\tKEY="ed25519:key1", sig="AB\\"C"');
    assert.deepEqual(loose, { origin: 'origin.hs.example.com', destination: null, key: 'ed25519:key1', sig: 'AB"C' });
    assert.equal(parseXMatrix('X-Matrix origin="a\\.b"').origin, 'a.b', 'backslash escapes are unescaped');
  });

  test('anything two parsers could read differently is refused', () => {
    for (const value of ['X-Matrix origin="a",origin="b"', 'X-Matrix origin="a",ORIGIN="b"', 'X-Matrix origin="a', 'X-Matrix origin=',
      'X-Matrix origin="a" key="b"', 'X-Matrix ,origin="a"', 'X-Matrix key="k"', 'X-Matrixorigin="a"', 'Bearer abc',
      'X-Matrix origin="a b"', 'X-Matrix origin=a;b']) {
      assert.equal(parseXMatrix(value), null, value);
    }
  });
});
