/* gap.c -- an event whose prev events lie further back than
 * get_missing_events reached (send.c asks for 10). As the server-server
 * spec says a server may, we ask the sender for the state at each prev
 * event we lack (/state, and the event itself), keep those events as
 * outliers -- each checked, as a join's state is --, and judge the event
 * against the resolution of the states after its prev events (check 5),
 * then against the room's current state (check 6). It matters most after
 * an absence: Synapse sends a server that was away only each room's newest
 * event, and without this the room would stop here for good.
 *
 * The events inside the gap are not fetched: the timeline jumps over
 * them (a client paginating back does not see them), as in Synapse. */
#include "federation/gap.h"

#include <string.h>

#include "federation/federation.h"
#include "federation/pdus.h"
#include "room/graph.h"
#include "room/state_res.h"
#include "store/graph.h"
#include "util/json.h"

enum {
    /* Prev events of one event whose state we ask for; an event that
     * merges more unknown branches than this is refused. */
    MAX_UNKNOWN_PREVS = 4,
};

static bool names_any(json_t *ids, const char *const *wanted, size_t n) {
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
        for (size_t k = 0; k < n; k++)
            if (json_is_string(id) && strcmp(json_string_value(id), wanted[k]) == 0) return true;
    return false;
}

/* Appends PDUs to a list of events to keep as outliers. */
static void add_all(json_t *list, const ht_fed_pdus *pdus) {
    for (size_t i = 0; i < pdus->count; i++) json_array_append(list, pdus->pdus[i]);
}

/* Fetches the signing keys of, then keeps, a list of events as outliers.
 * False while it waits; *why when they cannot all be kept. */
static bool keep_outliers(ht_ctx *ctx, const ht_room_version *v, json_t *list, const char **why) {
    size_t n = json_array_size(list);
    json_t **pdus = ht_arena_calloc(ctx->arena, n ? n : 1, sizeof *pdus);
    for (size_t i = 0; i < n; i++) pdus[i] = json_array_get(list, i);
    if (!ht_fed_prefetch_keys(ctx, pdus, n)) return false;
    ht_fed_take_outliers(ctx, v, list, why);
    return true;
}

/* The state after a prev event, from the state before it that its server
 * gave: those of the events that we did not reject, and the event itself
 * if it is a state event. */
static void state_after_given(ht_ctx *ctx, const ht_fed_pdus *before, const char *prev_id, ht_state_map *out) {
    ht_state_map_init(out, ctx->arena);
    for (size_t i = 0; i <= before->count; i++) {
        const char *id = i < before->count ? before->event_ids[i] : prev_id;
        ht_event_row row;
        if (ht_store_event_by_id(ctx->env->store, ctx->arena, id, &row) && row.state_key &&
            row.status != HT_EVENT_REJECTED)
            ht_state_map_set(out, row.type, row.state_key, row.event_id);
    }
}

/* Its auth events, when those are what it lacks: the sender's auth chain
 * of it. False while it waits. */
static bool bridge_auth(ht_ctx *ctx, const char *room_id, const ht_room_version *v, json_t *pdu, ht_received *r) {
    if (!names_any(json_object_get(pdu, "auth_events"), r->missing, r->missing_count)) return true;
    ht_fed_pdus chain;
    if (!ht_fed_fetch_event_auth(ctx, ctx->origin, room_id, v->id, r->event_id, &chain)) return false;
    if (chain.error) return true;
    json_t *list = ht_json_keep(ctx->arena, json_array());
    add_all(list, &chain);
    const char *why = NULL;
    if (!keep_outliers(ctx, v, list, &why)) return false;
    if (!why) *r = ht_room_receive(ctx->env, v->id, pdu, ht_fed_cached_key, ctx->env, NULL);
    return true;
}

bool ht_fed_bridge_gap(ht_ctx *ctx, const char *room_id, const char *room_version, json_t *pdu, ht_received *r) {
    const ht_room_version *v = ht_room_version_get(room_version);
    if (r->outcome != HT_RECEIVED_MISSING || !r->event_id || !v || !ctx->origin) return true;
    if (!bridge_auth(ctx, room_id, v, pdu, r)) return false;
    if (r->outcome != HT_RECEIVED_MISSING) return true;

    /* The state after each prev event: ours where we know it, else asked,
     * all asks of this pass together. */
    json_t *prevs = json_object_get(pdu, "prev_events");
    size_t n = json_array_size(prevs), unknown = 0;
    if (!n || n > HT_STATE_RES_MAX_STATES) return true;
    const ht_state_map **states = ht_arena_calloc(ctx->arena, n, sizeof *states);
    ht_fed_pdus *given = ht_arena_calloc(ctx->arena, n, sizeof *given);
    bool ready = true;
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_array_get(prevs, i));
        ht_event_row row;
        ht_state_map *m = ht_arena_calloc(ctx->arena, 1, sizeof *m);
        if (ht_store_event_by_id(ctx->env->store, ctx->arena, id, &row) && ht_room_state_after(ctx->env, &row, m)) {
            states[i] = m;
            continue;
        }
        if (++unknown > MAX_UNKNOWN_PREVS) {
            r->reason = "It follows more unknown branches than this server fetches.";
            return true;
        }
        ht_fed_pdus chain, event;
        ready &= ht_fed_fetch_state(ctx, ctx->origin, room_id, v->id, id, &given[i], &chain);
        ready &= ht_fed_fetch_event(ctx, ctx->origin, room_id, v->id, id, &event);
        if (!ready) continue;
        if (given[i].error || event.error) return true;
        json_t *list = ht_json_keep(ctx->arena, json_array());
        add_all(list, &chain);
        add_all(list, &given[i]);
        add_all(list, &event);
        const char *why = NULL;
        ready &= keep_outliers(ctx, v, list, &why);
        if (why) {
            r->reason = why;
            return true;
        }
        if (!ready) continue;
        ht_event_row kept;
        if (!ht_store_event_by_id(ctx->env->store, ctx->arena, id, &kept)) {
            r->reason = "Its prev event, as its server gave it, could not be taken.";
            return true;
        }
        state_after_given(ctx, &given[i], id, m);
        states[i] = m;
    }
    if (!ready) return false;

    ht_state_map before;
    ht_state_map_init(&before, ctx->arena);
    ht_event_source src = ht_room_event_source(ctx->env, v->id);
    if (n == 1) ht_state_map_copy(&before, states[0]);
    else if (!ht_state_resolve(ctx->arena, states, n, &src, v->id, &before)) {
        r->reason = "The states at its prev events could not be resolved.";
        return true;
    }
    const char **ids = ht_arena_calloc(ctx->arena, before.count ? before.count : 1, sizeof *ids);
    for (size_t i = 0; i < before.count; i++) ids[i] = before.entries[i].event_id;
    ht_receive_opts opts = {.state_before = ids, .state_before_count = before.count, .check_current_state = true};
    *r = ht_room_receive(ctx->env, v->id, pdu, ht_fed_cached_key, ctx->env, &opts);
    return true;
}
