/* messages.c -- paginating a room's history: /messages, /context, and
 * /timestamp_to_event, which finds where to start.
 *
 * A token "sN" stands between stream positions N and N+1: walking back
 * from it returns events at or below N, walking forward events above N.
 * The same tokens come out of /sync (prev_batch, next_batch). History
 * fetched from other servers lies below position 1 (negative tokens). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/filter.h"
#include "api/room_access.h"
#include "api/rooms.h"
#include "api/timeline.h"
#include "federation/federation.h"
#include "room/room.h"
#include "store/meta.h"
#include "store/store.h"
#include "util/json.h"

enum { DEFAULT_LIMIT = 10, MAX_LIMIT = 1000, TS_BATCH = 50 };

/* limit=0: /messages takes it as "the default"; /context as "no context
 * events, only the event itself", as the spec says there (zero_ok). */
static bool limit_param(ht_ctx *ctx, bool zero_ok, int64_t *limit, ht_reply *err) {
    if (!ht_query_count(ctx, "limit", DEFAULT_LIMIT, MAX_LIMIT, limit, err)) return false;
    if (*limit == 0 && !zero_ok) *limit = DEFAULT_LIMIT;
    return true;
}

ht_reply ht_api_messages(ht_ctx *ctx) {
    const char *room_id;
    int64_t upto, limit, from = 0, to = 0;
    bool has_from, has_to;
    json_t *filter;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !ht_room_read_limit(ctx, room_id, &upto, &err) ||
        !limit_param(ctx, false, &limit, &err) || !ht_query_token(ctx, "from", &from, &has_from, &err) ||
        !ht_query_token(ctx, "to", &to, &has_to, &err) || !ht_filter_param(ctx, "filter", &filter, &err))
        return err;
    const char *dir = ht_request_query(ctx->req, "dir");
    if (!dir || (strcmp(dir, "b") != 0 && strcmp(dir, "f") != 0))
        return ht_reply_error(HT_M_INVALID_PARAM, "dir must be \"b\" or \"f\".");
    bool back = dir[0] == 'b';
    int64_t now = (int64_t)ht_store_stream_position(ctx->env->store);
    int64_t ceiling = upto ? upto : now;
    if (!has_from) from = back ? ceiling : 0;
    if (from > ceiling) from = ceiling;
    limit = ht_filter_limit(filter, limit, MAX_LIMIT);

    ht_timeline_page page;
    if (back) {
        ht_timeline_back(ctx, room_id, from, has_to ? to : INT64_MIN, limit, filter, &page);
        /* The walk reached the oldest event held here: the servers in the
         * room may have older history (federation/history.c). */
        bool more = false;
        if (!page.more && !has_to && ctx->env->cfg->federation) {
            if (!ht_fed_backfill_history(ctx, room_id, limit - (int64_t)page.count, &more)) return (ht_reply){0};
            ht_timeline_back(ctx, room_id, from, INT64_MIN, limit, filter, &page);
        }
        if (more && !page.more) page.more = true;
    } else {
        ht_timeline_forward(ctx, room_id, from, has_to && to < ceiling ? to : ceiling, limit, filter, &page);
    }

    json_t *reply = json_pack("{s:s, s:o}", "start", ht_stream_token(ctx->arena, from), "chunk",
                              ht_timeline_json(ctx, page.events, page.count, false, true));
    if (page.more) json_object_set_new(reply, "end", json_string(ht_stream_token(ctx->arena, page.next)));
    json_t *lazy = json_object_get(filter, "lazy_load_members");
    json_object_set_new(reply, "state", json_is_true(lazy) && page.count
                                            ? ht_timeline_members(ctx, room_id, page.events, page.count, upto, true)
                                            : json_array());
    return ht_reply_json(reply);
}

