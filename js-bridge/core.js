// core.js -- the wasm core as a small JavaScript object.
//
// Wraps the functions src/host/wasm/host.c exports. Two rules of Emscripten
// shape it: memory can grow during any call, so Module.HEAPU8 is read again
// after every call and never kept; and bytes go in through _malloc and a
// copy (a string argument would go through the 1 MB stack and could not
// carry a binary body). Everything handed back is a copy, so it stays valid
// after the next call.

export const OUTCOME_ANSWER = 0;
export const OUTCOME_PARK = 1;
export const OUTCOME_FETCH = 3;

export async function loadCore(createModule, moduleOptions = {}) {
  const module = await createModule({
    // libsodium asks the host for randomness; this works in pages, workers
    // and node alike.
    getRandomValue: () => crypto.getRandomValues(new Uint32Array(1))[0],
    ...moduleOptions,
  });
  return new Core(module);
}

class Core {
  #m;
  #input = 0; // a reusable buffer in wasm memory for request bytes
  #inputSize = 0;

  constructor(module) {
    this.#m = module;
    this.chunkSize = module._ht_wasm_chunk_size();
  }

  // Opens the database now in memory. Throws with SQLite's sentence.
  // passwordHashCost: { ops, memKib } for Argon2id (absent: the native cost).
  // p2p: federate over the host's transport, a new database named by its key.
  open({ serverName, rateLimit = false, maxBodyBytes = 0, passwordHashCost = null, p2p = false }) {
    const name = new TextEncoder().encode(`${serverName}\0`);
    const at = this.#m._malloc(name.length);
    this.#m.HEAPU8.set(name, at);
    const rc = this.#m._ht_wasm_open(at, rateLimit ? 1 : 0, maxBodyBytes,
      passwordHashCost?.ops ?? 0, passwordHashCost?.memKib ?? 0, p2p ? 1 : 0);
    this.#m._free(at);
    if (rc !== 0) throw new Error(this.#m.UTF8ToString(this.#m._ht_wasm_error()));
  }

  close() {
    this.#m._ht_wasm_close();
  }

  // The name the open database serves (in p2p mode, the one it keeps).
  serverName() {
    return this.#m.UTF8ToString(this.#m._ht_wasm_server_name());
  }

  // The 32-byte seed of the server's signing key (the transport's identity).
  seed() {
    const m = this.#m;
    const at = m._ht_wasm_seed();
    if (!at) throw new Error('the database is not open');
    const seed = m.HEAPU8.slice(at, at + 32);
    m._ht_wasm_seed_wipe();
    return seed;
  }

