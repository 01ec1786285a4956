// media.test.mjs -- the content repository: upload, async create + upload,
// download (authenticated and legacy), headers that make serving files
// safe, size limits, config, thumbnails (a small image is its own; else 400).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { register } from './lib/matrix.mjs';
import { pseudoRandomBytes, runToExit, startServer } from './lib/server.mjs';

const UPLOAD = '/_matrix/media/v3/upload';
const CREATE = '/_matrix/media/v1/create';
const DOWNLOAD = '/_matrix/client/v1/media/download';
const LEGACY_DOWNLOAD = '/_matrix/media/v3/download';
const THUMBNAIL = '/_matrix/client/v1/media/thumbnail';

let srv;
let alice;
let bob;
before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
  alice = await register(srv, 'alice');
  bob = await register(srv, 'bob');
});
after(() => srv.stop());

async function upload(bytes, { type = 'application/octet-stream', filename, token = alice.token } = {}) {
  const q = filename === undefined ? '' : `?filename=${encodeURIComponent(filename)}`;
  return srv.fetch(UPLOAD + q, { method: 'POST', token, body: bytes, headers: type ? { 'content-type': type } : {} });
}

// Uploads and returns the "server/mediaId" part of the mxc URI.
async function stored(bytes, options) {
  const res = await upload(bytes, options);
  assert.equal(res.status, 200, res.text);
  return res.json.content_uri.slice('mxc://'.length);
}

test('upload returns an mxc URI on this server', async () => {
  const res = await upload(Buffer.from('hello'));
  assert.equal(res.status, 200);
  assert.match(res.json.content_uri, /^mxc:\/\/localhost\/[A-Za-z0-9_-]+$/);
});

test('binary file with NUL and 0xFF bytes round-trips exactly', async () => {
  const bytes = Buffer.concat([Buffer.from([0, 0xff, 0, 0x0d, 0x0a, 0xff, 0xfe]),
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)), pseudoRandomBytes(100000, 7)]);
  const path = await stored(bytes, { type: 'application/octet-stream' });
  const res = await srv.fetch(`${DOWNLOAD}/${path}`, { token: bob.token });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/octet-stream');
  assert.equal(Number(res.headers['content-length']), bytes.length);
  assert.ok(res.bytes.equals(bytes), 'downloaded bytes differ from the upload');
});

test('empty file uploads and downloads as zero bytes', async () => {
  const path = await stored(Buffer.alloc(0), { type: 'text/plain' });
  const res = await srv.fetch(`${DOWNLOAD}/${path}`, { token: alice.token });
  assert.equal(res.status, 200);
  assert.equal(res.bytes.length, 0);
  assert.equal(res.headers['content-type'], 'text/plain');
});

test('download serves the uploaded content type', async () => {
  const path = await stored(Buffer.from('{"a":1}'), { type: 'application/json; charset=utf-8' });
  const res = await srv.fetch(`${DOWNLOAD}/${path}`, { token: alice.token });
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
});

test('upload without Content-Type is stored as application/octet-stream', async () => {
  const path = await stored(Buffer.from('x'), { type: null });
  const res = await srv.fetch(`${DOWNLOAD}/${path}`, { token: alice.token });
  assert.equal(res.headers['content-type'], 'application/octet-stream');
});

test('upload with an invalid Content-Type is refused', async () => {
  const res = await upload(Buffer.from('x'), { type: 'not a type' });
  assert.equal(res.status, 400);
  assert.equal(res.json.errcode, 'M_INVALID_PARAM');
});

test('upload without an access token is refused', async () => {
  const res = await srv.fetch(UPLOAD, { method: 'POST', body: Buffer.from('x') });
  assert.equal(res.status, 401);
  assert.equal(res.json.errcode, 'M_MISSING_TOKEN');
});

