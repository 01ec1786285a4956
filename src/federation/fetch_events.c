/* fetch_events.c -- reading other servers' room graphs: one event, the
 * events missing between ours and theirs, the state (or its ids) at an event, an
 * event's auth chain (spec: server-server "Retrieving events",
 * "Backfilling and retrieving missing events", "Retrieving event
 * authorisation information"), as the incoming pipeline uses them.
 *
 * The one decision: what comes back is parsed and held to its shape, not
 * trusted. Each PDU must be a JSON object of the room asked about with an
 * id in the room's version (the reference hash, computed here: a server
 * cannot name an event other than the one it gives); repeats and anything
 * past the number asked for are dropped and counted. Signatures, hashes
 * and the rules are the caller's: every PDU goes through ht_room_receive. */
#include "federation/federation.h"

#include <stdlib.h>
#include <string.h>

#include "http/outbound.h"
#include "matrix/ids.h"
#include "matrix/remote.h"
#include "room/pdu.h"
#include "util/json.h"

enum {
    READ_TIMEOUT_MS = 30000,
    /* A state or auth chain of more events than a state resolution may
     * read (room/state_res.h) could not be used anyway. */
    MAX_LISTED_EVENTS = 50000,
    MISSING_MAX_LIMIT = 20,
    BACKFILL_MAX_LIMIT = 100, /* what hometab and Synapse serve at most */
    BACKFILL_MAX_FROM = 5,    /* the v= events, as Synapse sends them */
};

static bool is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* Why an answer is no answer: no answer at all, or a refusal, said with
 * the server's own errcode and words. NULL for a 200. */
static const char *failure(ht_ctx *ctx, const char *server, const ht_remote_answer *a) {
    if (a->status == 200) return NULL;
    if (!a->status) return ht_arena_printf(ctx->arena, "%s did not answer: %s", server, a->error ? a->error : "no reason");
    const char *errcode = ht_json_str(a->json, "errcode"), *message = ht_json_str(a->json, "error");
    return ht_arena_printf(ctx->arena, "%s answered %d %s: %s", server, a->status, errcode ? errcode : "",
                           message ? message : "no reason given");
}

typedef struct keyed {
    const char *id;
    size_t index;
} keyed;

static int by_id_then_index(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : x->index < y->index ? -1 : x->index > y->index;
}

/* Reads a list of PDUs of one room: at most max, in the order given, each
 * once, each with the id it has in the room's version. */
static void read_pdus(ht_ctx *ctx, json_t *list, const char *room_id, const ht_room_version *version, size_t max,
                      ht_fed_pdus *out) {
    size_t n = json_array_size(list);
    out->pdus = ht_arena_calloc(ctx->arena, n ? n : 1, sizeof *out->pdus);
    out->event_ids = ht_arena_calloc(ctx->arena, n ? n : 1, sizeof *out->event_ids);
    for (size_t i = 0; i < n; i++) {
        json_t *pdu = json_array_get(list, i);
        const char *id = out->count < max && json_is_object(pdu) && is(ht_json_str(pdu, "room_id"), room_id)
                             ? ht_pdu_id(ctx->arena, version, pdu, NULL)
                             : NULL;
        if (!id) {
            out->dropped++;
            continue;
        }
        out->pdus[out->count] = pdu;
        out->event_ids[out->count++] = id;
    }
    /* Repeats go, the first of each kept: sorted by id, then position. */
    keyed *order = ht_arena_calloc(ctx->arena, out->count ? out->count : 1, sizeof *order);
    for (size_t i = 0; i < out->count; i++) order[i] = (keyed){out->event_ids[i], i};
    qsort(order, out->count, sizeof *order, by_id_then_index);
    bool *repeat = ht_arena_calloc(ctx->arena, out->count ? out->count : 1, sizeof *repeat);
    for (size_t i = 1; i < out->count; i++) repeat[order[i].index] = strcmp(order[i].id, order[i - 1].id) == 0;
    size_t kept = 0;
    for (size_t i = 0; i < out->count; i++) {
        if (repeat[i]) continue;
        out->pdus[kept] = out->pdus[i];
        out->event_ids[kept++] = out->event_ids[i];
    }
    out->dropped += out->count - kept;
    out->count = kept;
}

