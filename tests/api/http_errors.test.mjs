// http_errors.test.mjs -- every malformed or oversized request a client can
// send gets a 4xx (or 5xx for what HTTP says is unsupported) with a Matrix
// error body, the connection is closed, and the server keeps serving others.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { pseudoRandomBytes, SANITIZED, sleep, startServer } from './lib/server.mjs';

const REQUEST_TIMEOUT_MS = SANITIZED ? 1500 : 500;

describe('malformed and oversized requests', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      args: ['--max-body', '1000', '--request-timeout-ms', String(REQUEST_TIMEOUT_MS), '--idle-timeout-ms', '5000'],
    });
  });
  after(() => srv.stop());

  // Sends bytes, expects one error answer with this status (or one of these)
  // and the connection closed; then checks the server still serves others.
  async function expectRefused(bytes, statuses, errcode) {
    const raw = await srv.raw(bytes, { waitClose: true });
    const allowed = [statuses].flat();
    assert.ok(allowed.includes(raw.status),
      `expected ${allowed.join(' or ')}, got ${raw.status}: ${raw.data.toString('latin1').slice(0, 300)}`);
    const res = raw.responses[0];
    assert.match(res.headers['content-type'], /^application\/json/);
    if (errcode) assert.equal(res.json.errcode, errcode);
    assert.equal(typeof res.json.error, 'string');
    assert.equal(res.headers.connection, 'close');
    assert.equal(raw.closed, true, 'the server should close the connection after refusing');
    const ok = await srv.fetch('/_matrix/client/versions');
    assert.equal(ok.status, 200, 'the server stopped serving after a bad request');
    return res;
  }

  test('random bytes get a 4xx', async () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      await expectRefused(pseudoRandomBytes(2000, seed), [400, 408]);
    }
  });

  test('random bytes after a valid request line get a 4xx', async () => {
    const bytes = Buffer.concat([Buffer.from('GET /_matrix/client/versions HTTP/1.1\r\n'), pseudoRandomBytes(500, 7)]);
    await expectRefused(bytes, [400, 408, 431]);
  });

  test('a TLS handshake on the plain port gets 400 at once', async () => {
    const hello = Buffer.from('16030100a5010000a10303', 'hex');
    const started = Date.now();
    await expectRefused(hello, 400, 'M_UNKNOWN');
    assert.ok(Date.now() - started < REQUEST_TIMEOUT_MS, 'refused only after the request timeout');
  });

  test('a request line without a version is 400', async () => {
    await expectRefused('GET /_matrix/client/versions\r\nHost: t\r\n\r\n', 400, 'M_UNKNOWN');
  });

  test('a request line with a malformed version is 400, another version is 505', async () => {
    await expectRefused('GET /_matrix/client/versions HTTP/one\r\nHost: t\r\n\r\n', 400);
    await expectRefused('GET /_matrix/client/versions HTTP/2.0\r\nHost: t\r\n\r\n', 505);
  });

  test('HTTP/1.1 without Host is 400', async () => {
    await expectRefused('GET /_matrix/client/versions HTTP/1.1\r\n\r\n', 400);
  });

  test('a header line without a colon is 400', async () => {
    await expectRefused('GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n', 400);
  });

  test('invalid UTF-8 in the path is 400', async () => {
    await expectRefused('GET /_matrix/client/%C3%28 HTTP/1.1\r\nHost: t\r\n\r\n', 400, 'M_UNKNOWN');
  });

  test('a 10 MB header is 431', async () => {
    const head = 'GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nX-Big: ';
    const bytes = Buffer.concat([Buffer.from(head), Buffer.alloc(10 * 1024 * 1024, 'a'), Buffer.from('\r\n\r\n')]);
    await expectRefused(bytes, 431, 'M_TOO_LARGE');
  });

  test('a header block just over the limit is 431', async () => {
    const bytes = `GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`;
    await expectRefused(bytes, 431, 'M_TOO_LARGE');
  });

  test('a URI that is too long is 414', async () => {
    await expectRefused(`GET /_matrix/client/${'a'.repeat(9000)} HTTP/1.1\r\nHost: t\r\n\r\n`, 414, 'M_TOO_LARGE');
  });

  test('a body over --max-body is 413', async () => {
    await expectRefused('POST /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n' +
      'x'.repeat(1001), 413, 'M_TOO_LARGE');
    // Refused from the head alone: the client need not send the body.
    await expectRefused('PUT /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n',
      413, 'M_TOO_LARGE');
  });

  test('a chunked body over --max-body is 413', async () => {
    const chunk = `${(600).toString(16)}\r\n${'x'.repeat(600)}\r\n`;
    await expectRefused('POST /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n' +
      chunk + chunk + '0\r\n\r\n', 413, 'M_TOO_LARGE');
  });

  test('a body of exactly --max-body bytes is accepted', async () => {
    const res = await srv.fetch('/_matrix/client/versions', { method: 'POST', body: 'x'.repeat(1000) });
    assert.equal(res.status, 405); // read whole, then routed
  });

  test('both Content-Length and Transfer-Encoding is 400', async () => {
    await expectRefused('POST /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n' +
      'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400);
  });

  test('two different Content-Lengths are 400', async () => {
    await expectRefused('POST /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n' +
      'Content-Length: 3\r\n\r\nabc', 400);
  });

  test('an unsupported Transfer-Encoding is 501', async () => {
    await expectRefused('POST /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n', 501);
  });

  test('a truncated chunked body gets 408 after the request timeout', async () => {
    await expectRefused('POST /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5\r\nhel', [400, 408]);
  });

  test('a chunk longer than its size is 400', async () => {
    await expectRefused('POST /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '2\r\nhello\r\n0\r\n\r\n', 400);
  });

  test('an error in a pipeline answers what came before, then closes', async () => {
    const raw = await srv.raw('GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\n\r\n' +
      'GET /_matrix/client/versions\r\n\r\n' +
      'GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\n\r\n', { responses: 3, waitClose: true });
    assert.deepEqual(raw.responses.map((r) => r.status), [200, 400]);
    assert.equal(raw.closed, true);
  });

  test('other clients are served while one sends garbage slowly', async () => {
    const slow = await srv.connect();
    try {
      slow.write('GET /_matrix/client/versions HTTP/1.1\r\n');
      await sleep(20);
      for (let i = 0; i < 5; i++) assert.equal((await srv.fetch('/_matrix/client/versions')).status, 200);
      slow.write('garbage without colon\r\n\r\n');
      const res = await slow.response();
      assert.equal(res.status, 400);
    } finally {
      slow.destroy();
    }
  });
});
