/* send.c -- transactions from other servers (server-server "PUT
 * /_matrix/federation/v1/send/{txnId}"): their PDUs go through the receive
 * path, their EDUs (typing, receipts) where clients read them.
 *
 * A sender retries a transaction until it gets an answer, so the first
 * answer is kept and given again: nothing is processed twice. Each PDU is
 * judged on its own; one that fails is named in the answer, not a reason
 * to refuse the others. A PDU whose prev events we never saw (we missed
 * them, or we were offline) has them fetched from the sender first
 * (/get_missing_events, bounded); a gap longer than that is bridged with
 * the state the sender gives at it (gap.c); what cannot be had either way
 * is answered as an error. */
#include "federation/federation.h"

#include <string.h>

#include "federation/gap.h"
#include "federation/outbox.h"
#include "federation/pdus.h"
#include "http/outbound.h"
#include "matrix/ids.h"
#include "matrix/remote.h"
#include "room/room.h"
#include "store/federation.h"
#include "store/graph.h"
#include "store/meta.h"
#include "store/receipts.h"
#include "store/rooms.h"
#include "store/typing.h"
#include "util/json.h"

enum {
    MAX_PDUS = 50,            /* the spec's bounds on one transaction */
    MAX_EDUS = 100,
    MISSING_LIMIT = 10,       /* events asked for per gap */
    ASK_TIMEOUT_MS = 20000,
    TYPING_MS = 30000,        /* a remote typing notice lasts this long unless renewed */
    TXN_KEEP_MS = 24 * 60 * 60 * 1000,
};

/* The events between our tips and a PDU we cannot place: asked of the
 * sender, taken oldest first. False while it waits. */
static bool fill_gap(ht_ctx *ctx, const char *room_id, const char *version, json_t *pdu) {
    ht_extremity_row *tips;
    size_t n = ht_store_extremities(ctx->env->store, ctx->arena, room_id, 20, &tips);
    json_t *earliest = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(earliest, json_string(tips[i].event_id));
    const char *id = ht_pdu_id(ctx->arena, ht_room_version_get(version), pdu, NULL);
    json_t *body = ht_json_keep(ctx->arena, json_pack("{s:o, s:[s], s:i, s:i}", "earliest_events", earliest,
                                                      "latest_events", id ? id : "", "limit", MISSING_LIMIT,
                                                      "min_depth", 0));
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/get_missing_events/%s",
                                         ht_percent_encode(ctx->arena, room_id));
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, ctx->origin, "POST", target, body, ASK_TIMEOUT_MS, &a)) return false;
    json_t *events = json_object_get(a.json, "events");
    if (a.status != 200 || !json_is_array(events)) return true;
    size_t count = json_array_size(events);
    if (count > MISSING_LIMIT) count = MISSING_LIMIT;
    json_t **list = ht_arena_calloc(ctx->arena, count ? count : 1, sizeof *list);
    for (size_t i = 0; i < count; i++) list[i] = json_array_get(events, i);
    if (!ht_fed_prefetch_keys(ctx, list, count)) return false;
    /* Oldest first: by depth, as the spec suggests ordering them. */
    for (size_t i = 1; i < count; i++)
        for (size_t j = i; j > 0 && json_integer_value(json_object_get(list[j - 1], "depth")) >
                                        json_integer_value(json_object_get(list[j], "depth")); j--) {
            json_t *t = list[j];
            list[j] = list[j - 1];
            list[j - 1] = t;
        }
    for (size_t i = 0; i < count; i++)
        if (json_is_object(list[i]) && ht_str_is(ht_json_str(list[i], "room_id"), room_id))
            ht_room_receive(ctx->env, version, list[i], ht_fed_cached_key, ctx->env, NULL);
    return true;
}

/* One PDU: the answer's entry for it ({} or {error}). False while it waits. */
static bool take_pdu(ht_ctx *ctx, json_t *pdu, json_t *results) {
    const char *room_id = ht_json_str(pdu, "room_id");
    ht_room_row room;
    if (!room_id || !ht_store_room_get(ctx->env->store, ctx->arena, room_id, &room) ||
        !ht_fed_resident(ctx->env, room_id))
        return true; /* not a room we are in: nothing to say per the spec, nothing kept */
    ht_received r = ht_room_receive(ctx->env, room.version, pdu, ht_fed_cached_key, ctx->env, NULL);
    if (r.outcome == HT_RECEIVED_MISSING) {
        if (!fill_gap(ctx, room_id, room.version, pdu)) return false;
        r = ht_room_receive(ctx->env, room.version, pdu, ht_fed_cached_key, ctx->env, NULL);
        if (!ht_fed_bridge_gap(ctx, room_id, room.version, pdu, &r)) return false;
    }
    if (!r.event_id) return true;
    json_t *entry = json_object();
    if (r.outcome == HT_RECEIVED_MISSING)
        json_object_set_new(entry, "error", json_string("Some of its prev or auth events could not be fetched."));
    else if (r.outcome == HT_RECEIVED_DROPPED || r.outcome == HT_RECEIVED_REJECTED)
        json_object_set_new(entry, "error", json_string(r.reason ? r.reason : "refused"));
    json_object_set_new(results, r.event_id, entry);
    return true;
}

/* m.typing: {room_id, user_id, typing}, for a user of the sender, in a
 * room they are joined to. */
