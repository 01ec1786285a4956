// server.mjs -- start a real hometab for one test file, and talk to it.
//
//   import { startServer } from './lib/server.mjs';
//   const srv = await startServer({ args: ['--max-body', '1000'] });
//   const res = await srv.fetch('/_matrix/client/versions');          // {status, headers, json, text, bytes}
//   const raw = await srv.raw('GET / HTTP/1.1\r\n\r\n');               // {status, responses, closed}
//   const conn = await srv.connect(); conn.write(...); await conn.response();
//   await srv.stop();   // SIGTERM; asserts exit code 0 (and no sanitizer report)
//   await srv.died();   // or: waits for an exit the test caused, and asserts nothing
//
// The binary is $HOMETAB_BIN; it listens on 127.0.0.1 port 0 (the kernel picks
// a free port, which the server prints) with a fresh database in a temporary
// folder that stop() removes. When $HOMETAB_SANITIZED=1 (the ASan build),
// stop() also fails on any AddressSanitizer, LeakSanitizer or UBSan report.
// A server a test forgot to stop is stopped, with the same checks, after the
// test file's last test.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export const SANITIZED = process.env.HOMETAB_SANITIZED === '1';
// The sanitizer build is several times slower; give it room.
const SLOW = SANITIZED ? 4 : 1;

function binary() {
  const bin = process.env.HOMETAB_BIN;
  if (!bin) throw new Error('HOMETAB_BIN is not set: run the API tests through `make test-api`');
  return bin;
}

const running = new Set();
after(async () => {
  for (const srv of [...running]) await srv.stop();
});

// Starts hometab and resolves once it answers /_matrix/client/versions.
// options: args (extra flags), db (a path instead of a fresh one), env,
// wrap (a command that execs hometab, e.g. ['prlimit', '--nofile=96']).
export async function startServer({ args = [], db, env = {}, wrap = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hometab-api-'));
  const dbPath = db ?? join(dir, 'hometab.sqlite');
  const argv = ['--listen', '127.0.0.1:0', '--db', dbPath, ...args];
  const [command, ...prefix] = [...wrap, binary()];
  const proc = spawn(command, [...prefix, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));

  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hometab did not start in time\n${stderr}`)), 10000 * SLOW);
    proc.stdout.on('data', () => {
      const m = /listening on http:\/\/\S+?:(\d+)\//.exec(stdout);
      if (m) clearTimeout(timer), resolve(Number(m[1]));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`hometab exited (${code ?? signal}) before listening: ${argv.join(' ')}\n${stderr}`));
    });
  });
  const port = await listening.catch((e) => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });

  const url = `http://127.0.0.1:${port}`;
  let stopped = null;
  const srv = {
    url,
    port,
    dir,
    db: dbPath,
    proc,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    exited,

    // fetch(path, {method, body, token, headers}): an object body is sent as
    // JSON; a string, Buffer or Uint8Array as it is. Each call uses its own
    // connection (no pool), so connection counts and timeouts stay exact.
    fetch(path, { method = 'GET', body, token, headers = {} } = {}) {
      const h = { ...headers };
      if (token) h.authorization = `Bearer ${token}`;
      let payload = body;
      if (body !== undefined && typeof body === 'object' && !(body instanceof Uint8Array)) {
        payload = JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
      if (payload !== undefined && !('transfer-encoding' in h)) h['content-length'] = Buffer.byteLength(payload);
      return new Promise((resolve, reject) => {
        const req = http.request(url + path, { method, headers: h, agent: false }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve(toResult(res.statusCode, res.headers, Buffer.concat(chunks))));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(payload);
      });
    },

    // One raw connection: write bytes, read parsed responses.
    connect: () => RawConnection.open(port),

    // Sends bytes on a fresh connection and collects what comes back: stops
    // after `responses` complete answers, when the server closes, or after
    // timeoutMs; with waitClose, then waits for the server to close too. head:
    // the answers are to HEAD requests (no body despite Content-Length).
    // Returns {status (of the first answer), responses, closed, data}.
    async raw(bytes, { responses = 1, timeoutMs = 5000 * SLOW, waitClose = false, head = false } = {}) {
      const conn = await RawConnection.open(port);
      try {
        const deadline = Date.now() + timeoutMs;
        conn.write(bytes);
        const got = [];
        while (got.length < responses) {
          const r = await conn.response({ timeoutMs: Math.max(0, deadline - Date.now()), allowClose: true, head });
          if (!r) break;
          got.push(r);
        }
        const closed = await conn.closedWithin(waitClose ? Math.max(0, deadline - Date.now()) : 0);
        return { status: got[0]?.status ?? null, responses: got, closed, data: conn.data };
      } finally {
        conn.destroy();
      }
    },

    // Waits for the server to exit by itself (a stop the test provoked):
    // {code, signal, stderr}. It is not stopped after the file's last test,
    // and its folder is left for a restart on its database (srv.dir).
    async died() {
      stopped ??= (async () => {
        running.delete(srv);
        const { code, signal } = await exited;
        return { code, signal, stderr };
      })();
      return stopped;
    },

    // SIGTERM (or the given signal), then wait for the exit; asserts a clean
    // one. keepFiles leaves the temporary folder (and database) in place, for
    // a test that restarts on the same database; it then removes srv.dir.
    stop({ signal = 'SIGTERM', keepFiles = false } = {}) {
      stopped ??= (async () => {
        running.delete(srv);
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10000 * SLOW);
        const { code, signal: sig } = await exited;
        clearTimeout(timer);
        if (!keepFiles) rmSync(dir, { recursive: true, force: true });
        assertCleanExit({ code, signal: sig, stderr }, argv);
      })();
      return stopped;
    },
  };
  running.add(srv);

  // Ready means answering, not only listening.
  const ready = await srv.raw('GET /_matrix/client/versions HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n');
  assert.equal(ready.status, 200, `hometab is listening but /versions answered ${ready.status}\n${stderr}`);
  return srv;
}

// Runs hometab to its exit (for flags and start-up failures); kills it after
// timeoutMs. Resolves {code, signal, stdout, stderr}.
export function runToExit(args, { timeoutMs = 10000 * SLOW } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`hometab ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// Exit code 0, and under the sanitizers no report of any kind.
export function assertCleanExit({ code, signal, stderr }, argv = []) {
  assert.equal(signal, null, `hometab died of ${signal}: ${argv.join(' ')}\n${stderr}`);
  assert.equal(code, 0, `hometab exited with ${code}: ${argv.join(' ')}\n${stderr}`);
  assertNoSanitizerReport(stderr);
}

export function assertNoSanitizerReport(stderr) {
  if (!SANITIZED) return;
  for (const marker of ['AddressSanitizer', 'LeakSanitizer', 'runtime error:'])
    assert.ok(!stderr.includes(marker), `sanitizer report (${marker}) on stderr:\n${stderr}`);
}

function toResult(status, headers, bytes) {
  const text = bytes.toString('utf8');
  let json = null;
  if ((headers['content-type'] ?? '').startsWith('application/json') && bytes.length > 0) {
    try { json = JSON.parse(text); } catch { json = null; }
  }
  return { status, headers, bytes, text, json };
}

// Parses one HTTP/1.1 response from the front of buf (Content-Length framed,
// as hometab always answers; an answer to HEAD has no body). Returns
// {response, rest} or null if incomplete.
export function parseResponse(buf, { head: isHead = false } = {}) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(head[0])}`);
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const status = Number(m[1]);
  const length = status < 200 || isHead ? 0 : Number(headers['content-length'] ?? 0);
  if (buf.length < end + 4 + length) return null;
  const bytes = buf.subarray(end + 4, end + 4 + length);
  return { response: { ...toResult(status, headers, Buffer.from(bytes)), head: head.join('\r\n') },
           rest: buf.subarray(end + 4 + length) };
}

