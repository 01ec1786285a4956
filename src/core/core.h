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

/* A group commit in progress (ht_core_group_begin): what its requests did
 * that may be told only once the group's COMMIT succeeds. */
enum { HT_GROUP_MAX_KEYS = 1024, HT_GROUP_MAX_LOG = 64 };

typedef struct ht_group {
    bool open;
    uint64_t position;      /* the stream position its writes reached (not committed) */
    uint64_t keys[HT_GROUP_MAX_KEYS]; /* the wake keys its writes touched */
    size_t key_count;
    bool wake_all;
    bool outbound;          /* a request queued traffic for other servers */
    ht_log_line log[HT_GROUP_MAX_LOG]; /* lines noted on commit (texts malloc'd) */
    size_t log_count;
    size_t log_dropped;
} ht_group;

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
    ht_group group;         /* the group commit in progress, if any */
};

/* Answers with bodies larger than this are streamed (core/body.c); smaller
 * ones are read whole into the response. One read gives at most
 * HT_BODY_MAX_PIECE bytes. */
enum { HT_STREAM_ABOVE = 64 * 1024, HT_BODY_MAX_PIECE = 1 << 20 };

/* A streamed body: the `length` bytes of a stored media file. */
ht_body *ht_body_of_media(const char *media_id, uint64_t length);

#endif
