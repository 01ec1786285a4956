// fake-routes.mjs -- what the fake server answers: its route table and one handler per
// server-server endpoint it serves, working on the fake's in-memory rooms.
//
// Each handler gets (fake, req) where req = { method, path, params, query, body, origin } and
// answers { status, json }. `origin` is the X-Matrix origin, already verified, for every route
// marked `auth`. The fake serves the resident side of joins and leaves only in rooms it
// created, and accepts PDUs (in /send) only from servers with a member in the room, after
// checking their signatures and content hashes: "a simple graph", enough to be a real peer
// in the flows a test drives, never a judge of anybody's state resolution.

import { MAX_PDU_BYTES } from './event-builder.mjs';
import { canonicalBytes, isCanonicalValue } from './canonical-json.mjs';
import { ROOM_VERSIONS, checkEvent, eventId, serverOf, signEvent } from './signing.mjs';

const ok = (json) => ({ status: 200, json });
const err = (status, errcode, error, extra = {}) => ({ status, json: { errcode, error, ...extra } });

// name, method, path pattern (named groups are URL-decoded into params), auth required.
export const ROUTES = [
  ['key', 'GET', /^\/_matrix\/key\/v2\/server(?:\/(?<keyId>[^/]+))?$/, false, serveKeys],
  ['version', 'GET', /^\/_matrix\/federation\/v1\/version$/, false, serveVersion],
  ['send', 'PUT', /^\/_matrix\/federation\/v1\/send\/(?<txnId>[^/]+)$/, true, receiveTransaction],
  ['make_join', 'GET', /^\/_matrix\/federation\/v1\/make_join\/(?<roomId>[^/]+)\/(?<userId>[^/]+)$/, true, makeMembership('join')],
  ['send_join', 'PUT', /^\/_matrix\/federation\/v2\/send_join\/(?<roomId>[^/]+)\/(?<eventId>[^/]+)$/, true, sendMembership('join')],
  ['make_leave', 'GET', /^\/_matrix\/federation\/v1\/make_leave\/(?<roomId>[^/]+)\/(?<userId>[^/]+)$/, true, makeMembership('leave')],
  ['send_leave', 'PUT', /^\/_matrix\/federation\/v2\/send_leave\/(?<roomId>[^/]+)\/(?<eventId>[^/]+)$/, true, sendMembership('leave')],
  ['invite', 'PUT', /^\/_matrix\/federation\/v2\/invite\/(?<roomId>[^/]+)\/(?<eventId>[^/]+)$/, true, receiveInvite],
  ['event', 'GET', /^\/_matrix\/federation\/v1\/event\/(?<eventId>[^/]+)$/, true, serveEvent],
  ['state', 'GET', /^\/_matrix\/federation\/v1\/state\/(?<roomId>[^/]+)$/, true, serveState(false)],
  ['state_ids', 'GET', /^\/_matrix\/federation\/v1\/state_ids\/(?<roomId>[^/]+)$/, true, serveState(true)],
  ['event_auth', 'GET', /^\/_matrix\/federation\/v1\/event_auth\/(?<roomId>[^/]+)\/(?<eventId>[^/]+)$/, true, serveEventAuth],
  ['get_missing_events', 'POST', /^\/_matrix\/federation\/v1\/get_missing_events\/(?<roomId>[^/]+)$/, true, serveMissingEvents],
  ['backfill', 'GET', /^\/_matrix\/federation\/v1\/backfill\/(?<roomId>[^/]+)$/, true, serveBackfill],
  ['query_profile', 'GET', /^\/_matrix\/federation\/v1\/query\/profile$/, true, serveProfile],
  ['user_devices', 'GET', /^\/_matrix\/federation\/v1\/user\/devices\/(?<userId>[^/]+)$/, true, serveDevices],
  ['user_keys_query', 'POST', /^\/_matrix\/federation\/v1\/user\/keys\/query$/, true, serveKeysQuery],
].map(([name, method, pattern, auth, handler]) => ({ name, method, pattern, auth, handler }));

// ---- keys and version ----------------------------------------------------------------------

function serveKeys(fake) {
  return ok(fake.keyJson());
}

function serveVersion() {
  return ok({ server: { name: 'hometab-fake-server', version: '1' } });
}

// ---- checks shared by every handler that receives a PDU -----------------------------------

