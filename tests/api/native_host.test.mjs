// native_host.test.mjs -- what the native host does around the core: static
// files from --web-root, start-up failures and their exit codes, timeouts,
// connection caps and a clean stop on SIGTERM/SIGINT.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertNoSanitizerReport, runToExit, SANITIZED, sleep, startServer } from './lib/server.mjs';

const BIG = 1 << 20;
const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('static files from --web-root', () => {
  let srv;
  let parent;
  const wasm = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff]);
  before(async () => {
    parent = mkdtempSync(join(tmpdir(), 'hometab-web-'));
    const root = join(parent, 'web');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>hometab</title>');
    writeFileSync(join(root, 'a.js'), 'export const a = 1;\n');
    writeFileSync(join(root, 'b.wasm'), wasm);
    writeFileSync(join(root, 'big.bin'), Buffer.alloc(BIG, 7));
    writeFileSync(join(root, 'sub', 'index.html'), '<p>sub</p>');
    writeFileSync(join(parent, 'secret.txt'), 'TOP SECRET');
    symlinkSync(join(parent, 'secret.txt'), join(root, 'link.txt'));
    srv = await startServer({ args: ['--web-root', root] });
  });
  after(async () => {
    await srv.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  test('files are served with their MIME types', async () => {
    const index = await srv.fetch('/');
    assert.equal(index.status, 200);
    assert.match(index.headers['content-type'], /^text\/html/);
    assert.equal(index.text, '<!doctype html><title>hometab</title>');

    const js = await srv.fetch('/a.js');
    assert.equal(js.status, 200);
    assert.match(js.headers['content-type'], /^text\/javascript/);

    const bin = await srv.fetch('/b.wasm');
    assert.equal(bin.status, 200);
    assert.equal(bin.headers['content-type'], 'application/wasm');
    assert.deepEqual(bin.bytes, wasm);

    const sub = await srv.fetch('/sub/');
    assert.equal(sub.text, '<p>sub</p>');
  });

  test('static answers let a service worker control the whole origin', async () => {
    const res = await srv.fetch('/a.js');
    assert.equal(res.headers['service-worker-allowed'], '/');
    assert.equal(res.headers['access-control-allow-origin'], '*');
  });

  test('HEAD gives the headers of GET and no body', async () => {
    const raw = await srv.raw('HEAD /b.wasm HTTP/1.1\r\nHost: t\r\n\r\n', { head: true });
    assert.equal(raw.status, 200);
    assert.equal(raw.responses[0].headers['content-length'], String(wasm.length));
    assert.equal(raw.responses[0].headers['content-type'], 'application/wasm');
    assert.ok(raw.data.toString('latin1').endsWith('\r\n\r\n'));
  });

  test('a client that pipelines without reading is not answered into memory', async () => {
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8'))[1]) * 1024;
    const count = 200; // 200 MiB of answers if the server kept them all
    const before = rss();
    const socket = net.connect(srv.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.pause();
    socket.write('GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n'.repeat(count));
    try {
      await sleep(300);
      // Others are served meanwhile, and the answers not yet taken are not
      // piling up in the server.
      assert.equal((await srv.fetch('/_matrix/client/versions')).status, 200);
      const grown = rss() - before;
      assert.ok(grown < 48 * BIG, `the server grew by ${Math.round(grown / BIG)} MiB`);
      // Reading now, the client gets every answer, whole.
      let received = 0;
      let head = '';
      socket.on('data', (d) => {
        if (received === 0) head = d.toString('latin1', 0, 4096);
        received += d.length;
      });
      socket.resume();
      const headLen = () => head.indexOf('\r\n\r\n') + 4;
      for (const end = Date.now() + 20000; (!head || received < count * (headLen() + BIG)) && Date.now() < end;) {
        await sleep(20);
      }
      assert.match(head, /^HTTP\/1\.1 200 /);
      assert.equal(received, count * (headLen() + BIG));
    } finally {
      socket.destroy();
    }
  });

  test('a missing file is 404', async () => {
    assert.equal((await srv.fetch('/missing.js')).status, 404);
    assert.equal((await srv.fetch('/sub')).status, 404); // a folder is not a file
  });

  test('paths out of the web root are 404', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/sub/../../secret.txt',
      '/sub/%2e%2e/%2e%2e/secret.txt', '/..%2fsecret.txt', '/sub%2f..%2f..%2fsecret.txt', '/./../secret.txt',
      '/link.txt']) {
      const raw = await srv.raw(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
      assert.equal(raw.status, 404, path);
      assert.ok(!raw.data.toString().includes('TOP SECRET'), path);
    }
  });

  test('other methods on static files are 405', async () => {
    const res = await srv.fetch('/index.html', { method: 'POST', body: 'x' });
    assert.equal(res.status, 405);
    assert.match(res.headers.allow, /GET/);
  });

  test('Matrix paths still go to the core', async () => {
    const versions = await srv.fetch('/_matrix/client/versions');
    assert.equal(versions.status, 200);
    assert.ok(versions.json.versions.includes('v1.1'));
    const wellKnown = await srv.fetch('/.well-known/matrix/client');
    assert.equal(wellKnown.json['m.homeserver'].base_url, srv.url);
    const unknown = await srv.fetch('/_matrix/client/v3/nothing');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.errcode, 'M_UNRECOGNIZED');
  });
});

