// foundation.test.mjs -- discovery endpoints, unknown endpoints and methods,
// CORS, keep-alive, pipelining and many connections at once.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';

const GET_VERSIONS = 'GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\n\r\n';

function assertMatrixError(res, status, errcode) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers['content-type'], /^application\/json/);
  assert.equal(res.json?.errcode, errcode, res.text);
  assert.equal(typeof res.json.error, 'string');
  assert.ok(res.json.error.length > 0);
}

describe('discovery', () => {
  let srv;
  before(async () => { srv = await startServer(); });
  after(() => srv.stop());

  test('GET /_matrix/client/versions lists spec versions', async () => {
    const res = await srv.fetch('/_matrix/client/versions');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.ok(Array.isArray(res.json.versions) && res.json.versions.length > 0);
    for (const v of res.json.versions) assert.match(v, /^(r0\.\d+\.\d+|v1\.\d+)$/);
    assert.ok(res.json.versions.includes('v1.1'));
    // Every version whose required features are built, up to v1.12
    // (authenticated media is v1.11); not v1.13, whose room reports are not.
    for (const v of ['v1.6', 'v1.7', 'v1.10', 'v1.11', 'v1.12']) assert.ok(res.json.versions.includes(v), v);
    assert.ok(!res.json.versions.includes('v1.13'));
    assert.equal(typeof res.json.unstable_features, 'object');
    assert.ok(!Array.isArray(res.json.unstable_features));
  });

  test('HEAD /versions has the GET headers and no body', async () => {
    const get = await srv.fetch('/_matrix/client/versions');
    const head = await srv.raw('HEAD /_matrix/client/versions HTTP/1.1\r\nHost: t\r\n\r\n' + GET_VERSIONS,
      { responses: 2, head: true });
    assert.equal(head.status, 200);
    const [res] = head.responses;
    assert.equal(res.headers['content-length'], String(get.bytes.length));
    assert.equal(res.bytes.length, 0);
    // No body follows the head: the next bytes are the next answer's.
    assert.match(head.data.toString('latin1'), /\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    assert.equal(head.responses[1].status, 200);
  });

  test('GET /.well-known/matrix/client points at this server', async () => {
    const res = await srv.fetch('/.well-known/matrix/client');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { 'm.homeserver': { base_url: srv.url } });
  });

  test('the well-known base URL follows the Host header', async () => {
    const raw = await srv.raw('GET /.well-known/matrix/client HTTP/1.1\r\nHost: chat.example.org\r\n\r\n');
    assert.equal(raw.responses[0].json['m.homeserver'].base_url, 'http://chat.example.org');
  });

  test('an unknown endpoint is 404 M_UNRECOGNIZED', async () => {
    assertMatrixError(await srv.fetch('/_matrix/client/v3/no_such_endpoint'), 404, 'M_UNRECOGNIZED');
    assertMatrixError(await srv.fetch('/_matrix/nothing/here'), 404, 'M_UNRECOGNIZED');
    assertMatrixError(await srv.fetch('/not-matrix-at-all'), 404, 'M_UNRECOGNIZED');
  });

  test('a known endpoint with another method is 405 M_UNRECOGNIZED', async () => {
    assertMatrixError(await srv.fetch('/_matrix/client/versions', { method: 'POST', body: {} }), 405,
      'M_UNRECOGNIZED');
    assertMatrixError(await srv.fetch('/_matrix/client/versions', { method: 'DELETE' }), 405, 'M_UNRECOGNIZED');
  });

  test('a 405 says in Allow which methods the endpoint takes', async () => {
    const versions = await srv.fetch('/_matrix/client/versions', { method: 'PUT', body: {} });
    assert.equal(versions.headers.allow, 'GET, HEAD, OPTIONS');
    const login = await srv.fetch('/_matrix/client/v3/login', { method: 'DELETE' });
    assert.equal(login.headers.allow, 'GET, HEAD, POST, OPTIONS');
    const state = await srv.fetch('/_matrix/client/v3/rooms/!r:t/state/m.room.name/', { method: 'DELETE' });
    assert.equal(state.headers.allow, 'GET, HEAD, PUT, OPTIONS');
  });

  test('an unknown HTTP method is 405, with the methods the server takes', async () => {
    const raw = await srv.raw('BREW /_matrix/client/versions HTTP/1.1\r\nHost: t\r\n\r\n');
    assertMatrixError(raw.responses[0], 405, 'M_UNRECOGNIZED');
    assert.equal(raw.responses[0].headers.allow, 'GET, HEAD, POST, PUT, DELETE, OPTIONS');
  });
});

