// homeserver.js -- the package's API, the same in node and in browsers: a
// real hometab (the C core compiled to wasm) inside the caller's process.
//
//   const hs = await createHomeserver();
//   const client = createClient({ baseUrl: hs.baseUrl, fetchFn: hs.fetch });
//
// The one design decision: every server is a wasm instance of its own. The
// module is compiled once per process (node.js, browser.js hand in the
// compiled WebAssembly.Module), and each createHomeserver() instantiates it
// again, with its own memory and its own SQLite database, so any number of
// servers run side by side and none can see another's data. The bridge
// (../hometab.js) does the rest: the queue, parked long-polls, the clock.

import { start } from '../hometab.js';
import { Clock } from './clock.js';

// Argon2id's cost for new password hashes. 'fast' is libsodium's minimum
// (1 pass over 8 KiB): the same algorithm and code path, about a thousand
// times cheaper than the native server's 19 MiB, which in wasm costs a few
// hundred milliseconds per registration and login.
const PASSWORD_HASHING = { fast: { ops: 1, memKib: 8 }, strong: null };

const DEFAULT_PASSWORD = 'hometab-test-password';
const CORE_MAX_BODY = 50 * 1024 * 1024; // the core's default body limit

const OPTIONS = ['serverName', 'clock', 'startTime', 'passwordHashing', 'snapshot', 'rateLimit',
  'maxBodyBytes', 'wasmModule'];

// `platform`: { createModule, compile() -> Promise<WebAssembly.Module>,
// listen(fetch, options) -> Promise<{ url, close }>, or null where there is none }.
export async function createHomeserver(options = {}, platform) {
  const unknown = Object.keys(options).filter((name) => !OPTIONS.includes(name));
  if (unknown.length) {
    throw new TypeError(`createHomeserver() has no option ${unknown.join(', ')} (it takes ${OPTIONS.join(', ')})`);
  }
  const {
    serverName = 'localhost',
    clock: clockMode = 'real',
    startTime,
    passwordHashing = 'fast',
    snapshot,
    rateLimit = false,
    maxBodyBytes = 0,
    wasmModule,
  } = options;
  if (typeof serverName !== 'string' || !/^[A-Za-z0-9.\-:[\]]+$/.test(serverName)) {
    throw new TypeError(`serverName must be a host name, optionally with :port, not ${JSON.stringify(serverName)}`);
  }
  if (!(passwordHashing in PASSWORD_HASHING)) {
    throw new TypeError(`passwordHashing must be 'fast' or 'strong', not ${JSON.stringify(passwordHashing)}`);
  }
  const clock = new Clock({ mode: clockMode, startTime });
  const compiled = await (wasmModule ?? platform.compile());
  // Emscripten's loader has no way to report a failed instantiation (its
  // promise would never settle), so a failure is raced against start().
  let instantiationFailed;
  const failure = new Promise((_, reject) => { instantiationFailed = reject; });
  const started = start({
    createModule: platform.createModule,
    moduleOptions: {
      // Instantiate the module compiled once per process: milliseconds, where
      // compiling again would cost tens of them.
      instantiateWasm(imports, done) {
        WebAssembly.instantiate(compiled, imports).then((instance) => done(instance, compiled))
          .catch((e) => instantiationFailed(new Error(`hometab's wasm module did not instantiate: ${e?.message ?? e}`)));
        return {};
      },
    },
    ownInstance: true,
    persist: false,
    serverName,
    clock,
    parkCapMs: Infinity, // no service worker here: a long-poll waits its whole timeout
    rateLimit,
    maxBodyBytes,
    passwordHashCost: PASSWORD_HASHING[passwordHashing],
  });
  const bridge = await Promise.race([started, failure]);
  if (bridge.status().state !== 'ready') {
    const why = bridge.status().error;
    await bridge.close();
    throw new Error(`hometab did not start: ${why}`);
  }
  const hs = new Homeserver(bridge, clock, serverName, platform, maxBodyBytes || CORE_MAX_BODY);
  try {
    if (snapshot !== undefined) await hs.restore(snapshot);
    hs._initial = snapshot !== undefined ? toBytes(snapshot) : await bridge.export();
  } catch (e) {
    await hs.close();
    throw e;
  }
  return hs;
}

function toBytes(snapshot) {
  if (snapshot instanceof Uint8Array) return snapshot;
  if (snapshot instanceof ArrayBuffer) return new Uint8Array(snapshot);
  throw new TypeError('a snapshot is the Uint8Array that snapshot() gave (the bytes of a .sqlite file)');
}

class Homeserver {
  #bridge;
  #platform;
  #listener = null;
  #closed = false;
  #maxBodyBytes;
  _initial = null; // the database reset() goes back to

