// hometab.js -- the bridge: a Matrix homeserver as a fetch-like function.
//
//   import createHometabCore from '../wasm/hometab-core.js';
//   import { start } from '../js-bridge/hometab.js';
//   const server = await start({ createModule: createHometabCore });
//   const response = await server.handle(new Request('/_matrix/client/versions'));
//
// Works in a service worker, a page or a Web Worker; see README.md.
//
// What it does around the core's one door (bytes in, bytes out):
//
// * A queue. The wasm core is single-threaded and each call runs to its end,
//   so calls are naturally one at a time; the queue holds requests that
//   arrive while the database is being restored, imported or reloaded, and
//   keeps them in arrival order.
// * Parking. A long-poll the core cannot answer yet (HT_PARK) leaves the
//   queue and waits, with a timer for its deadline, until a call moves the
//   core's stream position past the one it waits for -- a call whose write
//   touched one of the keys it waits on (its user, its rooms), found through
//   an index by key, so a write does not recompute everyone's long-poll. A browser stops an
//   idle worker after about 30 s, so no request waits longer than parkCapMs
//   (19 s): at that point the core is asked again with its own deadline as
//   the time, which makes it answer as it would at the deadline.
// * Saving. After a call that wrote, the chunks of the database file that
//   changed are written to IndexedDB in one transaction (store.js). In the
//   default "durable" mode no answer leaves the bridge while the state it
//   shows is unsaved: the answer to a write -- and to any request answered
//   after it -- waits for the transaction that holds that write to commit.
//   Writes that arrive while a save is in flight are saved together in the
//   next one (group commit). In "relaxed" mode answers go out at once and a
//   timer saves; the caller keeps a service worker alive with
//   event.waitUntil(server.flush()).
// * Other servers. In p2p mode a request that needs another server's answer
//   (HT_FETCH) leaves the queue while its fetches travel through the
//   `transport` the host gives ({ send(destination, bytes, { timeoutMs }) ->
//   response bytes }); once all are back it is queued again with its own
//   bytes and time, as the core asks. The outbox is pumped after every answer
//   that queued traffic, whenever the host calls pump(), and at the time the
//   core names while this realm lives. A fetch held when the core closes
//   (import, reload, close) is given back with an error first: the core never
//   sees a fetch of a core that is gone.
// * The time. The core reads no clock: every call carries "now" from the
//   `clock` option (the real one by default), and parked long-polls wake by
//   it, so a test that moves its own clock moves the server's time.

import { loadCore, OUTCOME_FETCH, OUTCOME_PARK } from './core.js';
import { requestToBytes, responseFromBytes } from './http.js';
import { ChunkStore, ConflictError, StoreError } from './store.js';

export { StoreError, ConflictError };

const DEFAULTS = {
  createModule: null,   // the Emscripten factory: wasm/hometab-core.js's default export
  moduleOptions: {},    // passed to it (locateFile, wasmBinary...)
  serverName: null,     // the server name in user and room ids; default: location.host
  persist: true,        // keep the database in IndexedDB (false: memory only)
  dbName: 'hometab',    // the IndexedDB database
  durability: 'durable', // or 'relaxed'
  idbDurability: 'strict', // IndexedDB's hint: 'strict' waits for the disk
  flushDelayMs: 200,    // relaxed mode: how long writes gather before a save
  parkCapMs: 19000,     // the longest a parked long-poll waits
  rateLimit: false,     // the core's rate limits (all requests come from one browser)
  maxBodyBytes: 0,      // 0: the core's default
  onStatus: null,       // called with status() whenever it changes
  clock: null,          // { now(), schedule(atMs, fn) -> cancel }: the core's time; default the real one
  ownInstance: false,   // a wasm instance of this server's own, so several run side by side
  passwordHashCost: null, // { ops, memKib } for Argon2id; default the native cost
  p2p: false,           // peer-to-peer mode: a new database is named by its key, and federates
  transport: null,      // p2p: { send(destination, bytes, { timeoutMs }) -> Promise<response bytes> }
};

