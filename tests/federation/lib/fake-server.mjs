// fake-server.mjs -- a fake remote homeserver in node, in the test's own process: a third
// implementation of the server-server API (after hometab's C and Synapse's Python) to drive
// and attack a homeserver with.
//
//   const fake = await startFakeServer();                 // http://127.0.0.1:<free port>
//   const fake = await startFakeServer({ tls: { cert, key }, ca });   // HTTPS, trusting `ca` outbound
//   fake.serverName                                       // '127.0.0.1:<port>' unless given
//   await fake.request(dest, 'GET', '/_matrix/federation/v1/version')  // signed: { status, json }
//   const { roomId } = fake.createRoom({ roomVersion: '10' });          // resident in its own room
//   await fake.joinRoom(dest, roomId, '@fakeuser:' + fake.serverName); // make_join + send_join v2
//   await fake.sendEvent(roomId, { type: 'm.room.message', sender, content });  // to every server in it
//   fake.makeEvent('10', fields, { broken: ['signature'] })            // { event_id, pdu }
//   fake.misbehave('make_join', { status: 500, times: 1 })             // delay, hang, drop, garbage, hugeBytes
//   fake.requests  fake.invites  fake.pdusReceived  fake.edusReceived  fake.errors
//   await fake.stop();
//
// The one design decision: everything a test may want to look at or change is a plain field
// or a small method on one object, and every answer the fake serves comes from fake-routes.mjs
// working on its in-memory rooms (room-graph.mjs), so a test reads what happened instead of
// mocking it. Outbound requests go to https://<server name> when a CA is given (what Synapse
// needs), else http://; `fake.peers.set(name, baseUrl)` routes one server elsewhere.

import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

import { buildEvent } from './event-builder.mjs';
import { ROUTES } from './fake-routes.mjs';
import { BodyTooLarge, httpRequest, matrixError, parseJson, readBody, sendJson } from './http.mjs';
import { KeyRing } from './keyring.mjs';
import { RoomGraph } from './room-graph.mjs';
import { ROOM_VERSIONS, SigningKey, b64, checkEvent, eventId, redact, serverOf, signJson, verifyJson } from './signing.mjs';
import { XMatrixError, parseXMatrix, verifyXMatrix, xMatrixHeader } from './xmatrix.mjs';

const DAY = 24 * 3600 * 1000;

export async function startFakeServer(options = {}) {
  const fake = new FakeServer(options);
  await fake.listen();
  return fake;
}

export class FakeServer {
  constructor({ tls, ca, serverName, key, outboundTls, maxBodyBytes = 32 << 20, timeoutMs = 10000 } = {}) {
    this.tls = tls;
    this.ca = ca ?? tls?.ca;
    this.outboundScheme = (outboundTls ?? Boolean(this.ca)) ? 'https' : 'http';
    this.requestedName = serverName;
    this.key = key ?? SigningKey.generate();
    this.maxBodyBytes = maxBodyBytes;
    this.timeoutMs = timeoutMs;
    this.peers = new Map(); // server name -> base URL, when not <scheme>://<server name>
    this.keyring = new KeyRing((server) => this.fetchKeys(server));
    this.rooms = new Map(); // room id -> RoomGraph (with .resident when the fake created it)
    this.transactions = new Map(); // origin + txnId -> the answer given (retries get it again)
    this.requests = []; // every request received: { route, method, path, headers, body, origin, status }
    this.invites = []; // invites received and signed
    this.pdusReceived = []; // { origin, roomId, eventId, pdu, accepted, error, at (ms since the epoch) }
    this.edusReceived = []; // { origin, edu }
    this.sendFailures = []; // outbound transactions that failed: { destination, error }
    this.errors = []; // exceptions in the fake's own handlers: a test should find none
    this.refuseInvites = false;
    this.misbehaviours = new Map(); // route name -> behaviour
    this.outbound = new AbortController();
    this.txnCounter = 0;
  }

  // ---- the listener ---------------------------------------------------------------------------

