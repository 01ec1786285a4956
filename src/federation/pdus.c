/* pdus.c -- stored events as other servers get them (see pdus.h). */
#include "federation/pdus.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "federation/federation.h"
#include "matrix/ids.h"
#include "matrix/remote.h"
#include "room/pdu.h"
#include "room/room.h"
#include "store/federation.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/json_scan.h"
#include "util/oom.h"

enum {
    MAX_CHAIN_EVENTS = 100000, /* the most events a state or auth chain answer carries */
    /* A big room's state is read for a send_join this many events a pass
     * (each a row read and its text copied), kept between the passes at
     * about this many bytes an event (its texts, as a member event's). */
    STATE_SLICE = 1000,
    STATE_BYTES_PER_EVENT = 2048,
    /* What is kept of the stripped state another server sends (shown in
     * the invitee's or knocker's every sync): the spec's few types need far
     * less; the rest of a body of up to the request limit is dropped. */
    MAX_STRIPPED_EVENTS = 20,
    MAX_STRIPPED_EVENT_BYTES = 65536,
};

bool ht_fed_resident(ht_env *env, const char *room_id) {
    const char **servers;
    size_t n = ht_store_room_servers(env->store, env->arena, room_id, "", &servers);
    for (size_t i = 0; i < n; i++)
        if (strcmp(servers[i], env->server_name) == 0) return true;
    return false;
}

/* Our event kept unsigned, signed now for another server: the signature
 * is stored with it, so that the next server that asks costs none. */
static void keep_signature(ht_env *env, const ht_event_row *row, json_t *signed_pdu) {
    json_t *stored = json_loads(row->json, 0, NULL);
    if (!stored) return;
    json_object_set(stored, "signatures", json_object_get(signed_pdu, "signatures"));
    size_t size;
    char *text = ht_canonical_json(stored, &size, NULL);
    if (text) ht_store_event_signed(env->store, row->stream, text);
    free(text);
    json_decref(stored);
}

json_t *ht_fed_pdu(ht_env *env, const ht_event_row *row) {
    json_t *pdu = json_loads(row->json, 0, NULL);
    if (!pdu) return NULL;
    /* What a server added on the way (its age...) is not part of the event. */
    json_object_del(pdu, "unsigned");
    json_t *ours = json_object_get(json_object_get(pdu, "signatures"), env->server_name);
    if (!ours && ht_str_is(ht_id_server(row->sender), env->server_name)) {
        ht_room_row room;
        const ht_room_version *v = ht_store_room_get(env->store, env->arena, row->room_id, &room)
                                       ? ht_room_version_get(room.version)
                                       : NULL;
        if (v && ht_pdu_sign(v, pdu, env->server_name, env->signing_key)) keep_signature(env, row, pdu);
    }
    return pdu;
}

/* Does the signatures member of a stored text hold this server's? Its
 * members are scanned as the text's own are (the scan ends at the
 * object's closing brace). */
static bool signed_here(ht_env *env, ht_json_span signatures) {
    const char *servers[] = {env->server_name};
    ht_json_span ours;
    return signatures.start && ht_json_top_members(signatures.start, servers, 1, &ours) && ours.start;
}

const char *ht_fed_pdu_text(ht_env *env, const ht_event_row *row) {
    static const char *const keys[] = {"unsigned", "signatures"};
    ht_json_span spans[2];
    if (ht_json_top_members(row->json, keys, 2, spans) && !spans[0].start &&
        (!ht_str_is(ht_id_server(row->sender), env->server_name) || signed_here(env, spans[1])))
        return row->json;
    return ht_json_dump(env->arena, ht_json_keep(env->arena, ht_fed_pdu(env, row)));
}

typedef struct keyed_id {
    const char *id;
    size_t index;
} keyed_id;

static int by_id(const void *a, const void *b) { return strcmp(((const keyed_id *)a)->id, ((const keyed_id *)b)->id); }

/* The PDU text of a stored event, or NULL if it is not stored. */
static const char *pdu_text_of(ht_env *env, const char *id) {
    ht_event_row row;
    return ht_store_event_by_id(env->store, env->arena, id, &row) ? ht_fed_pdu_text(env, &row) : NULL;
}