// The real clock. The core takes its time from the host on every call, so a
// test may pass another clock (one it moves by hand) and long-poll deadlines,
// typing expiry and presence time-outs follow it.
export const realClock = {
  now: () => Date.now(),
  schedule(at, fn) {
    // setTimeout fires at once past 2^31-1 ms, so a far deadline re-arms.
    let timer;
    const arm = () => {
      const wait = at - Date.now();
      timer = wait > 2 ** 31 - 1 ? setTimeout(arm, 2 ** 31 - 1) : setTimeout(fn, Math.max(0, wait));
    };
    arm();
    return () => clearTimeout(timer);
  },
};

const SAVE_RETRIES = [100, 500, 2000]; // ms before each new attempt of a failed save

// One shared server per JavaScript realm: the wasm core holds one database and
// its module is loaded once and reused across start() and close(). A server
// started with ownInstance gets a fresh instance (its own memory) instead.
let current = null;
const loaded = new Map(); // createModule -> Promise<Core>: the module is loaded once

// Starts the server: loads the wasm module, restores the database from
// IndexedDB and opens it. Resolves once requests can be answered -- or once
// it is clear they cannot, with status().state === 'error' and the reason in
// status().error (the stored data is then left untouched).
export async function start(options = {}) {
  const opts = { ...DEFAULTS, ...options };
  if (current && !opts.ownInstance) {
    throw new Error('hometab is already running here; close() it before starting another (or pass ownInstance: true)');
  }
  if (typeof opts.createModule !== 'function') {
    throw new TypeError('start() needs createModule: the default export of wasm/hometab-core.js');
  }
  opts.serverName ??= globalThis.location?.host ?? 'localhost';
  opts.configuredName = opts.serverName; // status().serverName becomes the name the database keeps
  opts.clock ??= realClock;
  const server = new Hometab(opts);
  if (!opts.ownInstance) current = server;
  await server._start();
  return server;
}

function httpError(status, errcode, error) {
  const body = new TextEncoder().encode(JSON.stringify({ errcode, error }));
  const head = `HTTP/1.1 ${status} ${status === 503 ? 'Service Unavailable' : 'Internal Server Error'}\r\n` +
    'Content-Type: application/json\r\nCache-Control: no-store\r\n' +
    `Access-Control-Allow-Origin: *\r\nContent-Length: ${body.length}\r\n\r\n`;
  const bytes = new Uint8Array(head.length + body.length);
  for (let i = 0; i < head.length; i++) bytes[i] = head.charCodeAt(i);
  bytes.set(body, head.length);
  return bytes;
}

// The bytes of stored chunks that failed their checks, put together as far
// as they go: in index order, a missing one as zeros, each at most 64 KB.
function assemble({ meta, keys, values }) {
  const size = Number.isSafeInteger(meta?.size) ? meta.size : 0;
  const chunkSize = Number.isSafeInteger(meta?.chunkSize) ? meta.chunkSize : 65536;
  const pieces = new Map();
  keys.forEach((key, i) => {
    const v = values[i];
    const bytes = v instanceof ArrayBuffer ? new Uint8Array(v) : ArrayBuffer.isView(v) ? new Uint8Array(v.buffer) : null;
    if (typeof key === 'number' && bytes) pieces.set(key, bytes.subarray(0, chunkSize));
  });
  const end = Math.max(size, ...[...pieces].map(([i, b]) => i * chunkSize + b.length));
  const out = new Uint8Array(end);
  for (const [i, bytes] of pieces) if (i * chunkSize < end) out.set(bytes.subarray(0, end - i * chunkSize), i * chunkSize);
  return out;
}

const SQLITE_HEADER = 'SQLite format 3\0';

function hasSqliteHeader(bytes) {
  if (bytes.length < 100) return false;
  for (let i = 0; i < SQLITE_HEADER.length; i++) {
    if (bytes[i] !== SQLITE_HEADER.charCodeAt(i)) return false;
  }
  return true;
}

class Hometab {
  #opts;
  #core = null;
  #store = null;
  #state = 'starting';
  #error = null;
  #saveError = null;

