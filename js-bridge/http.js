// http.js -- a fetch Request into HTTP/1.1 request bytes, response bytes into
// a fetch Response.
//
// The core reads exactly what a socket would carry, so the bridge writes what
// a browser would have sent: the request line with the path and query as the
// URL holds them (already percent-encoded), the headers the page set, and
// the two a service worker never sees -- Host, computed from the URL, and
// Content-Length, computed from the body. Bodies stay bytes from end to end:
// every method's body is read with arrayBuffer(), never as text, so a PUT of
// an image arrives as the image.

// Headers the bridge computes itself, or that mean nothing without a socket.
const REQUEST_SKIP = new Set(['host', 'content-length', 'connection', 'keep-alive',
  'transfer-encoding', 'upgrade', 'te', 'trailer']);
const RESPONSE_SKIP = new Set(['content-length', 'connection', 'keep-alive',
  'transfer-encoding']);
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

// Header names and values are byte strings (each code unit below 256), so
// they are written one byte per code unit, not as UTF-8.
function latin1(text, out, at) {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}

// Returns the request as one Uint8Array.
export async function requestToBytes(request) {
  const url = new URL(request.url);
  const method = request.method;
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const body = hasBody ? new Uint8Array(await request.arrayBuffer()) : null;
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  for (const [name, value] of request.headers) {
    if (!REQUEST_SKIP.has(name)) head += `${name}: ${value}\r\n`;
  }
  if (hasBody) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  const bytes = new Uint8Array(head.length + (body ? body.length : 0));
  latin1(head, bytes, 0);
  if (body) bytes.set(body, head.length);
  return bytes;
}

function findHeadEnd(bytes) {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

// `bytes` must be the bridge's own copy: the Response keeps a view of it.
export function responseFromBytes(bytes, method = 'GET') {
  const end = findHeadEnd(bytes);
  if (end < 0) throw new Error('the core wrote a response without a blank line after its headers');
  let head = '';
  for (let i = 0; i < end; i++) head += String.fromCharCode(bytes[i]);
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]);
  if (!status) throw new Error(`the core wrote an unreadable status line: ${lines[0]}`);
  const headers = new Headers();
  let length = bytes.length - end - 4;
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) continue;
    const name = lines[i].slice(0, colon).trim().toLowerCase();
    const value = lines[i].slice(colon + 1).trim();
    if (name === 'content-length') length = Math.min(length, Number(value));
    if (!RESPONSE_SKIP.has(name)) headers.append(name, value);
  }
  const code = Number(status[1]);
  const nullBody = NULL_BODY_STATUS.has(code) || method === 'HEAD';
  const body = nullBody ? null : bytes.subarray(end + 4, end + 4 + length);
  return new Response(body, { status: code, statusText: status[2], headers });
}

// An answer the bridge gives itself, when the core cannot be asked. Shaped
// like a Matrix error so clients show the sentence.
export function errorResponse(status, errcode, error) {
  return new Response(JSON.stringify({ errcode, error }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store',
      'access-control-allow-origin': '*' },
  });
}
