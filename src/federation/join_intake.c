/* join_intake.c -- a send_join answer taken in slices (see the header). */
#include "federation/join_intake.h"

#include <stdint.h>
#include <stdlib.h>

#include "federation/pdus.h"
#include "matrix/ids.h"
#include "room/room.h"
#include "store/rooms.h"
#include "util/json.h"
#include "util/json_scan.h"
#include "util/oom.h"
#include "util/str.h"

enum {
    /* Events of the answer parsed in one pass (jansson, and each event's
     * id: its redaction, canonical JSON and hash). */
    READ_EVENTS = 512,
    /* Events checked in one pass (a signature, a hash and the rules each,
     * stored): 13-21 ms a pass measured on a 2-core machine. */
    SLICE_EVENTS = 128,
    /* State keys written into the room's current state in one pass (a
     * membership row, a state row, the unread counts' bookkeeping each). */
    STAGE_KEYS = 256,
    /* Passes whose slice was found undone (its commit failed) before the
     * join gives up: a failing disk must not loop for ever. */
    MAX_RESTARTS = 3,
    /* A reading holds about this many times the answer's text: its events
     * parsed (jansson on glibc: 6.1 for 3,000 member events), their ids
     * and order. */
    PARSED_PER_TEXT_BYTE = 7,
};

/* The answer's two lists, read in this order. */
enum { AUTH_CHAIN, STATE, LISTS };

struct ht_join_intake {
    ht_arena arena;       /* the order and ids */
    /* Where the reading of each list goes on: offsets into the answer's
     * text, which the door keeps and hands each pass again (its body). */
    size_t list_at[LISTS], list_taken[LISTS];
    int reading;          /* the list being read; LISTS once both are */
    json_t *events;       /* the auth chain, then the state: the outliers to take */
    const char **ids;     /* the events' ids (ht_fed_pdu_id_or_empty), in arena */
    size_t ids_cap;
    size_t state_from;    /* where the state starts in events */
    json_t *signed_join;  /* the resident's copy of the join, or NULL */
    ht_fed_auth_order order;
    size_t next;          /* the next of order to take */
    size_t stored_to;     /* just past the last of order the store holds (0: none yet) */
    size_t staged;        /* the state's events written into the room's current state */
    bool keys_ready;
    bool whole;           /* not kept: taken in one pass */
    unsigned restarts;
};

static void intake_free(void *p) {
    ht_join_intake *in = p;
    json_decref(in->signed_join);
    json_decref(in->events);
    ht_arena_free(&in->arena);
    free(in);
}

ht_join_intake *ht_join_intake_kept(const ht_remote_answer *sent) { return ht_remote_kept(sent); }

/* The answer's top members: its two lists, and the join. */
static bool answer_members(const ht_remote_answer *sent, ht_json_span *lists, ht_json_span *event) {
    static const char *const keys[] = {"auth_chain", "state", "event"};
    ht_json_span spans[3];
    if (!sent->body || !ht_json_top_members((const char *)sent->body, keys, 3, spans)) return false;
    lists[AUTH_CHAIN] = spans[0];
    lists[STATE] = spans[1];
    *event = spans[2];
    ht_json_items items;
    return ht_json_items_begin(lists[AUTH_CHAIN], &items) && ht_json_items_begin(lists[STATE], &items);
}

ht_join_intake *ht_join_intake_of(ht_ctx *ctx, const ht_remote_answer *sent, const char **why) {
    ht_json_span lists[LISTS], event;
    if (!answer_members(sent, lists, &event)) {
        *why = "its send_join answer is malformed";
        return NULL;
    }
    ht_join_intake *in = ht_xmalloc(sizeof *in);
    *in = (ht_join_intake){.events = json_array()};
    ht_arena_init(&in->arena, 64 * 1024);
    for (int l = 0; l < LISTS; l++) in->list_at[l] = (size_t)(lists[l].start + 1 - (const char *)sent->body);
    json_t *signed_join = event.start ? json_loadb(event.start, event.len, 0, NULL) : NULL;
    if (json_is_object(signed_join)) in->signed_join = signed_join;
    else json_decref(signed_join);
    if (!ht_remote_keep(ctx, sent, in, sent->body_len * PARSED_PER_TEXT_BYTE, intake_free)) {
        in->whole = true;
        ht_arena_on_reset(ctx->arena, intake_free, in);
    }
    return in;
}

/* Parses the next of the answer's events (at most `budget`), each with its
 * id. False, with *why, when the answer is not as it must be. */
static bool read_events(const ht_remote_answer *sent, const ht_room_version *v, ht_join_intake *in, size_t budget,
                        ht_arena *tmp, const char **why) {
    const char *text = (const char *)sent->body;
    for (; in->reading < LISTS && budget; budget--) {
        ht_json_items items = {.at = text + in->list_at[in->reading], .taken = in->list_taken[in->reading]};
        ht_json_span item;
        int got = ht_json_items_next(&items, &item);
        if (got < 0) {
            *why = "its send_join answer is malformed";
            return false;
        }
        if (got == 0) {
            if (++in->reading == STATE) in->state_from = json_array_size(in->events);
            continue;
        }
        in->list_at[in->reading] = (size_t)(items.at - text);
        in->list_taken[in->reading] = items.taken;
        if (json_array_size(in->events) == HT_JOIN_MAX_EVENTS) {
            *why = "the room is larger than this server takes";
            return false;
        }
        json_t *event = json_loadb(item.start, item.len, 0, NULL);
        if (!event) event = json_null(); /* dropped when taken, as any malformed event */
        size_t n = json_array_size(in->events);
        in->ids = ht_arena_push(&in->arena, in->ids, sizeof *in->ids, n, &in->ids_cap);
        in->ids[n] = ht_fed_pdu_id_or_empty(tmp, &in->arena, v, event);
        json_array_append_new(in->events, event);
    }
    return true;
}