describe('start-up', () => {
  let dir;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'hometab-start-')); });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}.lock`, { force: true }); // beside the folder given as a database, below
  });

  test('--help lists every flag and exits 0', async () => {
    const { code, stdout } = await runToExit(['--help']);
    assert.equal(code, 0);
    for (const flag of ['--listen', '--db', '--server-name', '--web-root', '--public-url', '--max-body',
      '--request-timeout-ms', '--idle-timeout-ms', '--presence-offline-ms', '--max-connections', '--no-rate-limit'])
      assert.ok(stdout.includes(flag), flag);
  });

  test('an unknown or malformed flag exits 2', async () => {
    assert.equal((await runToExit(['--no-such-flag'])).code, 2);
    const listen = await runToExit(['--listen', 'nonsense']);
    assert.equal(listen.code, 2);
    assert.match(listen.stderr, /--listen/);
    const timeout = await runToExit(['--request-timeout-ms', 'soon']);
    assert.equal(timeout.code, 2);
    assert.match(timeout.stderr, /--request-timeout-ms/);
  });

  test('a port in use exits 3 and says so', async () => {
    const blocker = net.createServer();
    await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
    const { port } = blocker.address();
    try {
      const res = await runToExit(['--listen', `127.0.0.1:${port}`, '--db', join(dir, 'port.sqlite')]);
      assert.equal(res.code, 3, res.stderr);
      assert.match(res.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*already in use`));
      assertNoSanitizerReport(res.stderr);
    } finally {
      blocker.close();
    }
  });

  test('a file that is not a database exits 4, says why, and is left alone', async () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'These are my notes, not a database.\n'.repeat(20));
    const before = sha256(path);
    const res = await runToExit(['--listen', '127.0.0.1:0', '--db', path]);
    assert.equal(res.code, 4, res.stderr);
    assert.ok(res.stderr.includes(path));
    assert.match(res.stderr, /not a (readable SQLite )?database/);
    assert.equal(sha256(path), before);
    assertNoSanitizerReport(res.stderr);
  });

  test('a database path that cannot be opened exits 4', async () => {
    for (const path of [join(dir, 'no', 'such', 'folder', 'db.sqlite'), dir /* a folder */]) {
      const res = await runToExit(['--listen', '127.0.0.1:0', '--db', path]);
      assert.equal(res.code, 4, res.stderr);
      assert.ok(res.stderr.includes(`cannot open database ${path}`), res.stderr);
    }
  });

  test('a database from a newer hometab is refused and left unchanged', async () => {
    const path = join(dir, 'newer.sqlite');
    execFileSync('sqlite3', [path, 'CREATE TABLE future(x); INSERT INTO future VALUES (1); PRAGMA user_version=999;']);
    const before = sha256(path);
    const res = await runToExit(['--listen', '127.0.0.1:0', '--db', path]);
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, /schema version 999/);
    assert.match(res.stderr, /newer hometab/);
    assert.equal(sha256(path), before);
    assert.equal(execFileSync('sqlite3', [path, 'PRAGMA user_version;']).toString().trim(), '999');
    assert.equal(execFileSync('sqlite3', [path, 'PRAGMA journal_mode;']).toString().trim(), 'delete');
  });

  test('a new database is created in WAL mode with the schema version set, and reopens', async () => {
    const path = join(dir, 'fresh.sqlite');
    const first = await startServer({ db: path });
    await first.stop();
    const version = Number(execFileSync('sqlite3', [path, 'PRAGMA user_version;']).toString().trim());
    assert.ok(version >= 1, `user_version is ${version}`);
    assert.equal(execFileSync('sqlite3', [path, 'PRAGMA journal_mode;']).toString().trim(), 'wal');
    const second = await startServer({ db: path });
    assert.equal((await second.fetch('/_matrix/client/versions')).status, 200);
    await second.stop();
    assert.equal(Number(execFileSync('sqlite3', [path, 'PRAGMA user_version;']).toString().trim()), version);
  });
});

