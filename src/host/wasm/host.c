/* host.c -- the browser host: the functions the JS bridge calls.
 *
 * Thin on purpose. It opens the core on the in-memory file of memvfs.c,
 * forwards request bytes to ht_core_handle() and lets the bridge read the
 * result and the database's chunks. Everything else -- queueing, parking
 * long-polls, saving chunks to IndexedDB -- happens in js-bridge/, which
 * knows the browser; this file knows neither Matrix nor the browser.
 *
 * Requests to other servers (HT_FETCH, and the outbox's transactions) are
 * handed to the bridge as pointers it keeps while it carries them: it
 * reads each one's destination and request bytes here, sends them over its
 * transport, and gives the answer back with ht_wasm_fetch_done.
 *
 * Numbers that are 64-bit in the core cross into JavaScript as doubles:
 * Emscripten 3.1.6 without BigInt support would split an int64 into two
 * halves, and milliseconds and stream positions stay exact in a double up
 * to 2^53. */
#include <emscripten.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/wasm/memvfs.h"
#include "hometab.h"

#define EXPORT EMSCRIPTEN_KEEPALIVE

/* The one database file; the name only matters inside memvfs. */
static const char db_name[] = "hometab.sqlite";

static ht_core *core;
static ht_result result;
static char error_text[1024];

static ht_memfile *db_file(void) { return ht_memfile_get(db_name, true); }

/* ---- the core ----------------------------------------------------------- */

/* Opens (creating or migrating) the database currently in memory. Returns 0,
 * or -1 with the reason in ht_wasm_error(). pwhash_ops and pwhash_mem_kib set
 * Argon2id's cost for new password hashes (0: the native defaults); a test
 * package lowers them, since inline hashing at 19 MiB costs hundreds of
 * milliseconds per registration in wasm. Stored hashes carry their own cost,
 * so a database moves between settings. */
EXPORT int ht_wasm_open(const char *server_name, int rate_limit, double max_body_bytes,
                        int pwhash_ops, int pwhash_mem_kib, int p2p) {
    if (core) return 0;
    if (sodium_init() < 0) {
        snprintf(error_text, sizeof error_text, "libsodium could not initialise");
        return -1;
    }
    json_object_seed((size_t)randombytes_random());
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = db_name;
    cfg.server_name = server_name;
    cfg.wal = false; /* no shared memory here; memvfs is the journal's keeper */
    cfg.rate_limit = rate_limit != 0;
    if (max_body_bytes > 0) {
        cfg.max_body_bytes = (size_t)max_body_bytes;
        if (cfg.max_upload_bytes > cfg.max_body_bytes) cfg.max_upload_bytes = cfg.max_body_bytes;
    }
    /* p2p: the server federates over the page's transport, named by its key. */
    cfg.federation = p2p != 0;
    cfg.name_from_key = p2p != 0;
    if (pwhash_ops > 0) cfg.pwhash_opslimit = (unsigned long)pwhash_ops;
    if (pwhash_mem_kib > 0) cfg.pwhash_memlimit = (size_t)pwhash_mem_kib * 1024;
    error_text[0] = '\0';
    core = ht_core_open(&cfg, error_text, sizeof error_text);
    return core ? 0 : -1;
}

EXPORT void ht_wasm_close(void) {
    ht_core_close(core);
    core = NULL;
}

EXPORT const char *ht_wasm_error(void) { return error_text; }

EXPORT const char *ht_wasm_server_name(void) { return core ? ht_core_server_name(core) : ""; }

/* The signing seed, for the transport's identity; the bridge reads the 32
 * bytes and calls ht_wasm_seed_wipe at once. */
static unsigned char seed_copy[32];
EXPORT const unsigned char *ht_wasm_seed(void) {
    if (!core) return NULL;
    ht_core_signing_seed(core, seed_copy);
    return seed_copy;
}
EXPORT void ht_wasm_seed_wipe(void) { sodium_memzero(seed_copy, sizeof seed_copy); }

/* An answer whose body the core streams (a large media file), put back
 * together: the bridge hands a Response its bytes whole. In the browser
 * the page's fetch() already holds the whole body anyway, and the request
 * comes from this browser alone, so a piece-by-piece pull would bound
 * nothing that matters here. */
static unsigned char *whole;
static size_t whole_len;

static bool join_body(void) {
    free(whole);
    whole = NULL;
    whole_len = 0;
    if (!result.body) return true;
    size_t total = result.response_len + (size_t)result.body_len;
    whole = malloc(total ? total : 1);
    bool ok = whole != NULL;
    if (ok) memcpy(whole, result.response, result.response_len);
    size_t at = result.response_len;
    while (ok && at < total) {
        long n = ht_core_body_read(core, result.body, whole + at, total - at);
        if (n <= 0) ok = false;
        else at += (size_t)n;
    }
    ht_core_body_close(core, result.body);
    result.body = NULL;
    whole_len = total;
    return ok;
}

/* Handles one request; returns the outcome (0 answer, 1 park), or -1 if a
 * streamed body could not be read whole (the bridge answers 500). */