/* A room's state as read: pdus[i] is the PDU text of ids[i] (NULL: not
 * stored), stored[i] its stored text (what an auth chain walk reads). */
typedef struct state_read {
    const char **ids, **pdus, **stored;
    size_t count;
} state_read;

/* Reads ids[from, to) of the state: the texts in the arena. */
static void read_state(ht_env *env, state_read *s, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) {
        ht_event_row row;
        bool found = ht_store_event_by_id(env->store, env->arena, s->ids[i], &row);
        s->pdus[i] = found ? ht_fed_pdu_text(env, &row) : NULL;
        s->stored[i] = s->pdus[i] ? row.json : NULL;
    }
}

/* The answer's two lists from the state read: the state, and the auth
 * chain of the state and the event, its events taken from the state as
 * read where they are in it (most are), the others read now. */
static bool state_and_chain(ht_ctx *ctx, const char *event_id, const state_read *s, ht_fed_texts *state,
                            ht_fed_texts *auth_chain) {
    size_t n = s->count, chain_count;
    *state = (ht_fed_texts){.texts = ht_arena_calloc(ctx->arena, n + 1, sizeof *state->texts)};
    for (size_t i = 0; i < n; i++)
        if (s->pdus[i]) state->texts[state->count++] = s->pdus[i];
    const char **roots = ht_arena_calloc(ctx->arena, n + 1, sizeof *roots), **chain;
    const char **given = ht_arena_calloc(ctx->arena, n + 1, sizeof *given);
    memcpy(roots, s->ids, n * sizeof *roots);
    memcpy(given, s->stored, n * sizeof *given);
    roots[n] = event_id;
    if (!ht_room_auth_chain(ctx->env, roots, given, n + 1, MAX_CHAIN_EVENTS, &chain, &chain_count)) return false;
    keyed_id *read = ht_arena_calloc(ctx->arena, n + 1, sizeof *read);
    for (size_t i = 0; i < n; i++) read[i] = (keyed_id){s->ids[i], i};
    qsort(read, n, sizeof *read, by_id);
    *auth_chain = (ht_fed_texts){.texts = ht_arena_calloc(ctx->arena, chain_count + 1, sizeof *auth_chain->texts)};
    for (size_t i = 0; i < chain_count; i++) {
        keyed_id key = {chain[i], 0};
        const keyed_id *found = bsearch(&key, read, n, sizeof *read, by_id);
        const char *text = found && s->pdus[found->index] ? s->pdus[found->index] : pdu_text_of(ctx->env, chain[i]);
        if (text) auth_chain->texts[auth_chain->count++] = text;
    }
    return true;
}

/* A big room's state kept between the passes of its request: the ids,
 * and the texts read so far, copied out of the passes' arenas. */
typedef struct state_reading {
    state_read s;
    size_t next; /* the first id not read yet */
} state_reading;

static void free_state_reading(void *p) {
    state_reading *r = p;
    for (size_t i = 0; i < r->s.count; i++) {
        free((char *)r->s.ids[i]);
        if (r->s.stored[i] != r->s.pdus[i]) free((char *)r->s.stored[i]);
        free((char *)r->s.pdus[i]);
    }
    free(r->s.ids);
    free(r->s.pdus);
    free(r->s.stored);
    free(r);
}

static state_reading *new_state_reading(const char *const *ids, size_t n) {
    state_reading *r = ht_xmalloc(sizeof *r);
    size_t size = (n ? n : 1) * sizeof(const char *);
    *r = (state_reading){.s = {.ids = ht_xmalloc(size), .pdus = ht_xmalloc(size), .stored = ht_xmalloc(size),
                               .count = n}};
    for (size_t i = 0; i < n; i++) {
        r->s.ids[i] = ht_xstrdup(ids[i]);
        r->s.pdus[i] = r->s.stored[i] = NULL;
    }
    return r;
}

/* Reads the next slice into the kept reading, the texts copied (the stored
 * one only where it differs from the PDU's). */