static const ht_room_version *version_of(ht_ctx *ctx, const char *room_version, ht_fed_pdus *out) {
    const ht_room_version *v = ht_room_version_get(room_version);
    if (!v) out->error = ht_arena_printf(ctx->arena, "Room version %s is not one this server knows.", room_version);
    return v;
}

bool ht_fed_fetch_event(ht_ctx *ctx, const char *server, const char *room_id, const char *room_version,
                        const char *event_id, ht_fed_pdus *out) {
    *out = (ht_fed_pdus){0};
    const ht_room_version *version = version_of(ctx, room_version, out);
    if (!version) return true;
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/event/%s",
                                         ht_percent_encode(ctx->arena, event_id));
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, server, "GET", target, NULL, READ_TIMEOUT_MS, &a)) return false;
    if ((out->error = failure(ctx, server, &a))) return true;
    json_t *pdus = json_object_get(a.json, "pdus");
    if (!json_is_array(pdus) || !json_array_size(pdus)) {
        out->error = ht_arena_printf(ctx->arena, "%s answered with no event.", server);
        return true;
    }
    read_pdus(ctx, pdus, room_id, version, 1, out);
    if (out->count != 1 || !is(out->event_ids[0], event_id)) {
        out->error = ht_arena_printf(ctx->arena, "%s answered with another event than %s.", server, event_id);
        out->dropped += out->count;
        out->count = 0;
    }
    return true;
}

bool ht_fed_fetch_missing_events(ht_ctx *ctx, const char *server, const char *room_id, const char *room_version,
                                 const char *const *earliest, size_t earliest_count, const char *const *latest,
                                 size_t latest_count, int64_t limit, int64_t min_depth, ht_fed_pdus *out) {
    *out = (ht_fed_pdus){0};
    const ht_room_version *version = version_of(ctx, room_version, out);
    if (!version) return true;
    limit = limit < 0 ? 0 : limit > MISSING_MAX_LIMIT ? MISSING_MAX_LIMIT : limit;
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/get_missing_events/%s",
                                         ht_percent_encode(ctx->arena, room_id));
    json_t *body = ht_json_keep(ctx->arena, json_pack("{s:o, s:o, s:I, s:I}", "earliest_events",
                                                      ht_json_string_array(earliest, earliest_count), "latest_events",
                                                      ht_json_string_array(latest, latest_count), "limit",
                                                      (json_int_t)limit, "min_depth", (json_int_t)min_depth));
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, server, "POST", target, body, READ_TIMEOUT_MS, &a)) return false;
    if ((out->error = failure(ctx, server, &a))) return true;
    json_t *events = json_object_get(a.json, "events");
    if (!json_is_array(events)) {
        out->error = ht_arena_printf(ctx->arena, "%s answered without a list of events.", server);
        return true;
    }
    read_pdus(ctx, events, room_id, version, (size_t)limit, out);
    return true;
}

/* A list of event ids in an answer, at most MAX_LISTED_EVENTS; NULL (and
 * *why) if it is not one. */
static const char **id_list(ht_ctx *ctx, json_t *answer, const char *name, size_t *count, const char **why) {
    json_t *list = json_object_get(answer, name);
    *count = json_array_size(list);
    if (!json_is_array(list) || *count > MAX_LISTED_EVENTS) {
        *why = ht_arena_printf(ctx->arena, "%s is not a list of at most %d event ids.", name, MAX_LISTED_EVENTS);
        return NULL;
    }
    const char **ids = ht_arena_calloc(ctx->arena, *count ? *count : 1, sizeof *ids);
    for (size_t i = 0; i < *count; i++) {
        ids[i] = json_string_value(json_array_get(list, i));
        if (!ids[i] || !ht_event_id_valid(ids[i])) {
            *why = ht_arena_printf(ctx->arena, "%s[%zu] is not an event id.", name, i);
            return NULL;
        }
    }
    return ids;
}