ht_intake_step ht_join_intake_read(ht_ctx *ctx, const ht_room_version *v, const ht_remote_answer *sent,
                                   ht_join_intake *in, const char **why) {
    if (in->reading == LISTS) return HT_INTAKE_DONE;
    if (!read_events(sent, v, in, in->whole ? SIZE_MAX : READ_EVENTS, ctx->arena, why)) return HT_INTAKE_FAILED;
    if (in->reading < LISTS) return HT_INTAKE_MORE;
    ht_fed_order_by_auth(ctx->arena, &in->arena, v, in->events, in->ids, &in->order);
    return in->whole ? HT_INTAKE_DONE : HT_INTAKE_MORE;
}

json_t **ht_join_intake_pdus(ht_ctx *ctx, ht_join_intake *in, json_t *join, size_t *count) {
    size_t n = json_array_size(in->events);
    json_t **all = ht_arena_calloc(ctx->arena, n + 1, sizeof *all);
    for (size_t i = 0; i < n; i++) all[i] = json_array_get(in->events, i);
    all[n] = join;
    *count = n + 1;
    return all;
}

json_t *ht_join_intake_signed_join(const ht_join_intake *in) { return in->signed_join; }
bool ht_join_intake_keys_ready(const ht_join_intake *in) { return in->keys_ready; }
void ht_join_intake_set_keys_ready(ht_join_intake *in) { in->keys_ready = true; }

/* Whether the slices before this pass are still stored: a pass's commit
 * that failed (inside a group, its COMMIT) undid its slice. The last event
 * they kept is looked for. */
static bool earlier_slices_stored(ht_ctx *ctx, const ht_join_intake *in) {
    if (!in->stored_to) return true;
    ht_event_row row;
    return ht_store_event_by_id(ctx->env->store, ctx->arena, in->order.ids[in->order.order[in->stored_to - 1]], &row);
}

/* The ids of the state the resident gave (in the arena); without our own
 * users' memberships when !ours_too: those change at the join, as a join
 * always wrote them, and the rest is written ahead of it. */
static const char **state_ids(ht_ctx *ctx, const ht_join_intake *in, bool ours_too, size_t *count) {
    size_t n = json_array_size(in->events) - in->state_from;
    const char **ids = ht_arena_calloc(ctx->arena, n + 1, sizeof *ids);
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        const char *id = in->order.ids[in->state_from + i];
        json_t *e = json_array_get(in->events, in->state_from + i);
        const char *key = ht_json_str(e, "state_key");
        bool ours = key && ht_str_is(ht_json_str(e, "type"), "m.room.member") &&
                    ht_str_is(ht_id_server(key), ctx->env->server_name);
        if (*id && (ours_too || !ours)) ids[(*count)++] = id;
    }
    return ids;
}

ht_intake_step ht_join_intake_take(ht_ctx *ctx, const ht_room_version *v, const char *room_id, ht_join_intake *in,
                                   const char **why) {
    if (in->order.count < json_array_size(in->events)) {
        *why = "the room's state names auth events it does not carry";
        return HT_INTAKE_FAILED;
    }
    if (!earlier_slices_stored(ctx, in)) {
        if (++in->restarts > MAX_RESTARTS) {
            *why = "the room's events could not be stored";
            return HT_INTAKE_FAILED;
        }
        /* Those stored are found so and skipped; the keys fetched went
         * with the slice. */
        in->next = in->stored_to = in->staged = 0;
        in->keys_ready = false;
        return HT_INTAKE_MORE;
    }
    if (in->next < in->order.count) {
        if (!ht_fed_take_in_order(ctx, v, in->events, &in->order, &in->next, in->whole ? SIZE_MAX : SLICE_EVENTS,
                                  &in->stored_to, why))
            return HT_INTAKE_FAILED;
        if (in->next < in->order.count || !in->whole) return HT_INTAKE_MORE;
        return HT_INTAKE_DONE; /* taken whole: the join writes the state too */
    }
    /* Then the state into the room's current state, a slice a pass, so that
     * the join changes only its own key. A slice undone by a failed commit
     * needs no check: the join writes whatever key still differs. */
    size_t n;
    const char **ids = state_ids(ctx, in, false, &n);
    if (in->staged >= n) return HT_INTAKE_DONE;
    size_t k = n - in->staged < STAGE_KEYS ? n - in->staged : STAGE_KEYS;
    ht_error err = ht_room_stage_state(ctx->env, v->id, room_id, ids + in->staged, k);
    if (err.code) {
        *why = err.message;
        return HT_INTAKE_FAILED;
    }
    in->staged += k;
    return HT_INTAKE_MORE;
}

const char **ht_join_intake_state_ids(ht_ctx *ctx, const ht_join_intake *in, size_t *count) {
    return state_ids(ctx, in, true, count);
}