static void read_state_slice(ht_env *env, state_reading *r, size_t count) {
    size_t to = r->next + count < r->s.count ? r->next + count : r->s.count;
    read_state(env, &r->s, r->next, to);
    for (size_t i = r->next; i < to; i++) {
        const char *pdu = r->s.pdus[i], *stored = r->s.stored[i];
        r->s.pdus[i] = pdu ? ht_xstrdup(pdu) : NULL;
        r->s.stored[i] = stored == pdu ? r->s.pdus[i] : stored ? ht_xstrdup(stored) : NULL;
    }
    r->next = to;
}

bool ht_fed_state_before(ht_ctx *ctx, const char *event_id, ht_fed_texts *state, ht_fed_texts *auth_chain,
                         bool *more) {
    static const char name[] = "the state before the event";
    *more = false;
    state_reading *r = ht_remote_reading(ctx, name);
    if (!r) {
        state_read s = {0};
        if (!ht_room_state_ids_before(ctx->env, event_id, &s.ids, &s.count)) return false;
        if (s.count > STATE_SLICE) {
            r = new_state_reading(s.ids, s.count);
            if (ht_remote_keep_reading(ctx, name, r, s.count * STATE_BYTES_PER_EVENT, free_state_reading)) {
                *more = true;
                return true;
            }
            free_state_reading(r);
        }
        /* A small room, or no room to keep the reading: in one pass. */
        s.pdus = ht_arena_calloc(ctx->arena, s.count + 1, sizeof *s.pdus);
        s.stored = ht_arena_calloc(ctx->arena, s.count + 1, sizeof *s.stored);
        read_state(ctx->env, &s, 0, s.count);
        return state_and_chain(ctx, event_id, &s, state, auth_chain);
    }
    if (r->next < r->s.count) {
        read_state_slice(ctx->env, r, STATE_SLICE);
        *more = true;
        return true;
    }
    return state_and_chain(ctx, event_id, &r->s, state, auth_chain);
}

ht_reply ht_fed_reply_with_pdus(ht_ctx *ctx, json_t *rest, const char *const *names, const ht_fed_texts *lists,
                                size_t n) {
    ht_buf out = {0};
    ht_buf_append(&out, "{", 1);
    for (size_t i = 0; i < n; i++) {
        ht_buf_printf(&out, "%s\"%s\":[", i ? "," : "", names[i]);
        for (size_t k = 0; k < lists[i].count; k++) {
            if (k) ht_buf_append(&out, ",", 1);
            ht_buf_puts(&out, lists[i].texts[k]);
        }
        ht_buf_append(&out, "]", 1);
    }
    /* rest's own members follow, its text without the opening brace. */
    const char *more = ht_json_dump(ctx->arena, ht_json_keep(ctx->arena, rest));
    if (!json_is_object(rest)) more = "{}";
    if (json_object_size(rest)) ht_buf_append(&out, ",", 1);
    ht_buf_puts(&out, more + 1);
    return ht_reply_json_text(ctx, &out);
}

void ht_fed_forward(ht_ctx *ctx, const char *room_id, const char *event_id, const char *except) {
    ht_event_row row;
    if (!ht_store_event_by_id(ctx->env->store, ctx->arena, event_id, &row)) return;
    const char **servers;
    size_t n = ht_store_room_servers(ctx->env->store, ctx->arena, room_id, ctx->env->server_name, &servers);
    for (size_t i = 0; i < n; i++) {
        if (except && strcmp(servers[i], except) == 0) continue;
        ht_store_outbox_pdu(ctx->env->store, servers[i], row.stream, ctx->now_ms);
        ctx->env->outbound = true;
    }
}

const char *ht_fed_pdu_id_or_empty(ht_arena *tmp, ht_arena *keep, const ht_room_version *v, json_t *pdu) {
    const char *id = ht_pdu_id(tmp, v, pdu, NULL);
    return id ? ht_arena_strdup(keep, id) : "";
}

/* The list may come in any order:
 * it is put in order here, once (Kahn's algorithm over the auth edges
 * inside the list), so each event is judged once and a hostile order (a
 * long chain, newest first) costs what a kind one does, not n^2/2 checks;
 * and the create event, which all others name, goes first (an event taken
 * before it would be dropped: the room would not be known yet). */
