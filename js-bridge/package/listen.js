// listen.js -- a real HTTP/1.1 listener (node:http) in front of hs.fetch, for
// clients in other processes and languages and for browsers under test.
//
// node:http does the framing (keep-alive, chunked bodies, pipelining); this
// file only turns its requests into fetch Requests and back. A body is read
// into memory up to the server's body limit and no further: past it the
// client gets 413 M_TOO_LARGE and the connection is closed, so a client
// cannot make the listener buffer more than the core would accept. A client
// that goes away aborts its request, which takes a parked long-poll out of
// the bridge's list.

import { createServer } from 'node:http';

const NO_BODY = new Set(['GET', 'HEAD']);
const NO_LENGTH = new Set([204, 304]); // answers that carry no Content-Length

function matrixError(res, status, errcode, error) {
  const body = JSON.stringify({ errcode, error });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
    connection: 'close' });
  res.end(body);
}

// Resolves with the body's bytes, or null once it exceeded `limit`.
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      resolve(null);
      return;
    }
    const parts = [];
    let length = 0;
    req.on('data', (part) => {
      length += part.length;
      if (length > limit) {
        req.pause();
        resolve(null);
      } else {
        parts.push(part);
      }
    });
    req.on('end', () => resolve(Buffer.concat(parts, length)));
    req.on('error', reject);
  });
}

function headerPairs(raw) {
  const pairs = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
  return pairs;
}

export function listen(fetch, { port = 0, host = '127.0.0.1', maxBodyBytes }) {
  const server = createServer(async (req, res) => {
    const controller = new AbortController();
    res.on('close', () => { if (!res.writableFinished) controller.abort(); });
    try {
      const body = NO_BODY.has(req.method) ? undefined : await readBody(req, maxBodyBytes);
      if (body === null) {
        matrixError(res, 413, 'M_TOO_LARGE', `The request body is larger than ${maxBodyBytes} bytes.`);
        return;
      }
      // The Host the client sent names the server in /.well-known; a missing
      // or unusable one falls back to the listener's own address.
      let url;
      try {
        url = new URL(req.url, `http://${req.headers.host}`);
      } catch {
        url = new URL(req.url, base);
      }
      let request;
      try {
        request = new Request(url, { method: req.method, headers: headerPairs(req.rawHeaders), body,
          signal: controller.signal });
      } catch (e) { // a method fetch forbids (CONNECT, TRACE), a header it refuses
        matrixError(res, req.method === 'CONNECT' || req.method.startsWith('TRAC') ? 405 : 400,
          'M_UNRECOGNIZED', `hometab cannot take this request: ${e.message}`);
        return;
      }
      const response = await fetch(request);
      const bytes = Buffer.from(await response.arrayBuffer());
      const headers = [...response.headers];
      if (!NO_LENGTH.has(response.status)) headers.push(['content-length', String(bytes.length)]);
      res.writeHead(response.status, response.statusText, headers);
      res.end(bytes);
    } catch (e) {
      if (controller.signal.aborted) return; // the client left; nobody to answer
      if (!res.headersSent) matrixError(res, 500, 'M_UNKNOWN', `hometab failed: ${e?.message ?? e}`);
      else res.destroy();
    }
  });
  let base;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      base = `http://${shown}:${address.port}`;
      resolve({
        url: base,
        port: address.port,
        close: () => new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
