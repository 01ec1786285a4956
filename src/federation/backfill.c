/* backfill.c -- other servers walk back through a room's history:
 * GET /v1/backfill/{roomId} and POST /v1/get_missing_events/{roomId}
 * (spec: server-server "Backfilling and retrieving missing events").
 *
 * Both are for servers in the room, and both take lists the asking server
 * chose; every list and count is bounded here, where it enters, and the
 * walk itself reads a bounded number of events (room/prev_walk.c). The
 * limits are Synapse's (100 events a backfill, 20 a get_missing_events), so
 * a Synapse asking for its usual amount gets it. */
#include "federation/federation.h"

#include <string.h>

#include "federation/read.h"
#include "util/json.h"

enum {
    BACKFILL_MAX_LIMIT = 100,
    BACKFILL_MAX_FROM = 50,     /* the v= events; Synapse sends up to 5 */
    MISSING_DEFAULT_LIMIT = 10, /* the spec's default */
    MISSING_MAX_LIMIT = 20,
    MISSING_MAX_LATEST = 20,    /* the events the asker lacks the prev events of */
    MISSING_MAX_EARLIEST = 100, /* the asker's forward extremities */
};

/* spec: server-server GET /_matrix/federation/v1/backfill/{roomId} */
ht_reply ht_fed_backfill(ht_ctx *ctx) {
    ht_fed_room room;
    ht_reply err;
    if (!ht_fed_room_open_joined(ctx, ht_param_get(ctx, "roomId"), &room, &err)) return err;
    const char **from = ht_arena_calloc(ctx->arena, BACKFILL_MAX_FROM, sizeof *from);
    size_t from_count = 0;
    for (size_t i = 0; i < ctx->req->query_count; i++) {
        if (strcmp(ctx->req->query[i].name, "v") != 0) continue;
        if (from_count == BACKFILL_MAX_FROM)
            return ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "v names at most %d events.", BACKFILL_MAX_FROM);
        from[from_count++] = ctx->req->query[i].value;
    }
    if (!from_count) return ht_reply_error(HT_M_MISSING_PARAM, "v, the events to backfill from, is required.");
    if (!ht_request_query(ctx->req, "limit"))
        return ht_reply_error(HT_M_MISSING_PARAM, "limit, the number of events to give, is required.");
    int64_t limit;
    if (!ht_query_count(ctx, "limit", 0, BACKFILL_MAX_LIMIT, &limit, &err)) return err;
    ht_event_row *rows;
    size_t n = ht_room_backfill(ctx->env, room.room_id, from, from_count, (size_t)limit, &rows);
    json_t *pdus = json_array();
    for (size_t i = 0; i < n; i++) ht_fed_append_seen(ctx, &room, &rows[i], pdus);
    return ht_reply_json(ht_fed_transaction(ctx, pdus));
}

/* A body member that must be an array of at most max event ids; false with
 * *err otherwise. */
static bool event_id_list(ht_ctx *ctx, json_t *body, const char *name, size_t max, const char ***out, size_t *count,
                          ht_reply *err) {
    json_t *list = json_object_get(body, name);
    if (!json_is_array(list)) {
        *err = ht_reply_errorf(ctx, HT_M_BAD_JSON, "%s must be an array of event ids.", name);
        return false;
    }
    if (json_array_size(list) > max) {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s names at most %zu events.", name, max);
        return false;
    }
    *count = json_array_size(list);
    *out = ht_arena_calloc(ctx->arena, *count ? *count : 1, sizeof **out);
    for (size_t i = 0; i < *count; i++) {
        (*out)[i] = json_string_value(json_array_get(list, i));
        if (!(*out)[i]) {
            *err = ht_reply_errorf(ctx, HT_M_BAD_JSON, "%s[%zu] must be an event id.", name, i);
            return false;
        }
    }
    return true;
}

/* An optional integer member; false with *err when it is not one. */
static bool integer_member(ht_ctx *ctx, json_t *body, const char *name, int64_t fallback, int64_t *out,
                           ht_reply *err) {
    json_t *v = json_object_get(body, name);
    *out = v ? json_integer_value(v) : fallback;
    if (!v || json_is_integer(v)) return true;
    *err = ht_reply_errorf(ctx, HT_M_BAD_JSON, "%s must be an integer.", name);
    return false;
}

/* spec: server-server POST /_matrix/federation/v1/get_missing_events/{roomId} */
ht_reply ht_fed_get_missing_events(ht_ctx *ctx) {
    ht_fed_room room;
    ht_reply err;
    json_t *body;
    if (!ht_fed_room_open_joined(ctx, ht_param_get(ctx, "roomId"), &room, &err) || !ht_body_object(ctx, &body, &err))
        return err;
    const char **earliest, **latest;
    size_t earliest_count, latest_count;
    int64_t limit, min_depth;
    if (!event_id_list(ctx, body, "earliest_events", MISSING_MAX_EARLIEST, &earliest, &earliest_count, &err) ||
        !event_id_list(ctx, body, "latest_events", MISSING_MAX_LATEST, &latest, &latest_count, &err) ||
        !integer_member(ctx, body, "limit", MISSING_DEFAULT_LIMIT, &limit, &err) ||
        !integer_member(ctx, body, "min_depth", 0, &min_depth, &err))
        return err;
    limit = limit < 0 ? 0 : limit > MISSING_MAX_LIMIT ? MISSING_MAX_LIMIT : limit;
    ht_event_row *rows;
    size_t n = ht_room_missing_events(ctx->env, room.room_id, earliest, earliest_count, latest, latest_count,
                                      (size_t)limit, min_depth, &rows);
    json_t *events = json_array();
    for (size_t i = 0; i < n; i++) ht_fed_append_seen(ctx, &room, &rows[i], events);
    return ht_reply_json(json_pack("{s:o}", "events", events));
}