test('authenticated download without a token is 401 M_MISSING_TOKEN', async () => {
  const path = await stored(Buffer.from('secret'));
  const res = await srv.fetch(`${DOWNLOAD}/${path}`);
  assert.equal(res.status, 401);
  assert.equal(res.json.errcode, 'M_MISSING_TOKEN');
});

test('legacy download works without a token', async () => {
  const path = await stored(Buffer.from('legacy bytes'));
  const res = await srv.fetch(`${LEGACY_DOWNLOAD}/${path}`);
  assert.equal(res.status, 200);
  assert.equal(res.text, 'legacy bytes');
});

test('unknown media is 404 M_NOT_FOUND', async () => {
  for (const path of [`${DOWNLOAD}/localhost/doesNotExist`, `${DOWNLOAD}/other.example/abc`,
    `${LEGACY_DOWNLOAD}/localhost/doesNotExist`, `${DOWNLOAD}/localhost/bad%20id`]) {
    const res = await srv.fetch(path, { token: alice.token });
    assert.equal(res.status, 404, path);
    assert.equal(res.json.errcode, 'M_NOT_FOUND', path);
  }
});

test('images are served inline, with the recommended sandbox policy', async () => {
  const path = await stored(Buffer.from([0x89, 0x50, 0x4e, 0x47]), { type: 'image/png', filename: 'cat.png' });
  const res = await srv.fetch(`${DOWNLOAD}/${path}`, { token: alice.token });
  assert.equal(res.headers['content-disposition'], 'inline; filename="cat.png"');
  assert.match(res.headers['content-security-policy'], /^sandbox; default-src 'none'; script-src 'none';/);
  assert.equal(res.headers['cross-origin-resource-policy'], 'cross-origin');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
});

test('HTML and SVG are served as attachments, never inline', async () => {
  for (const type of ['text/html', 'image/svg+xml', 'application/javascript']) {
    const path = await stored(Buffer.from('<script>alert(1)</script>'), { type, filename: 'page' });
    const res = await srv.fetch(`${DOWNLOAD}/${path}`, { token: alice.token });
    assert.equal(res.headers['content-disposition'], 'attachment; filename="page"', type);
    assert.match(res.headers['content-security-policy'], /sandbox/);
  }
});

test('a file without a name has a bare disposition', async () => {
  const path = await stored(Buffer.from('x'), { type: 'text/plain' });
  const res = await srv.fetch(`${DOWNLOAD}/${path}`, { token: alice.token });
  assert.equal(res.headers['content-disposition'], 'inline');
});

test('non-ASCII and quote characters in file names are escaped per RFC 6266', async () => {
  const path = await stored(Buffer.from('x'), { type: 'text/plain', filename: 'héllo "world";.txt' });
  const res = await srv.fetch(`${DOWNLOAD}/${path}`, { token: alice.token });
  assert.equal(res.headers['content-disposition'],
    "inline; filename*=utf-8''h%C3%A9llo%20%22world%22%3B.txt");
});

test('a file name with a line break is refused at upload (no header injection)', async () => {
  const res = await upload(Buffer.from('x'), { filename: 'a\r\nSet-Cookie: x=1' });
  assert.equal(res.status, 400);
  assert.equal(res.json.errcode, 'M_INVALID_PARAM');
});

test('a file name over 255 bytes is refused', async () => {
  const res = await upload(Buffer.from('x'), { filename: 'a'.repeat(256) });
  assert.equal(res.status, 400);
  assert.equal(res.json.errcode, 'M_INVALID_PARAM');
});

test('download with a file name in the path uses that name', async () => {
  const path = await stored(Buffer.from('x'), { type: 'text/plain', filename: 'original.txt' });
  const res = await srv.fetch(`${DOWNLOAD}/${path}/renamed.txt`, { token: alice.token });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-disposition'], 'inline; filename="renamed.txt"');
  const legacy = await srv.fetch(`${LEGACY_DOWNLOAD}/${path}/other.txt`);
  assert.equal(legacy.headers['content-disposition'], 'inline; filename="other.txt"');
});