EXPORT int ht_wasm_handle(const unsigned char *bytes, size_t len, double received_ms,
                          double now_ms) {
    /* A service worker sees no client address: every request comes from
     * this browser. */
    ht_request_meta meta = {.received_ms = (int64_t)received_ms, .now_ms = (int64_t)now_ms};
    ht_core_handle(core, bytes, len, &meta, &result);
    if (!join_body()) return -1;
    return (int)result.outcome;
}

EXPORT const unsigned char *ht_wasm_response(void) { return whole ? whole : result.response; }
EXPORT size_t ht_wasm_response_len(void) { return whole ? whole_len : result.response_len; }
EXPORT int ht_wasm_wrote(void) { return result.wrote; }
EXPORT double ht_wasm_park_position(void) { return (double)result.park_position; }
EXPORT double ht_wasm_park_deadline(void) { return (double)result.park_deadline_ms; }
/* The keys of scoped waking (hometab.h), as arrays of 64-bit numbers the
 * bridge reads as pairs of 32-bit halves. */
EXPORT const uint64_t *ht_wasm_park_keys(void) { return result.park_keys; }
EXPORT int ht_wasm_park_key_count(void) { return (int)result.park_key_count; }
EXPORT const uint64_t *ht_wasm_wake_keys(void) { return result.wake_keys; }
EXPORT int ht_wasm_wake_key_count(void) { return (int)result.wake_key_count; }
EXPORT int ht_wasm_wake_all(void) { return result.wake_all; }
EXPORT double ht_wasm_stream_position(void) {
    return core ? (double)ht_core_stream_position(core) : 0;
}

/* ---- other servers ---------------------------------------------------------- */

/* HT_FETCH: the fetches of the last call; the bridge keeps their pointers. */
EXPORT int ht_wasm_fetch_count(void) { return result.outcome == HT_FETCH ? (int)result.fetch_count : 0; }
EXPORT ht_fetch *ht_wasm_fetch(int i) { return result.fetches[i]; }
/* The last call queued traffic for the outbox. */
EXPORT int ht_wasm_outbound(void) { return result.outbound; }

EXPORT const char *ht_wasm_fetch_destination(ht_fetch *f) { return ht_fetch_destination(f); }
EXPORT double ht_wasm_fetch_timeout(ht_fetch *f) { return (double)ht_fetch_timeout_ms(f); }

static size_t request_len;
EXPORT const unsigned char *ht_wasm_fetch_request(ht_fetch *f) { return ht_fetch_request(f, &request_len); }
EXPORT size_t ht_wasm_fetch_request_len(void) { return request_len; }

/* Gives a fetch back: the answer's bytes, or an error sentence (not NULL). */
EXPORT void ht_wasm_fetch_done(ht_fetch *f, const unsigned char *response, size_t len, const char *error) {
    ht_core_fetch_done_bytes(core, f, response, len, error);
}

/* The outbox's next transaction to send now, or NULL; ht_wasm_outbound_at
 * then says when to ask again (0: nothing waits). */
static double outbound_at;
EXPORT ht_fetch *ht_wasm_outbound_next(double now_ms) {
    int64_t next = 0;
    ht_fetch *f = core ? ht_core_outbound_next(core, (int64_t)now_ms, &next) : NULL;
    outbound_at = (double)next;
    return f;
}
EXPORT double ht_wasm_outbound_at(void) { return outbound_at; }
EXPORT double ht_wasm_outbox_waiting(void) { return core ? (double)ht_core_outbox_waiting(core) : 0; }

/* ---- the database file -------------------------------------------------- */

EXPORT int ht_wasm_chunk_size(void) { return HT_MEMVFS_CHUNK_SIZE; }
EXPORT double ht_wasm_file_size(void) { return (double)ht_memfile_size(db_file()); }
EXPORT int ht_wasm_chunk_count(void) { return (int)ht_memfile_chunk_count(db_file()); }

/* Empties the file and sizes it for a restore or an import. Only while the
 * core is closed: SQLite must not see its file change under it. */
EXPORT int ht_wasm_file_reset(double size) {
    if (core) return -1;
    return ht_memfile_reset(db_file(), (int64_t)size) ? 0 : -1;
}

/* Where chunk `index` lives in wasm memory (to fill or to read); with
 * `create` 0, NULL means the chunk is all zeros. */
EXPORT unsigned char *ht_wasm_chunk(int index, int create) {
    return ht_memfile_chunk(db_file(), (uint32_t)index, create != 0);
}

static const uint32_t *dirty_list;
static bool dirty_size_changed;

/* Takes the list of chunks written since the last take; returns its length.
 * ht_wasm_dirty_list() then points at the indices. */
EXPORT int ht_wasm_dirty_take(void) {
    return (int)ht_memfile_take_dirty(db_file(), &dirty_list, &dirty_size_changed);
}
EXPORT const uint32_t *ht_wasm_dirty_list(void) { return dirty_list; }
EXPORT int ht_wasm_dirty_size_changed(void) { return dirty_size_changed; }
EXPORT void ht_wasm_dirty_mark(int index) { ht_memfile_mark_dirty(db_file(), (uint32_t)index); }