bool ht_fed_fetch_state_ids(ht_ctx *ctx, const char *server, const char *room_id, const char *event_id,
                            ht_fed_state_lists *out) {
    *out = (ht_fed_state_lists){0};
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/state_ids/%s?event_id=%s",
                                         ht_percent_encode(ctx->arena, room_id), ht_percent_encode(ctx->arena, event_id));
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, server, "GET", target, NULL, READ_TIMEOUT_MS, &a)) return false;
    if ((out->error = failure(ctx, server, &a))) return true;
    const char *why = NULL;
    const char **pdu_ids = id_list(ctx, a.json, "pdu_ids", &out->pdu_count, &why);
    const char **chain_ids = pdu_ids ? id_list(ctx, a.json, "auth_chain_ids", &out->auth_chain_count, &why) : NULL;
    if (!chain_ids) {
        *out = (ht_fed_state_lists){.error = ht_arena_printf(ctx->arena, "%s answered a malformed state: %s", server, why)};
        return true;
    }
    out->pdu_ids = pdu_ids;
    out->auth_chain_ids = chain_ids;
    return true;
}

bool ht_fed_fetch_state(ht_ctx *ctx, const char *server, const char *room_id, const char *room_version,
                        const char *event_id, ht_fed_pdus *state, ht_fed_pdus *auth_chain) {
    *state = *auth_chain = (ht_fed_pdus){0};
    const ht_room_version *version = version_of(ctx, room_version, state);
    if (!version) return true;
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/state/%s?event_id=%s",
                                         ht_percent_encode(ctx->arena, room_id), ht_percent_encode(ctx->arena, event_id));
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, server, "GET", target, NULL, READ_TIMEOUT_MS, &a)) return false;
    if ((state->error = failure(ctx, server, &a))) return true;
    json_t *pdus = json_object_get(a.json, "pdus"), *chain = json_object_get(a.json, "auth_chain");
    if (!json_is_array(pdus) || !json_is_array(chain)) {
        state->error = ht_arena_printf(ctx->arena, "%s answered a state without pdus and auth_chain.", server);
        return true;
    }
    read_pdus(ctx, pdus, room_id, version, MAX_LISTED_EVENTS, state);
    read_pdus(ctx, chain, room_id, version, MAX_LISTED_EVENTS, auth_chain);
    return true;
}

bool ht_fed_fetch_event_auth(ht_ctx *ctx, const char *server, const char *room_id, const char *room_version,
                             const char *event_id, ht_fed_pdus *out) {
    *out = (ht_fed_pdus){0};
    const ht_room_version *version = version_of(ctx, room_version, out);
    if (!version) return true;
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/event_auth/%s/%s",
                                         ht_percent_encode(ctx->arena, room_id), ht_percent_encode(ctx->arena, event_id));
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, server, "GET", target, NULL, READ_TIMEOUT_MS, &a)) return false;
    if ((out->error = failure(ctx, server, &a))) return true;
    json_t *chain = json_object_get(a.json, "auth_chain");
    if (!json_is_array(chain)) {
        out->error = ht_arena_printf(ctx->arena, "%s answered without an auth chain.", server);
        return true;
    }
    read_pdus(ctx, chain, room_id, version, MAX_LISTED_EVENTS, out);
    return true;
}

bool ht_fed_fetch_backfill(ht_ctx *ctx, const char *server, const char *room_id, const char *room_version,
                           const char *const *from, size_t from_count, int64_t limit, ht_fed_pdus *out) {
    *out = (ht_fed_pdus){0};
    const ht_room_version *version = version_of(ctx, room_version, out);
    if (!version) return true;
    limit = limit < 1 ? 1 : limit > BACKFILL_MAX_LIMIT ? BACKFILL_MAX_LIMIT : limit;
    if (from_count > BACKFILL_MAX_FROM) from_count = BACKFILL_MAX_FROM;
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/backfill/%s?limit=%lld",
                                         ht_percent_encode(ctx->arena, room_id), (long long)limit);
    for (size_t i = 0; i < from_count; i++)
        target = ht_arena_printf(ctx->arena, "%s&v=%s", target, ht_percent_encode(ctx->arena, from[i]));
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, server, "GET", target, NULL, READ_TIMEOUT_MS, &a)) return false;
    if ((out->error = failure(ctx, server, &a))) return true;
    json_t *pdus = json_object_get(a.json, "pdus");
    if (!json_is_array(pdus)) {
        out->error = ht_arena_printf(ctx->arena, "%s answered without a list of events.", server);
        return true;
    }
    read_pdus(ctx, pdus, room_id, version, (size_t)limit, out);
    return true;
}