  #queue = [];        // jobs waiting for their call into the core
  #blocked = 0;       // > 0 while a restore, import or reload owns the core
  #draining = false;
  #parked = new Set(); // { job, position, deadline, cancel, keys }
  #parkedByKey = new Map(); // key -> Set of parked entries waiting on it
  #parkedOnAny = new Set(); // parked entries that named no key: any write wakes them
  #position = 0;      // the core's stream position after the last call

  // Durability bookkeeping: every call that wrote takes a number; a save
  // covers every number taken before it started.
  #writeSeq = 0;
  #savedSeq = 0;
  #waiters = [];      // answers held until #savedSeq reaches their seq
  #saving = null;     // the save in flight
  #saveAgain = false;
  #saveScheduled = false;
  #saveTimer = null;
  #saveFailures = 0;

  #generation = 0;    // the store's generation this copy last read or wrote
  #lastFlush = null;
  #flushes = 0;
  #restored = null;
  #noParking = false;
  #unreadable = null; // the raw records of a store that did not restore
  #held = new Set();  // fetches the core handed out: { handle, job (null: the outbox) }
  #pumpCancel = null; // the outbox's next retry, while this realm lives
  #pumpAt = 0;
  #pumping = false;

  constructor(opts) {
    this.#opts = opts;
  }

  // ---- the public API ----------------------------------------------------

  // Answers a fetch Request with a Response.
  async handle(request) {
    const received = this.#opts.clock.now();
    const bytes = await requestToBytes(request);
    const response = await this.#submit(bytes, received, request.signal);
    return responseFromBytes(response, request.method);
  }

  // The same with the bytes of an HTTP request; resolves with the bytes of
  // the response.
  handleBytes(bytes, { signal } = {}) {
    return this.#submit(Uint8Array.from(bytes), this.#opts.clock.now(), signal);
  }

  // Sends what waits in the outbox now (p2p mode); call it from time to
  // time (a service worker keeps no timers while stopped). Returns how many
  // transactions went out.
  pump() {
    if (!this.#opts.transport || this.#blocked || this.#state === 'error' || this.#state === 'closed' ||
        this.#state === 'starting' || this.#state === 'restoring' || !this.#core || this.#pumping) return 0;
    this.#pumping = true;
    let sent = 0;
    let nextAt = 0;
    try {
      for (;;) {
        const { fetch, nextAt: at } = this.#core.outboundNext(this.#opts.clock.now());
        nextAt = at;
        if (!fetch) break;
        sent++;
        this.#send(fetch, null);
      }
    } catch (e) {
      this.#fail(new Error(`the outbox could not be read: ${e?.message ?? e}`));
    } finally {
      this.#pumping = false;
    }
    if (sent) this.#noteWrite(); // taking a transaction out may stamp it in the outbox
    this.#armPump(nextAt);
    return sent;
  }

  // The seed of the server's signing key: the transport's identity.
  identity() {
    if (!this.#core || !['ready', 'flushing'].includes(this.#state)) {
      throw new Error(`the server is not running (${this.#error ?? this.#state})`);
    }
    return { seed: this.#core.seed(), name: this.#core.serverName() };
  }

  // Resolves once everything written so far is in IndexedDB.
  flush() {
    if (this.#writeSeq === this.#savedSeq) return Promise.resolve();
    const seq = this.#writeSeq;
    return new Promise((resolve, reject) => {
      this.#waiters.push({ seq, resolve, reject: (message) => reject(new Error(message)) });
      this.#saveNow();
    });
  }

  // The database as the bytes of a .sqlite file.
  // In the error state, what the store holds: a stored database that does
  // not check out is still given out as well as it can be put together
  // (missing chunks as zeros), for whoever wants to rescue it.
  export() {
    return this.#exclusive(async () => {
      if (this.#core && this.#core.fileSize() > 0) return this.#core.readAll();
      if (this.#state === 'error' && this.#unreadable) return assemble(this.#unreadable);
      throw new Error('there is no database to export');
    });
  }

  // Replaces the database with the bytes of a .sqlite file (an export of
  // this or of the native server). The old database stays if the new one
  // does not open.
  async import(data) {
    const bytes = data instanceof Uint8Array ? data.slice()
      : new Uint8Array(data instanceof ArrayBuffer ? data.slice(0) : await new Response(data).arrayBuffer());
    if (!hasSqliteHeader(bytes)) throw new Error('this file is not an SQLite database');
    const pageSize = bytes[16] * 256 + bytes[17] === 1 ? 65536 : bytes[16] * 256 + bytes[17];
    if (pageSize < 512 || (pageSize & (pageSize - 1)) || bytes.length % pageSize) {
      throw new Error('this SQLite file is truncated or damaged (its length is not a whole number of pages)');
    }
    // A file from the native server is in WAL mode. Its WAL is merged into
    // it when that server stops; the header's mode bytes then only need to
    // say "rollback journal", which is what this in-memory host uses.
    if (bytes[18] === 2) bytes[18] = 1;
    if (bytes[19] === 2) bytes[19] = 1;
    return this.#exclusive(async () => {
      if (!this.#core) throw new Error('the wasm core did not load');
      const core = this.#core;
      const previous = core.fileSize() > 0 ? core.readAll() : null;
      const wasUsable = this.#state !== 'error';
      this.#giveBack('the in-browser server is replacing its database');
      core.close();
      this.#fill(bytes);
      try {
        this.#open(core);
      } catch (e) {
        core.close();
        this.#putBack(previous, wasUsable);
        throw new Error(`hometab cannot open this database: ${e.message}`);
      }
      core.takeDirty();
      if (this.#opts.persist) {
        try {
          this.#store ??= await ChunkStore.open(this.#opts.dbName, { durability: this.#opts.idbDurability });
          const chunks = [];
          for (let i = 0, n = core.chunkCount(); i < n; i++) chunks.push([i, core.readChunk(i)]);
          const t0 = performance.now();
          this.#generation = await this.#store.save({ chunks, size: core.fileSize(),
            chunkSize: core.chunkSize, expect: null, replace: true });
          this.#noteFlush(t0, chunks);
        } catch (e) {
          core.close();
          this.#putBack(previous, wasUsable);
          throw new Error(`the imported database could not be saved in this browser: ${e.message}`);
        }
      }
      this.#writeSeq = this.#savedSeq;
      this.#error = null;
      this.#saveError = null;
      this.#position = core.streamPosition();
      this.#setState('ready');
      this.#wakeAll();
    });
  }