void ht_fed_order_by_auth(ht_arena *tmp, ht_arena *keep, const ht_room_version *v, json_t *events,
                          const char **given_ids, ht_fed_auth_order *out) {
    enum { AUTH_MAX = 10 }; /* auth events a PDU may name: more are refused anyway */
    size_t n = json_array_size(events);
    *out = (ht_fed_auth_order){.ids = given_ids ? given_ids : ht_arena_calloc(keep, n ? n : 1, sizeof *out->ids),
                               .order = ht_arena_calloc(keep, n ? n : 1, sizeof *out->order)};
    keyed_id *ids = ht_arena_calloc(tmp, n ? n : 1, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        if (!given_ids) out->ids[i] = ht_fed_pdu_id_or_empty(tmp, keep, v, json_array_get(events, i));
        ids[i] = (keyed_id){out->ids[i], i};
    }
    qsort(ids, n, sizeof *ids, by_id);
    /* waiting[i]: auth events of i in the list not yet ordered; users of j
     * in needed_by[first[j] .. first[j + 1]). */
    size_t *waiting = ht_arena_calloc(tmp, n ? n : 1, sizeof *waiting);
    size_t *edge = ht_arena_calloc(tmp, n ? n * AUTH_MAX : 1, sizeof *edge);
    size_t *first = ht_arena_calloc(tmp, n + 1, sizeof *first);
    for (size_t i = 0; i < n; i++) {
        json_t *auth = json_object_get(json_array_get(events, i), "auth_events");
        for (size_t k = 0; k < AUTH_MAX; k++) {
            edge[i * AUTH_MAX + k] = SIZE_MAX;
            keyed_id key = {json_string_value(json_array_get(auth, k)), 0};
            const keyed_id *found = key.id ? bsearch(&key, ids, n, sizeof *ids, by_id) : NULL;
            if (!found || found->index == i) continue;
            edge[i * AUTH_MAX + k] = found->index;
            waiting[i]++;
            first[found->index + 1]++;
        }
    }
    for (size_t j = 0; j < n; j++) first[j + 1] += first[j];
    size_t *needed_by = ht_arena_calloc(tmp, first[n] ? first[n] : 1, sizeof *needed_by);
    size_t *filled = ht_arena_calloc(tmp, n ? n : 1, sizeof *filled);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < AUTH_MAX; k++) {
            size_t j = edge[i * AUTH_MAX + k];
            if (j != SIZE_MAX) needed_by[first[j] + filled[j]++] = i;
        }
    size_t *ready = out->order;
    size_t queued = 0;
    for (size_t i = 0; i < n; i++)
        if (!waiting[i]) ready[queued++] = i;
    for (size_t taken = 0; taken < queued; taken++) {
        size_t i = ready[taken];
        for (size_t e = first[i]; e < first[i + 1]; e++)
            if (--waiting[needed_by[e]] == 0) ready[queued++] = needed_by[e];
    }
    out->count = queued;
}

bool ht_fed_take_in_order(ht_ctx *ctx, const ht_room_version *v, json_t *events, const ht_fed_auth_order *order,
                          size_t *next, size_t budget, size_t *kept, const char **why) {
    ht_receive_opts opts = {.as_outlier = true};
    for (; *next < order->count && budget; ++*next, budget--) {
        json_t *event = json_array_get(events, order->order[*next]);
        ht_received r = ht_room_receive(ctx->env, v->id, event, ht_fed_cached_key, ctx->env, &opts);
        if (r.outcome == HT_RECEIVED_MISSING) {
            *why = "the room's state names auth events it does not carry";
            return false;
        }
        if (kept && r.outcome != HT_RECEIVED_DROPPED) *kept = *next + 1;
    }
    return true;
}

bool ht_fed_take_outliers(ht_ctx *ctx, const ht_room_version *v, json_t *events, const char **why) {
    ht_fed_auth_order order;
    ht_fed_order_by_auth(ctx->arena, ctx->arena, v, events, NULL, &order);
    size_t next = 0;
    if (!ht_fed_take_in_order(ctx, v, events, &order, &next, SIZE_MAX, NULL, why)) return false;
    if (order.count < json_array_size(events)) {
        *why = "the room's state names auth events it does not carry";
        return false;
    }
    return true;
}

