// http.mjs -- the few HTTP pieces the fake server needs on both sides: read a request body
// within a bound, answer JSON, and make one outbound request (HTTP or HTTPS with a given CA)
// whose time and response size are bounded.
//
//   const bytes = await readBody(req, maxBytes);          // throws BodyTooLarge
//   sendJson(res, 200, { ok: true });
//   const r = await httpRequest({ url, method, headers, body, ca, timeoutMs, maxBytes });
//   r.status, r.headers, r.bytes
//
// The one design decision: node's http/https modules, not fetch, because only they take a
// per-request CA (Synapse's federation listener presents a leaf of the test CA) and let the
// caller stop reading a 100 MB answer after maxBytes.

import http from 'node:http';
import https from 'node:https';

export class BodyTooLarge extends Error {}

export function readBody(req, maxBytes) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      reject(new BodyTooLarge(`body of ${declared} bytes is over ${maxBytes}`));
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        reject(new BodyTooLarge(`body over ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res, status, body) {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': bytes.length });
  res.end(bytes);
}

export function matrixError(res, status, errcode, error, extra = {}) {
  sendJson(res, status, { errcode, error, ...extra });
}

// One request; resolves { status, headers, bytes } or rejects on a network error, a timeout
// (the whole exchange) or a response over maxBytes.
// signal: an AbortSignal that ends the request early (the fake server's stop()).
export function httpRequest({ url, method = 'GET', headers = {}, body, ca, timeoutMs = 10000, maxBytes = 16 << 20, signal }) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let done = false;
    const abort = () => {
      req.destroy();
      finish(new Error(`${method} ${url}: aborted`));
    };
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      if (err) reject(err);
      else resolve(value);
    };
    const req = mod.request(u, {
      method,
      headers: { ...headers, ...(body ? { 'Content-Length': body.length } : {}), Connection: 'close' },
      ...(u.protocol === 'https:' ? { ca, rejectUnauthorized: true } : {}),
      agent: false,
    }, (res) => {
      const declared = Number(res.headers['content-length'] ?? 0);
      // finish before destroy: destroying emits 'aborted' at once.
      if (declared > maxBytes) {
        finish(new Error(`${method} ${url}: answer of ${declared} bytes is over ${maxBytes}`));
        res.destroy();
        return;
      }
      const chunks = [];
      let size = 0;
      res.on('data', (chunk) => {
        size += chunk.length;
        if (size > maxBytes) {
          finish(new Error(`${method} ${url}: answer over ${maxBytes} bytes`));
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(null, { status: res.statusCode, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', (e) => finish(e));
      res.on('aborted', () => finish(new Error(`${method} ${url}: connection closed mid-answer`)));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(new Error(`${method} ${url}: no complete answer in ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => finish(new Error(`${method} ${url}: ${e.message}`)));
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
    if (body) req.write(body);
    req.end();
  });
}

export function parseJson(bytes) {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