  // Stops parking: long-polls waiting now, and any that come later, are
  // answered as at their deadline. For a service worker about to be
  // replaced: the browser activates the new one only once the old one has
  // no request in flight, and a parked long-poll is one for up to 19 s.
  release() {
    this.#noParking = true;
    for (const entry of [...this.#parked]) this.#wake(entry, true);
  }

  // Stops: parked long-polls are answered as at their deadline (clients
  // simply poll again), pending saves finish, and the IndexedDB connection
  // closes. start() may be called again afterwards.
  close() {
    for (const entry of [...this.#parked]) this.#wake(entry, true);
    return this.#exclusive(async () => {
      if (this.#state === 'closed') return;
      await this.flush().catch(() => {});
      for (const entry of [...this.#parked]) {
        entry.cancel();
        this.#unpark(entry);
        entry.job.resolve(httpError(503, 'M_UNKNOWN', 'The in-browser server is shutting down.'));
      }
      this.#giveBack('the in-browser server is shutting down');
      this.#pumpCancel?.();
      this.#core?.close();
      if (this.#opts.ownInstance) this.#core = null; // its memory goes with it
      this.#store?.close();
      this.#store = null;
      this.#setState('closed');
      if (current === this) current = null;
    });
  }

  // What a person wants to see: see README.md for each field.
  status() {
    return {
      state: this.#state,
      error: this.#error,
      saveError: this.#saveError,
      durability: this.#opts.durability,
      persist: this.#opts.persist,
      serverName: this.#opts.serverName,
      dbBytes: this.#measure(() => this.#core.fileSize()),
      memoryBytes: this.#measure(() => this.#core.memoryBytes()),
      generation: this.#generation,
      flushes: this.#flushes,
      lastFlush: this.#lastFlush,
      restored: this.#restored,
      unsaved: this.#writeSeq - this.#savedSeq,
      parked: this.#parked.size,
      queued: this.#queue.length,
      p2p: this.#opts.p2p,
      fetching: this.#held.size,
      outbox: this.#opts.p2p ? this.#measure(() => this.#core.outboxWaiting()) : 0,
    };
  }

  #measure(read) {
    try {
      return this.#core ? read() : 0;
    } catch {
      return 0; // a core that trapped, being replaced
    }
  }

  // ---- starting and restoring -------------------------------------------

  async _start() {
    this.#blocked++;
    try {
      const t0 = performance.now();
      this.#setState('starting');
      const { createModule, moduleOptions, ownInstance } = this.#opts;
      const core = ownInstance ? loadCore(createModule, moduleOptions)
        : loaded.get(createModule) ?? loadCore(createModule, moduleOptions);
      if (!ownInstance) loaded.set(createModule, core);
      // Read IndexedDB while the module compiles: a cold start pays for the
      // slower of the two, not both.
      const stored = this.#readStore();
      stored.catch(() => {}); // awaited below
      try {
        this.#core = await core;
      } catch (e) {
        if (!ownInstance) loaded.delete(createModule);
        throw new Error(`the wasm core did not load: ${e?.message ?? e}`);
      }
      await this.#restoreAndOpen(stored, t0);
    } catch (e) {
      this.#fail(e);
    } finally {
      this.#blocked--;
      this.#drain();
    }
  }

  #openOptions() {
    return { serverName: this.#opts.configuredName, rateLimit: this.#opts.rateLimit,
      maxBodyBytes: this.#opts.maxBodyBytes, passwordHashCost: this.#opts.passwordHashCost, p2p: this.#opts.p2p };
  }

  #open(core) {
    core.open(this.#openOptions());
    this.#opts.serverName = core.serverName();
  }

  // Puts `bytes` into the core's (closed) file.
  #fill(bytes) {
    const core = this.#core;
    core.reset(bytes.length);
    for (let at = 0, i = 0; at < bytes.length; at += core.chunkSize, i++) {
      core.writeChunk(i, bytes.subarray(at, at + core.chunkSize));
    }
  }

  // After a failed import: the database that was there before.
  #putBack(previous, wasUsable) {
    this.#fill(previous ?? new Uint8Array(0));
    if (wasUsable) this.#open(this.#core);
  }

  async #readStore() {
    if (!this.#opts.persist) return null;
    this.#store ??= await ChunkStore.open(this.#opts.dbName, { durability: this.#opts.idbDurability });
    return this.#store.read();
  }

  // Fills the core's file from IndexedDB and opens it. `t0`: when this start
  // began (status().restored.ms is the time from there to ready).
  async #restoreAndOpen(stored = this.#readStore(), t0 = performance.now()) {
    this.#setState('restoring');
    const core = this.#core;
    this.#giveBack('the in-browser server is reloading its database');
    core.close();
    const raw = await stored;
    this.#unreadable = raw;
    const saved = raw && ChunkStore.validate(raw, core.chunkSize);
    core.reset(saved ? saved.size : 0);
    if (saved) {
      saved.chunks.forEach((bytes, i) => core.writeChunk(i, bytes));
      if (saved.size > 0 && !hasSqliteHeader(saved.chunks[0])) {
        throw new StoreError('the saved database does not begin with an SQLite header: it is damaged');
      }
    }
    this.#generation = saved ? saved.generation : 0;
    try {
      this.#open(core);
    } catch (e) {
      throw saved ? new StoreError(`the saved database cannot be opened: ${e.message}`) : e;
    }
    this.#position = core.streamPosition();
    this.#restored = { ms: performance.now() - t0, chunks: saved ? saved.chunks.length : 0,
      bytes: saved ? saved.size : 0 };
    // A new database was just created, or an old one migrated: save that
    // before the first answer.
    this.#writeSeq++;
    await this.flush();
    this.#error = null;
    this.#unreadable = null;
    this.#setState('ready');
    queueMicrotask(() => this.pump()); // what waited in the outbox when this server last stopped
  }