describe('CORS', () => {
  let srv;
  before(async () => { srv = await startServer(); });
  after(() => srv.stop());

  const assertCors = (res) => {
    assert.equal(res.headers['access-control-allow-origin'], '*', `no CORS on ${res.status}`);
    assert.match(res.headers['access-control-allow-methods'] ?? '', /GET/);
    assert.match(res.headers['access-control-allow-headers'] ?? '', /Authorization/i);
  };

  test('every response carries CORS headers', async () => {
    assertCors(await srv.fetch('/_matrix/client/versions'));
    assertCors(await srv.fetch('/.well-known/matrix/client'));
    assertCors(await srv.fetch('/_matrix/client/v3/nothing'));
    assertCors(await srv.fetch('/_matrix/client/versions', { method: 'PUT', body: {} }));
    const bad = await srv.raw('GET /_matrix/client/versions\r\nHost: t\r\n\r\n');
    assert.equal(bad.status, 400);
    assertCors(bad.responses[0]);
  });

  test('OPTIONS preflight is answered with CORS headers on any Matrix path', async () => {
    const res = await srv.fetch('/_matrix/client/v3/rooms/!r%3Ax/send/m.room.message/txn1', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(res.status, 200);
    assertCors(res);
    const methods = res.headers['access-control-allow-methods'].split(/,\s*/);
    for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']) assert.ok(methods.includes(m), m);
    const allowed = res.headers['access-control-allow-headers'].toLowerCase().split(/,\s*/);
    for (const h of ['authorization', 'content-type', 'x-requested-with']) assert.ok(allowed.includes(h), h);
  });
});

describe('connections', () => {
  let srv;
  before(async () => { srv = await startServer(); });
  after(() => srv.stop());

  test('keep-alive: several requests, one after another, on one connection', async () => {
    const conn = await srv.connect();
    try {
      for (let i = 0; i < 5; i++) {
        conn.write(GET_VERSIONS);
        const res = await conn.response();
        assert.equal(res.status, 200);
        assert.ok(Array.isArray(res.json.versions));
        assert.equal(res.headers.connection, undefined);
      }
      assert.equal(await conn.closedWithin(100), false);
    } finally {
      conn.destroy();
    }
  });

  test('pipelining: requests sent in one write are answered in order', async () => {
    const raw = await srv.raw(
      GET_VERSIONS +
      'GET /_matrix/client/v3/nothing HTTP/1.1\r\nHost: t\r\n\r\n' +
      'POST /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}' +
      'GET /.well-known/matrix/client HTTP/1.1\r\nHost: pipelined.example\r\n\r\n',
      { responses: 4 });
    assert.deepEqual(raw.responses.map((r) => r.status), [200, 404, 405, 200]);
    assert.equal(raw.responses[3].json['m.homeserver'].base_url, 'http://pipelined.example');
  });

  test('pipelining: a request split across writes is put back together', async () => {
    const conn = await srv.connect();
    try {
      const bytes = GET_VERSIONS + GET_VERSIONS;
      for (let i = 0; i < bytes.length; i += 7) {
        conn.write(bytes.slice(i, i + 7));
        await new Promise((r) => setTimeout(r, 1));
      }
      assert.equal((await conn.response()).status, 200);
      assert.equal((await conn.response()).status, 200);
    } finally {
      conn.destroy();
    }
  });

  test('Connection: close is honoured after the answer', async () => {
    const raw = await srv.raw('GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
      { waitClose: true });
    assert.equal(raw.status, 200);
    assert.equal(raw.responses[0].headers.connection, 'close');
    assert.equal(raw.closed, true);
  });

  test('an empty line before a request line is ignored, as after a POST body with an extra CRLF', async () => {
    const raw = await srv.raw(
      'POST /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}\r\n' +
      GET_VERSIONS + '\r\n\r\n' + GET_VERSIONS, { responses: 3 });
    assert.deepEqual(raw.responses.map((r) => r.status), [405, 200, 200]);
  });

  test('many empty lines before a request are not a request', async () => {
    const raw = await srv.raw('\r\n'.repeat(8) + GET_VERSIONS, { waitClose: true });
    assertMatrixError(raw.responses[0], 400, 'M_UNKNOWN');
    assert.equal(raw.closed, true);
  });

  test('Connection is a list: close among other tokens, or on a second line, closes', async () => {
    for (const header of ['Connection: keep-alive, close', 'Connection: Upgrade\r\nConnection: Close']) {
      const raw = await srv.raw(`GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\n${header}\r\n\r\n`,
        { waitClose: true });
      assert.equal(raw.status, 200);
      assert.equal(raw.responses[0].headers.connection, 'close', header);
      assert.equal(raw.closed, true, header);
    }
  });

  test('HTTP/1.0 with Connection: Keep-Alive among other tokens stays open', async () => {
    const conn = await srv.connect();
    try {
      conn.write('GET /_matrix/client/versions HTTP/1.0\r\nConnection: TE, Keep-Alive\r\n\r\n');
      assert.equal((await conn.response()).status, 200);
      assert.equal(await conn.closedWithin(100), false);
    } finally {
      conn.destroy();
    }
  });

  test('HTTP/1.0 without keep-alive is closed after the answer', async () => {
    const raw = await srv.raw('GET /_matrix/client/versions HTTP/1.0\r\n\r\n', { waitClose: true });
    assert.equal(raw.status, 200);
    assert.equal(raw.closed, true);
  });

  test('200 concurrent connections are all answered', async () => {
    const conns = await Promise.all(Array.from({ length: 200 }, () => srv.connect()));
    try {
      // Every connection is open before any request is sent.
      for (const c of conns) c.write(GET_VERSIONS);
      const answers = await Promise.all(conns.map((c) => c.response()));
      assert.equal(answers.length, 200);
      for (const a of answers) {
        assert.equal(a.status, 200);
        assert.ok(a.json.versions.includes('v1.1'));
      }
    } finally {
      for (const c of conns) c.destroy();
    }
  });

  test('Expect: 100-continue gets 100 before the body, then the answer', async () => {
    const conn = await srv.connect();
    try {
      conn.write('POST /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n' +
        'Content-Length: 2\r\n\r\n');
      const cont = await conn.response();
      assert.equal(cont.status, 100);
      conn.write('{}');
      const res = await conn.response();
      assert.equal(res.status, 405);
    } finally {
      conn.destroy();
    }
  });

  test('a chunked request body is accepted and framed exactly', async () => {
    const chunked = 'GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n';
    const raw = await srv.raw(chunked + GET_VERSIONS, { responses: 2 });
    assert.deepEqual(raw.responses.map((r) => r.status), [200, 200]);
    const post = await srv.fetch('/_matrix/client/versions', {
      method: 'POST', body: '{}', headers: { 'transfer-encoding': 'chunked' },
    });
    assert.equal(post.status, 405);
  });

  test('a body with NUL bytes is read by its length', async () => {
    const body = Buffer.from([0x7b, 0x00, 0x00, 0x7d, 0x00]);
    const head = `GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`;
    const raw = await srv.raw(Buffer.concat([Buffer.from(head), body, Buffer.from(GET_VERSIONS)]), { responses: 2 });
    assert.deepEqual(raw.responses.map((r) => r.status), [200, 200]);
  });
});
