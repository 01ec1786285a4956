/* remote.h -- asking other servers, as handlers do it.
 *
 * The core does no I/O. A handler that needs another server's answer (a
 * remote join, a missing event, a key) asks for it here: on the pass that
 * first asks, the answer is not there yet, so ht_remote_ask returns false
 * and the handler returns at once (its reply is discarded, its writes
 * rolled back). The door hands every pending ask to the host (HT_FETCH in
 * hometab.h), which fetches them, gives the answers back, and calls again
 * with the same request bytes; on that pass the same asks find their
 * answers and return true. A handler may ask several servers before it
 * returns: they are fetched together. Asks are matched by what they ask
 * (destination, method, target, body), so a pass may ask them in any order.
 *
 * Each request may ask at most HT_REMOTE_MAX_ASKS times over all its
 * passes; past that, and for answers that cannot be kept (too large), the
 * ask is answered at once with status 0 and an error.
 *
 * Declared here, under the handlers, and carried out by the door
 * (core/fetch.c), which keeps the answers between passes. */
#ifndef HT_MATRIX_REMOTE_H
#define HT_MATRIX_REMOTE_H

#include <jansson.h>
#include <stdbool.h>

#include "matrix/handler.h"

enum { HT_REMOTE_MAX_ASKS = 64 };

typedef struct ht_remote_answer {
    int status;        /* the HTTP status; 0 when no answer came (see error) */
    json_t *json;      /* the body as JSON (borrowed, the arena's), NULL if it is not JSON */
    const char *error; /* why no answer came: unreachable, timed out, too large... */
    /* The body's bytes as they came (a file), borrowed from the door: valid
     * until the handler returns. And the answer's Content-Type, or NULL. */
    const unsigned char *body;
    size_t body_len;
    const char *content_type;
    struct ht_fetch *from; /* the door's kept answer (ht_remote_keep) */
} ht_remote_answer;

/* Asks `destination` (a server name) for `method target` (path and query,
 * already encoded), with a JSON body or NULL, signed by this server
 * (X-Matrix). True with *out when the answer is known; false when it must
 * be fetched first: return from the handler. timeout_ms: how long the
 * host may wait for it. */
bool ht_remote_ask(ht_ctx *ctx, const char *destination, const char *method, const char *target, json_t *body,
                   int64_t timeout_ms, ht_remote_answer *out);
/* The same, the answer's `json` left NULL: a large answer the handler
 * reads itself, a slice a pass (its `body` is NUL-terminated). */
bool ht_remote_ask_unparsed(ht_ctx *ctx, const char *destination, const char *method, const char *target,
                            json_t *body, int64_t timeout_ms, ht_remote_answer *out);

/* A handler's own reading of a large answer, kept with it between passes
 * so that a long job over it (a big room's send_join, taken in slices) is
 * not read again on every pass: `reading` is the handler's, `bytes` about
 * what it holds, free_reading frees it when the answer goes (the request
 * answered, the answer expired or pushed out). False when the door keeps
 * no more readings (a bound over all of them): the handler still owns it.
 * Once one is kept, later passes find it with ht_remote_kept, and the
 * answer's `json` is NULL (not parsed again). */
bool ht_remote_keep(ht_ctx *ctx, const ht_remote_answer *answer, void *reading, size_t bytes,
                    void (*free_reading)(void *));
void *ht_remote_kept(const ht_remote_answer *answer);

/* The same for a long job that asked no other server (a big room's state
 * for a send_join, read a slice a pass): the reading is kept under `name`
 * until the request is answered (or the memo expires or pushes it out),
 * and later passes find it with ht_remote_reading (NULL: none kept). */
bool ht_remote_keep_reading(ht_ctx *ctx, const char *name, void *reading, size_t bytes,
                            void (*free_reading)(void *));
void *ht_remote_reading(ht_ctx *ctx, const char *name);

/* The pass did part of a long job, and what it wrote may stay: the door
 * commits it and calls again with the same request once the host has
 * served others (HT_PARK until now). The handler then returns as while it
 * waits for an answer. */
void ht_remote_resume(ht_ctx *ctx);

#endif