static void take_typing(ht_ctx *ctx, json_t *content) {
    const char *room_id = ht_json_str(content, "room_id"), *user_id = ht_json_str(content, "user_id");
    json_t *typing = json_object_get(content, "typing");
    if (!room_id || !user_id || !json_is_boolean(typing) || !ht_str_is(ht_id_server(user_id), ctx->origin)) return;
    const char *m = ht_store_membership_get(ctx->env->store, ctx->arena, room_id, user_id, NULL, NULL);
    if (!ht_str_is(m, "join")) return;
    int64_t expires;
    bool was = ht_store_typing_get(ctx->env->store, room_id, user_id, &expires) && expires > ctx->now_ms;
    if (json_is_true(typing)) ht_store_typing_set(ctx->env->store, room_id, user_id, ctx->now_ms + TYPING_MS);
    else ht_store_typing_delete(ctx->env->store, room_id, user_id);
    if (was != json_is_true(typing))
        ht_store_typing_mark(ctx->env->store, room_id, (int64_t)ht_store_stream_advance(ctx->env->store));
}

/* m.receipt: {room_id: {receipt type: {user_id: {event_ids, data}}}}. */
static void take_receipts(ht_ctx *ctx, json_t *content) {
    const char *room_id;
    json_t *by_type;
    json_object_foreach(content, room_id, by_type) {
        json_t *users = json_object_get(by_type, "m.read");
        const char *user_id;
        json_t *receipt;
        json_object_foreach(users, user_id, receipt) {
            if (!ht_str_is(ht_id_server(user_id), ctx->origin)) continue;
            const char *event_id = json_string_value(json_array_get(json_object_get(receipt, "event_ids"), 0));
            ht_event_row ev;
            if (!event_id || !ht_store_event_by_id(ctx->env->store, ctx->arena, event_id, &ev) ||
                !ht_str_is(ev.room_id, room_id))
                continue;
            const char *thread = ht_json_str(json_object_get(receipt, "data"), "thread_id");
            ht_receipt_row row = {.user_id = user_id, .type = "m.read", .thread_id = thread ? thread : "",
                                  .event_id = event_id, .event_stream = ev.stream,
                                  .ts = json_integer_value(json_object_get(json_object_get(receipt, "data"), "ts")),
                                  .stream = (int64_t)ht_store_stream_advance(ctx->env->store)};
            ht_receipt_row old;
            if (ht_store_receipt_get(ctx->env->store, ctx->arena, room_id, user_id, "m.read", row.thread_id, &old) &&
                old.event_stream >= ev.stream)
                continue; /* receipts only move forward */
            ht_store_receipt_set(ctx->env->store, room_id, &row);
        }
    }
}

ht_reply ht_fed_send(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    const char *txn_id = ht_param_get(ctx, "txnId");
    json_t *pdus = json_object_get(body, "pdus"), *edus = json_object_get(body, "edus");
    if (!json_is_array(pdus) || (edus && !json_is_array(edus)))
        return ht_reply_error(HT_M_BAD_JSON, "A transaction needs a pdus list (and edus, if any, a list).");
    if (json_array_size(pdus) > MAX_PDUS || json_array_size(edus) > MAX_EDUS)
        return ht_reply_status_error(400, HT_M_TOO_LARGE, "A transaction carries at most 50 PDUs and 100 EDUs.");
    const char *origin = ht_json_str(body, "origin");
    if (origin && strcmp(origin, ctx->origin) != 0)
        return ht_reply_error(HT_M_FORBIDDEN, "The transaction's origin is not the server that signed it.");
    const char *done = ht_store_fed_txn_get(ctx->env->store, ctx->arena, ctx->origin, txn_id);
    if (done) return ht_reply_json(json_loads(done, 0, NULL));

    size_t n = json_array_size(pdus);
    json_t **list = ht_arena_calloc(ctx->arena, n ? n : 1, sizeof *list);
    for (size_t i = 0; i < n; i++) list[i] = json_array_get(pdus, i);
    if (!ht_fed_prefetch_keys(ctx, list, n)) return (ht_reply){0};
    json_t *results = ht_json_keep(ctx->arena, json_object());
    bool waiting = false;
    for (size_t i = 0; i < n; i++)
        if (json_is_object(list[i]) && !take_pdu(ctx, list[i], results)) waiting = true;
    if (waiting) return (ht_reply){0};
    size_t i;
    json_t *edu;
    json_array_foreach(edus, i, edu) {
        const char *type = ht_json_str(edu, "edu_type");
        json_t *content = json_object_get(edu, "content");
        if (ht_str_is(type, "m.typing")) take_typing(ctx, content);
        else if (ht_str_is(type, "m.receipt")) take_receipts(ctx, content);
        else if (ht_str_is(type, "m.device_list_update")) ht_fed_take_device_list_update(ctx, content);
        else if (ht_str_is(type, "m.signing_key_update")) ht_fed_take_signing_key_update(ctx, content);
        else if (ht_str_is(type, "m.direct_to_device")) ht_fed_take_to_device(ctx, content);
        else if (ht_str_is(type, "m.presence")) ht_fed_take_presence(ctx, content);
    }
    json_t *answer = json_pack("{s:O}", "pdus", results);
    ht_store_fed_txn_put(ctx->env->store, ctx->origin, txn_id, ht_json_dump(ctx->arena, answer), ctx->now_ms);
    ht_store_fed_txn_expire(ctx->env->store, ctx->now_ms - TXN_KEEP_MS);
    return ht_reply_json(answer);
}
