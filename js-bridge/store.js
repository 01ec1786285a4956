// store.js -- the database file in IndexedDB, as chunks.
//
// Two object stores: `chunks` holds the file in 64 KB pieces keyed by their
// index (the last one only as long as the file), `meta` holds one record,
// "file", with the file's length and a generation number. A save writes the
// changed chunks and the new meta record in ONE readwrite transaction, so
// IndexedDB holds either the old database or the new one, never a mix.
//
// The generation makes two copies of hometab on one origin (an old and a new
// service worker during an update, or a page using the bridge next to the
// worker) safe: each save first checks that the stored generation is the one
// this copy last read or wrote, and aborts if another copy wrote since. The
// loser then reloads instead of overwriting chunks it has stale copies of.
//
// Reading back never repairs or deletes: a store that does not make sense
// raises StoreError and is left exactly as it is.

export const STORE_FORMAT = 1;

export class StoreError extends Error {
  constructor(message) {
    super(message);
    this.name = 'StoreError';
  }
}

export class ConflictError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConflictError';
  }
}

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class ChunkStore {
  #db;
  #durability;

  constructor(db, durability) {
    this.#db = db;
    this.#durability = durability;
    // Another tab upgrading the schema (a future version): let it.
    db.onversionchange = () => db.close();
  }

  // durability: IndexedDB's transaction durability hint, 'strict' (flushed
  // to disk before the transaction completes) or 'relaxed'.
  static async open(name, { durability = 'strict' } = {}) {
    if (typeof indexedDB === 'undefined') {
      throw new StoreError('this browser offers no IndexedDB here, so nothing can be kept');
    }
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains('chunks')) db.createObjectStore('chunks');
      if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta');
    };
    let db;
    try {
      db = await promised(request);
    } catch (e) {
      throw new StoreError(`IndexedDB database "${name}" cannot be opened: ${e?.message ?? e}`);
    }
    return new ChunkStore(db, durability);
  }

  close() {
    this.#db.close();
  }

  // Reads the whole file in one transaction: { size, generation, chunks }
  // with chunks[i] a Uint8Array, or null if nothing was ever saved. Throws
  // StoreError if what is there cannot be a file this code wrote.
  async load(chunkSize) {
    return ChunkStore.validate(await this.read(), chunkSize);
  }

  // The records as stored, unchecked (a restore reads them while the wasm
  // module compiles, before the chunk size is known).
  async read() {
    let meta, keys, values;
    try {
      const tx = this.#db.transaction(['meta', 'chunks'], 'readonly');
      const chunks = tx.objectStore('chunks');
      [meta, keys, values] = await Promise.all([
        promised(tx.objectStore('meta').get('file')),
        promised(chunks.getAllKeys()),
        promised(chunks.getAll()),
      ]);
    } catch (e) {
      throw new StoreError(`the saved database cannot be read from IndexedDB: ${e?.message ?? e}`);
    }
    return { meta, keys, values };
  }

  // What read() returned, checked: { size, generation, chunks } or null.
  static validate({ meta, keys, values }, chunkSize) {
    if (meta === undefined) {
      if (keys.length === 0) return null;
      throw new StoreError(`IndexedDB holds ${keys.length} chunks of a database but not the record ` +
        'that says how long it is');
    }
    if (typeof meta !== 'object' || meta === null || !Number.isSafeInteger(meta.size) ||
        !Number.isSafeInteger(meta.generation)) {
      throw new StoreError('the saved database\'s header record is damaged');
    }
    if (meta.format !== STORE_FORMAT) {
      throw new StoreError(`the saved database has storage format ${meta.format}; this hometab ` +
        `reads format ${STORE_FORMAT} (was it saved by a newer version?)`);
    }
    if (meta.chunkSize !== chunkSize) {
      throw new StoreError(`the saved database uses ${meta.chunkSize}-byte chunks; this build ` +
        `uses ${chunkSize}`);
    }
    const count = Math.ceil(meta.size / chunkSize);
    const chunks = new Array(count);
    for (let k = 0; k < keys.length; k++) {
      if (typeof keys[k] === 'number' && keys[k] < count) chunks[keys[k]] = values[k];
    }
    for (let i = 0; i < count; i++) {
      const value = chunks[i];
      const need = Math.min(chunkSize, meta.size - i * chunkSize);
      if (value === undefined) throw new StoreError(`chunk ${i} of ${count} of the saved database is missing`);
      const bytes = value instanceof ArrayBuffer ? new Uint8Array(value)
        : ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
          : null;
      if (!bytes || bytes.length < need) {
        throw new StoreError(`chunk ${i} of ${count} of the saved database is damaged ` +
          `(${bytes ? `${bytes.length} bytes, ${need} expected` : 'not bytes'})`);
      }
      chunks[i] = bytes;
    }
    return { size: meta.size, generation: meta.generation, chunks };
  }

  // Writes `chunks` ([index, Uint8Array] pairs) and the file's new length in
  // one transaction, provided the stored generation is still `expect` (null:
  // whatever it is -- an import replacing the store). `replace` first empties
  // the store. Resolves with the new generation once IndexedDB committed.
  save({ chunks, size, chunkSize, expect, replace = false }) {
    return new Promise((resolve, reject) => {
      let tx;
      let conflict = null;
      let next = 0;
      try {
        tx = this.#db.transaction(['meta', 'chunks'], 'readwrite', { durability: this.#durability });
        const metaStore = tx.objectStore('meta');
        const chunkStore = tx.objectStore('chunks');
        const current = metaStore.get('file');
        current.onsuccess = () => {
          const found = current.result?.generation ?? 0;
          if (expect !== null && found !== expect) {
            conflict = new ConflictError('another copy of hometab saved the database ' +
              `(generation ${found}; this copy expected ${expect})`);
            tx.abort();
            return;
          }
          next = found + 1;
          metaStore.put({ format: STORE_FORMAT, chunkSize, size, generation: next,
            savedAt: Date.now() }, 'file');
        };
        if (replace) chunkStore.clear();
        for (const [index, bytes] of chunks) {
          const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
          chunkStore.put(whole ? bytes.buffer : bytes.slice().buffer, index);
        }
        if (!replace) chunkStore.delete(IDBKeyRange.lowerBound(Math.ceil(size / chunkSize)));
      } catch (e) {
        try { tx?.abort(); } catch { /* already finished */ }
        reject(e);
        return;
      }
      tx.oncomplete = () => resolve(next);
      tx.onabort = () => reject(conflict ?? tx.error ?? new Error('the IndexedDB transaction was aborted'));
    });
  }
}