test('a path file name with an encoded line break cannot inject a header', async () => {
  const path = await stored(Buffer.from('x'), { type: 'text/plain', filename: 'safe.txt' });
  const res = await srv.fetch(`${DOWNLOAD}/${path}/a%0D%0ASet-Cookie:%20x=1`, { token: alice.token });
  assert.equal(res.status, 200);
  assert.equal(res.headers['set-cookie'], undefined);
  assert.equal(res.headers['content-disposition'], 'inline; filename="safe.txt"');
});

test('HEAD on a download gives the headers without the body', async () => {
  const path = await stored(Buffer.from('12345'), { type: 'text/plain' });
  const res = await srv.raw(`HEAD ${LEGACY_DOWNLOAD}/${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`,
    { responses: 0, waitClose: true });
  const text = res.data.toString('latin1');
  assert.match(text, /^HTTP\/1\.1 200 /);
  assert.match(text, /Content-Length: 5\r\n/);
  assert.ok(text.endsWith('\r\n\r\n'), 'no body after the headers');
});

test('media config reports the upload limit on both paths', async () => {
  for (const path of ['/_matrix/client/v1/media/config', '/_matrix/media/v3/config']) {
    const res = await srv.fetch(path, { token: alice.token });
    assert.equal(res.status, 200, path);
    assert.equal(res.json['m.upload.size'], 50 * 1024 * 1024, path);
  }
  const anon = await srv.fetch('/_matrix/client/v1/media/config');
  assert.equal(anon.status, 401);
});