  // Reloads from IndexedDB: after another copy saved (conflict), or with a
  // fresh module after the core crashed. Writes not yet saved are lost, and
  // their requests were answered with an error.
  #reload(reason, freshModule) {
    this.#failWaiters(reason);
    this.#writeSeq = this.#savedSeq = 0;
    return this.#exclusive(async () => {
      if (freshModule) {
        const { createModule, moduleOptions, ownInstance } = this.#opts;
        const core = loadCore(createModule, moduleOptions);
        if (!ownInstance) loaded.set(createModule, core);
        this.#core = await core;
      }
      await this.#restoreAndOpen();
      this.#wakeAll();
    }).catch((e) => this.#fail(e));
  }

  #fail(e) {
    this.#error = e?.message ?? String(e);
    this.#setState('error');
  }

  #setState(state) {
    this.#state = state;
    this.#emit();
  }

  #emit() {
    try {
      this.#opts.onStatus?.(this.status());
    } catch { /* the listener's problem */ }
  }

  // ---- the queue ---------------------------------------------------------

  #submit(bytes, received, signal) {
    return new Promise((resolve, reject) => {
      this.#queue.push({ bytes, received, signal, resolve, reject, now: undefined });
      this.#drain();
    });
  }

  #drain() {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#queue.length && !this.#blocked) this.#run(this.#queue.shift());
    } finally {
      this.#draining = false;
    }
  }

  async #exclusive(fn) {
    this.#blocked++;
    try {
      if (this.#writeSeq > this.#savedSeq) await this.flush().catch(() => {});
      while (this.#saving) await this.#saving;
      return await fn();
    } finally {
      this.#blocked--;
      this.#drain();
    }
  }

  #unavailable() {
    const why = this.#state === 'closed' ? 'The in-browser server was stopped.'
      : `The in-browser server cannot answer: ${this.#error}`;
    return httpError(503, 'M_UNKNOWN', why);
  }

  #run(job) {
    if (this.#state === 'error' || this.#state === 'closed' || job.signal?.aborted) {
      if (job.signal?.aborted) job.reject(job.signal.reason);
      else job.resolve(this.#unavailable());
      return;
    }
    let result;
    try {
      result = this.#core.handle(job.bytes, job.received, job.now ?? this.#opts.clock.now());
    } catch (e) {
      job.resolve(httpError(500, 'M_UNKNOWN', `The in-browser server failed: ${e?.message ?? e}`));
      this.#fail(new Error(`the wasm core stopped (${e?.message ?? e}); restarting it from the saved database`));
      this.#reload('The in-browser server restarted; this request was not saved. Try again.', true);
      return;
    }
    job.now = undefined;
    if (result.outcome === OUTCOME_FETCH) {
      this.#carry(job, result.fetches);
    } else if (result.outcome === OUTCOME_PARK) {
      this.#park(job, result);
    } else {
      if (result.wrote) {
        this.#writeSeq++;
        this.#scheduleSave();
      }
      this.#deliver(job, result.response);
    }
    if (result.outbound) queueMicrotask(() => this.pump());
    const position = this.#core.streamPosition();
    if (position !== this.#position) {
      this.#position = position;
      for (const entry of this.#concerned(result)) if (position > entry.position) this.#wake(entry, false);
    }
  }

  // The parked long-polls the write behind `result` may concern.
  #concerned(result) {
    if (result.outcome === OUTCOME_PARK || result.wakeAll) return [...this.#parked];
    const found = new Set(this.#parkedOnAny);
    for (const key of result.wakeKeys) for (const entry of this.#parkedByKey.get(key) ?? []) found.add(entry);
    return [...found];
  }

  // Durable mode: an answer leaves only once the state it may show is saved.
  #deliver(job, response) {
    const seq = this.#writeSeq;
    if (this.#opts.durability !== 'durable' || seq <= this.#savedSeq) {
      job.resolve(response);
      return;
    }
    this.#waiters.push({
      seq,
      resolve: () => job.resolve(response),
      reject: (message) => job.resolve(httpError(503, 'M_UNKNOWN', message)),
    });
  }

  // ---- other servers (p2p) -------------------------------------------------

  // The fetches of `job`'s request: it is queued again once all are back.
  #carry(job, fetches) {
    if (!fetches.length) { // never: the core asks for at least one
      job.resolve(httpError(500, 'M_UNKNOWN', 'The in-browser server asked for nothing to fetch.'));
      return;
    }
    job.waiting = fetches.length;
    for (const fetch of fetches) this.#send(fetch, job);
  }

  // Sends one fetch (job null: an outbox transaction) through the transport.
  #send(fetch, job) {
    const entry = { handle: fetch.handle, job, core: this.#core };
    this.#held.add(entry);
    const transport = this.#opts.transport;
    const sent = transport
      ? Promise.resolve().then(() => transport.send(fetch.destination, fetch.request, { timeoutMs: fetch.timeoutMs }))
      : Promise.reject(new Error(`${fetch.destination}: this in-browser server does not federate (it is not in peer-to-peer mode)`));
    sent.then((bytes) => this.#back(entry, bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), null),
      (e) => this.#back(entry, null, e?.message ?? String(e)));
  }

  // A fetch comes back (an answer or an error): the core owns it again.
  // closing: the core is about to close; what this writes is not saved
  // (an outbox transaction is simply sent again after the next start).
  #back(entry, bytes, error, closing = false) {
    if (!this.#held.delete(entry)) return; // given back already (the core closed meanwhile)
    if (entry.core === this.#core) {
      try {
        entry.core.fetchDone(entry.handle, bytes, error);
      } catch (e) {
        this.#fail(new Error(`the wasm core stopped taking an answer back (${e?.message ?? e})`));
      }
      if (!closing) this.#noteWrite(); // what became of an outbox transaction is written at once
    }
    if (closing) {
      if (entry.job && --entry.job.waiting === 0) this.#queue.push(entry.job); // runs once the core is back
    } else if (entry.job) {
      if (--entry.job.waiting === 0) {
        this.#queue.push(entry.job);
        this.#drain();
      }
    } else {
      this.pump(); // its destination is free for the next transaction
    }
  }

  // Every held fetch back with an error, before the core closes.
  #giveBack(reason) {
    for (const entry of [...this.#held]) this.#back(entry, null, reason, true);
  }

  #armPump(at) {
    if (!at || !this.#opts.transport) return;
    if (this.#pumpCancel && this.#pumpAt <= at && this.#pumpAt > this.#opts.clock.now()) return;
    this.#pumpCancel?.();
    this.#pumpAt = at;
    this.#pumpCancel = this.#opts.clock.schedule(at, () => {
      this.#pumpCancel = null;
      this.pump();
    });
  }

  // A call outside ht_core_handle may have written (the outbox): save it.
  #noteWrite() {
    this.#writeSeq++;
    this.#scheduleSave();
  }

  // ---- parked long-polls ---------------------------------------------------

  #park(job, result) {
    const clock = this.#opts.clock;
    if (this.#noParking) {
      job.now = Math.max(clock.now(), result.parkDeadline);
      this.#queue.push(job);
      return; // #drain's loop runs it next
    }
    const wakeAt = Math.min(result.parkDeadline, job.received + this.#opts.parkCapMs);
    const entry = { job, position: result.parkPosition, deadline: result.parkDeadline, cancel: null,
      keys: result.parkKeys };
    entry.cancel = clock.schedule(wakeAt, () => this.#wake(entry, true));
    this.#parked.add(entry);
    if (!entry.keys.length) this.#parkedOnAny.add(entry);
    for (const key of entry.keys) {
      if (!this.#parkedByKey.has(key)) this.#parkedByKey.set(key, new Set());
      this.#parkedByKey.get(key).add(entry);
    }
    if (job.signal && !job.onAbort) {
      job.onAbort = () => {
        if (this.#unpark(entry)) {
          entry.cancel();
          job.reject(job.signal.reason);
        }
      };
      job.signal.addEventListener('abort', job.onAbort, { once: true });
    }
  }

  // Takes a parked entry out of the set and the index; false if it was not in.
  #unpark(entry) {
    if (!this.#parked.delete(entry)) return false;
    this.#parkedOnAny.delete(entry);
    for (const key of entry.keys) {
      const waiting = this.#parkedByKey.get(key);
      waiting?.delete(entry);
      if (waiting?.size === 0) this.#parkedByKey.delete(key);
    }
    return true;
  }

  #wake(entry, atDeadline) {
    if (!this.#unpark(entry)) return;
    entry.cancel();
    // At the cap, the core is told its own deadline has come.
    if (atDeadline) entry.job.now = Math.max(this.#opts.clock.now(), entry.deadline);
    this.#queue.push(entry.job);
    this.#drain();
  }

  #wakeAll() {
    for (const entry of [...this.#parked]) this.#wake(entry, false);
  }

  // ---- saving ----------------------------------------------------------------

  #scheduleSave() {
    if (this.#opts.durability === 'durable') {
      // After the calls now queued have run: one save for all of them.
      if (this.#saveScheduled) return;
      this.#saveScheduled = true;
      queueMicrotask(() => {
        this.#saveScheduled = false;
        this.#saveNow();
      });
    } else if (!this.#saveTimer) {
      this.#saveTimer = setTimeout(() => {
        this.#saveTimer = null;
        this.#saveNow();
      }, this.#opts.flushDelayMs);
    }
  }

  // Saves what changed; resolves when that save (and any it chains) ends.
  #saveNow() {
    if (this.#saving) {
      this.#saveAgain = true;
      return this.#saving;
    }
    const target = this.#writeSeq;
    if (!this.#opts.persist || !this.#store || !this.#core) {
      this.#savedSeq = target;
      this.#settle();
      return Promise.resolve();
    }
    const core = this.#core;
    const { indices, sizeChanged } = core.takeDirty();
    if (indices.length === 0 && !sizeChanged) {
      this.#savedSeq = target;
      this.#settle();
      return Promise.resolve();
    }
    const chunks = indices.map((i) => [i, core.readChunk(i)]);
    const t0 = performance.now();
    const previousState = this.#state;
    if (previousState === 'ready') this.#setState('flushing');
    this.#saving = this.#store.save({ chunks, size: core.fileSize(), chunkSize: core.chunkSize,
      expect: this.#generation })
      .then((generation) => {
        this.#generation = generation;
        this.#savedSeq = Math.max(this.#savedSeq, target);
        this.#saveFailures = 0;
        this.#saveError = null;
        this.#noteFlush(t0, chunks);
        this.#settle();
      }, (e) => this.#saveFailed(e, indices, core))
      .finally(() => {
        this.#saving = null;
        if (this.#state === 'flushing') this.#setState('ready');
        else this.#emit();
        if (this.#saveAgain || this.#writeSeq > this.#savedSeq) {
          this.#saveAgain = false;
          if (this.#opts.durability === 'durable' || this.#waiters.length) {
            if (!this.#saveFailures) this.#saveNow();
          } else {
            this.#scheduleSave();
          }
        }
      });
    return this.#saving;
  }

  #noteFlush(t0, chunks) {
    this.#flushes++;
    this.#lastFlush = { at: Date.now(), ms: performance.now() - t0, chunks: chunks.length,
      bytes: chunks.reduce((n, [, bytes]) => n + bytes.length, 0) };
  }

  #saveFailed(e, indices, core) {
    if (core === this.#core) for (const i of indices) core.markDirty(i);
    if (e instanceof ConflictError) {
      this.#saveError = e.message;
      this.#reload(`This request was not saved: ${e.message}. Try again.`, false);
      return;
    }
    const wait = SAVE_RETRIES[this.#saveFailures++];
    this.#saveError = `saving to IndexedDB failed: ${e?.message ?? e}`;
    if (wait !== undefined) {
      setTimeout(() => this.#saveNow(), wait);
      return;
    }
    // Give up on the answers waiting; the data stays dirty and the next
    // write tries again.
    this.#saveFailures = 0;
    this.#failWaiters(`This change could not be saved in the browser's storage (${e?.message ?? e}).`);
  }

  #settle() {
    const saved = this.#savedSeq;
    if (!this.#waiters.some((w) => w.seq <= saved)) return;
    const still = [];
    for (const w of this.#waiters) (w.seq <= saved ? w.resolve() : still.push(w));
    this.#waiters = still;
  }

  #failWaiters(message) {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(message);
  }
}
