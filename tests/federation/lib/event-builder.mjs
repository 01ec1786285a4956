// event-builder.mjs -- PDUs for room versions 10 and 11, well-formed or deliberately broken.
//
//   buildEvent({ roomVersion: '10', fields, serverName, key })            // { event_id, pdu, room_version }
//   buildEvent({ ..., broken: ['signature', 'too-large'] })              // the same, with faults
//
// `fields` are the event's own (room_id, sender, type, state_key, content, prev_events,
// auth_events, depth, ...); origin and origin_server_ts are filled when absent. Faults, each a
// thing a receiving server must catch ("Checks performed on receipt of a PDU", the event format):
//   signature        signed, then the signature replaced by one over other bytes   -> dropped
//   content-hash     hashes.sha256 of something else, signed over that            -> redacted
//   origin           the `origin` field names another server
//   sender-server    the sender is on another server, the signature ours         -> dropped
//   too-large        content padded past 65,536 bytes of canonical JSON           -> dropped
//   too-many-prev    21 prev_events (the limit is 20)                             -> dropped
//   too-many-auth    11 auth_events (the limit is 10)                             -> dropped
//   float            content holds 1.5 (hashed and signed over "1.5")             -> dropped
//   big-int          content holds 2^53 (outside canonical JSON's range)          -> dropped
//   unknown-version  built with version 10's rules, labelled with `roomVersion`  -> refused
//
// The one design decision: faults are applied at the step where a real faulty server would
// introduce them (before hashing, between hashing and signing, after signing), so every other
// part of the event stays valid and a test isolates one check.

import crypto from 'node:crypto';

import { canonicalBytes } from './canonical-json.mjs';
import { ROOM_VERSIONS, b64, eventId, hashAndSignEvent, sha256, signEvent } from './signing.mjs';

export const MAX_PDU_BYTES = 65536;
const FAULTS = new Set(['signature', 'content-hash', 'origin', 'sender-server', 'too-large', 'too-many-prev',
  'too-many-auth', 'float', 'big-int', 'unknown-version']);

function madeUpEventId() {
  return `$${crypto.randomBytes(32).toString('base64url')}`;
}

export function buildEvent({ roomVersion, fields, serverName, key, broken = [] }) {
  for (const f of broken) if (!FAULTS.has(f)) throw new Error(`unknown fault ${f}`);
  const faults = new Set(broken);
  let rules = roomVersion;
  if (!ROOM_VERSIONS[roomVersion]) {
    if (!faults.has('unknown-version')) throw new Error(`room version ${roomVersion} is unknown (add the unknown-version fault)`);
    rules = '10';
  }
  const lenient = faults.has('float') || faults.has('big-int');
  const pdu = {
    auth_events: [],
    prev_events: [],
    depth: 1,
    origin: serverName,
    origin_server_ts: Date.now(),
    content: {},
    ...structuredClone(fields),
  };
  delete pdu.event_id;
  delete pdu.hashes;
  delete pdu.signatures;
  delete pdu.unsigned;
  if (faults.has('origin')) pdu.origin = 'elsewhere.invalid';
  if (faults.has('sender-server')) pdu.sender = `${pdu.sender.slice(0, pdu.sender.indexOf(':'))}:elsewhere.invalid`;
  if (faults.has('too-many-prev')) while (pdu.prev_events.length < 21) pdu.prev_events.push(madeUpEventId());
  if (faults.has('too-many-auth')) while (pdu.auth_events.length < 11) pdu.auth_events.push(madeUpEventId());
  if (faults.has('float')) pdu.content = { ...pdu.content, float: 1.5 };
  if (faults.has('big-int')) pdu.content = { ...pdu.content, big: 2 ** 53 };
  if (faults.has('too-large')) {
    const size = canonicalBytes(pdu, { lenient }).length;
    pdu.content = { ...pdu.content, padding: 'x'.repeat(Math.max(0, MAX_PDU_BYTES - size) + 1024) };
  }

  // content-hash: a wrong hash, signed over as it is (a server that hashed the wrong bytes).
  const signed = faults.has('content-hash')
    ? signEvent(rules, { ...pdu, hashes: { sha256: b64(sha256(Buffer.from('not this content'))) } }, serverName, key, { lenient })
    : hashAndSignEvent(rules, pdu, serverName, key, { lenient });
  if (faults.has('signature')) {
    const other = key.sign(Buffer.from('some other bytes'));
    signed.signatures[serverName][key.keyId] = b64(other);
  }
  return { event_id: eventId(rules, signed, { lenient }), pdu: signed, room_version: roomVersion };
}