describe('timeouts', () => {
  const REQUEST_MS = SANITIZED ? 1200 : 400;
  const IDLE_MS = SANITIZED ? 1500 : 500;
  let srv;
  before(async () => {
    srv = await startServer({
      args: ['--request-timeout-ms', String(REQUEST_MS), '--idle-timeout-ms', String(IDLE_MS)],
    });
  });
  after(() => srv.stop());

  test('a slow client that sends half a request gets 408 after the request timeout', async () => {
    const conn = await srv.connect();
    try {
      const started = Date.now();
      conn.write('GET /_matrix/client/versions HTTP/1.1\r\nHo');
      const res = await conn.response({ timeoutMs: REQUEST_MS * 4 });
      const waited = Date.now() - started;
      assert.equal(res.status, 408);
      assert.equal(res.json.errcode, 'M_UNKNOWN');
      assert.ok(waited >= REQUEST_MS * 0.9, `408 after ${waited} ms, before the timeout`);
      assert.equal(await conn.closedWithin(2000), true);
    } finally {
      conn.destroy();
    }
  });

  test('trickling bytes does not extend the request timeout', async () => {
    const conn = await srv.connect();
    try {
      const started = Date.now();
      const request = 'GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nX-Padding: ' + 'a'.repeat(200);
      let i = 0;
      const drip = setInterval(() => { if (i < request.length) conn.write(request[i++]); }, REQUEST_MS / 8);
      const res = await conn.response({ timeoutMs: REQUEST_MS * 6 }).finally(() => clearInterval(drip));
      assert.equal(res.status, 408);
      assert.ok(Date.now() - started < REQUEST_MS * 3, 'the timeout was restarted by each byte');
    } finally {
      conn.destroy();
    }
  });

  test('each request on a connection gets its own request timeout', async () => {
    // Three requests, each arriving in two halves over 0.6 of the timeout:
    // together they take longer than one timeout, each alone does not.
    const conn = await srv.connect();
    try {
      for (let i = 0; i < 3; i++) {
        conn.write('GET /_matrix/client/versions HTTP/1.1\r\nHo');
        await sleep(REQUEST_MS * 0.6);
        conn.write('st: t\r\n\r\n');
        assert.equal((await conn.response()).status, 200, `request ${i + 1}`);
      }
    } finally {
      conn.destroy();
    }
  });

  test('an idle keep-alive connection is closed after the idle timeout, without an answer', async () => {
    const conn = await srv.connect();
    try {
      conn.write('GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\n\r\n');
      assert.equal((await conn.response()).status, 200);
      assert.equal(await conn.closedWithin(IDLE_MS / 2), false);
      assert.equal(await conn.closedWithin(IDLE_MS * 4), true);
      assert.equal(conn.pending.length, 0);
    } finally {
      conn.destroy();
    }
  });
});

