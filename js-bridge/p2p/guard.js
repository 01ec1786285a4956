// guard.js -- what a browser server accepts from the peer-to-peer network,
// judged in the page before the service worker (and the core) see a byte.
//
// A remote peer reaches only the federation and key APIs, never a client
// API: the path must be under /_matrix/federation/ or /_matrix/key/. And it
// speaks only for itself: every X-Matrix Authorization header must name, as
// its origin, the server whose key the Noise handshake authenticated. The
// one exception is the gateway (the relay's own peer id), which carries
// requests from native servers: those name a native (non-key) origin and are
// proven by the core's signature check. A key-named server never comes
// through the gateway, so the gateway cannot speak for one.
//
// Refusals are Matrix errors made here at bounded cost: the request has been
// read under the transport's size limit and is parsed once, head only.

import { LIMITS, errorResponse, headerValues, parseRequest } from './http1.js';
import { isKeyName } from './names.js';

const PEER_PREFIXES = ['/_matrix/federation/', '/_matrix/key/'];
// The only peer requests the spec leaves unauthenticated.
const UNAUTHENTICATED = [/^\/_matrix\/key\//, /^\/_matrix\/federation\/v1\/version$/];

const refuse = (status, errcode, error) => ({ ok: false, status, errcode, error });

// Judges one request. bytes: the whole request; peerName: the authenticated
// peer's server name (null for the gateway); fromGateway: it came from the
// relay's gateway. { ok: true, origin, method, path } or a refusal
// { ok: false, status, errcode, error } (refusalBytes turns it into a
// response).
export function checkInbound(bytes, { peerName, fromGateway = false }) {
  if (bytes.length > LIMITS.maxRequestBytes) {
    return refuse(413, 'M_TOO_LARGE', `requests from peers are limited to ${LIMITS.maxRequestBytes} bytes`);
  }
  const request = parseRequest(bytes);
  if (!request.ok) return refuse(request.status, 'M_UNRECOGNIZED', `malformed request: ${request.why}`);
  const path = checkPath(request.target);
  if (!path.ok) return path;
  const origin = checkOrigin(request.headers, path.path, { peerName, fromGateway });
  if (!origin.ok) return origin;
  return { ok: true, origin: origin.origin, method: request.method, path: path.path };
}

export function refusalBytes(verdict) {
  return errorResponse(verdict.status, verdict.errcode, verdict.error);
}

// The path (without the query) must lie under a peer prefix, and stay there
// however a server decodes it: no dot segments, raw or percent-encoded, no
// backslash, no NUL, no malformed escape.
function checkPath(target) {
  const path = target.split('?', 1)[0];
  const forbidden = refuse(403, 'M_FORBIDDEN',
    'peers may reach only /_matrix/federation/ and /_matrix/key/ on this server');
  if (!PEER_PREFIXES.some((prefix) => path.startsWith(prefix))) return forbidden;
  let decoded;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return refuse(400, 'M_UNRECOGNIZED', 'malformed percent-encoding in the path');
  }
  if (/[\\\0]/.test(decoded) || decoded.split('/').some((s) => s === '.' || s === '..')) return forbidden;
  return { ok: true, path };
}

function checkOrigin(headers, path, { peerName, fromGateway }) {
  const values = headerValues(headers, 'authorization');
  if (values.length === 0) {
    if (UNAUTHENTICATED.some((re) => re.test(path))) return { ok: true, origin: null };
    return refuse(401, 'M_UNAUTHORIZED', 'federation requests must carry X-Matrix authorization');
  }
  const origins = new Set();
  for (const value of values) {
    const auth = parseXMatrix(value);
    if (!auth) return refuse(401, 'M_UNAUTHORIZED', 'malformed X-Matrix Authorization header');
    origins.add(auth.origin);
  }
  if (origins.size !== 1) return refuse(403, 'M_FORBIDDEN', 'Authorization headers name different origins');
  const [origin] = origins;
  if (fromGateway) {
    if (isKeyName(origin)) {
      return refuse(403, 'M_FORBIDDEN', 'a key-named server speaks for itself, never through the gateway');
    }
  } else if (origin !== peerName) {
    return refuse(403, 'M_FORBIDDEN', `the X-Matrix origin is not the connected peer ${peerName}`);
  }
  return { ok: true, origin };
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

// Parses `X-Matrix origin="...",destination="...",key="...",sig="..."` as
// the spec's "Authorization header format" says (RFC 9110 auth-params: names
// case-insensitive, values a token or a quoted string with backslash
// escapes, optional whitespace around commas). A repeated parameter, an
// unknown syntax or a missing origin is null: where two parsers could read
// two origins, none is read.
export function parseXMatrix(value) {
  const scheme = /^X-Matrix +/i.exec(value);
  if (!scheme) return null;
  const params = new Map();
  let at = scheme[0].length;
  const skipSpace = () => { while (value[at] === ' ' || value[at] === '\t') at++; };
  for (;;) {
    const nameStart = at;
    while (at < value.length && TOKEN_CHAR.test(value[at])) at++;
    const name = value.slice(nameStart, at).toLowerCase();
    if (!name || value[at] !== '=') return null;
    at++;
    let paramValue = '';
    if (value[at] === '"') {
      at++;
      for (;;) {
        if (at >= value.length) return null;
        const ch = value[at++];
        if (ch === '"') break;
        if (ch === '\\') {
          if (at >= value.length) return null;
          paramValue += value[at++];
        } else {
          paramValue += ch;
        }
      }
    } else {
      const valueStart = at;
      while (at < value.length && TOKEN_CHAR.test(value[at])) at++;
      paramValue = value.slice(valueStart, at);
      if (!paramValue) return null;
    }
    if (params.has(name)) return null;
    params.set(name, paramValue);
    skipSpace();
    if (at >= value.length) break;
    if (value[at] !== ',') return null;
    at++;
    skipSpace();
  }
  const origin = params.get('origin');
  if (!origin || !/^[\x21-\x7e]+$/.test(origin)) return null;
  return { origin, destination: params.get('destination') ?? null, key: params.get('key') ?? null,
    sig: params.get('sig') ?? null };
}