json_t *ht_fed_stripped_state(ht_ctx *ctx, const char *room_id) {
    static const char *const types[] = {"m.room.create",          "m.room.join_rules", "m.room.name",
                                        "m.room.avatar",          "m.room.topic",      "m.room.encryption",
                                        "m.room.canonical_alias"};
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        int64_t stream = ht_store_state_get(ctx->env->store, room_id, types[i], "");
        ht_event_row row;
        if (!stream || !ht_store_event_by_stream(ctx->env->store, ctx->arena, stream, &row)) continue;
        json_t *content = ht_room_event_content(ctx->arena, &row);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:O}", "type", row.type, "state_key", "", "sender",
                                              row.sender, "content", content ? content : json_object()));
    }
    return list;
}

json_t *ht_fed_kept_stripped_state(ht_ctx *ctx, json_t *given) {
    json_t *kept = ht_json_keep(ctx->arena, json_array());
    size_t i;
    json_t *entry;
    json_array_foreach(given, i, entry) {
        if (json_array_size(kept) >= MAX_STRIPPED_EVENTS) break;
        const char *type = ht_json_str(entry, "type"), *key = ht_json_str(entry, "state_key");
        const char *sender = ht_json_str(entry, "sender");
        if (!type || !key || !sender || !json_is_object(json_object_get(entry, "content")) ||
            strlen(type) > HT_PDU_MAX_FIELD_BYTES || strlen(key) > HT_PDU_MAX_FIELD_BYTES ||
            strlen(sender) > HT_PDU_MAX_FIELD_BYTES)
            continue;
        const char *text = ht_json_dump(ctx->arena, entry);
        if (text && strlen(text) <= MAX_STRIPPED_EVENT_BYTES) json_array_append(kept, entry);
    }
    return kept;
}

json_t *ht_fed_own_membership(ht_ctx *ctx, const ht_room_version *v, json_t *template_event, json_t *content) {
    json_t *pdu = ht_json_keep(ctx->arena, json_deep_copy(template_event));
    json_object_del(pdu, "signatures");
    json_object_del(pdu, "hashes");
    json_object_del(pdu, "unsigned");
    if (v->redaction_keeps_origin) json_object_set_new(pdu, "origin", json_string(ctx->env->server_name));
    else json_object_del(pdu, "origin");
    json_object_set_new(pdu, "origin_server_ts", json_integer(ctx->received_ms));
    json_t *merged = json_object_get(pdu, "content");
    if (!json_is_object(merged)) return NULL;
    const char *key;
    json_t *value;
    json_object_foreach(content, key, value) if (strcmp(key, "membership") != 0) json_object_set(merged, key, value);
    if (!ht_pdu_set_content_hash(pdu, NULL) || !ht_pdu_sign(v, pdu, ctx->env->server_name, ctx->env->signing_key))
        return NULL;
    return pdu;
}

bool ht_fed_through_servers(ht_ctx *ctx, ht_fed_attempt *attempt, const char *what, const char *room_id,
                            const char *const *servers, size_t count, json_t *content, ht_reply *out) {
    const char *last = NULL, *last_server = NULL;
    bool refused = false;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(servers[i], ctx->env->server_name) == 0) continue;
        const char *failed;
        bool said_no;
        if (!attempt(ctx, servers[i], room_id, content, out, &failed, &said_no)) return false;
        if (!failed) return true;
        last = failed;
        last_server = servers[i];
        refused = refused || said_no;
    }
    if (!last_server) {
        *out = ht_reply_errorf(ctx, HT_M_NOT_FOUND, "No server was named through which the room could be %s.", what);
        return true;
    }
    /* A resident that refused the user (a ban, an invite-only room) is a
     * 403, as it would be here; servers that could not help, a 404. */
    const char *why = ht_arena_printf(ctx->arena, "The room could not be %s through %s: %s", what, last_server, last);
    *out = refused ? ht_reply_status_error(403, HT_M_FORBIDDEN, why) : ht_reply_status_error(404, HT_M_NOT_FOUND, why);
    return true;
}