// Checks 1-3 of "Checks performed on receipt of a PDU" plus the event id, for a PDU that
// claims to be `claimedId` (or any id when null). Answers { id, pdu } or an error answer.
async function checkPdu(fake, roomVersion, pdu, claimedId) {
  if (!pdu || typeof pdu !== 'object' || Array.isArray(pdu)) return { error: err(400, 'M_BAD_JSON', 'the event is not an object') };
  if (!isCanonicalValue(pdu)) return { error: err(400, 'M_BAD_JSON', 'the event is not canonical JSON (floats or big numbers)') };
  if (canonicalBytes(pdu).length > MAX_PDU_BYTES) return { error: err(413, 'M_TOO_LARGE', 'the event is over 65536 bytes') };
  if ((pdu.prev_events?.length ?? 0) > 20 || (pdu.auth_events?.length ?? 0) > 10) {
    return { error: err(400, 'M_BAD_JSON', 'too many prev_events or auth_events') };
  }
  const { unsigned, ...stored } = pdu; // eslint-disable-line no-unused-vars
  const id = eventId(roomVersion, stored);
  if (claimedId !== null && id !== claimedId) return { error: err(400, 'M_BAD_JSON', `the event's id is ${id}, not ${claimedId}`) };
  let check;
  try {
    check = await checkEvent(roomVersion, stored, (server) => fake.keyring.keysOf(server));
  } catch (e) {
    return { error: err(401, 'M_UNAUTHORIZED', `cannot fetch the keys to check the event: ${e.message}`) };
  }
  if (!check.signed) return { error: err(403, 'M_FORBIDDEN', `signature check failed: ${check.reason}`) };
  if (!check.hashOk) return { error: err(400, 'M_BAD_JSON', 'content hash mismatch') };
  return { id, pdu: stored };
}

// A server may read a room when one of its users is or was a member in it.
function serverSeesRoom(room, server) {
  for (const [k, id] of room.state) {
    if (k.startsWith('m.room.member\u0000') && serverOf(room.pdu(id).state_key) === server) return true;
  }
  return false;
}

function residentRoom(fake, roomId) {
  const room = fake.rooms.get(roomId);
  return room?.resident ? room : null;
}

// ---- joins and leaves, resident side -------------------------------------------------------

function membershipAllowed(room, userId, membership) {
  const current = room.membership(userId);
  if (current === 'ban') return false;
  if (membership === 'leave') return current === 'join' || current === 'invite' || current === 'knock';
  const rule = room.stateEvent('m.room.join_rules')?.content?.join_rule;
  return current === 'join' || current === 'invite' || rule === 'public';
}

function makeMembership(membership) {
  return function make(fake, req) {
    const { roomId, userId } = req.params;
    const room = residentRoom(fake, roomId);
    if (!room) return err(404, 'M_NOT_FOUND', `${fake.serverName} is not resident in ${roomId}`);
    if (serverOf(userId) !== req.origin) return err(403, 'M_FORBIDDEN', `${req.origin} may not act for ${userId}`);
    if (membership === 'join') {
      const versions = req.query.getAll('ver');
      if (!versions.includes(room.roomVersion)) {
        return err(400, 'M_INCOMPATIBLE_ROOM_VERSION', `the room is version ${room.roomVersion}`, { room_version: room.roomVersion });
      }
    }
    if (!membershipAllowed(room, userId, membership)) return err(403, 'M_FORBIDDEN', `${userId} may not ${membership} ${roomId}`);
    const content = { membership };
    const event = {
      type: 'm.room.member',
      room_id: roomId,
      sender: userId,
      state_key: userId,
      content,
      origin: req.origin,
      origin_server_ts: Date.now(),
      ...room.prevEventsAndDepth(),
      auth_events: room.authEventsFor({ type: 'm.room.member', state_key: userId, sender: userId, content }),
    };
    return ok({ room_version: room.roomVersion, event });
  };
}

function sendMembership(membership) {
  return async function send(fake, req) {
    const { roomId, eventId: claimed } = req.params;
    const room = residentRoom(fake, roomId);
    if (!room) return err(404, 'M_NOT_FOUND', `${fake.serverName} is not resident in ${roomId}`);
    // The shape first: no key of a third server is fetched for an event that cannot be right.
    const raw = req.body;
    if (raw?.type !== 'm.room.member' || raw.room_id !== roomId || raw.state_key !== raw.sender || raw.content?.membership !== membership) {
      return err(400, 'M_BAD_JSON', `not a ${membership} of its sender in ${roomId}`);
    }
    if (serverOf(raw.sender) !== req.origin) return err(403, 'M_FORBIDDEN', `${req.origin} may not send a ${membership} for ${raw.sender}`);
    const checked = await checkPdu(fake, room.roomVersion, raw, claimed);
    if (checked.error) return checked.error;
    const { pdu } = checked;
    if (!pdu.prev_events.every((p) => room.has(p)) || !pdu.auth_events.every((a) => room.has(a))) {
      return err(400, 'M_BAD_JSON', 'the event refers to events this server does not have');
    }
    if (!membershipAllowed(room, pdu.sender, membership)) return err(403, 'M_FORBIDDEN', `${pdu.sender} may not ${membership} ${roomId}`);
    const signed = signEvent(room.roomVersion, pdu, fake.serverName, fake.key);
    const stateIds = [...room.state.values()];
    room.add(claimed, signed);
    fake.broadcast(roomId, [signed], [req.origin]);
    if (membership === 'leave') return ok({});
    // Everything the state and the join stand on, through auth_events (state events included).
    const chain = room.authChain([...stateIds, claimed]).filter((id) => id !== claimed);
    return ok({
      origin: fake.serverName,
      state: stateIds.map((id) => room.pdu(id)),
      auth_chain: chain.map((id) => room.pdu(id)),
      event: signed,
      members_omitted: false,
      servers_in_room: room.joinedServers(),
    });
  };
}

