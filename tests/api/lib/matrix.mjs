// matrix.mjs -- small client-server helpers for the API tests.
//
//   const alice = await register(srv, 'alice');          // {user_id, access_token, device_id, token}
//   const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
//   const eventId = await sendMessage(srv, alice, roomId, 'hello');
//   const res = await sync(srv, alice, { since, timeout: 1000 });
//
// Each helper asserts the call succeeded, so a test reads as its scenario;
// tests that check an error call srv.fetch themselves.

import assert from 'node:assert/strict';

export const V3 = '/_matrix/client/v3';

let txnCounter = 0;
export const txnId = () => `t${Date.now()}-${++txnCounter}`;

// Percent-encodes one path segment (room ids, event ids, user ids, aliases).
export const seg = (s) => encodeURIComponent(s);

// Registers `name` with the dummy stage and returns the login response plus
// `token` (= access_token) for brevity.
export async function register(srv, name, { password = `pw-${name}`, ...extra } = {}) {
  const res = await srv.fetch(`${V3}/register`, {
    method: 'POST',
    body: { username: name, password, auth: { type: 'm.login.dummy' }, ...extra },
  });
  assert.equal(res.status, 200, `register ${name}: ${res.text}`);
  return { ...res.json, token: res.json.access_token, password };
}

export async function login(srv, user, password, extra = {}) {
  const res = await srv.fetch(`${V3}/login`, {
    method: 'POST',
    body: { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password, ...extra },
  });
  assert.equal(res.status, 200, `login ${user}: ${res.text}`);
  return { ...res.json, token: res.json.access_token };
}

export async function createRoom(srv, who, body = {}) {
  const res = await srv.fetch(`${V3}/createRoom`, { method: 'POST', body, token: who.token });
  assert.equal(res.status, 200, `createRoom: ${res.text}`);
  assert.match(res.json.room_id, /^!/);
  return res.json.room_id;
}

// Calls a room endpoint: room(srv, who, roomId, 'join', {body}) -> POST /rooms/{id}/join.
export function roomPost(srv, who, roomId, action, body = {}) {
  return srv.fetch(`${V3}/rooms/${seg(roomId)}/${action}`, { method: 'POST', body, token: who.token });
}

export async function join(srv, who, roomIdOrAlias) {
  const res = await srv.fetch(`${V3}/join/${seg(roomIdOrAlias)}`, { method: 'POST', body: {}, token: who.token });
  assert.equal(res.status, 200, `join ${roomIdOrAlias}: ${res.text}`);
  return res.json.room_id;
}

export async function invite(srv, who, roomId, userId) {
  const res = await roomPost(srv, who, roomId, 'invite', { user_id: userId });
  assert.equal(res.status, 200, `invite ${userId}: ${res.text}`);
}

export async function leave(srv, who, roomId) {
  const res = await roomPost(srv, who, roomId, 'leave');
  assert.equal(res.status, 200, `leave: ${res.text}`);
}

export function send(srv, who, roomId, type, content, txn = txnId()) {
  return srv.fetch(`${V3}/rooms/${seg(roomId)}/send/${seg(type)}/${seg(txn)}`, {
    method: 'PUT', body: content, token: who.token,
  });
}

export async function sendMessage(srv, who, roomId, text, txn = txnId()) {
  const res = await send(srv, who, roomId, 'm.room.message', { msgtype: 'm.text', body: text }, txn);
  assert.equal(res.status, 200, `send: ${res.text}`);
  return res.json.event_id;
}

// Sends a reply in the thread of `root` (rel_type m.thread); returns its event id.
export async function sendThreadReply(srv, who, roomId, root, text) {
  const res = await send(srv, who, roomId, 'm.room.message', {
    msgtype: 'm.text', body: text, 'm.relates_to': { rel_type: 'm.thread', event_id: root },
  });
  assert.equal(res.status, 200, `thread reply: ${res.text}`);
  return res.json.event_id;
}

export function putState(srv, who, roomId, type, stateKey, content) {
  const key = stateKey === undefined ? '' : `/${seg(stateKey)}`;
  return srv.fetch(`${V3}/rooms/${seg(roomId)}/state/${seg(type)}${key}`, {
    method: 'PUT', body: content, token: who.token,
  });
}

export async function setState(srv, who, roomId, type, stateKey, content) {
  const res = await putState(srv, who, roomId, type, stateKey, content);
  assert.equal(res.status, 200, `state ${type}: ${res.text}`);
  return res.json.event_id;
}

export async function getState(srv, who, roomId) {
  const res = await srv.fetch(`${V3}/rooms/${seg(roomId)}/state`, { token: who.token });
  assert.equal(res.status, 200, `state: ${res.text}`);
  return res.json;
}

// GET /messages with query parameters (filter objects are JSON-encoded).
export function messages(srv, who, roomId, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  return srv.fetch(`${V3}/rooms/${seg(roomId)}/messages?${q}`, { token: who.token });
}

// The room's whole history as /messages gives it, oldest first.
export async function history(srv, who, roomId, params = {}) {
  const events = [];
  let from;
  for (let pages = 0; pages < 1000; pages++) {
    const res = await messages(srv, who, roomId, { dir: 'b', limit: 50, ...params, ...(from ? { from } : {}) });
    assert.equal(res.status, 200, res.text);
    events.unshift(...res.json.chunk.reverse());
    if (!res.json.end) return events;
    from = res.json.end;
  }
  throw new Error('history did not end');
}

// GET /sync; params: since, timeout, filter (object or id), full_state.
export async function sync(srv, who, params = {}) {
  const res = await syncRaw(srv, who, params);
  assert.equal(res.status, 200, `sync: ${res.text}`);
  return res.json;
}

export function syncRaw(srv, who, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  return srv.fetch(`${V3}/sync?${q}`, { token: who.token });
}

// POST /account/deactivate through its m.login.password stage (who comes
// from register(), which keeps the password). Returns the 200 answer.
export async function deactivate(srv, who, body = {}) {
  const path = `${V3}/account/deactivate`;
  const first = await srv.fetch(path, { method: 'POST', body, token: who.token });
  assert.equal(first.status, 401, `deactivate (first call): ${first.text}`);
  const auth = {
    type: 'm.login.password', session: first.json.session, password: who.password,
    identifier: { type: 'm.id.user', user: who.user_id },
  };
  const res = await srv.fetch(path, { method: 'POST', body: { ...body, auth }, token: who.token });
  assert.equal(res.status, 200, `deactivate: ${res.text}`);
  return res.json;
}

// Asserts a Matrix error: status and errcode, and a human sentence.
export function assertError(res, status, errcode) {
  assert.equal(res.status, status, `expected ${status} ${errcode}, got ${res.status}: ${res.text}`);
  assert.equal(res.json?.errcode, errcode, `expected ${errcode}: ${res.text}`);
  assert.equal(typeof res.json.error, 'string');
  assert.ok(res.json.error.length > 0, 'the error has a sentence');
}

// Runs the `sqlite3` command-line shell on the server's database (read-only)
// and returns its output lines.
export async function sqlite(srv, sql) {
  const { execFileSync } = await import('node:child_process');
  return execFileSync('sqlite3', ['-readonly', srv.db, sql], { encoding: 'utf8' }).split('\n').filter(Boolean);
}
