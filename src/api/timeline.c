/* timeline.c -- walking a room's events for /messages, /context, /sync
 * and /search's context (see timeline.h).
 *
 * A page ends when it holds `limit` events, when the room runs out that
 * way, or when the walk has cost what one request may spend on it: at most
 * MAX_EXAMINED events looked at (a filter that keeps nothing would
 * otherwise read the whole room), or the request's matching budget spent
 * on filter globs. A page cut short that way still says where the next one
 * starts, as the spec lets a page hold fewer events than asked. */
#include "api/timeline.h"

#include <string.h>

#include "api/filter.h"
#include "room/room.h"
#include "store/store.h"
#include "util/glob.h"

enum { MAX_EXAMINED = 10000 };

/* joined_since: the position of the user's join if they are in the room
 * now, else 0. Someone joined since before an event, or by it, has seen it
 * (their membership at it, which includes the event itself, is that join,
 * which every history visibility allows),
 * so only older events need the visibility rules, which read the state at
 * each event: a user in many rooms would otherwise pay two state lookups
 * for every event of every timeline. */
static bool wanted(ht_ctx *ctx, const ht_event_row *ev, json_t *filter, int64_t joined_since) {
    if (!ht_filter_allows_event(ctx->env, filter, ev)) return false;
    if (joined_since && ev->stream >= joined_since && ev->status == HT_EVENT_TIMELINE) return true;
    return ht_room_event_visible(ctx->env, ctx->auth.user_id, ev);
}

static int64_t joined_since(ht_ctx *ctx, const char *room_id) {
    int64_t stream = 0;
    const char *m = ht_store_membership_get(ctx->env->store, ctx->arena, room_id, ctx->auth.user_id, &stream, NULL);
    return m && strcmp(m, "join") == 0 ? stream : 0;
}

/* Reads batches until limit events pass, the room runs out that way, or
 * the walk's cost is reached. */
static void walk(ht_ctx *ctx, const char *room_id, int64_t start, int64_t end, int64_t limit,
                 json_t *filter, bool back, ht_timeline_page *page) {
    size_t cap = 0;
    page->events = NULL;
    page->count = 0;
    page->more = false;
    int64_t cursor = start, examined = 0;
    int64_t joined = joined_since(ctx, room_id);
    /* The first batch is what a page needs when the filter keeps
     * everything (one more says whether the room has more); later ones are
     * larger, for filters that keep little. */
    int64_t batch = limit < 50 ? limit + 1 : limit;
    for (;;) {
        ht_event_row *rows;
        size_t n = back ? ht_store_events_before(ctx->env->store, ctx->arena, room_id, cursor, end, batch, &rows)
                        : ht_store_events_after(ctx->env->store, ctx->arena, room_id, cursor, end, batch, &rows);
        for (size_t i = 0; i < n; i++) {
            if ((int64_t)page->count == limit || examined == MAX_EXAMINED ||
                ht_budget_spent(&ctx->env->match_budget)) {
                page->more = true;
                page->next = cursor;
                return;
            }
            examined++;
            cursor = back ? rows[i].stream - 1 : rows[i].stream;
            if (!wanted(ctx, &rows[i], filter, joined)) continue;
            page->events = ht_arena_push(ctx->arena, page->events, sizeof *page->events, page->count, &cap);
            page->events[page->count++] = rows[i];
        }
        if ((int64_t)n < batch) break;
        if (batch < 50) batch = 50;
    }
    page->next = cursor;
}

void ht_timeline_back(ht_ctx *ctx, const char *room_id, int64_t from, int64_t down_to,
                      int64_t limit, json_t *filter, ht_timeline_page *page) {
    walk(ctx, room_id, from, down_to, limit, filter, true, page);
}

void ht_timeline_forward(ht_ctx *ctx, const char *room_id, int64_t after, int64_t upto,
                         int64_t limit, json_t *filter, ht_timeline_page *page) {
    walk(ctx, room_id, after, upto, limit, filter, false, page);
}

json_t *ht_timeline_json(ht_ctx *ctx, const ht_event_row *events, size_t count, bool reverse,
                         bool with_room_id) {
    ht_viewer v = {ctx->auth.user_id, ctx->auth.device_id};
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        const ht_event_row *ev = &events[reverse ? count - 1 - i : i];
        json_array_append_new(list, ht_room_event_json(ctx->env, ev, &v, ctx->now_ms, with_room_id));
    }
    return list;
}

json_t *ht_timeline_members(ht_ctx *ctx, const char *room_id, const ht_event_row *events,
                            size_t count, int64_t at, bool with_room_id) {
    ht_viewer v = {ctx->auth.user_id, ctx->auth.device_id};
    json_t *seen = json_object();
    json_t *list = json_array();
    for (size_t i = 0; i <= count; i++) {
        const char *user = i < count ? events[i].sender : ctx->auth.user_id;
        if (json_object_get(seen, user)) continue;
        json_object_set_new(seen, user, json_true());
        int64_t stream = at ? ht_store_state_at(ctx->env->store, room_id, "m.room.member", user, at)
                            : ht_store_state_get(ctx->env->store, room_id, "m.room.member", user);
        ht_event_row row;
        if (stream && ht_store_event_by_stream(ctx->env->store, ctx->arena, stream, &row))
            json_array_append_new(list, ht_room_event_json(ctx->env, &row, &v, ctx->now_ms, with_room_id));
    }
    json_decref(seen);
    return list;
}
