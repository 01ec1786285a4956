/* history.c -- a room's history from before this server joined it, asked
 * of the servers in the room (GET /v1/backfill) when a client pages back
 * past the oldest event shown here (spec: server-server "Backfilling and
 * retrieving missing events").
 *
 * The one decision: history is stored below stream position 1
 * (room/graph.h: historical_stream), each batch under the last, deepest
 * event first. So /messages walks it after everything newer, in
 * topological order, and /sync, which reads positions above its token,
 * never sees it as new. Every event is checked on receipt as far as its own
 * auth events go (ht_room_receive); the state before a historical event is
 * not known here, and it changes no state. */
#include "federation/federation.h"

#include <stdlib.h>
#include <string.h>

#include "matrix/ids.h"
#include "room/room.h"
#include "store/federation.h"
#include "store/graph.h"
#include "store/rooms.h"
#include "util/json.h"
#include "util/str.h"

enum { ASK_LIMIT = 100 };

/* Is an event id, named in prev_events of a stored event, a gap: not
 * stored, or an outlier whose own prev events are not all stored? One level
 * of outliers (the state a join brought) is looked through. */
static bool has_gap(ht_ctx *ctx, const ht_event_row *ev, int depth) {
    json_t *pdu = ht_json_parse(ctx->arena, ev->json);
    size_t i;
    json_t *prev;
    json_array_foreach(json_object_get(pdu, "prev_events"), i, prev) {
        ht_event_row row;
        const char *id = json_string_value(prev);
        if (!id) continue;
        if (!ht_store_event_by_id(ctx->env->store, ctx->arena, id, &row)) return true;
        if (row.status == HT_EVENT_OUTLIER && depth == 0 && has_gap(ctx, &row, 1)) return true;
    }
    return false;
}

/* The oldest event shown in the room, if the history before it is
 * missing here. */
static bool oldest_with_gap(ht_ctx *ctx, const char *room_id, ht_event_row *out) {
    ht_event_row *rows;
    if (ht_store_events_after(ctx->env->store, ctx->arena, room_id, INT64_MIN, INT64_MAX, 1, &rows) != 1) return false;
    *out = rows[0];
    return has_gap(ctx, out, 0);
}

static int64_t depth_of(json_t *pdu) { return json_integer_value(json_object_get(pdu, "depth")); }

typedef struct ranked {
    json_t *pdu;
    const char *event_id;
} ranked;

/* Deepest first; among equals, the later first, then by id: one order
 * for every pass of the request. */
static int deepest_first(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    int64_t dx = depth_of(x->pdu), dy = depth_of(y->pdu);
    if (dx != dy) return dx > dy ? -1 : 1;
    int64_t tx = json_integer_value(json_object_get(x->pdu, "origin_server_ts"));
    int64_t ty = json_integer_value(json_object_get(y->pdu, "origin_server_ts"));
    if (tx != ty) return tx > ty ? -1 : 1;
    return strcmp(y->event_id, x->event_id);
}

/* Stores one batch below everything held: positions by depth, the deepest
 * highest; received oldest first, so events of the batch that others'
 * auth events name are there first. The number of events shown anew. */
static int64_t take_batch(ht_ctx *ctx, const char *version, const ht_fed_pdus *got) {
    ranked *order = ht_arena_calloc(ctx->arena, got->count ? got->count : 1, sizeof *order);
    for (size_t i = 0; i < got->count; i++) order[i] = (ranked){got->pdus[i], got->event_ids[i]};
    qsort(order, got->count, sizeof *order, deepest_first);
    int64_t lowest = ht_store_events_lowest_stream(ctx->env->store);
    int64_t top = (lowest < 1 ? lowest : 1) - 1;
    int64_t shown = 0;
    for (size_t i = got->count; i-- > 0;) {
        ht_receive_opts opts = {.historical_stream = top - (int64_t)i};
        ht_received r = ht_room_receive(ctx->env, version, order[i].pdu, ht_fed_cached_key, ctx->env, &opts);
        if (r.outcome == HT_RECEIVED_TIMELINE) shown++;
    }
    return shown;
}

/* The servers to ask: the room's own (its id names the server that made
 * it) first if it is in the room, then the others in the room. */
static size_t servers_to_ask(ht_ctx *ctx, const char *room_id, const char ***out) {
    const char **servers;
    size_t n = ht_store_room_servers(ctx->env->store, ctx->arena, room_id, ctx->env->server_name, &servers);
    const char *own = ht_id_server(room_id);
    for (size_t i = 1; i < n; i++)
        if (ht_str_is(servers[i], own)) {
            servers[i] = servers[0];
            servers[0] = own;
        }
    *out = servers;
    return n;
}

bool ht_fed_backfill_history(ht_ctx *ctx, const char *room_id, int64_t want, bool *more) {
    *more = false;
    ht_room_row room;
    if (!ht_store_room_get(ctx->env->store, ctx->arena, room_id, &room)) return true;
    const char **servers;
    size_t server_count = servers_to_ask(ctx, room_id, &servers), next_server = 0;
    int64_t shown = 0, taken = 0;
    for (int asks = 0;; asks++) {
        ht_event_row oldest;
        if (!oldest_with_gap(ctx, room_id, &oldest)) return true;
        /* Enough for the page, or the asks spent: the next request goes on
         * (not after an ask that brought nothing, which would loop). */
        if (shown >= want || asks == HT_FED_HISTORY_MAX_ASKS) {
            *more = shown >= want || taken > 0;
            return true;
        }
        if (next_server == server_count) return true;
        ht_fed_pdus got;
        const char *from = oldest.event_id;
        if (!ht_fed_fetch_backfill(ctx, servers[next_server], room_id, room.version, &from, 1, ASK_LIMIT, &got))
            return false;
        if (!ht_fed_prefetch_keys(ctx, got.pdus, got.count)) return false;
        taken = got.error ? 0 : take_batch(ctx, room.version, &got);
        /* A server that gave nothing new is not asked again by this request. */
        if (!taken) next_server++;
        shown += taken;
    }
}
