// http1.js -- the little HTTP/1.1 the transport must read itself: the head
// of a request a peer sent (to judge it before the core sees it), a response
// to hand back through node's HTTP server (the gateway), and the Matrix error
// responses the transport answers on its own.
//
// The parser is strict on purpose. Whatever it accepts goes on to the core's
// own parser (src/http), and a difference between the two is how a forged
// header slips past a guard: so anything unusual (a bare LF, a folded or
// duplicated framing header, a space before a colon, a stray empty line,
// Transfer-Encoding) is refused here rather than interpreted.

export const LIMITS = Object.freeze({
  maxRequestBytes: 8 * 1024 * 1024,
  maxResponseBytes: 8 * 1024 * 1024,
  maxHeadBytes: 16 * 1024,
  maxHeaders: 100,
});

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// field-value: visible ASCII, obs-text, spaces and tabs; no other controls
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const REASONS = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  413: 'Content Too Large', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

const latin1 = new TextDecoder('latin1');
const utf8 = new TextEncoder();

export function concatBytes(chunks, total = chunks.reduce((n, c) => n + c.length, 0)) {
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

// Where the blank line ending the head is (index after it), or -1.
function headEnd(bytes, limit) {
  const end = Math.min(bytes.length, limit);
  for (let i = 3; i < end; i++) {
    if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) return i + 1;
  }
  return -1;
}

// Parses a request head. { ok: true, method, target, headers: [[lowercase
// name, value]], bodyStart, contentLength } or { ok: false, status, why }.
// The body must be exactly Content-Length bytes: a stream carries one
// request, and nothing may hide behind it.
export function parseRequest(bytes, { maxHead = LIMITS.maxHeadBytes } = {}) {
  const end = headEnd(bytes, maxHead);
  if (end < 0) {
    return bytes.length >= maxHead
      ? { ok: false, status: 431, why: `the request head is longer than ${maxHead} bytes` }
      : { ok: false, status: 400, why: 'the request head does not end with an empty line' };
  }
  const lines = latin1.decode(bytes.subarray(0, end - 4)).split('\r\n');
  if (lines.some((l) => l.includes('\n') || l.includes('\r'))) {
    return { ok: false, status: 400, why: 'a line ends with a bare CR or LF' };
  }
  const parts = lines[0].split(' ');
  if (parts.length !== 3 || !TOKEN.test(parts[0]) || parts[2] !== 'HTTP/1.1') {
    return { ok: false, status: 400, why: 'the request line is not "METHOD /path HTTP/1.1"' };
  }
  const [method, target] = parts;
  if (!target.startsWith('/') || !/^[\x21-\x7e]+$/.test(target)) {
    return { ok: false, status: 400, why: 'the request target is not an absolute path' };
  }
  if (lines.length - 1 > LIMITS.maxHeaders) {
    return { ok: false, status: 431, why: `more than ${LIMITS.maxHeaders} header fields` };
  }
  const headers = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) {
      return { ok: false, status: 400, why: 'a header field is malformed' };
    }
    headers.push([name.toLowerCase(), value]);
  }
  const framing = checkFraming(headers, bytes.length - end);
  if (!framing.ok) return framing;
  return { ok: true, method, target, headers, bodyStart: end, contentLength: framing.contentLength };
}

function checkFraming(headers, bodyBytes) {
  if (headers.some(([n]) => n === 'transfer-encoding')) {
    return { ok: false, status: 400, why: 'Transfer-Encoding is not accepted; send Content-Length' };
  }
  const lengths = headers.filter(([n]) => n === 'content-length');
  if (lengths.length > 1) return { ok: false, status: 400, why: 'more than one Content-Length' };
  if (lengths.length === 1 && !/^\d{1,10}$/.test(lengths[0][1])) {
    return { ok: false, status: 400, why: 'Content-Length is not a number' };
  }
  const contentLength = lengths.length ? Number(lengths[0][1]) : 0;
  if (contentLength !== bodyBytes) {
    return { ok: false, status: 400, why: `the body is ${bodyBytes} bytes, Content-Length says ${contentLength}` };
  }
  return { ok: true, contentLength };
}

export function headerValues(headers, name) {
  return headers.filter(([n]) => n === name).map(([, v]) => v);
}

// Parses a whole response: { status, headers: [[name, value]] (names as
// sent), body } or null. The body is Content-Length bytes or, without one,
// everything to the end (the stream's close ends it); chunked is decoded.
export function parseResponse(bytes) {
  const end = headEnd(bytes, LIMITS.maxHeadBytes);
  if (end < 0) return null;
  const lines = latin1.decode(bytes.subarray(0, end - 4)).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
  if (!status) return null;
  const headers = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) return null;
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  const lower = headers.map(([n, v]) => [n.toLowerCase(), v]);
  let body = bytes.subarray(end);
  if (headerValues(lower, 'transfer-encoding').some((v) => /chunked/i.test(v))) {
    body = decodeChunked(body);
    if (!body) return null;
  } else {
    const length = headerValues(lower, 'content-length');
    if (length.length) {
      if (!/^\d+$/.test(length[0]) || Number(length[0]) > body.length) return null;
      body = body.subarray(0, Number(length[0]));
    }
  }
  return { status: Number(status[1]), headers, body };
}

function decodeChunked(bytes) {
  const chunks = [];
  let at = 0;
  for (;;) {
    let eol = at;
    while (eol + 1 < bytes.length && !(bytes[eol] === 13 && bytes[eol + 1] === 10)) eol++;
    if (eol + 1 >= bytes.length) return null;
    const size = parseInt(latin1.decode(bytes.subarray(at, eol)).split(';')[0], 16);
    if (!Number.isFinite(size) || size < 0) return null;
    at = eol + 2;
    if (size === 0) return concatBytes(chunks);
    if (at + size + 2 > bytes.length) return null;
    chunks.push(bytes.subarray(at, at + size));
    at += size + 2;
  }
}

// Response bytes: status line, headers (pairs), Content-Length, body.
export function responseBytes(status, headers, body = new Uint8Array(0)) {
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  head += `Content-Length: ${body.length}\r\n\r\n`;
  return concatBytes([utf8.encode(head), body]);
}

// A Matrix error as response bytes: {"errcode", "error", ...extra}.
export function errorResponse(status, errcode, error, extra = {}) {
  const body = utf8.encode(JSON.stringify({ errcode, error, ...extra }));
  return responseBytes(status, [['Content-Type', 'application/json']], body);
}