ht_reply ht_api_context(ht_ctx *ctx) {
    const char *room_id;
    int64_t upto, limit;
    json_t *filter;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !ht_room_read_limit(ctx, room_id, &upto, &err) ||
        !limit_param(ctx, true, &limit, &err) || !ht_filter_param(ctx, "filter", &filter, &err))
        return err;
    const char *event_id = ht_param_get(ctx, "eventId");
    ht_event_row ev;
    if (!ht_store_event_by_id(ctx->env->store, ctx->arena, event_id, &ev) ||
        strcmp(ev.room_id, room_id) != 0 ||
        !ht_room_event_visible(ctx->env, ctx->auth.user_id, &ev))
        return ht_reply_error(HT_M_NOT_FOUND, "No such event, or you may not see it.");
    int64_t ceiling = upto ? upto : (int64_t)ht_store_stream_position(ctx->env->store);
    int64_t before_n = limit / 2, after_n = limit - before_n;

    ht_timeline_page before, after;
    ht_timeline_back(ctx, room_id, ev.stream - 1, INT64_MIN, before_n, filter, &before);
    ht_timeline_forward(ctx, room_id, ev.stream, ceiling, after_n, filter, &after);
    ht_viewer v = {ctx->auth.user_id, ctx->auth.device_id};
    int64_t last = after.count ? after.events[after.count - 1].stream : ev.stream;

    json_t *reply = json_pack(
        "{s:o, s:o, s:o, s:s, s:s}", "event", ht_room_event_json(ctx->env, &ev, &v, ctx->now_ms, true),
        "events_before", ht_timeline_json(ctx, before.events, before.count, false, true), "events_after",
        ht_timeline_json(ctx, after.events, after.count, false, true), "start",
        ht_stream_token(ctx->arena, before.count ? before.next : ev.stream - 1), "end",
        ht_stream_token(ctx->arena, last));
    int64_t *streams;
    size_t n = ht_store_state_list(ctx->env->store, ctx->arena, room_id, last, &streams);
    json_t *state = json_array();
    for (size_t i = 0; i < n; i++) {
        ht_event_row row;
        if (ht_store_event_by_stream(ctx->env->store, ctx->arena, streams[i], &row))
            json_array_append_new(state, ht_room_event_json(ctx->env, &row, &v, ctx->now_ms, true));
    }
    json_object_set_new(reply, "state", state);
    return ht_reply_json(reply);
}

/* Walks the room in time order from ts (an index walk, see the store) and
 * answers the first event the caller may see. Time order, not stream
 * order: that is what the client asks about, and a server clock that went
 * back makes the two differ. */
ht_reply ht_api_timestamp_to_event(ht_ctx *ctx) {
    const char *room_id;
    int64_t upto, ts;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !ht_room_read_limit(ctx, room_id, &upto, &err) ||
        !ht_query_count(ctx, "ts", -1, INT64_MAX, &ts, &err))
        return err;
    if (ts < 0) return ht_reply_error(HT_M_INVALID_PARAM, "ts (milliseconds since the epoch) is required.");
    const char *dir = ht_request_query(ctx->req, "dir");
    if (!dir || (strcmp(dir, "b") != 0 && strcmp(dir, "f") != 0))
        return ht_reply_error(HT_M_INVALID_PARAM, "dir must be \"b\" or \"f\".");
    bool forward = dir[0] == 'f';
    /* The cursor sits just before (forward) or after (back) every event at ts,
     * so events at exactly ts count in both directions. */
    int64_t cursor_ts = ts, cursor_stream = forward ? -1 : INT64_MAX;
    int64_t ceiling = upto ? upto : INT64_MAX;
    for (;;) {
        ht_event_row *rows;
        size_t n = ht_store_events_by_ts(ctx->env->store, ctx->arena, room_id, forward, cursor_ts,
                                         cursor_stream, ceiling, TS_BATCH, &rows);
        for (size_t i = 0; i < n; i++) {
            if (ht_room_event_visible(ctx->env, ctx->auth.user_id, &rows[i]))
                return ht_reply_json(json_pack("{s:s, s:I}", "event_id", rows[i].event_id,
                                               "origin_server_ts", (json_int_t)rows[i].origin_ts));
            cursor_ts = rows[i].origin_ts;
            cursor_stream = rows[i].stream;
        }
        if (n < TS_BATCH) break;
    }
    return ht_reply_error(HT_M_NOT_FOUND, forward ? "No event you may see was sent at or after that time."
                                                  : "No event you may see was sent at or before that time.");
}
