/* notifications.c -- GET /_matrix/client/v3/notifications: the events in
 * the caller's joined rooms that their push rules say notify, newest first.
 *
 * The list is computed on read, not stored: nothing is written when an
 * event arrives; each request runs the caller's current push rules (the
 * evaluation /sync counts unread notifications with, push_eval.c) over the
 * newest events others sent in the caller's joined rooms since joining.
 * A rule changed today therefore also changes what the list shows for
 * yesterday's events. To bound the work a request looks at no more than
 * MAX_CANDIDATES events; when it finds fewer than `limit` notifications
 * among them, next_token says where the next request continues. Tokens are
 * stream tokens: "below this position". */
#include "api/notifications.h"

#include <string.h>

#include "api/filter.h"
#include "room/push_eval.h"
#include "room/room.h"
#include "store/meta.h"
#include "store/receipts.h"
#include "store/rooms.h"
#include "store/store.h"
#include "util/json.h"

enum { DEFAULT_LIMIT = 50, MAX_LIMIT = 100, MAX_CANDIDATES = 1000, BATCH = 100 };

/* What the evaluation and the read flag need about one room, loaded the
 * first time one of its events comes up. */
typedef struct room_info {
    const char *room_id;
    ht_push_room push;
    ht_read_mark *marks; /* the caller's read receipts, per thread ("" unthreaded) */
    size_t mark_count;
} room_info;

typedef struct room_cache {
    room_info *rooms;
    size_t count, cap;
} room_cache;

static room_info *room_of(ht_ctx *ctx, room_cache *cache, const char *room_id) {
    for (size_t i = 0; i < cache->count; i++)
        if (strcmp(cache->rooms[i].room_id, room_id) == 0) return &cache->rooms[i];
    cache->rooms = ht_arena_push(ctx->arena, cache->rooms, sizeof *cache->rooms, cache->count, &cache->cap);
    room_info *room = &cache->rooms[cache->count++];
    room->room_id = room_id;
    room->push = ht_push_room_of(ctx->env, room_id, ctx->auth.user_id);
    room->mark_count = ht_store_read_marks(ctx->env->store, ctx->arena, room_id, ctx->auth.user_id, &room->marks);
    return room;
}

/* Read: at or before the caller's m.read / m.read.private receipt, an
 * unthreaded one or one for the event's own thread. */
static bool is_read(const room_info *room, const ht_event_row *ev, json_t *content) {
    const char *thread = ht_push_event_thread(content);
    for (size_t i = 0; i < room->mark_count; i++) {
        const char *t = room->marks[i].thread_id;
        if ((!*t || strcmp(t, thread) == 0) && ev->stream <= room->marks[i].event_stream) return true;
    }
    return false;
}

/* only: absent, or "highlight". */
static bool only_param(ht_ctx *ctx, bool *highlights_only, ht_reply *err) {
    const char *only = ht_request_query(ctx->req, "only");
    *highlights_only = only && strcmp(only, "highlight") == 0;
    if (!only || *highlights_only) return true;
    *err = ht_reply_error(HT_M_INVALID_PARAM, "only must be \"highlight\" if given.");
    return false;
}

typedef struct scan {
    ht_ctx *ctx;
    const ht_push_rules *rules;
    room_cache cache;
    bool highlights_only;
    int64_t limit;
} scan;

/* The notification for one candidate event, or NULL if it does not notify. */
static json_t *notification(scan *sc, const ht_event_row *ev) {
    ht_ctx *ctx = sc->ctx;
    room_info *room = room_of(ctx, &sc->cache, ev->room_id);
    json_t *content = ht_room_event_content(ctx->arena, ev);
    ht_push_result r = ht_push_evaluate_row(sc->rules, &room->push, ev, content);
    if (!r.notify || (sc->highlights_only && !r.highlight)) return NULL;
    /* Events after the caller's join in a room they are still joined to:
     * visible by the history rules, so no visibility check is needed. */
    ht_viewer viewer = {ctx->auth.user_id, ctx->auth.device_id};
    return json_pack("{s:O, s:o, s:b, s:s, s:I}", "actions", r.actions, "event",
                     ht_room_event_json(ctx->env, ev, &viewer, ctx->now_ms, true), "read",
                     is_read(room, ev, content), "room_id", ev->room_id, "ts", (json_int_t)ev->origin_ts);
}

/* Walks candidates below `before`, newest first, until `limit`
 * notifications are found or MAX_CANDIDATES were looked at. *next is where
 * a following page starts, or -1 if nothing is left. */
static json_t *collect(scan *sc, int64_t before, int64_t *next) {
    ht_ctx *ctx = sc->ctx;
    json_t *list = json_array();
    int64_t cursor = before, looked_at = 0;
    *next = -1;
    while (looked_at < MAX_CANDIDATES) {
        int64_t want = MAX_CANDIDATES - looked_at < BATCH ? MAX_CANDIDATES - looked_at : BATCH;
        ht_event_row *events;
        size_t n = ht_store_events_of_joined_rooms(ctx->env->store, ctx->arena, ctx->auth.user_id, cursor, want,
                                                   &events);
        for (size_t i = 0; i < n; i++) {
            if ((int64_t)json_array_size(list) == sc->limit) {
                *next = cursor;
                return list;
            }
            cursor = events[i].stream;
            looked_at++;
            json_t *item = notification(sc, &events[i]);
            if (item) json_array_append_new(list, item);
        }
        if ((int64_t)n < want) return list; /* no more candidates */
    }
    *next = cursor; /* the bound was reached; older events remain */
    return list;
}

ht_reply ht_api_notifications(ht_ctx *ctx) {
    int64_t limit, from = 0;
    bool has_from, highlights_only;
    ht_reply err;
    if (!ht_query_count(ctx, "limit", DEFAULT_LIMIT, MAX_LIMIT, &limit, &err) ||
        !ht_query_token(ctx, "from", &from, &has_from, &err) || !only_param(ctx, &highlights_only, &err))
        return err;
    if (limit == 0) limit = DEFAULT_LIMIT;

    scan sc = {ctx, ht_push_rules_of(ctx->env, ctx->auth.user_id), {0}, highlights_only, limit};
    int64_t top = (int64_t)ht_store_stream_position(ctx->env->store) + 1;
    int64_t next;
    json_t *list = collect(&sc, has_from && from < top ? from : top, &next);
    json_t *reply = json_pack("{s:o}", "notifications", list);
    if (next >= 0) json_object_set_new(reply, "next_token", json_string(ht_stream_token(ctx->arena, next)));
    return ht_reply_json(reply);
}
