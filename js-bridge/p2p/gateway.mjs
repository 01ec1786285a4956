// gateway.mjs -- the relay's HTTP gateway between browser servers and native
// ones, both ways, in node.
//
// Native -> browser: a native server sends a federation request for a
// key-named server to http://127.0.0.1:P with `Host: <key name>` (a port
// after it is ignored); the gateway opens a /hometab/federation/1 stream to
// that peer over the peer's own connection to this relay and hands back the
// answer. The page's guard knows the gateway by the relay's peer id and lets
// its requests name a native origin (the core checks their signatures).
//
// Browser -> native: a browser peer opens a /hometab/federation/1 stream to
// the relay with a request whose Host is a native server's name; the
// gateway makes that request over HTTP(S). It carries only federation and
// key paths, only for requests whose X-Matrix origin is the peer itself, and
// resolves only IP literals for now (the native host's libcurl does the
// spec's full resolution). With insecureHttp it speaks plain http:// and
// only to loopback (tests, development); otherwise https:// with certificate
// checks, and never to loopback, private or link-local addresses: a browser
// peer must not use the gateway to reach the relay's own network.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { checkInbound, parseXMatrix } from './guard.js';
import { LIMITS, errorResponse, parseRequest, parseResponse, responseBytes } from './http1.js';
import { nameFromPeerId, peerIdFromName, publicKeyFromName } from './names.js';
import { BusyError, TooLargeError, byteBudget, exchange, readAll, writeAll } from './stream-io.js';

export const PROTOCOL = '/hometab/federation/1';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'content-length']);
const PEER_PREFIXES = ['/_matrix/federation/', '/_matrix/key/'];

const DEFAULTS = {
  timeoutMs: 60000,
  maxStreamsPerPeer: 8,
  maxInflight: 64, // gateway requests at once, both directions
  maxBufferedBytes: 64 * 1024 * 1024, // browser peers' request bytes held at once
};

