// xmatrix.mjs -- the X-Matrix Authorization header of server-server "Request Authentication":
// what is signed, how the header is written, how it is parsed.
//
//   const header = xMatrixHeader({ origin, destination, key, method, uri, content });
//   const { origin, destination, key, sig } = parseXMatrix(header);   // throws XMatrixError
//   verifyXMatrix(parsed, { method, uri, content, destination: me }, publicKeyRaw) // true/false
//
// The one design decision: the parser follows RFC 9110's auth-param grammar (section 11.4:
// case-insensitive names, tokens or quoted strings with backslash escapes, optional whitespace
// around commas, empty list elements), plus the spec's allowance for unquoted colons; the
// writer follows the spec's advice for old servers (one space, lower-case names, quoted values,
// no whitespace around commas), which is also the only form Synapse 1.67's split(",") parses.

import { signJson, verifyJson } from './signing.mjs';

export class XMatrixError extends Error {}

// Request signatures are computed leniently: a body holding a float (a hostile PDU inside a
// transaction) is still signed and checked as a whole, so that the PDU itself is what a
// receiving server refuses. For any valid body the lenient form is the canonical one.
const LENIENT = { lenient: true };

// The JSON object a request's signature covers ("Step 1 sign JSON").
export function requestJson({ method, uri, origin, destination, content }) {
  const obj = { method, uri, origin, destination };
  if (content !== undefined) obj.content = content;
  return obj;
}

function quote(value) {
  return `"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

// key: a SigningKey. content: the parsed JSON body, or undefined when there is none.
export function xMatrixHeader({ origin, destination, key, method, uri, content }) {
  const signed = signJson(requestJson({ method, uri, origin, destination, content }), origin, key, LENIENT);
  const sig = signed.signatures[origin][key.keyId];
  return `X-Matrix origin=${quote(origin)},destination=${quote(destination)},key=${quote(key.keyId)},sig=${quote(sig)}`;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

// Parses one X-Matrix credential. Names are lower-cased; unknown ones are kept in `params`.
export function parseXMatrix(header) {
  if (typeof header !== 'string') throw new XMatrixError('no Authorization header');
  const m = /^([^ \t]+) +/.exec(header);
  if (!m || m[1].toLowerCase() !== 'x-matrix') throw new XMatrixError('not an X-Matrix credential');
  const params = {};
  let i = m[0].length;
  const n = header.length;
  const ows = () => { while (i < n && (header[i] === ' ' || header[i] === '\t')) i++; };
  for (;;) {
    // #list: elements separated by OWS "," OWS; empty elements are allowed.
    ows();
    while (i < n && header[i] === ',') { i++; ows(); }
    if (i >= n) break;
    const start = i;
    while (i < n && TCHAR.test(header[i])) i++;
    if (i === start) throw new XMatrixError(`bad parameter name at ${start}`);
    const name = header.slice(start, i).toLowerCase();
    ows();
    if (header[i] !== '=') throw new XMatrixError(`no "=" after ${name}`);
    i++;
    ows();
    let value = '';
    if (header[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new XMatrixError(`unterminated quoted value of ${name}`);
        const c = header[i++];
        if (c === '"') break;
        if (c === '\\') {
          if (i >= n) throw new XMatrixError(`dangling backslash in ${name}`);
          value += header[i++];
        } else {
          value += c;
        }
      }
    } else {
      const vstart = i;
      // A token, or a colon, which the spec asks recipients to accept unquoted.
      while (i < n && (TCHAR.test(header[i]) || header[i] === ':')) i++;
      if (i === vstart) throw new XMatrixError(`empty value of ${name}`);
      value = header.slice(vstart, i);
    }
    if (Object.hasOwn(params, name)) throw new XMatrixError(`parameter ${name} given twice`);
    params[name] = value;
    ows();
    if (i < n && header[i] !== ',') throw new XMatrixError(`junk after ${name}`);
  }
  for (const need of ['origin', 'key', 'sig']) {
    if (!params[need]) throw new XMatrixError(`no ${need} parameter`);
  }
  return { origin: params.origin, destination: params.destination, key: params.key, sig: params.sig, params };
}

// Checks a parsed credential against the request it came with. `destination` is this server's
// name: the caller refuses a credential naming another (401) before calling this.
export function verifyXMatrix(parsed, { method, uri, content, destination }, publicKeyRaw) {
  const obj = requestJson({ method, uri, origin: parsed.origin, destination, content });
  obj.signatures = { [parsed.origin]: { [parsed.key]: parsed.sig } };
  return verifyJson(obj, parsed.origin, parsed.key, publicKeyRaw, LENIENT);
}
