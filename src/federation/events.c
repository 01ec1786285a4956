/* events.c -- other servers read single events, and the state and auth
 * chain at an event: GET /v1/event/{eventId}, /v1/state/{roomId},
 * /v1/state_ids/{roomId} (spec: server-server "Retrieving events") and
 * /v1/event_auth/{roomId}/{eventId} ("Retrieving event authorisation
 * information").
 *
 * The one decision: who may ask is settled before anything is read, and a
 * server outside a room learns nothing of what the room holds: it gets 403
 * whether or not the event it names is here, unless the event is its own.
 * What each server may then see of an event is the rooms engine's call
 * (room/for_servers.h). Answers are bounded (read.h): a state or an auth
 * chain beyond them is refused with 413 rather than cut short, since a
 * partial state would be read as a whole one. */
#include "federation/federation.h"

#include <string.h>

#include "federation/pdus.h"
#include "federation/read.h"
#include "matrix/ids.h"
#include "room/pdu.h"
#include "room/room.h"
#include "store/rooms.h"
#include "util/json.h"

static bool is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

bool ht_fed_room_open(ht_ctx *ctx, const char *room_id, ht_fed_room *room, ht_reply *err) {
    ht_room_row row;
    const ht_room_version *version = NULL;
    if (!room_id || !ht_store_room_get(ctx->env->store, ctx->arena, room_id, &row) ||
        !(version = ht_room_version_get(row.version))) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "This server does not know the room.");
        return false;
    }
    room->room_id = room_id;
    room->version = version;
    ht_server_viewer_init(ctx->env, &room->viewer, room_id, ctx->origin);
    return true;
}

bool ht_fed_room_open_joined(ht_ctx *ctx, const char *room_id, ht_fed_room *room, ht_reply *err) {
    if (!ht_fed_room_open(ctx, room_id, room, err)) return false;
    if (room->viewer.joined) return true;
    *err = ht_reply_error(HT_M_FORBIDDEN, "The asking server is not in the room.");
    return false;
}

json_t *ht_fed_transaction(ht_ctx *ctx, json_t *pdus) {
    return json_pack("{s:s, s:I, s:o}", "origin", ctx->env->server_name, "origin_server_ts", (json_int_t)ctx->now_ms,
                     "pdus", pdus);
}

void ht_fed_append_seen(ht_ctx *ctx, ht_fed_room *room, const ht_event_row *ev, json_t *list) {
    json_t *pdu = ht_fed_pdu(ctx->env, ev);
    if (pdu && !ht_server_may_see(&room->viewer, ev)) {
        json_t *redacted = ht_pdu_redact(room->version, pdu);
        json_decref(pdu);
        pdu = redacted;
    }
    if (pdu) json_array_append_new(list, pdu);
}

/* The event `event_id` of the room, if the asking server may ask about it:
 * it is in the room, or the event is its own. */
static bool event_in_room(ht_ctx *ctx, const ht_fed_room *room, const char *event_id, ht_event_row *ev,
                          ht_reply *err) {
    bool found = ht_store_event_by_id(ctx->env->store, ctx->arena, event_id, ev) && is(ev->room_id, room->room_id);
    if (!room->viewer.joined && !(found && is(ht_id_server(ev->sender), ctx->origin))) {
        *err = ht_reply_error(HT_M_FORBIDDEN, "The asking server is not in the room.");
        return false;
    }
    if (!found) *err = ht_reply_error(HT_M_NOT_FOUND, "This server has no such event in the room.");
    return found;
}

/* The events, whole, as PDU texts; false once they pass the answer's byte
 * bound, or if one cannot be read. */
static bool read_whole(ht_ctx *ctx, const char *const *ids, size_t n, ht_fed_texts *list, size_t *bytes) {
    *list = (ht_fed_texts){.texts = ht_arena_calloc(ctx->arena, n ? n : 1, sizeof *list->texts)};
    for (size_t i = 0; i < n; i++) {
        ht_event_row row;
        if (!ht_store_event_by_id(ctx->env->store, ctx->arena, ids[i], &row)) return false;
        *bytes += strlen(row.json);
        const char *pdu = *bytes <= HT_FED_MAX_ANSWER_BYTES ? ht_fed_pdu_text(ctx->env, &row) : NULL;
        if (!pdu) return false;
        list->texts[list->count++] = pdu;
    }
    return true;
}

static ht_reply too_large(ht_ctx *ctx, const char *what) {
    return ht_reply_errorf(ctx, HT_M_TOO_LARGE,
                           "%s is larger than this server serves (%d events, %d MiB of events); "
                           "ask for the event ids and fetch the events one by one.",
                           what, HT_FED_MAX_STATE_EVENTS, HT_FED_MAX_ANSWER_BYTES >> 20);
}

