// matrix.js -- a small Matrix client-server API client over fetch().
//
// The demo talks to its homeserver only through this file. With no base URL
// it calls fetch('/_matrix/...') on the page's own origin: on a page
// controlled by hometab's service worker that is the in-browser server. With
// a base URL (another origin, such as the native server) the same calls go
// over the network; the worker only answers its own origin.

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

function withQuery(url, query) {
  if (!query) return url;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, v);
  const text = params.toString();
  return text ? `${url}?${text}` : url;
}

async function call(base, method, path, { body, query, token, signal, prefix = API } = {}) {
  const url = withQuery(`${base}${prefix}${path}`, query);
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, { method, headers, signal,
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new Error(`cannot reach the server at ${base || location.origin}`);
  }
  let json = null;
  try {
    json = await response.json();
  } catch { /* not JSON: reported below by status */ }
  if (!response.ok) throw new MatrixError(response.status, json);
  return json ?? {};
}

function sessionFrom(base, json) {
  return { baseUrl: base, userId: json.user_id, accessToken: json.access_token, deviceId: json.device_id };
}

// Registration with User-Interactive Authentication: the first request
// learns the session and flows, the second completes the m.login.dummy stage.
export async function register(base, username, password) {
  const body = { username, password, initial_device_display_name: 'hometab demo' };
  try {
    return sessionFrom(base, await call(base, 'POST', '/register', { body }));
  } catch (e) {
    if (!(e instanceof MatrixError) || e.status !== 401 || !e.body?.session) throw e;
    const dummy = e.body.flows?.some((f) => f.stages?.length === 1 && f.stages[0] === 'm.login.dummy');
    if (!dummy) throw new Error('This server wants a registration step the demo cannot do.');
    return sessionFrom(base, await call(base, 'POST', '/register', {
      body: { ...body, auth: { type: 'm.login.dummy', session: e.body.session } } }));
  }
}

export async function login(base, username, password) {
  return sessionFrom(base, await call(base, 'POST', '/login', { body: {
    type: 'm.login.password', identifier: { type: 'm.id.user', user: username }, password,
    initial_device_display_name: 'hometab demo' } }));
}

// The server name in a user id (everything after the first colon).
export function serverOf(id) {
  return id.slice(id.indexOf(':') + 1);
}

export class Client {
  constructor(session) {
    this.session = session;
    this.base = session.baseUrl ?? '';
    this.userId = session.userId;
    this.txn = 0;
  }

  call(method, path, options = {}) {
    return call(this.base, method, path, { ...options, token: this.session.accessToken });
  }

  logout() {
    return this.call('POST', '/logout', { body: {} });
  }

  sync({ since, timeout, signal }) {
    return this.call('GET', '/sync', { query: { since, timeout }, signal });
  }

  createRoom({ name, alias, invite, isPublic, isDirect }) {
    const body = { preset: isDirect ? 'trusted_private_chat' : isPublic ? 'public_chat' : 'private_chat' };
    if (name) body.name = name;
    if (alias) body.room_alias_name = alias;
    if (invite?.length) body.invite = invite;
    if (isDirect) body.is_direct = true;
    if (isPublic) body.visibility = 'public';
    return this.call('POST', '/createRoom', { body });
  }

  // via: servers to join through (a room on another server).
  join(roomIdOrAlias, via = []) {
    const query = via.map((server) => `server_name=${enc(server)}`).join('&');
    return this.call('POST', `/join/${enc(roomIdOrAlias)}${query ? `?${query}` : ''}`, { body: {} });
  }

  leave(roomId) {
    return this.call('POST', `/rooms/${enc(roomId)}/leave`, { body: {} });
  }

  forget(roomId) {
    return this.call('POST', `/rooms/${enc(roomId)}/forget`, { body: {} });
  }

  invite(roomId, userId) {
    return this.call('POST', `/rooms/${enc(roomId)}/invite`, { body: { user_id: userId } });
  }

  newTxnId() {
    return `demo.${Date.now()}.${this.txn++}`;
  }

  send(roomId, type, content, txnId = this.newTxnId()) {
    return this.call('PUT', `/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txnId)}`, { body: content });
  }

  redact(roomId, eventId, reason) {
    return this.call('PUT', `/rooms/${enc(roomId)}/redact/${enc(eventId)}/${enc(this.newTxnId())}`,
      { body: reason ? { reason } : {} });
  }

  setState(roomId, type, content, stateKey = '') {
    return this.call('PUT', `/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, { body: content });
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

  publicRooms({ search, since, limit = 30 } = {}) {
    const body = { limit };
    if (since) body.since = since;
    if (search) body.filter = { generic_search_term: search };
    return this.call('POST', '/publicRooms', { body });
  }

  profile(userId) {
    return this.call('GET', `/profile/${enc(userId)}`);
  }

  presence(userId) {
    return this.call('GET', `/presence/${enc(userId)}/status`);
  }

  setProfile(field, value) {
    return this.call('PUT', `/profile/${enc(this.userId)}/${field}`, { body: { [field]: value } });
  }

  setAccountData(type, content) {
    return this.call('PUT', `/user/${enc(this.userId)}/account_data/${enc(type)}`, { body: content });
  }

  // Uploads a File or Blob with progress (fetch reports none for uploads):
  // onProgress(fraction). Resolves with the mxc:// URI.
  upload(file, onProgress = () => {}) {
    const url = withQuery(`${this.base}/_matrix/media/v3/upload`, { filename: file.name });
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      xhr.setRequestHeader('authorization', `Bearer ${this.session.accessToken}`);
      xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
      xhr.onerror = () => reject(new Error('the upload did not reach the server'));
      xhr.onload = () => {
        let json = null;
        try { json = JSON.parse(xhr.responseText); } catch { /* reported by status */ }
        if (xhr.status !== 200 || !json?.content_uri) reject(new MatrixError(xhr.status, json));
        else resolve(json.content_uri);
      };
      xhr.send(file);
    });
  }

  // The bytes of an mxc:// URI as a Blob, through authenticated media (an
  // <img src> cannot carry the access token). thumbnail: { width, height }.
  async media(mxc, { thumbnail } = {}) {
    const m = /^mxc:\/\/([^/]+)\/([^/?#]+)$/.exec(mxc ?? '');
    if (!m) throw new Error('not an mxc:// URI');
    const path = thumbnail
      ? withQuery(`/thumbnail/${enc(m[1])}/${enc(m[2])}`, { ...thumbnail, method: 'scale' })
      : `/download/${enc(m[1])}/${enc(m[2])}`;
    const response = await fetch(`${this.base}/_matrix/client/v1/media${path}`,
      { headers: { authorization: `Bearer ${this.session.accessToken}` } });
    if (!response.ok) throw new MatrixError(response.status, await response.json().catch(() => null));
    return response.blob();
  }
}