// A raw TCP connection to the server, for pipelining and malformed HTTP.
export class RawConnection {
  static open(port) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.data = Buffer.alloc(0); // everything received
    this.pending = Buffer.alloc(0); // received and not yet parsed
    this.closed = false;
    this.error = null;
    this.wake = () => {};
    socket.on('data', (d) => {
      this.data = Buffer.concat([this.data, d]);
      this.pending = Buffer.concat([this.pending, d]);
      this.wake();
    });
    // A reset after the server answered and closed counts as closed: the
    // answer was already read.
    socket.on('error', (e) => { this.error = e; });
    socket.on('close', () => { this.closed = true; this.wake(); });
  }

  // Queues bytes (string or Buffer); errors such as EPIPE are kept in .error.
  write(bytes) {
    if (!this.closed) this.socket.write(bytes, () => {});
  }

  // The next complete response. Throws on timeout; if allowClose, returns
  // null when the server closes without (another) answer. head: it answers
  // a HEAD request.
  async response({ timeoutMs = 5000 * SLOW, allowClose = false, head = false } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parseResponse(this.pending, { head });
      if (parsed) {
        this.pending = parsed.rest;
        return parsed.response;
      }
      if (this.closed) {
        if (allowClose) return null;
        throw new Error(`connection closed without an answer; got ${JSON.stringify(this.data.toString('latin1').slice(0, 200))}`);
      }
      if (!(await this.#waitUntil(deadline))) {
        if (allowClose) return null;
        throw new Error(`no answer within ${timeoutMs} ms`);
      }
    }
  }

  // True if the server closes the connection within timeoutMs.
  async closedWithin(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) if (!(await this.#waitUntil(deadline))) break;
    return this.closed;
  }

  destroy() {
    this.socket.destroy();
  }

  // Waits for the next event (data or close); false once the deadline passed.
  #waitUntil(deadline) {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.wake = () => {}; resolve(false); }, left);
      this.wake = () => { clearTimeout(timer); this.wake = () => {}; resolve(true); };
    });
  }
}

// A deterministic stream of pseudo-random bytes (xorshift32), so a failure
// with "random" input can be replayed.
export function pseudoRandomBytes(length, seed) {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
