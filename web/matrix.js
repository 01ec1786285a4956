// matrix.js -- a small Matrix client-server API client over fetch().
//
// The demo talks to its homeserver only through fetch('/_matrix/...'): on a
// page controlled by hometab's service worker that is the in-browser server,
// and the same code would talk to any homeserver.

const API = '/_matrix/client/v3';

export class MatrixError extends Error {
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.errcode = body?.errcode ?? 'M_UNKNOWN';
    this.body = body;
  }
}

const enc = encodeURIComponent;

async function call(method, path, { body, query, token, signal } = {}) {
  let url = `${API}${path}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, v);
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, signal,
    body: body === undefined ? undefined : JSON.stringify(body) });
  let json = null;
  try {
    json = await response.json();
  } catch { /* not JSON: reported below by status */ }
  if (!response.ok) throw new MatrixError(response.status, json);
  return json ?? {};
}

function sessionFrom(json) {
  return { userId: json.user_id, accessToken: json.access_token, deviceId: json.device_id };
}

// Registration with User-Interactive Authentication: the first request
// learns the session and flows, the second completes the m.login.dummy stage.
export async function register(username, password) {
  const body = { username, password, initial_device_display_name: 'hometab demo' };
  try {
    return sessionFrom(await call('POST', '/register', { body }));
  } catch (e) {
    if (!(e instanceof MatrixError) || e.status !== 401 || !e.body?.session) throw e;
    const dummy = e.body.flows?.some((f) => f.stages?.length === 1 && f.stages[0] === 'm.login.dummy');
    if (!dummy) throw new Error('This server wants a registration step the demo cannot do.');
    return sessionFrom(await call('POST', '/register', {
      body: { ...body, auth: { type: 'm.login.dummy', session: e.body.session } } }));
  }
}

export async function login(username, password) {
  return sessionFrom(await call('POST', '/login', { body: {
    type: 'm.login.password', identifier: { type: 'm.id.user', user: username }, password,
    initial_device_display_name: 'hometab demo' } }));
}

export class Client {
  constructor(session) {
    this.session = session;
    this.userId = session.userId;
    this.txn = 0;
  }

  call(method, path, options = {}) {
    return call(method, path, { ...options, token: this.session.accessToken });
  }

  logout() {
    return this.call('POST', '/logout', { body: {} });
  }

  sync({ since, timeout, signal }) {
    return this.call('GET', '/sync', { query: { since, timeout }, signal });
  }

  createRoom({ name, alias, invite, isPublic }) {
    const body = { name, preset: isPublic ? 'public_chat' : 'private_chat' };
    if (alias) body.room_alias_name = alias;
    if (invite?.length) body.invite = invite;
    return this.call('POST', '/createRoom', { body });
  }

  join(roomIdOrAlias) {
    return this.call('POST', `/join/${enc(roomIdOrAlias)}`, { body: {} });
  }

  leave(roomId) {
    return this.call('POST', `/rooms/${enc(roomId)}/leave`, { body: {} });
  }

  invite(roomId, userId) {
    return this.call('POST', `/rooms/${enc(roomId)}/invite`, { body: { user_id: userId } });
  }

  newTxnId() {
    return `demo.${Date.now()}.${this.txn++}`;
  }

  sendText(roomId, text, txnId = this.newTxnId()) {
    return this.call('PUT', `/rooms/${enc(roomId)}/send/m.room.message/${enc(txnId)}`,
      { body: { msgtype: 'm.text', body: text } });
  }

  typing(roomId, typing) {
    return this.call('PUT', `/rooms/${enc(roomId)}/typing/${enc(this.userId)}`,
      { body: typing ? { typing: true, timeout: 20000 } : { typing: false } });
  }

  readReceipt(roomId, eventId) {
    return this.call('POST', `/rooms/${enc(roomId)}/receipt/m.read/${enc(eventId)}`, { body: {} });
  }

  members(roomId) {
    return this.call('GET', `/rooms/${enc(roomId)}/members`);
  }

  messages(roomId, from, limit = 30) {
    return this.call('GET', `/rooms/${enc(roomId)}/messages`, { query: { from, dir: 'b', limit } });
  }
}
