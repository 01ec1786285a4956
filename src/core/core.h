/* core.h -- the core's state: private to the door (src/core).
 *
 * Handlers and the rooms engine never see this; they get the narrow
 * ht_env (matrix/env.h) that the core keeps here. */
#ifndef HT_CORE_CORE_H
#define HT_CORE_CORE_H

#include "core/fetch.h"
#include "core/work.h"
#include "federation/outbox.h"
#include "hometab.h"
#include "matrix/env.h"
#include "matrix/log.h"
#include "util/arena.h"
#include "util/buf.h"

struct ht_core {
    ht_config cfg;          /* strings point at the copies below */
    char *server_name;
    char *public_base_url;
    ht_env env;             /* what handlers may use: store, clock, name, config */
    ht_signing_key signing_key; /* loaded at open; env points at it */
    ht_arena arena;         /* the current request's memory */
    ht_buf out;             /* the current response's bytes */
    uint64_t stream_position;
    struct ht_rate_limiter *limits; /* token buckets; see core.c */
    int64_t clock_ms;       /* now_ms of the latest request */
    ht_replay replay;       /* password work handed out or finished (core/work.c) */
    ht_fetch_memo memo;     /* other servers' answers kept for replays (core/fetch.c) */
    ht_outbox outbox;       /* destinations with a transaction in flight */
    ht_request_log log;     /* the current request's lines for the host's log */
};

/* Answers with bodies larger than this are streamed (core/body.c); smaller
 * ones are read whole into the response. One read gives at most
 * HT_BODY_MAX_PIECE bytes. */
enum { HT_STREAM_ABOVE = 64 * 1024, HT_BODY_MAX_PIECE = 1 << 20 };

/* A streamed body: the `length` bytes of a stored media file. */
ht_body *ht_body_of_media(const char *media_id, uint64_t length);

#endif