export async function startGateway({ node, listen, insecureHttp = false, log = () => {}, limits = {} }) {
  const options = { ...DEFAULTS, ...limits };
  let inflight = 0;
  const busy = () => inflight >= options.maxInflight;
  const budget = byteBudget(options.maxBufferedBytes);

  // ---- native -> browser

  function reply(res, bytes) {
    const parsed = parseResponse(bytes);
    const headers = parsed.headers.filter(([n]) => !HOP_BY_HOP.has(n.toLowerCase())).flat();
    res.writeHead(parsed.status, headers);
    res.end(parsed.body);
    return parsed.status;
  }

  async function readBody(req) {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > LIMITS.maxRequestBytes) throw new TooLargeError(LIMITS.maxRequestBytes);
    const chunks = [];
    let total = 0;
    for await (const chunk of req) {
      total += chunk.length;
      if (total > LIMITS.maxRequestBytes) throw new TooLargeError(LIMITS.maxRequestBytes);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, total);
  }

  function requestBytes(req, body) {
    let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(req.rawHeaders[i].toLowerCase())) head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    }
    if (body.length || req.method !== 'GET') head += `Content-Length: ${body.length}\r\n`;
    head += '\r\n';
    const out = new Uint8Array(Buffer.byteLength(head, 'latin1') + body.length);
    out.set(Buffer.from(head, 'latin1'));
    out.set(body, out.length - body.length);
    return out;
  }

  // Why a native server's request cannot be carried, or null.
  function refuseInbound(req) {
    const host = req.headers.host ?? '';
    if (!publicKeyFromName(host)) {
      return [400, 'M_UNRECOGNIZED', 'this gateway carries requests only to key-named (browser) servers'];
    }
    if (!PEER_PREFIXES.some((p) => req.url.startsWith(p))) {
      return [403, 'M_FORBIDDEN', 'the gateway carries only /_matrix/federation/ and /_matrix/key/ requests'];
    }
    const auth = req.headers.authorization;
    if (auth) {
      const parsed = parseXMatrix(auth);
      if (!parsed) return [401, 'M_UNAUTHORIZED', 'malformed X-Matrix Authorization header'];
      if (publicKeyFromName(parsed.origin)) {
        return [403, 'M_FORBIDDEN', 'a key-named server speaks for itself, never through the gateway'];
      }
    }
    return null;
  }

  async function toBrowser(req, res) {
    const started = Date.now();
    const host = req.headers.host ?? '';
    let status;
    try {
      const refusal = refuseInbound(req);
      if (refusal) {
        status = reply(res, errorResponse(...refusal));
        return;
      }
      if (busy()) {
        status = reply(res, errorResponse(429, 'M_LIMIT_EXCEEDED', 'the gateway is busy', { retry_after_ms: 1000 }));
        return;
      }
      inflight++;
      try {
        const body = await readBody(req);
        const peerId = peerIdFromName(host);
        const connection = node.getConnections().find((c) => c.remotePeer.toString() === peerId && c.status === 'open');
        if (!connection) {
          status = reply(res, errorResponse(502, 'M_UNKNOWN',
            `${host.replace(/:\d+$/, '')} is not connected to this relay (no page of it is open)`));
          return;
        }
        const signal = AbortSignal.timeout(options.timeoutMs);
        const stream = await connection.newStream(PROTOCOL, { signal, runOnLimitedConnection: true });
        const response = await exchange(stream, requestBytes(req, body), { maxResponseBytes: LIMITS.maxResponseBytes,
          signal });
        status = reply(res, response);
      } finally {
        inflight--;
      }
    } catch (error) {
      status = error instanceof TooLargeError ? 413 : 502;
      if (!res.headersSent) {
        reply(res, status === 413
          ? errorResponse(413, 'M_TOO_LARGE', `requests are limited to ${LIMITS.maxRequestBytes} bytes`)
          : errorResponse(502, 'M_UNKNOWN', `the browser server did not answer: ${error.message}`));
      } else {
        res.destroy();
      }
    } finally {
      log(`gateway native->browser ${req.method} ${req.url.split('?')[0]} host=${host.slice(0, 12)}… ${status} ${Date.now() - started}ms`);
    }
  }

  const server = http.createServer({ requestTimeout: options.timeoutMs, maxHeaderSize: LIMITS.maxHeadBytes },
    (req, res) => { toBrowser(req, res); });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, resolve);
  });
  const { port } = server.address();

  // ---- browser -> native

  async function toNative(stream, connection) {
    const started = Date.now();
    const peerName = nameFromPeerId(connection.remotePeer.toString());
    let status;
    let what = '';
    // Only browser servers connected to this relay itself, never through it.
    if (!peerName || connection.remoteAddr.toString().includes('/p2p-circuit')) {
      return stream.abort(new Error('the gateway serves only ed25519 peers connected to this relay'));
    }
    if (busy()) {
      await writeAll(stream, errorResponse(429, 'M_LIMIT_EXCEEDED', 'the gateway is busy', { retry_after_ms: 1000 }))
        .catch(() => {});
      return stream.abort(new Error('busy'));
    }
    inflight++;
    let answer;
    let held = 0;
    try {
      const signal = AbortSignal.timeout(options.timeoutMs);
      const request = await readAll(stream, { maxBytes: LIMITS.maxRequestBytes, signal, budget });
      held = request.length;
      const verdict = checkInbound(request, { peerName, fromGateway: false });
      what = verdict.ok ? `${verdict.method} ${verdict.path}` : '';
      if (!verdict.ok) {
        answer = errorResponse(verdict.status, verdict.errcode, verdict.error);
      } else {
        answer = await forward(request, signal);
      }
    } catch (error) {
      if (error instanceof TooLargeError) {
        answer = errorResponse(413, 'M_TOO_LARGE', `requests are limited to ${LIMITS.maxRequestBytes} bytes`);
      } else if (error instanceof BusyError) {
        answer = errorResponse(429, 'M_LIMIT_EXCEEDED', 'the gateway is busy', { retry_after_ms: 1000 });
      } else {
        answer = errorResponse(502, 'M_UNKNOWN', error.message);
      }
    } finally {
      budget.give(held);
      inflight--;
    }
    status = parseResponse(answer)?.status;
    await writeAll(stream, answer, { signal: AbortSignal.timeout(options.timeoutMs) })
      .catch((error) => stream.abort(error));
    log(`gateway browser->native ${what} from=${peerName.slice(0, 12)}… ${status} ${Date.now() - started}ms`);
  }

  // Makes the request over HTTP(S) to the destination named by its Host
  // header; resolves with response bytes (a Matrix error when it cannot).
  async function forward(requestBytesIn, signal) {
    const request = parseRequest(requestBytesIn);
    const host = request.headers.find(([n]) => n === 'host')?.[1] ?? '';
    const destination = resolveDestination(host, { insecureHttp });
    if (destination.error) return errorResponse(502, 'M_UNKNOWN', destination.error);
    const headers = request.headers.filter(([n]) => !HOP_BY_HOP.has(n)).flat();
    const body = requestBytesIn.subarray(request.bodyStart);
    const client = insecureHttp ? http : https;
    return new Promise((resolve) => {
      const outgoing = client.request({
        host: destination.address, port: destination.port, method: request.method, path: request.target,
        headers: [...headers, 'Content-Length', String(body.length)], signal,
        // The certificate must be valid for the IP literal (spec: "Resolving server names").
        rejectUnauthorized: true,
      }, async (incoming) => {
        try {
          const chunks = [];
          let total = 0;
          for await (const chunk of incoming) {
            total += chunk.length;
            if (total > LIMITS.maxResponseBytes) {
              incoming.destroy();
              return resolve(errorResponse(502, 'M_UNKNOWN', `${host} answered more than ${LIMITS.maxResponseBytes} bytes`));
            }
            chunks.push(chunk);
          }
          const pairs = [];
          for (let i = 0; i < incoming.rawHeaders.length; i += 2) {
            if (!HOP_BY_HOP.has(incoming.rawHeaders[i].toLowerCase())) pairs.push([incoming.rawHeaders[i], incoming.rawHeaders[i + 1]]);
          }
          resolve(responseBytes(incoming.statusCode, pairs, Buffer.concat(chunks, total)));
        } catch (error) {
          resolve(errorResponse(502, 'M_UNKNOWN', `${host}: ${error.message}`));
        }
      });
      outgoing.on('error', (error) => resolve(errorResponse(502, 'M_UNKNOWN', `${host}: ${error.message}`)));
      outgoing.end(body);
    });
  }

  await node.handle(PROTOCOL, (stream, connection) => {
    toNative(stream, connection).catch((error) => log('gateway stream failed', error.message));
  }, { maxInboundStreams: options.maxStreamsPerPeer });

  return {
    url: `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`,
    port,
    async close() {
      await node.unhandle(PROTOCOL).catch(() => {});
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// Addresses a browser peer may never make the gateway reach unless insecure
// loopback mode is on (and then only loopback ones).
const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
const SPECIAL = new net.BlockList();
for (const [address, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8],
  ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 3]]) {
  SPECIAL.addSubnet(address, prefix, 'ipv4');
}
// (IPv4-mapped IPv6 is refused before these are asked: node's BlockList
// would check it against the IPv4 rules, and a server name has no use for it.)
for (const [address, prefix] of [['::', 127], ['64:ff9b::', 96], ['100::', 64],
  ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]]) {
  SPECIAL.addSubnet(address, prefix, 'ipv6');
}

// A server name the gateway can reach: an IP literal, with a port or 8448.
export function resolveDestination(serverName, { insecureHttp }) {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3}))(?::(\d{1,5}))?$/.exec(serverName);
  const address = match && (match[1] ?? match[2]);
  const family = address ? net.isIP(address) : 0;
  if (!family || /^::ffff:/i.test(address)) {
    return { error: `${serverName}: the gateway reaches only IP literals (name resolution is the native host's)` };
  }
  const port = match[3] ? Number(match[3]) : 8448;
  if (port < 1 || port > 65535) return { error: `${serverName}: no such port` };
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (insecureHttp ? !LOOPBACK.check(address, type) : SPECIAL.check(address, type)) {
    return { error: insecureHttp
      ? `${serverName}: in insecure-http mode the gateway reaches only loopback addresses`
      : `${serverName}: the gateway does not reach loopback, private or reserved addresses` };
  }
  return { address, port };
}