  // One call into the core. Returns { outcome, response (a copy), wrote,
  // wakeKeys, wakeAll, outbound } or { outcome, parkPosition, parkDeadline,
  // parkKeys } or { outcome, fetches, outbound }: the keys of scoped waking
  // (src/hometab.h) as strings, parkKeys empty meaning "any write"; fetches
  // as fetch() describes them; outbound: the outbox has something to send.
  handle(bytes, receivedMs, nowMs) {
    const m = this.#m;
    if (bytes.length > this.#inputSize) {
      if (this.#input) m._free(this.#input);
      this.#inputSize = Math.max(2 ** Math.ceil(Math.log2(bytes.length)), 16 * 1024);
      this.#input = m._malloc(this.#inputSize);
      if (!this.#input) {
        this.#inputSize = 0;
        throw new Error('out of wasm memory for the request');
      }
    }
    m.HEAPU8.set(bytes, this.#input);
    const outcome = m._ht_wasm_handle(this.#input, bytes.length, receivedMs, nowMs);
    if (outcome < 0) throw new Error('a file in the database could not be read');
    if (this.#inputSize > 1024 * 1024) { // a rare big upload: do not keep its buffer
      m._free(this.#input);
      this.#input = 0;
      this.#inputSize = 0;
    }
    if (outcome === OUTCOME_FETCH) {
      const fetches = [];
      for (let i = 0, n = m._ht_wasm_fetch_count(); i < n; i++) fetches.push(this.#fetch(m._ht_wasm_fetch(i)));
      return { outcome, fetches, outbound: m._ht_wasm_outbound() !== 0 };
    }
    if (outcome === OUTCOME_PARK) {
      return { outcome, parkPosition: m._ht_wasm_park_position(),
        parkDeadline: m._ht_wasm_park_deadline(),
        parkKeys: this.#keys(m._ht_wasm_park_keys(), m._ht_wasm_park_key_count()) };
    }
    const at = m._ht_wasm_response();
    const response = m.HEAPU8.slice(at, at + m._ht_wasm_response_len());
    return { outcome, response, wrote: m._ht_wasm_wrote() !== 0,
      wakeKeys: this.#keys(m._ht_wasm_wake_keys(), m._ht_wasm_wake_key_count()),
      wakeAll: m._ht_wasm_wake_all() !== 0, outbound: m._ht_wasm_outbound() !== 0 };
  }

  // A request to another server, copied out: { handle (the core's, until
  // fetchDone), destination, request (the exact HTTP/1.1 bytes), timeoutMs }.
  #fetch(handle) {
    const m = this.#m;
    const at = m._ht_wasm_fetch_request(handle);
    return { handle, destination: m.UTF8ToString(m._ht_wasm_fetch_destination(handle)),
      request: m.HEAPU8.slice(at, at + m._ht_wasm_fetch_request_len()), timeoutMs: m._ht_wasm_fetch_timeout(handle) };
  }

  // Gives a fetch back: the answer's bytes, or an error sentence.
  fetchDone(handle, response, error) {
    const m = this.#m;
    const bytes = response ?? new Uint8Array(0);
    const at = m._malloc(Math.max(bytes.length, 1));
    m.HEAPU8.set(bytes, at);
    let text = 0;
    if (error != null || !response) {
      const encoded = new TextEncoder().encode(`${error ?? 'no answer'}\0`);
      text = m._malloc(encoded.length);
      m.HEAPU8.set(encoded, text);
    }
    m._ht_wasm_fetch_done(handle, at, bytes.length, text);
    m._free(at);
    if (text) m._free(text);
  }

  // How many events and EDUs wait in the outbox.
  outboxWaiting() {
    return this.#m._ht_wasm_outbox_waiting();
  }

  // The outbox's next transaction to send now: { fetch (as above) or null,
  // nextAt (when to ask again; 0: nothing waits) }.
  outboundNext(nowMs) {
    const m = this.#m;
    const handle = m._ht_wasm_outbound_next(nowMs);
    return { fetch: handle ? this.#fetch(handle) : null, nextAt: m._ht_wasm_outbound_at() };
  }

  // An array of 64-bit keys in wasm memory as strings ("high.low" in hex):
  // exact, and cheap to use as Map keys.
  #keys(at, count) {
    const words = this.#m.HEAPU32;
    const keys = [];
    for (let i = 0, w = at >> 2; i < count; i++, w += 2) keys.push(`${words[w + 1].toString(16)}.${words[w].toString(16)}`);
    return keys;
  }

  streamPosition() {
    return this.#m._ht_wasm_stream_position();
  }

  // ---- the database file, in chunks

  fileSize() {
    return this.#m._ht_wasm_file_size();
  }

  chunkCount() {
    return this.#m._ht_wasm_chunk_count();
  }

  // The bytes of chunk i that lie inside the file (the last chunk is short).
  readChunk(i) {
    const m = this.#m;
    const length = Math.min(this.chunkSize, this.fileSize() - i * this.chunkSize);
    const at = m._ht_wasm_chunk(i, 0);
    return at ? m.HEAPU8.slice(at, at + length) : new Uint8Array(length);
  }

  // Empties the file and gives it `size` bytes; only with the core closed.
  reset(size) {
    if (this.#m._ht_wasm_file_reset(size) !== 0) {
      throw new Error(`cannot make room for a ${size}-byte database in wasm memory`);
    }
  }

  writeChunk(i, bytes) {
    const at = this.#m._ht_wasm_chunk(i, 1);
    if (!at) throw new Error(`cannot place chunk ${i} in wasm memory`);
    this.#m.HEAPU8.set(bytes.subarray(0, this.chunkSize), at);
  }

  // The chunks written since the last call: { indices, sizeChanged }.
  takeDirty() {
    const m = this.#m;
    const n = m._ht_wasm_dirty_take();
    const at = m._ht_wasm_dirty_list() >> 2;
    return { indices: Array.from(m.HEAPU32.subarray(at, at + n)),
      sizeChanged: m._ht_wasm_dirty_size_changed() !== 0 };
  }

  markDirty(i) {
    this.#m._ht_wasm_dirty_mark(i);
  }

  // The whole file as one array (export).
  readAll() {
    const size = this.fileSize();
    const out = new Uint8Array(size);
    for (let i = 0, n = this.chunkCount(); i < n; i++) out.set(this.readChunk(i), i * this.chunkSize);
    return out;
  }

  // Bytes of wasm memory in use (it never shrinks).
  memoryBytes() {
    return this.#m.HEAPU8.length;
  }
}