  constructor(bridge, clock, serverName, platform, maxBodyBytes) {
    this.#bridge = bridge;
    this.#platform = platform;
    this.#maxBodyBytes = maxBodyBytes;
    this.clock = clock;
    this.serverName = serverName;
    // Nothing listens here: only hs.fetch answers this URL (listen() gives a
    // real one). It names the server, so it is what /.well-known advertises.
    this.baseUrl = `http://${serverName}`;
    // A plain function, so it can be handed over as it is (fetchFn: hs.fetch).
    this.fetch = (input, init) => this.#fetch(input, init);
  }

  async #fetch(input, init) {
    if (this.#closed) throw new TypeError('this homeserver was closed; create a new one');
    const request = input instanceof Request && init === undefined ? input
      : new Request(typeof input === 'string' || input instanceof URL ? new URL(input, this.baseUrl) : input, init);
    return this.#bridge.handle(request);
  }

  // The URL of the HTTP listener, once listen() resolved; else null.
  get url() {
    return this.#listener?.url ?? null;
  }

  // A real HTTP/1.1 listener on loopback, for clients in other processes and
  // languages and for browsers under test. Resolves with its URL.
  async listen(options = {}) {
    if (this.#closed) throw new Error('this homeserver was closed');
    if (!this.#platform.listen) {
      throw new Error('listen() needs node (node:http); in a browser, hand hs.fetch to the client instead');
    }
    if (this.#listener) throw new Error(`already listening on ${this.#listener.url}`);
    const opts = typeof options === 'number' ? { port: options } : options;
    this.#listener = await this.#platform.listen(this.fetch, { maxBodyBytes: this.#maxBodyBytes, ...opts });
    return this.#listener.url;
  }

  // ---- the set-up every test repeats ------------------------------------

  // Registers a user (password login works too). Resolves with what a client
  // needs: { userId, accessToken, deviceId, password }.
  async registerUser(localpart, { password = DEFAULT_PASSWORD, displayName, deviceId } = {}) {
    const body = await this.#json('POST', '/_matrix/client/v3/register', null, {
      username: localpart, password, auth: { type: 'm.login.dummy' },
      ...(deviceId ? { device_id: deviceId } : {}), initial_device_display_name: 'hometab test',
    });
    const user = { userId: body.user_id, accessToken: body.access_token, deviceId: body.device_id, password };
    if (displayName !== undefined) {
      await this.#json('PUT', `/_matrix/client/v3/profile/${encodeURIComponent(user.userId)}/displayname`,
        user, { displayname: displayName });
    }
    return user;
  }

  // Creates a room as `creator` (a user from registerUser). `join`: users
  // invited and joined; `invite`: users only invited. Any other field goes
  // into the createRoom body (name, topic, preset, visibility...). Resolves
  // with the room id.
  async createRoom(creator, { join = [], invite = [], ...body } = {}) {
    const room = await this.#json('POST', '/_matrix/client/v3/createRoom', creator, body);
    const roomPath = `/_matrix/client/v3/rooms/${encodeURIComponent(room.room_id)}`;
    for (const user of [...join, ...invite]) {
      await this.#json('POST', `${roomPath}/invite`, creator, { user_id: user.userId });
    }
    for (const user of join) await this.#json('POST', `${roomPath}/join`, user, {});
    return room.room_id;
  }

  async #json(method, path, user, body) {
    const headers = { 'content-type': 'application/json' };
    if (user) headers.authorization = `Bearer ${user.accessToken}`;
    const response = await this.fetch(path, { method, headers, body: JSON.stringify(body) });
    const json = await response.json();
    if (!response.ok) {
      const error = new Error(`${method} ${path}: ${response.status} ${json.errcode}: ${json.error}`);
      error.status = response.status;
      error.errcode = json.errcode;
      throw error;
    }
    return json;
  }

  // ---- isolation between tests -------------------------------------------

  // The whole database as the bytes of a .sqlite file (the native server
  // opens it too: hometab --db file.sqlite).
  snapshot() {
    return this.#bridge.export();
  }

  // Replaces the database with a snapshot. Long-polls waiting now are
  // answered from the restored database; clients that synced before should
  // start again (their sync tokens belong to the other timeline).
  async restore(snapshot) {
    return this.#bridge.import(toBytes(snapshot));
  }

  // Back to the database createHomeserver() made (or started from).
  reset() {
    return this.restore(this._initial);
  }

  // What the bridge reports: state, database size, parked long-polls...
  status() {
    return this.#bridge.status();
  }

  // Answers parked long-polls, stops the listener, frees the wasm instance.
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    await this.#listener?.close();
    await this.#bridge.close();
    this.clock.dispose();
  }
}

// `await using hs = await createHomeserver()` closes it at the end of the block.
if (Symbol.asyncDispose) Homeserver.prototype[Symbol.asyncDispose] = Homeserver.prototype.close;
