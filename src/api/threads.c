/* threads.c -- GET /_matrix/client/v1/rooms/{roomId}/threads: the room's
 * thread roots (events that m.thread replies point at), the thread with
 * the latest reply first.
 *
 * The list is read from the relations index (store/relations.c): a reply
 * is the latest of its thread when no later reply to the same root exists,
 * so walking the room's m.thread replies newest first and keeping only
 * latest ones yields each root once, already in order. Every reply has its
 * own stream position, so "the latest reply of the last root shown" is an
 * exact place to resume: next_batch is that position as a stream token. A
 * thread that gets a new reply between two pages moves to the top and is
 * not repeated further down. Each root carries its thread summary in
 * unsigned["m.relations"]["m.thread"], bundled by the event formatter. */
#include "api/threads.h"

#include <string.h>

#include "api/filter.h"
#include "api/room_access.h"
#include "room/room.h"
#include "store/meta.h"
#include "store/relations.h"
#include "store/store.h"

enum { DEFAULT_LIMIT = 50, MAX_LIMIT = 1000, BATCH = 100 };

typedef struct walk {
    ht_ctx *ctx;
    const char *room_id;
    const char *participant; /* include=participated: the caller; else NULL */
    int64_t ceiling;         /* the last position the caller may read */
    int64_t limit;
} walk;

/* Collects up to limit visible roots whose latest reply is below `before`;
 * *next is where a following page starts, or -1 if there is none. */
static json_t *collect(walk *w, int64_t before, int64_t *next) {
    ht_ctx *ctx = w->ctx;
    ht_viewer viewer = {ctx->auth.user_id, ctx->auth.device_id};
    json_t *chunk = json_array();
    int64_t cursor = before;
    *next = -1;
    for (;;) {
        ht_thread_root *roots;
        size_t n = ht_store_thread_roots(ctx->env->store, ctx->arena, w->room_id, cursor, w->ceiling,
                                         w->participant, BATCH, &roots);
        for (size_t i = 0; i < n; i++) {
            if ((int64_t)json_array_size(chunk) == w->limit) {
                *next = cursor;
                return chunk;
            }
            cursor = roots[i].latest;
            ht_event_row ev;
            if (!ht_store_event_by_stream(ctx->env->store, ctx->arena, roots[i].root, &ev) ||
                !ht_room_event_visible(ctx->env, ctx->auth.user_id, &ev))
                continue;
            json_array_append_new(chunk, ht_room_event_json(ctx->env, &ev, &viewer, ctx->now_ms, true));
        }
        if ((int64_t)n < BATCH) return chunk;
    }
}

/* include: "all" (the default) or "participated". */
static bool include_param(ht_ctx *ctx, const char **participant, ht_reply *err) {
    const char *include = ht_request_query(ctx->req, "include");
    *participant = NULL;
    if (!include || strcmp(include, "all") == 0) return true;
    if (strcmp(include, "participated") == 0) {
        *participant = ctx->auth.user_id;
        return true;
    }
    *err = ht_reply_error(HT_M_INVALID_PARAM, "include must be \"all\" or \"participated\".");
    return false;
}

ht_reply ht_api_threads(ht_ctx *ctx) {
    const char *room_id, *participant;
    int64_t upto, limit, from = 0;
    bool has_from;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !ht_room_read_limit(ctx, room_id, &upto, &err) ||
        !ht_query_count(ctx, "limit", DEFAULT_LIMIT, MAX_LIMIT, &limit, &err) ||
        !ht_query_token(ctx, "from", &from, &has_from, &err) || !include_param(ctx, &participant, &err))
        return err;
    if (limit == 0) limit = DEFAULT_LIMIT;

    /* A caller who left reads the room as it was when they left. */
    int64_t ceiling = upto ? upto : (int64_t)ht_store_stream_position(ctx->env->store);
    walk w = {ctx, room_id, participant, ceiling, limit};
    int64_t next;
    json_t *chunk = collect(&w, has_from && from <= ceiling ? from : ceiling + 1, &next);
    json_t *reply = json_pack("{s:o}", "chunk", chunk);
    if (next >= 0) json_object_set_new(reply, "next_batch", json_string(ht_stream_token(ctx->arena, next)));
    return ht_reply_json(reply);
}
