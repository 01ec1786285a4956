/* relations.c -- GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}
 * [/{relType}[/{eventType}]]: the events whose content.m.relates_to points
 * at an event (edits m.replace, reactions m.annotation, threads m.thread).
 *
 * The index is written when events are stored (store/relations.c). The
 * pagination tokens are the same stream tokens /messages uses ("sN" sits
 * between positions N and N+1), so a prev_batch from /sync works here as
 * a starting point. Only events the caller may see are returned.
 *
 * recurse=true (spec v1.10) also returns events that relate to the event
 * through others, three levels deep as the spec suggests: the walk first
 * gathers the ids of the events one and two levels below (at most
 * MAX_RECURSED_PARENTS of them, so a huge tree costs bounded work), then
 * pages through everything relating to any of them exactly as for direct
 * relations. rel_type and event_type filter what is returned, not the
 * walk down. */
#include "api/relations.h"

#include <stdlib.h>
#include <string.h>

#include "api/filter.h"
#include "api/room_access.h"
#include "matrix/ids.h"
#include "room/room.h"
#include "store/meta.h"
#include "store/relations.h"
#include "store/store.h"
#include "util/json.h"

enum { DEFAULT_LIMIT = 50, MAX_LIMIT = 1000, BATCH = 100, RECURSION_DEPTH = 3, MAX_RECURSED_PARENTS = 1000 };

static bool limit_param(ht_ctx *ctx, int64_t *limit, ht_reply *err) {
    if (!ht_query_count(ctx, "limit", DEFAULT_LIMIT, MAX_LIMIT, limit, err)) return false;
    if (*limit == 0) *limit = DEFAULT_LIMIT;
    return true;
}

typedef struct walk {
    ht_ctx *ctx;
    const char *room_id, *parents, *rel_type, *type; /* parents: a JSON array of event ids */
    bool back;
    int64_t limit;
} walk;

/* Collects up to limit visible related events from `from` towards `end`;
 * *next is where a following page starts, or -1 if there is none. */
static json_t *collect(walk *w, int64_t from, int64_t end, int64_t *next) {
    ht_ctx *ctx = w->ctx;
    ht_viewer viewer = {ctx->auth.user_id, ctx->auth.device_id};
    json_t *chunk = json_array();
    int64_t cursor = from;
    *next = -1;
    for (;;) {
        int64_t *streams;
        size_t n = ht_store_relations(ctx->env->store, ctx->arena, w->room_id, w->parents, w->rel_type, w->type,
                                      w->back, cursor, end, BATCH, &streams);
        for (size_t i = 0; i < n; i++) {
            if ((int64_t)json_array_size(chunk) == w->limit) {
                *next = cursor;
                return chunk;
            }
            cursor = w->back ? streams[i] - 1 : streams[i];
            ht_event_row ev;
            if (!ht_store_event_by_stream(ctx->env->store, ctx->arena, streams[i], &ev) ||
                !ht_room_event_visible(ctx->env, ctx->auth.user_id, &ev))
                continue;
            json_array_append_new(chunk, ht_room_event_json(ctx->env, &ev, &viewer, ctx->now_ms, true));
        }
        if ((int64_t)n < BATCH) return chunk;
    }
}

/* The parent and the events up to depth levels below it that others may
 * relate to, as a JSON array of event ids; never more than
 * MAX_RECURSED_PARENTS (then the deepest level is cut short). */
static const char *relation_parents(ht_ctx *ctx, const char *room_id, const char *parent, int depth) {
    json_t *all = ht_json_keep(ctx->arena, json_pack("[s]", parent));
    json_t *level = all;
    for (int d = 1; d < depth && json_array_size(all) < MAX_RECURSED_PARENTS; d++) {
        int64_t *streams;
        int64_t room_left = MAX_RECURSED_PARENTS - (int64_t)json_array_size(all);
        size_t n = ht_store_relations(ctx->env->store, ctx->arena, room_id, ht_json_dump(ctx->arena, level), NULL,
                                      NULL, true, INT64_MAX, 0, room_left, &streams);
        level = ht_json_keep(ctx->arena, json_array());
        for (size_t i = 0; i < n; i++) {
            ht_event_row ev;
            if (!ht_store_event_by_stream(ctx->env->store, ctx->arena, streams[i], &ev)) continue;
            json_array_append_new(level, json_string(ev.event_id));
            json_array_append_new(all, json_string(ev.event_id));
        }
        if (!n) break;
    }
    return ht_json_dump(ctx->arena, all);
}

/* recurse: absent, "true" or "false". */
static bool recurse_param(ht_ctx *ctx, bool *given, bool *recurse, ht_reply *err) {
    const char *v = ht_request_query(ctx->req, "recurse");
    *given = v != NULL;
    *recurse = v && strcmp(v, "true") == 0;
    if (!v || *recurse || strcmp(v, "false") == 0) return true;
    *err = ht_reply_error(HT_M_INVALID_PARAM, "recurse must be true or false.");
    return false;
}

ht_reply ht_api_relations(ht_ctx *ctx) {
    const char *room_id;
    int64_t upto, limit, from = 0, to = 0;
    bool has_from, has_to;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !ht_room_read_limit(ctx, room_id, &upto, &err) ||
        !limit_param(ctx, &limit, &err) || !ht_query_token(ctx, "from", &from, &has_from, &err) ||
        !ht_query_token(ctx, "to", &to, &has_to, &err))
        return err;
    bool recurse_given, recurse;
    if (!recurse_param(ctx, &recurse_given, &recurse, &err)) return err;
    const char *dir = ht_request_query(ctx->req, "dir");
    if (dir && strcmp(dir, "b") != 0 && strcmp(dir, "f") != 0)
        return ht_reply_error(HT_M_INVALID_PARAM, "dir must be \"b\" or \"f\".");
    const char *parent = ht_param_get(ctx, "eventId");
    ht_event_row ev;
    if (!ht_event_id_valid(parent) || !ht_store_event_by_id(ctx->env->store, ctx->arena, parent, &ev) ||
        strcmp(ev.room_id, room_id) != 0 || !ht_room_event_visible(ctx->env, ctx->auth.user_id, &ev))
        return ht_reply_error(HT_M_NOT_FOUND, "No such event in this room, or you may not see it.");

    int depth = recurse ? RECURSION_DEPTH : 1;
    walk w = {ctx, room_id, relation_parents(ctx, room_id, parent, depth), ht_param_get(ctx, "relType"),
              ht_param_get(ctx, "eventType"), !dir || dir[0] == 'b', limit};
    int64_t ceiling = upto ? upto : (int64_t)ht_store_stream_position(ctx->env->store);
    int64_t next;
    json_t *chunk;
    if (w.back) {
        if (!has_from || from > ceiling) from = ceiling;
        chunk = collect(&w, from, has_to ? to : 0, &next);
    } else {
        if (!has_from) from = 0;
        chunk = collect(&w, from, has_to && to < ceiling ? to : ceiling, &next);
    }
    json_t *reply = json_pack("{s:o}", "chunk", chunk);
    if (next >= 0) json_object_set_new(reply, "next_batch", json_string(ht_stream_token(ctx->arena, next)));
    if (has_from) json_object_set_new(reply, "prev_batch", json_string(ht_stream_token(ctx->arena, from)));
    /* Mandatory when the client asked, absent otherwise (spec). */
    if (recurse_given) json_object_set_new(reply, "recursion_depth", json_integer(depth));
    return ht_reply_json(reply);
}