test('async upload: create, then upload to the id, then download', async () => {
  const created = await srv.fetch(CREATE, { method: 'POST', token: alice.token });
  assert.equal(created.status, 200);
  assert.match(created.json.content_uri, /^mxc:\/\/localhost\//);
  assert.ok(created.json.unused_expires_at > Date.now());
  const path = created.json.content_uri.slice('mxc://'.length);
  const put = await srv.fetch(`${UPLOAD}/${path}?filename=late.bin`,
    { method: 'PUT', token: alice.token, body: Buffer.from([1, 0, 255]), headers: { 'content-type': 'image/gif' } });
  assert.equal(put.status, 200, put.text);
  const res = await srv.fetch(`${DOWNLOAD}/${path}`, { token: bob.token });
  assert.equal(res.status, 200);
  assert.deepEqual([...res.bytes], [1, 0, 255]);
  assert.equal(res.headers['content-type'], 'image/gif');
  assert.equal(res.headers['content-disposition'], 'inline; filename="late.bin"');
});

test('downloading a created id before its upload is 504 M_NOT_YET_UPLOADED', async () => {
  const created = await srv.fetch(CREATE, { method: 'POST', token: alice.token });
  const path = created.json.content_uri.slice('mxc://'.length);
  const res = await srv.fetch(`${DOWNLOAD}/${path}?timeout_ms=0`, { token: alice.token });
  assert.equal(res.status, 504);
  assert.equal(res.json.errcode, 'M_NOT_YET_UPLOADED');
});

test('a download waits for a pending upload and gets the bytes once they arrive', async () => {
  const created = await srv.fetch(CREATE, { method: 'POST', token: alice.token });
  const path = created.json.content_uri.slice('mxc://'.length);
  const waiting = srv.fetch(`${DOWNLOAD}/${path}?timeout_ms=10000`, { token: bob.token });
  await new Promise((r) => setTimeout(r, 200));
  const put = await srv.fetch(`${UPLOAD}/${path}`, { method: 'PUT', token: alice.token, body: Buffer.from('arrived') });
  assert.equal(put.status, 200);
  const res = await waiting;
  assert.equal(res.status, 200);
  assert.equal(res.text, 'arrived');
});

test('a download waiting for a pending upload gives up with 504 when its timeout passes', async () => {
  const created = await srv.fetch(CREATE, { method: 'POST', token: alice.token });
  const path = created.json.content_uri.slice('mxc://'.length);
  const started = Date.now();
  const res = await srv.fetch(`${LEGACY_DOWNLOAD}/${path}?timeout_ms=400`);
  assert.ok(Date.now() - started >= 350, 'it waited');
  assert.equal(res.status, 504);
  assert.equal(res.json.errcode, 'M_NOT_YET_UPLOADED');
});

test('uploading twice to a created id is 409 M_CANNOT_OVERWRITE_MEDIA', async () => {
  const created = await srv.fetch(CREATE, { method: 'POST', token: alice.token });
  const path = created.json.content_uri.slice('mxc://'.length);
  const first = await srv.fetch(`${UPLOAD}/${path}`, { method: 'PUT', token: alice.token, body: Buffer.from('one') });
  assert.equal(first.status, 200);
  const second = await srv.fetch(`${UPLOAD}/${path}`, { method: 'PUT', token: alice.token, body: Buffer.from('two') });
  assert.equal(second.status, 409);
  assert.equal(second.json.errcode, 'M_CANNOT_OVERWRITE_MEDIA');
  const res = await srv.fetch(`${DOWNLOAD}/${path}`, { token: alice.token });
  assert.equal(res.text, 'one');
});

test('uploading to a media id created by someone else is 403 M_FORBIDDEN', async () => {
  const created = await srv.fetch(CREATE, { method: 'POST', token: alice.token });
  const path = created.json.content_uri.slice('mxc://'.length);
  const res = await srv.fetch(`${UPLOAD}/${path}`, { method: 'PUT', token: bob.token, body: Buffer.from('mine') });
  assert.equal(res.status, 403);
  assert.equal(res.json.errcode, 'M_FORBIDDEN');
});

test('uploading to an unknown media id is 404 M_NOT_FOUND', async () => {
  const res = await srv.fetch(`${UPLOAD}/localhost/neverCreated`, { method: 'PUT', token: alice.token, body: Buffer.from('x') });
  assert.equal(res.status, 404);
  assert.equal(res.json.errcode, 'M_NOT_FOUND');
});

test('too many pending media ids is 429 M_LIMIT_EXCEEDED', async () => {
  const carol = await register(srv, 'carol');
  for (let i = 0; i < 50; i++) {
    const res = await srv.fetch(CREATE, { method: 'POST', token: carol.token });
    assert.equal(res.status, 200);
  }
  const res = await srv.fetch(CREATE, { method: 'POST', token: carol.token });
  assert.equal(res.status, 429);
  assert.equal(res.json.errcode, 'M_LIMIT_EXCEEDED');
});

test('a small image is its own thumbnail: the same bytes and type, inline, on both paths', async () => {
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pseudoRandomBytes(3000, 5)]);
  const path = await stored(png, { type: 'image/png' });
  const res = await srv.fetch(`${THUMBNAIL}/${path}?width=32&height=32&method=scale`, { token: alice.token });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'image/png');
  assert.match(res.headers['content-disposition'], /^inline/);
  assert.match(res.headers['content-security-policy'], /sandbox/);
  assert.ok(res.bytes.equals(png));
  const legacy = await srv.fetch(`/_matrix/media/v3/thumbnail/${path}?width=32&height=32&method=crop`);
  assert.equal(legacy.status, 200);
  assert.ok(legacy.bytes.equals(png));
});

test('no thumbnail of a large image or of what is not an image: 400 M_UNKNOWN', async () => {
  const big = await stored(pseudoRandomBytes(1024 * 1024 + 1, 6), { type: 'image/jpeg' });
  const svg = await stored(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), { type: 'image/svg+xml' });
  const pdf = await stored(Buffer.from('%PDF-1.4'), { type: 'application/pdf' });
  for (const path of [big, svg, pdf]) {
    const res = await srv.fetch(`${THUMBNAIL}/${path}?width=32&height=32`, { token: alice.token });
    assert.equal(res.status, 400, path);
    assert.equal(res.json.errcode, 'M_UNKNOWN');
  }
});

