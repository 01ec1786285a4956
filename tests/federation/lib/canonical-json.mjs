// canonical-json.mjs -- the Matrix spec's canonical JSON ("Appendices: Canonical JSON"), strictly.
//
//   canonicalJson({ b: 1, a: '\u001b' })   // '{"a":"\\u001b","b":1}'
//   canonicalBytes(value)                  // the same as UTF-8 bytes (what is hashed and signed)
//   canonicalJson(value, { lenient: true }) // also writes floats and big numbers (for hostile PDUs)
//
// The one design decision: strings are written by the platform's JSON.stringify, whose output
// for a well-formed string is exactly the spec's grammar (\" \\ \b \t \n \f \r, other controls as
// lowercase \u00XX, everything else raw), and keys are sorted by code point here. Why not an npm
// package: another-json 0.2.0 (matrix-js-sdk's) writes U+001B as `\U001B` (not JSON at all),
// sorts keys by UTF-16 code unit, and writes 1.5, 1e+21 and NaN (as null) without complaint;
// canonicalize (RFC 8785) escapes correctly but also sorts by UTF-16 code unit and writes floats.
// The spec wants code point order, integers in ±(2^53-1) only, and -0 written as 0.

export class CanonicalJsonError extends Error {}

// Code point order: differs from JavaScript's default UTF-16 order only where a character
// beyond U+FFFF (a surrogate pair, 0xD800-0xDBFF first) meets one in U+E000-U+FFFF.
function byCodePoint(a, b) {
  const x = a[Symbol.iterator]();
  const y = b[Symbol.iterator]();
  for (;;) {
    const p = x.next();
    const q = y.next();
    if (p.done || q.done) return (p.done ? 0 : 1) - (q.done ? 0 : 1);
    const d = p.value.codePointAt(0) - q.value.codePointAt(0);
    if (d !== 0) return d;
  }
}

function writeString(s) {
  if (!s.isWellFormed()) throw new CanonicalJsonError('a string has a lone surrogate: no UTF-8 form');
  return JSON.stringify(s);
}

function writeNumber(n, lenient) {
  if (Number.isSafeInteger(n)) return String(n); // String(-0) is "0", as the spec asks
  if (lenient && Number.isFinite(n)) return JSON.stringify(n);
  throw new CanonicalJsonError(`${n} is not an integer in [-(2^53)+1, (2^53)-1]`);
}

function write(value, lenient, depth) {
  if (depth > 512) throw new CanonicalJsonError('nested too deeply');
  switch (typeof value) {
    case 'string': return writeString(value);
    case 'number': return writeNumber(value, lenient);
    case 'boolean': return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((v) => write(v, lenient, depth + 1)).join(',')}]`;
      const keys = Object.keys(value).sort(byCodePoint);
      const members = [];
      for (const k of keys) {
        if (value[k] === undefined) continue; // as JSON.stringify: an absent member
        members.push(`${writeString(k)}:${write(value[k], lenient, depth + 1)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(`a ${typeof value} has no JSON form`);
  }
}

export function canonicalJson(value, { lenient = false } = {}) {
  return write(value, lenient, 0);
}

export function canonicalBytes(value, options) {
  return Buffer.from(canonicalJson(value, options), 'utf8');
}

// Whether a parsed JSON value could be written canonically (the strict-JSON check that room
// versions 6 and later ask of every received event).
export function isCanonicalValue(value) {
  try {
    canonicalJson(value);
    return true;
  } catch (e) {
    if (e instanceof CanonicalJsonError) return false;
    throw e;
  }
}