// ---- invites, invitee side -------------------------------------------------------------------

async function receiveInvite(fake, req) {
  const { roomId, eventId: claimed } = req.params;
  const body = req.body ?? {};
  if (typeof body.room_version !== 'string' || !ROOM_VERSIONS[body.room_version]) {
    return err(400, 'M_INCOMPATIBLE_ROOM_VERSION', `room version ${JSON.stringify(body.room_version)} is not supported`,
      { room_version: body.room_version });
  }
  const checked = await checkPdu(fake, body.room_version, body.event, claimed);
  if (checked.error) return checked.error;
  const { pdu } = checked;
  if (pdu.type !== 'm.room.member' || pdu.content?.membership !== 'invite' || pdu.room_id !== roomId) {
    return err(400, 'M_BAD_JSON', 'not an invite into this room');
  }
  if (serverOf(pdu.state_key) !== fake.serverName) return err(400, 'M_BAD_JSON', `${pdu.state_key} is not a user of ${fake.serverName}`);
  if (serverOf(pdu.sender) !== req.origin) return err(403, 'M_FORBIDDEN', `${req.origin} may not invite for ${pdu.sender}`);
  if (fake.refuseInvites) return err(403, 'M_FORBIDDEN', 'this fake server refuses invites');
  const signed = signEvent(body.room_version, pdu, fake.serverName, fake.key);
  fake.invites.push({
    roomId, eventId: claimed, roomVersion: body.room_version, event: signed, inviteRoomState: body.invite_room_state ?? [], origin: req.origin,
  });
  return ok({ event: signed });
}

// ---- transactions ------------------------------------------------------------------------------

async function receiveTransaction(fake, req) {
  const body = req.body;
  if (!body || typeof body !== 'object' || !Array.isArray(body.pdus)) return err(400, 'M_BAD_JSON', 'a transaction needs pdus');
  if (body.pdus.length > 50 || (body.edus?.length ?? 0) > 100) return err(400, 'M_BAD_JSON', 'over 50 PDUs or 100 EDUs');
  const txnKey = `${req.origin}\u0000${req.params.txnId}`;
  if (fake.transactions.has(txnKey)) return ok(fake.transactions.get(txnKey));
  const results = {};
  for (const raw of body.pdus) {
    const room = fake.rooms.get(raw?.room_id);
    const outcome = room ? await acceptPdu(fake, room, raw, req.origin) : { error: `unknown room ${raw?.room_id}` };
    if (outcome.id) results[outcome.id] = outcome.error ? { error: outcome.error } : {};
    fake.pdusReceived.push({ origin: req.origin, roomId: raw?.room_id, eventId: outcome.id ?? null, pdu: raw, accepted: !outcome.error, error: outcome.error ?? null, at: Date.now() });
  }
  for (const edu of body.edus ?? []) fake.edusReceived.push({ origin: req.origin, edu });
  const response = { pdus: results };
  fake.transactions.set(txnKey, response);
  return ok(response);
}

async function acceptPdu(fake, room, raw, origin) {
  // Only servers in the room are listened to (and only their keys fetched).
  const senderServer = serverOf(raw?.sender);
  const inRoom = room.joinedServers();
  if (!inRoom.includes(senderServer) && !(raw?.type === 'm.room.member' && raw.state_key === raw.sender)) {
    return { id: safeEventId(room.roomVersion, raw), error: `${senderServer} has nobody in the room` };
  }
  const checked = await checkPdu(fake, room.roomVersion, raw, null);
  if (checked.error) return { id: safeEventId(room.roomVersion, raw), error: checked.error.json.error };
  const { id, pdu } = checked;
  if (room.has(id)) return { id };
  if (!inRoom.includes(origin)) return { id, error: `${origin} is not in the room` };
  const member = room.membership(pdu.sender);
  const ownMembership = pdu.type === 'm.room.member' && pdu.state_key === pdu.sender;
  if (member !== 'join' && !ownMembership) return { id, error: `${pdu.sender} is not joined` };
  const missing = pdu.prev_events.filter((p) => !room.has(p));
  if (missing.length) return { id, error: `missing prev_events ${missing.join(', ')}` };
  room.add(id, pdu);
  return { id };
}