test('thumbnail of unknown media is 404 M_NOT_FOUND', async () => {
  const res = await srv.fetch(`${THUMBNAIL}/localhost/nothing?width=32&height=32`, { token: alice.token });
  assert.equal(res.status, 404);
  assert.equal(res.json.errcode, 'M_NOT_FOUND');
});

test('thumbnail parameters are checked', async () => {
  const path = await stored(Buffer.from('x'), { type: 'image/png' });
  const missing = await srv.fetch(`${THUMBNAIL}/${path}?height=32`, { token: alice.token });
  assert.equal(missing.status, 400);
  assert.equal(missing.json.errcode, 'M_MISSING_PARAM');
  const bad = await srv.fetch(`${THUMBNAIL}/${path}?width=-1&height=32`, { token: alice.token });
  assert.equal(bad.json.errcode, 'M_INVALID_PARAM');
  const method = await srv.fetch(`${THUMBNAIL}/${path}?width=1&height=32&method=stretch`, { token: alice.token });
  assert.equal(method.json.errcode, 'M_INVALID_PARAM');
  const anon = await srv.fetch(`${THUMBNAIL}/${path}?width=1&height=1`);
  assert.equal(anon.status, 401);
  assert.equal(anon.json.errcode, 'M_MISSING_TOKEN');
});

test('uploads over --max-upload are 413 M_TOO_LARGE; the limit itself is accepted', async () => {
  const small = await startServer({ args: ['--no-rate-limit', '--max-upload', '1000'] });
  try {
    const user = await register(small, 'dave');
    const ok = await small.fetch(UPLOAD, { method: 'POST', token: user.token, body: Buffer.alloc(1000, 1) });
    assert.equal(ok.status, 200);
    const big = await small.fetch(UPLOAD, { method: 'POST', token: user.token, body: Buffer.alloc(1001, 1) });
    assert.equal(big.status, 413);
    assert.equal(big.json.errcode, 'M_TOO_LARGE');
    const config = await small.fetch('/_matrix/client/v1/media/config', { token: user.token });
    assert.equal(config.json['m.upload.size'], 1000);
  } finally {
    await small.stop();
  }
});

test('a lower --max-body alone lowers the advertised upload limit', async () => {
  const small = await startServer({ args: ['--no-rate-limit', '--max-body', '5000'] });
  try {
    const user = await register(small, 'erin');
    const config = await small.fetch('/_matrix/media/v3/config', { token: user.token });
    assert.equal(config.json['m.upload.size'], 5000);
  } finally {
    await small.stop();
  }
});

test('--max-upload larger than an explicit --max-body is refused at start', async () => {
  const res = await runToExit(['--max-body', '1000', '--max-upload', '2000', '--db', ':memory:']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--max-body must be at least --max-upload/);
  const bad = await runToExit(['--max-upload', 'lots', '--db', ':memory:']);
  assert.equal(bad.code, 2);
});

test('media lives in the database: it survives a restart', async () => {
  const first = await startServer({ args: ['--no-rate-limit'] });
  const user = await register(first, 'frank');
  const bytes = pseudoRandomBytes(5000, 99);
  const res = await first.fetch(UPLOAD, { method: 'POST', token: user.token, body: bytes });
  const path = res.json.content_uri.slice('mxc://'.length);
  await first.stop({ keepFiles: true });
  const second = await startServer({ args: ['--no-rate-limit'], db: first.db });
  try {
    const back = await second.fetch(`${DOWNLOAD}/${path}`, { token: user.token });
    assert.equal(back.status, 200);
    assert.ok(back.bytes.equals(bytes));
  } finally {
    await second.stop();
    const { rmSync } = await import('node:fs');
    rmSync(first.dir, { recursive: true, force: true });
  }
});