  listen() {
    const handler = (req, res) => this.handle(req, res).catch((e) => {
      this.errors.push(e);
      if (!res.headersSent) matrixError(res, 500, 'M_UNKNOWN', `fake server error: ${e.message}`);
      else res.destroy();
    });
    this.server = this.tls ? https.createServer({ cert: this.tls.cert, key: this.tls.key }, handler) : http.createServer(handler);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server.address().port;
        this.serverName = this.requestedName ?? `127.0.0.1:${this.port}`;
        this.keyring.add(this.serverName, { [this.key.keyId]: this.key.publicKey }, Infinity);
        this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
        resolve();
      });
    });
  }

  async stop() {
    this.outbound.abort();
    await new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // The signed answer of GET /_matrix/key/v2/server.
  keyJson() {
    return signJson({
      server_name: this.serverName,
      verify_keys: { [this.key.keyId]: { key: b64(this.key.publicKey) } },
      old_verify_keys: {},
      valid_until_ts: Date.now() + 7 * DAY,
    }, this.serverName, this.key);
  }

  async handle(req, res) {
    const url = new URL(req.url, 'http://fake');
    const record = { route: null, method: req.method, path: req.url, headers: req.headers, body: undefined, origin: null, status: null, at: Date.now() };
    this.requests.push(record);
    let bytes;
    try {
      bytes = await readBody(req, this.maxBodyBytes);
    } catch (e) {
      if (!(e instanceof BodyTooLarge)) throw e;
      record.status = 413;
      matrixError(res, 413, 'M_TOO_LARGE', e.message);
      return;
    }
    const content = bytes.length ? parseJson(bytes) : undefined;
    record.body = content;
    const answer = (status, json) => {
      record.status = status;
      sendJson(res, status, json);
    };
    const candidates = ROUTES.filter((r) => r.pattern.test(url.pathname));
    const route = candidates.find((r) => r.method === req.method);
    if (!route) {
      const status = candidates.length ? 405 : 404;
      answer(status, { errcode: 'M_UNRECOGNIZED', error: `${req.method} ${url.pathname} is not served here` });
      return;
    }
    record.route = route.name;
    if (await this.misbehaveOn(route.name, record, res)) return;
    if (bytes.length && content === undefined) {
      answer(400, { errcode: 'M_NOT_JSON', error: 'the body is not JSON' });
      return;
    }
    if (route.auth) {
      const auth = await this.authenticate(req, content);
      if (auth.error) {
        record.authError = auth.error;
        answer(401, { errcode: 'M_UNAUTHORIZED', error: auth.error });
        return;
      }
      record.origin = auth.origin;
    }
    const params = {};
    for (const [k, v] of Object.entries(route.pattern.exec(url.pathname).groups ?? {})) {
      if (v === undefined) continue;
      try {
        params[k] = decodeURIComponent(v);
      } catch {
        answer(400, { errcode: 'M_INVALID_PARAM', error: `${k} is not valid percent-encoding` });
        return;
      }
    }
    const out = await route.handler(this, { method: req.method, path: req.url, params, query: url.searchParams, body: content, origin: record.origin });
    answer(out.status, out.json);
  }

  // X-Matrix: parse, check the destination, fetch the origin's key, check the signature.
  async authenticate(req, content) {
    let parsed;
    try {
      parsed = parseXMatrix(req.headers.authorization);
    } catch (e) {
      if (e instanceof XMatrixError) return { error: e.message };
      throw e;
    }
    if (parsed.destination !== undefined && parsed.destination !== this.serverName) {
      return { error: `the request is for ${parsed.destination}, this is ${this.serverName}` };
    }
    let key;
    try {
      key = await this.keyring.keyFor(parsed.origin, parsed.key);
    } catch (e) {
      return { error: `no key ${parsed.key} of ${parsed.origin}: ${e.message}` };
    }
    let valid;
    try {
      valid = verifyXMatrix(parsed, { method: req.method, uri: req.url, content, destination: this.serverName }, key);
    } catch (e) {
      return { error: `cannot check the signature: ${e.message}` };
    }
    return valid ? { origin: parsed.origin } : { error: 'the request signature is not valid' };
  }

  // ---- misbehaving ------------------------------------------------------------------------------

  // behaviour: { delayMs, status, json, text, hang, drop, garbage, hugeBytes, chunked, times }
  // (text: the body as it is, said to be JSON).
  // delayMs alone delays the normal answer; the others replace it. `times` (default: every time).
  misbehave(route, behaviour) {
    if (!ROUTES.some((r) => r.name === route)) throw new Error(`no route ${route}`);
    this.misbehaviours.set(route, { times: Infinity, ...behaviour });
  }

  behave(route) {
    if (route === undefined) this.misbehaviours.clear();
    else this.misbehaviours.delete(route);
  }

  async misbehaveOn(route, record, res) {
    const b = this.misbehaviours.get(route);
    if (!b || b.times <= 0) return false;
    b.times--;
    record.misbehaved = true;
    if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    if (b.hang) return true; // never answered; stop() closes the connection
    if (b.drop) {
      res.socket.destroy();
      return true;
    }
    if (b.garbage) {
      record.status = 200;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(Buffer.concat([Buffer.from('{"pdus": [\u0000'), crypto.randomBytes(512)]));
      return true;
    }
    if (b.hugeBytes) {
      record.status = 200;
      await writeHuge(res, b.hugeBytes, b.chunked);
      return true;
    }
    if (b.status && b.text !== undefined) {
      record.status = b.status;
      res.writeHead(b.status, { 'Content-Type': 'application/json' });
      res.end(b.text);
      return true;
    }
    if (b.status) {
      record.status = b.status;
      sendJson(res, b.status, b.json ?? { errcode: 'M_UNKNOWN', error: `misbehaving with ${b.status}` });
      return true;
    }
    return false;
  }

  // ---- waiting for what a peer does ------------------------------------------------------------

  async waitFor(check, { timeoutMs = 15000, what = 'a condition' } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`${this.serverName}: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  waitForRequest(predicate, options = {}) {
    return this.waitFor(() => this.requests.find(predicate), { what: 'a request', ...options });
  }

  // ---- calling other servers -----------------------------------------------------------------

  baseUrlOf(serverName) {
    return this.peers.get(serverName) ?? `${this.outboundScheme}://${serverName}`;
  }

  // A signed request. options: timeoutMs, maxBytes; and to attack a peer: authorization (a
  // header to send instead, or null for none), signAs { origin, destination, key } (sign as
  // if another server, for another destination, or with another key), rawBody (bytes to send
  // instead of the JSON of `body`; the signature still covers `body`).
  async request(destination, method, path, body, options = {}) {
    const { timeoutMs = this.timeoutMs, maxBytes = 16 << 20, authorization, signAs = {}, rawBody } = options;
    const headers = {};
    if (authorization !== null) {
      headers.Authorization = authorization ?? xMatrixHeader({
        origin: signAs.origin ?? this.serverName,
        destination: signAs.destination ?? destination,
        key: signAs.key ?? this.key,
        method,
        uri: path,
        content: body,
      });
    }
    let payload;
    if (rawBody !== undefined) payload = Buffer.from(rawBody);
    else if (body !== undefined) payload = Buffer.from(JSON.stringify(body));
    if (payload) headers['Content-Type'] = 'application/json';
    const r = await httpRequest({
      url: this.baseUrlOf(destination) + path, method, headers, body: payload, ca: this.ca, timeoutMs, maxBytes, signal: this.outbound.signal,
    });
    return { status: r.status, json: parseJson(r.bytes), headers: r.headers, bytes: r.bytes };
  }

  // GET /_matrix/key/v2/server of another server (not signed: keys come first).
  async fetchKeys(server) {
    const r = await httpRequest({ url: `${this.baseUrlOf(server)}/_matrix/key/v2/server`, ca: this.ca, timeoutMs: this.timeoutMs, maxBytes: 1 << 20, signal: this.outbound.signal });
    if (r.status !== 200) throw new Error(`${server} answered ${r.status} for its keys`);
    return parseJson(r.bytes);
  }

  version(destination) {
    return this.request(destination, 'GET', '/_matrix/federation/v1/version');
  }

  // ---- events ---------------------------------------------------------------------------------

  // A PDU signed by this server. Fields left out are filled: from the room's graph when the
  // fake knows the room (prev_events, depth, auth_events), else empty lists and depth 1.
  makeEvent(roomVersion, fields, { broken = [] } = {}) {
    const room = this.rooms.get(fields.room_id);
    const filled = { ...fields };
    if (room) {
      const { prev_events: prev, depth } = room.prevEventsAndDepth();
      filled.prev_events ??= prev;
      if (filled.depth === undefined) {
        filled.depth = fields.prev_events
          ? Math.max(0, ...fields.prev_events.map((id) => room.pdu(id)?.depth ?? 0)) + 1
          : depth;
      }
      filled.auth_events ??= room.authEventsFor(filled);
    }
    return buildEvent({ roomVersion, fields: filled, serverName: this.serverName, key: this.key, broken });
  }

  // Checks signatures (fetching keys as needed) and content hashes of PDUs; answers one
  // result per PDU: { eventId, signed, hashOk, reason }.
  verifyEvents(roomVersion, pdus) {
    return Promise.all(pdus.map((pdu) => {
      const { unsigned, ...rest } = pdu; // eslint-disable-line no-unused-vars
      return checkEvent(roomVersion, rest, (server) => this.keyring.keysOf(server));
    }));
  }

  // A room the fake is resident in: create, the creator's join, power levels (creator 100),
  // join rules, history visibility, and a name when given.
  createRoom({ roomVersion = '10', creator = `@fakeuser:${this.serverName}`, joinRule = 'public', name } = {}) {
    const roomId = `!${crypto.randomBytes(9).toString('base64url')}:${this.serverName}`;
    const room = new RoomGraph(roomId, roomVersion);
    room.resident = true;
    this.rooms.set(roomId, room);
    const add = (type, stateKey, content) => {
      const { event_id: id, pdu } = this.makeEvent(roomVersion, { room_id: roomId, sender: creator, type, state_key: stateKey, content });
      room.add(id, pdu);
      return id;
    };
    add('m.room.create', '', roomVersion === '10' ? { creator, room_version: roomVersion } : { room_version: roomVersion });
    add('m.room.member', creator, { membership: 'join', displayname: creator.slice(1, creator.indexOf(':')) });
    add('m.room.power_levels', '', {
      users: { [creator]: 100 }, users_default: 0, events: {}, events_default: 0, state_default: 50,
      ban: 50, kick: 50, redact: 50, invite: 0,
    });
    add('m.room.join_rules', '', { join_rule: joinRule });
    add('m.room.history_visibility', '', { history_visibility: 'shared' });
    if (name) add('m.room.name', '', { name });
    return { roomId, room };
  }

  // Sends PDUs and EDUs in one transaction: PUT /_matrix/federation/v1/send/{txnId}.
  sendTransaction(destination, { pdus = [], edus = [], txnId, origin = this.serverName } = {}, options) {
    const id = txnId ?? `fake${Date.now()}.${++this.txnCounter}`;
    return this.request(destination, 'PUT', `/_matrix/federation/v1/send/${encodeURIComponent(id)}`,
      { origin, origin_server_ts: Date.now(), pdus, edus }, options);
  }

  // A new event in a room the fake knows, added to its graph but sent to nobody: what a peer
  // then misses, to fetch through get_missing_events, state_ids, event or backfill.
  addEvent(roomId, fields) {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`${this.serverName} does not know ${roomId}`);
    const built = this.makeEvent(room.roomVersion, { room_id: roomId, ...fields });
    room.add(built.event_id, built.pdu);
    return built;
  }

  // A new event in a room the fake knows (resident or joined): built on the graph, added to it,
  // sent to every other server with a joined member. Answers { event_id, pdu, sent }.
  async sendEvent(roomId, fields, { broken = [] } = {}) {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`${this.serverName} does not know ${roomId}`);
    const { event_id: id, pdu } = this.makeEvent(room.roomVersion, { room_id: roomId, ...fields }, { broken });
    if (broken.length === 0) room.add(id, pdu);
    const sent = {};
    for (const server of room.joinedServers()) {
      if (server !== this.serverName) sent[server] = await this.sendTransaction(server, { pdus: [pdu] });
    }
    return { event_id: id, pdu, sent };
  }

  // Sends PDUs of a room to its other servers without waiting (the resident passing on a join).
  broadcast(roomId, pdus, exclude = []) {
    const room = this.rooms.get(roomId);
    for (const server of room.joinedServers()) {
      if (server === this.serverName || exclude.includes(server)) continue;
      this.sendTransaction(server, { pdus }).then((r) => {
        if (r.status !== 200) this.sendFailures.push({ destination: server, error: `status ${r.status}` });
      }, (e) => this.sendFailures.push({ destination: server, error: e.message }));
    }
  }

  // ---- joining and leaving through a resident ------------------------------------------------

  makeJoin(destination, roomId, userId, versions = ['10', '11']) {
    const q = versions.map((v) => `ver=${encodeURIComponent(v)}`).join('&');
    return this.request(destination, 'GET', `/_matrix/federation/v1/make_join/${encodeURIComponent(roomId)}/${encodeURIComponent(userId)}?${q}`);
  }

  makeLeave(destination, roomId, userId) {
    return this.request(destination, 'GET', `/_matrix/federation/v1/make_leave/${encodeURIComponent(roomId)}/${encodeURIComponent(userId)}`);
  }

  // Fills in a make_join/make_leave template (origin, origin_server_ts), checks what the spec
  // says the joining server must check, signs it and sends it. Answers the response with the
  // event: { status, json, event_id, pdu }.
  async sendMembership(destination, membership, roomVersion, template, { broken = [] } = {}) {
    for (const [field, ok] of [['type', template.type === 'm.room.member'], ['membership', template.content?.membership === membership],
      ['state_key', template.state_key === template.sender], ['sender', serverOf(template.sender) === this.serverName]]) {
      if (!ok) throw new Error(`make_${membership} template from ${destination} has a wrong ${field}: ${JSON.stringify(template)}`);
    }
    const { event_id: id, pdu } = buildEvent({
      roomVersion, fields: { ...template, origin: this.serverName, origin_server_ts: Date.now() }, serverName: this.serverName, key: this.key, broken,
    });
    const path = `/_matrix/federation/v2/send_${membership}/${encodeURIComponent(template.room_id)}/${encodeURIComponent(id)}`;
    const r = await this.request(destination, 'PUT', path, pdu);
    return { ...r, event_id: id, pdu };
  }

  sendJoin(destination, roomVersion, template, options) {
    return this.sendMembership(destination, 'join', roomVersion, template, options);
  }

  sendLeave(destination, roomVersion, template, options) {
    return this.sendMembership(destination, 'leave', roomVersion, template, options);
  }

  // The whole remote join: make_join, send_join v2, then every event of `state` and
  // `auth_chain` checked (signatures, fetching each origin's keys, and content hashes). The room
  // joins this.rooms, so sendEvent can build on it. Throws on any failure.
  async joinRoom(destination, roomId, userId, { versions } = {}) {
    const made = await this.makeJoin(destination, roomId, userId, versions);
    if (made.status !== 200) throw new Error(`make_join at ${destination}: ${made.status} ${JSON.stringify(made.json)}`);
    const roomVersion = made.json.room_version;
    const sent = await this.sendJoin(destination, roomVersion, made.json.event);
    if (sent.status !== 200) throw new Error(`send_join at ${destination}: ${sent.status} ${JSON.stringify(sent.json)}`);
    const { state, auth_chain: authChain } = sent.json;
    if (!Array.isArray(state) || !Array.isArray(authChain)) throw new Error(`send_join answer lacks state or auth_chain: ${JSON.stringify(sent.json)}`);
    const checks = await this.verifyEvents(roomVersion, [...state, ...authChain]);
    const bad = checks.filter((c) => !c.signed || !c.hashOk);
    if (bad.length) throw new Error(`send_join answer from ${destination} has events that fail checks: ${JSON.stringify(bad)}`);
    const room = new RoomGraph(roomId, roomVersion);
    const all = [...state, ...authChain];
    all.forEach((pdu, i) => {
      if (pdu.room_id !== roomId) throw new Error(`send_join answer holds an event of room ${pdu.room_id}`);
      const { unsigned, ...rest } = pdu; // eslint-disable-line no-unused-vars
      room.addOutlier(checks[i].eventId, rest);
    });
    let join = sent.pdu;
    if (sent.json.event) {
      // The resident's copy carries its signature too; it must still be our event.
      const [check] = await this.verifyEvents(roomVersion, [sent.json.event]);
      if (check.eventId !== sent.event_id || !check.signed) throw new Error('send_join answered a different or unsigned join event');
      const { unsigned, ...rest } = sent.json.event; // eslint-disable-line no-unused-vars
      join = rest;
    }
    room.adoptState(state.map((_, i) => checks[i].eventId), sent.event_id, join);
    this.rooms.set(roomId, room);
    return { roomId, roomVersion, eventId: sent.event_id, pdu: join, state, authChain, verified: checks.length, response: sent.json };
  }

  // make_leave + send_leave v2 (leaving a room, or rejecting an invite). Throws on failure.
  async leaveRoom(destination, roomId, userId) {
    const made = await this.makeLeave(destination, roomId, userId);
    if (made.status !== 200) throw new Error(`make_leave at ${destination}: ${made.status} ${JSON.stringify(made.json)}`);
    const sent = await this.sendLeave(destination, made.json.room_version, made.json.event);
    if (sent.status !== 200) throw new Error(`send_leave at ${destination}: ${sent.status} ${JSON.stringify(sent.json)}`);
    const room = this.rooms.get(roomId);
    if (room && sent.pdu.prev_events.every((p) => room.has(p))) room.add(sent.event_id, sent.pdu);
    return { eventId: sent.event_id, pdu: sent.pdu, response: sent.json };
  }

  // ---- invites ----------------------------------------------------------------------------------

  // PUT /_matrix/federation/v2/invite/{roomId}/{eventId} with an invite PDU already built.
  invite(destination, roomVersion, pdu, inviteRoomState = [], { eventId: knownId } = {}) {
    // An unknown room version (a test of the peer's refusal) is labelled, built as version 10.
    const id = knownId ?? eventId(ROOM_VERSIONS[roomVersion] ? roomVersion : '10', pdu);
    return this.request(destination, 'PUT', `/_matrix/federation/v2/invite/${encodeURIComponent(pdu.room_id)}/${encodeURIComponent(id)}`,
      { room_version: roomVersion, event: pdu, invite_room_state: inviteRoomState });
  }

  // Invites a user of another server into a room the fake knows; the invitee's server must
  // sign the event, which then joins the graph. Answers { status, json, event_id, pdu }.
  async inviteUser(roomId, sender, invitee) {
    const room = this.rooms.get(roomId);
    const { event_id: id, pdu } = this.makeEvent(room.roomVersion, {
      room_id: roomId, sender, type: 'm.room.member', state_key: invitee, content: { membership: 'invite' },
    });
    const stripped = ['m.room.create', 'm.room.join_rules', 'm.room.name'].map((t) => room.stateEvent(t)).filter(Boolean)
      .map(({ type, state_key: sk, content, sender: s }) => ({ type, state_key: sk, content, sender: s }));
    const destination = serverOf(invitee);
    const r = await this.invite(destination, room.roomVersion, pdu, stripped, { eventId: id });
    if (r.status === 200) {
      const { unsigned, ...signed } = r.json?.event ?? {}; // eslint-disable-line no-unused-vars
      const keys = await this.keyring.keysOf(destination);
      const redacted = redact(room.roomVersion, signed);
      const theirs = Object.keys(signed.signatures?.[destination] ?? {}).filter((k) => keys[k]);
      const valid = theirs.length > 0 && theirs.every((k) => verifyJson(redacted, destination, k, keys[k]));
      if (!valid || eventId(room.roomVersion, signed) !== id) {
        throw new Error(`${destination} answered the invite without a valid signature on the same event: ${JSON.stringify(r.json)}`);
      }
      room.add(id, signed);
      this.broadcast(roomId, [signed], [destination]);
    }
    return { ...r, event_id: id, pdu };
  }

  // ---- reading another server's graph ------------------------------------------------------

  getEvent(destination, eventId) {
    return this.request(destination, 'GET', `/_matrix/federation/v1/event/${encodeURIComponent(eventId)}`);
  }

  stateIds(destination, roomId, eventId) {
    return this.request(destination, 'GET', `/_matrix/federation/v1/state_ids/${encodeURIComponent(roomId)}?event_id=${encodeURIComponent(eventId)}`);
  }

  state(destination, roomId, eventId) {
    return this.request(destination, 'GET', `/_matrix/federation/v1/state/${encodeURIComponent(roomId)}?event_id=${encodeURIComponent(eventId)}`);
  }

  eventAuth(destination, roomId, eventId) {
    return this.request(destination, 'GET', `/_matrix/federation/v1/event_auth/${encodeURIComponent(roomId)}/${encodeURIComponent(eventId)}`);
  }

  getMissingEvents(destination, roomId, { earliest_events: earliest = [], latest_events: latest, limit = 10, min_depth: minDepth = 0 }) {
    return this.request(destination, 'POST', `/_matrix/federation/v1/get_missing_events/${encodeURIComponent(roomId)}`,
      { earliest_events: earliest, latest_events: latest, limit, min_depth: minDepth });
  }

  backfill(destination, roomId, from, limit = 10) {
    const q = [...from.map((id) => `v=${encodeURIComponent(id)}`), `limit=${limit}`].join('&');
    return this.request(destination, 'GET', `/_matrix/federation/v1/backfill/${encodeURIComponent(roomId)}?${q}`);
  }
}

// Streams `size` bytes of a JSON-looking answer without holding them in memory.
function writeHuge(res, size, chunked) {
  const chunk = Buffer.alloc(64 * 1024, 0x61); // 'a'
  const head = Buffer.from('{"junk":"');
  res.writeHead(200, { 'Content-Type': 'application/json', ...(chunked ? {} : { 'Content-Length': size }) });
  let left = size - head.length;
  res.write(head);
  return new Promise((resolve) => {
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
      resolve();
    };
    res.on('close', resolve);
    pump();
  });
}