describe('connection caps', () => {
  // Opens a connection and proves it is being served.
  async function served(srv) {
    const conn = await srv.connect();
    conn.write('GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\n\r\n');
    const res = await conn.response({ allowClose: true });
    return { conn, status: res?.status ?? null, res };
  }

  // The harness's own start-up connection may still be closing; retry a bit.
  async function servedEventually(srv) {
    for (let i = 0; ; i++) {
      const s = await served(srv);
      if (s.status === 200 || i === 20) return s;
      s.conn.destroy();
      await sleep(25);
    }
  }

  for (const flag of ['--max-connections', '--max-connections-per-ip']) {
    test(`over ${flag} a connection gets 503 M_LIMIT_EXCEEDED, and a freed slot is reused`, async () => {
      const srv = await startServer({ args: [flag, '3'] });
      const open = [];
      try {
        for (let i = 0; i < 3; i++) {
          const s = await servedEventually(srv);
          open.push(s.conn);
          assert.equal(s.status, 200);
        }
        const extra = await served(srv);
        open.push(extra.conn);
        assert.equal(extra.status, 503);
        assert.equal(extra.res.json.errcode, 'M_LIMIT_EXCEEDED');
        assert.equal(await extra.conn.closedWithin(2000), true);

        open.shift().destroy();
        const again = await servedEventually(srv);
        open.push(again.conn);
        assert.equal(again.status, 200);
      } finally {
        for (const c of open) c.destroy();
        await srv.stop();
      }
    });
  }
});

describe('the open-file limit', () => {
  test('a low soft limit is raised: more connections than it allowed are all served', async () => {
    const srv = await startServer({ wrap: ['prlimit', '--nofile=64:2048'], args: ['--max-connections', '1000'] });
    const open = [];
    try {
      for (let i = 0; i < 150; i++) {
        const conn = await srv.connect();
        open.push(conn);
        conn.write('GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\n\r\n');
      }
      for (const conn of open) assert.equal((await conn.response()).status, 200);
      assert.doesNotMatch(srv.stderr, /open-file limit/);
    } finally {
      for (const c of open) c.destroy();
      await srv.stop();
    }
  });

  test('a low hard limit lowers the connection cap: the rest get 503, not a reset', async () => {
    const srv = await startServer({ wrap: ['prlimit', '--nofile=96:96'] });
    const open = [];
    try {
      assert.match(srv.stderr, /the open-file limit \(96\) allows 64 connections, not 10000/);
      const statuses = [];
      for (let i = 0; i < 100; i++) {
        const conn = await srv.connect();
        open.push(conn);
        conn.write('GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\n\r\n');
        statuses.push((await conn.response({ allowClose: true }))?.status ?? 'reset');
      }
      assert.deepEqual(statuses.slice(0, 60), Array(60).fill(200));
      assert.deepEqual(statuses.slice(70), Array(30).fill(503));
    } finally {
      for (const c of open) c.destroy();
      await srv.stop();
    }
  });
});

describe('stopping', () => {
  test('SIGTERM with connections open exits 0 and closes them', async () => {
    const srv = await startServer();
    const idle = await srv.connect();
    idle.write('GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\n\r\n');
    assert.equal((await idle.response()).status, 200);
    const half = await srv.connect();
    half.write('POST /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{"par');
    const fresh = await srv.connect();
    await sleep(50);
    await srv.stop(); // asserts exit code 0 and, under ASan, no leak
    for (const c of [idle, half, fresh]) assert.equal(await c.closedWithin(1000), true);
    assert.match(srv.stderr, /SIGTERM received/);
  });

  test('SIGINT exits 0 too', async () => {
    const srv = await startServer();
    const conn = await srv.connect();
    await srv.stop({ signal: 'SIGINT' });
    assert.match(srv.stderr, /SIGINT received/);
    conn.destroy();
  });
});