/* spec: server-server GET /_matrix/federation/v1/event/{eventId} */
ht_reply ht_fed_event(ht_ctx *ctx) {
    ht_event_row ev;
    ht_fed_room room;
    ht_reply err;
    /* A rejected event is not vouched for: the rules refused it here. */
    if (!ht_store_event_by_id(ctx->env->store, ctx->arena, ht_param_get(ctx, "eventId"), &ev) ||
        ev.status == HT_EVENT_REJECTED)
        return ht_reply_error(HT_M_NOT_FOUND, "This server has no such event.");
    if (!ht_fed_room_open(ctx, ev.room_id, &room, &err)) return err;
    if (!room.viewer.joined && !is(ht_id_server(ev.sender), ctx->origin))
        return ht_reply_error(HT_M_FORBIDDEN, "The asking server is not in the event's room.");
    json_t *pdus = json_array();
    ht_fed_append_seen(ctx, &room, &ev, pdus);
    if (!json_array_size(pdus)) {
        json_decref(pdus);
        return ht_reply_error(HT_M_SERVER_ERROR, "The stored event could not be read.");
    }
    return ht_reply_json(ht_fed_transaction(ctx, pdus));
}

/* The state before the event that `event_id` names, and the auth chain of
 * that state: what /state and /state_ids answer. */
typedef struct state_at {
    ht_fed_room room;
    const char **ids, **chain;
    size_t count, chain_count;
} state_at;

static bool read_state_at(ht_ctx *ctx, state_at *s, ht_reply *err) {
    const char *event_id = ht_request_query(ctx->req, "event_id");
    if (!event_id) {
        *err = ht_reply_error(HT_M_MISSING_PARAM, "event_id, the event to give the state at, is required.");
        return false;
    }
    ht_event_row ev;
    if (!ht_fed_room_open(ctx, ht_param_get(ctx, "roomId"), &s->room, err) ||
        !event_in_room(ctx, &s->room, event_id, &ev, err))
        return false;
    if (ev.status == HT_EVENT_OUTLIER || ev.status == HT_EVENT_REJECTED) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "This server does not know the state at that event.");
        return false;
    }
    if (!ht_server_may_see(&s->room.viewer, &ev)) {
        *err = ht_reply_error(HT_M_FORBIDDEN, "You do not have permission to access the state at the requested event.");
        return false;
    }
    if (!ht_room_state_ids_before(ctx->env, ev.event_id, &s->ids, &s->count)) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "This server does not know the state at that event.");
        return false;
    }
    if (s->count > HT_FED_MAX_STATE_EVENTS ||
        !ht_room_auth_chain(ctx->env, s->ids, NULL, s->count, HT_FED_MAX_STATE_EVENTS, &s->chain, &s->chain_count)) {
        *err = too_large(ctx, "The state at this event");
        return false;
    }
    return true;
}

/* spec: server-server GET /_matrix/federation/v1/state_ids/{roomId} */
ht_reply ht_fed_state_ids(ht_ctx *ctx) {
    state_at s = {0};
    ht_reply err;
    if (!read_state_at(ctx, &s, &err)) return err;
    return ht_reply_json(json_pack("{s:o, s:o}", "pdu_ids", ht_json_string_array(s.ids, s.count), "auth_chain_ids",
                                   ht_json_string_array(s.chain, s.chain_count)));
}

/* spec: server-server GET /_matrix/federation/v1/state/{roomId} */
ht_reply ht_fed_state(ht_ctx *ctx) {
    state_at s = {0};
    ht_reply err;
    if (!read_state_at(ctx, &s, &err)) return err;
    static const char *const names[] = {"pdus", "auth_chain"};
    ht_fed_texts lists[2];
    size_t bytes = 0;
    if (!read_whole(ctx, s.ids, s.count, &lists[0], &bytes) ||
        !read_whole(ctx, s.chain, s.chain_count, &lists[1], &bytes))
        return too_large(ctx, "The state at this event");
    return ht_fed_reply_with_pdus(ctx, json_object(), names, lists, 2);
}

/* spec: server-server GET /_matrix/federation/v1/event_auth/{roomId}/{eventId}
 * The auth chain is served whatever the event's visibility: it is what a
 * server needs to check any event, the redacted ones too, and it holds
 * only state events. */
ht_reply ht_fed_event_auth(ht_ctx *ctx) {
    ht_fed_room room;
    ht_event_row ev;
    ht_reply err;
    if (!ht_fed_room_open(ctx, ht_param_get(ctx, "roomId"), &room, &err) ||
        !event_in_room(ctx, &room, ht_param_get(ctx, "eventId"), &ev, &err))
        return err;
    const char **chain;
    size_t n, bytes = 0;
    static const char *const names[] = {"auth_chain"};
    ht_fed_texts list;
    if (!ht_room_auth_chain(ctx->env, &ev.event_id, NULL, 1, HT_FED_MAX_STATE_EVENTS, &chain, &n) ||
        !read_whole(ctx, chain, n, &list, &bytes))
        return too_large(ctx, "The auth chain of this event");
    return ht_fed_reply_with_pdus(ctx, json_object(), names, &list, 1);
}
