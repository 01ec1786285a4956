/* env.h -- the narrow context that handlers and the rooms engine work in.
 *
 * Nothing under the door sees the core itself (core/core.h): a handler or
 * the rooms engine reaches the database, the request's memory, the clock,
 * the server's name and its configuration through this, and nothing else.
 * The core owns one ht_env for its whole life and points `arena` and
 * `now_ms` at the request being answered. */
#ifndef HT_MATRIX_ENV_H
#define HT_MATRIX_ENV_H

#include <stdint.h>

#include "hometab.h"
#include "util/arena.h"
#include "util/signing.h"

typedef struct ht_store ht_store;

typedef struct ht_env {
    ht_store *store;
    ht_arena *arena;          /* the current request's memory */
    int64_t now_ms;           /* the current request's clock */
    /* When the request first arrived: the time of the events it makes, the
     * same on every pass of a request replayed after fetches or work (so a
     * replay builds the same event, asks the same question). */
    int64_t received_ms;
    int64_t match_budget;     /* glob steps the current request may still spend (util/glob.h) */
    const char *server_name;  /* the part after ':' in our ids */
    const ht_config *cfg;
    const ht_signing_key *signing_key; /* this server's: signs its events and requests */
    struct ht_push_defaults *push_defaults; /* the shared default push rules, built once (room/push_eval.c) */
    struct ht_outbox *outbox;       /* transactions in flight (federation/outbox.c) */
    bool outbound;                  /* this request queued traffic for other servers */
    struct ht_request_log *log;     /* the current request's log lines (matrix/log.h) */
    struct ht_event_cache *events; /* stored events kept parsed across requests (room/event_cache.h) */
    struct ht_recent_keys *thumbnail_misses; /* other servers' thumbnails they lately gave none of (api/media.c) */
} ht_env;

#endif