function safeEventId(roomVersion, raw) {
  try {
    return eventId(roomVersion, raw);
  } catch {
    return null; // not canonical JSON: it has no id
  }
}

// ---- reading the graph -------------------------------------------------------------------------

function findEvent(fake, id) {
  for (const room of fake.rooms.values()) {
    if (room.has(id)) return { room, pdu: room.pdu(id) };
  }
  return null;
}

function serveEvent(fake, req) {
  const found = findEvent(fake, req.params.eventId);
  if (!found || !serverSeesRoom(found.room, req.origin)) return err(404, 'M_NOT_FOUND', 'no such event');
  return ok({ origin: fake.serverName, origin_server_ts: Date.now(), pdus: [found.pdu] });
}

function serveState(idsOnly) {
  return function state(fake, req) {
    const room = fake.rooms.get(req.params.roomId);
    if (!room || !serverSeesRoom(room, req.origin)) return err(403, 'M_FORBIDDEN', 'not in the room');
    const at = req.query.get('event_id');
    if (!at) return err(400, 'M_MISSING_PARAM', 'event_id is required');
    const before = room.stateBefore(at);
    if (!before) return err(404, 'M_NOT_FOUND', `no state known at ${at}`);
    const ids = [...before.values()];
    const chain = room.authChain(ids);
    if (idsOnly) return ok({ pdu_ids: ids, auth_chain_ids: chain });
    return ok({ pdus: ids.map((id) => room.pdu(id)), auth_chain: chain.map((id) => room.pdu(id)) });
  };
}

function serveEventAuth(fake, req) {
  const room = fake.rooms.get(req.params.roomId);
  if (!room || !serverSeesRoom(room, req.origin)) return err(403, 'M_FORBIDDEN', 'not in the room');
  if (!room.has(req.params.eventId)) return err(404, 'M_NOT_FOUND', 'no such event');
  return ok({ auth_chain: room.authChain([req.params.eventId]).map((id) => room.pdu(id)) });
}

function serveMissingEvents(fake, req) {
  const room = fake.rooms.get(req.params.roomId);
  if (!room || !serverSeesRoom(room, req.origin)) return err(403, 'M_FORBIDDEN', 'not in the room');
  const { earliest_events: earliest = [], latest_events: latest, limit = 10, min_depth: minDepth = 0 } = req.body ?? {};
  if (!Array.isArray(latest) || !Array.isArray(earliest)) return err(400, 'M_BAD_JSON', 'latest_events and earliest_events are lists');
  const ids = room.missingEvents(earliest, latest, Math.min(Number(limit) || 10, 100), minDepth);
  return ok({ events: ids.map((id) => room.pdu(id)) });
}

function serveBackfill(fake, req) {
  const room = fake.rooms.get(req.params.roomId);
  if (!room || !serverSeesRoom(room, req.origin)) return err(403, 'M_FORBIDDEN', 'not in the room');
  const from = req.query.getAll('v');
  const limit = Number(req.query.get('limit'));
  if (!from.length || !Number.isInteger(limit) || limit < 1) return err(400, 'M_MISSING_PARAM', 'v and limit are required');
  const ids = room.backfill(from, Math.min(limit, 100));
  return ok({ origin: fake.serverName, origin_server_ts: Date.now(), pdus: ids.map((id) => room.pdu(id)) });
}

// ---- users (so that a peer looking at the fake's users gets answers, not errors) ------------

function serveProfile(fake, req) {
  const userId = req.query.get('user_id');
  if (serverOf(userId) !== fake.serverName) return err(404, 'M_NOT_FOUND', 'not a user of this server');
  const name = userId.slice(1, userId.indexOf(':'));
  const field = req.query.get('field');
  const profile = { displayname: name };
  if (field) return field === 'displayname' ? ok({ displayname: name }) : err(404, 'M_NOT_FOUND', `no ${field}`);
  return ok(profile);
}

function serveDevices(fake, req) {
  if (serverOf(req.params.userId) !== fake.serverName) return err(404, 'M_NOT_FOUND', 'not a user of this server');
  return ok({ user_id: req.params.userId, stream_id: 0, devices: [] });
}

function serveKeysQuery() {
  return ok({ device_keys: {} });
}
