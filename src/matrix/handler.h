/* handler.h -- what every Matrix endpoint handler sees and returns.
 *
 * A handler gets an ht_ctx (the parsed request, its path parameters, the
 * authenticated user if the route needs one, and the request's arena) and
 * returns an ht_reply: JSON, raw bytes (media), a Matrix error, or "park".
 * The core runs each request in one SQLite transaction and commits it only
 * when the reply is not an error, so a refused request changes nothing. */
#ifndef HT_MATRIX_HANDLER_H
#define HT_MATRIX_HANDLER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "matrix/env.h"
#include "matrix/error.h"
#include "matrix/request.h"
#include "util/arena.h"
#include "util/buf.h"

typedef struct ht_auth {
    const char *user_id;   /* "@alice:example.org" */
    const char *device_id;
    int64_t token_id;      /* row of the access token used */
} ht_auth;

typedef struct ht_ctx {
    ht_env *env;            /* what the handler may use of the server */
    ht_arena *arena;        /* the request's memory: env->arena */
    const ht_request *req;
    const ht_param *params; /* path parameters by template name */
    size_t param_count;
    int64_t received_ms;
    int64_t now_ms;         /* the request's clock: env->now_ms */
    /* From the transport, never from the request (ht_request_meta); NULL
     * when the host does not know. */
    const char *client_address;
    const char *peer_server;
    ht_auth auth;           /* set when the route requires authentication */
    const char *origin;     /* federation routes: the server that signed the request */
    bool authenticated;
    /* Admin routes (HT_ROUTE_ADMIN): who acts, for the log: the admin's
     * user id, or "the operator" (meta.operator, no token). */
    const char *admin;
    const char *admin_note; /* what an admin call changed, for its log line */
    json_t *body_json;      /* owned by the core; see ht_body_object */
    /* Password work (core/work.h): the request's bytes and digest, how many
     * password operations it has reached, and work to hand out. */
    const unsigned char *req_bytes;
    size_t req_len;
    unsigned char work_key[32];
    bool work_key_known;
    unsigned password_ops;
    struct ht_work *work;
    struct ht_replay *replay; /* the door's memo of finished work (core/work.c) */
    /* Asking other servers (matrix/remote.h): the door's kept answers, and
     * this pass's asks still without one (core/fetch.c). */
    struct ht_fetch_memo *memo;
    struct ht_fetch *asked;
    unsigned asked_count;
    bool resume; /* the pass did part of its job: commit, call again (ht_remote_resume) */
    struct ht_rate_limiter *limits; /* the door's token buckets (core/rate_limit.h) */
} ht_ctx;

typedef struct ht_reply {
    int status;                 /* 0 means 200 */
    json_t *json;               /* owned: the core releases it */
    const unsigned char *raw;   /* or raw bytes in the arena */
    size_t raw_len;
    const char *media_id;       /* or the raw_len bytes of this stored file
                                 * (store/media.h): the door reads them as the
                                 * client takes them, never all at once */
    const char *content_type;
    const char *extra_headers;  /* whole "Name: value\r\n" lines */
    ht_error error;             /* error.code != HT_OK: an error reply */
    json_t *error_extra;        /* owned: fields merged into the error body */
    bool park;
    uint64_t park_position;
    int64_t park_deadline_ms;
    const uint64_t *park_keys;  /* arena: wake only for writes touching one
                                 * (util/wake.h); none: for any write */
    size_t park_key_count;
} ht_reply;

/* The most keys a parked request may wait on; one that would need more
 * waits on every write instead. */
enum { HT_MAX_PARK_KEYS = 128 };

typedef ht_reply (*ht_handler)(ht_ctx *ctx);

/* Builders. ht_reply_json steals the reference to json. */
ht_reply ht_reply_json(json_t *json);
/* A JSON answer written as text (a big one, copied from stored texts
 * rather than built as one jansson tree): the buffer's bytes are the
 * arena's from now on. */
ht_reply ht_reply_json_text(ht_ctx *ctx, ht_buf *text);
ht_reply ht_reply_empty(void); /* 200 {} */
ht_reply ht_reply_error(ht_errcode code, const char *message);
ht_reply ht_reply_errorf(ht_ctx *ctx, ht_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ht_reply ht_reply_status_error(int status, ht_errcode code, const char *message);
/* "Not yet": call again once the stream passes `position` through a write
 * that touched one of `keys` (NULL: any write), or at `deadline_ms`. */
ht_reply ht_reply_park(uint64_t position, int64_t deadline_ms, const uint64_t *keys, size_t key_count);
/* 429 M_LIMIT_EXCEEDED with retry_after_ms and a Retry-After header. */
ht_reply ht_reply_rate_limited(ht_ctx *ctx, int64_t retry_after_ms);

/* A non-negative whole-number query parameter (limit, timeout, ...):
 * fallback when absent, max when larger. False with a 400 M_INVALID_PARAM
 * reply when it is not a number. */
bool ht_query_count(ht_ctx *ctx, const char *name, int64_t fallback, int64_t max, int64_t *out,
                    ht_reply *err);

/* The path parameter named in the route template ("roomId"). */
const char *ht_param_get(const ht_ctx *ctx, const char *name);

/* Parses the request body as a JSON object. On failure returns false and sets
 * *err to the spec's M_NOT_JSON or M_BAD_JSON reply. The object is borrowed:
 * the core releases it after the request. */
bool ht_body_object(ht_ctx *ctx, json_t **out, ht_reply *err);

#endif
