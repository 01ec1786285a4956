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
    int64_t match_budget;     /* glob steps the current request may still spend (util/glob.h) */
    const char *server_name;  /* the part after ':' in our ids */
    const ht_config *cfg;
    const ht_signing_key *signing_key; /* this server's: signs its events and requests */
    struct json_t *push_defaults; /* the shared default push ruleset, built once (room/push_eval.c) */
} ht_env;

#endif
