/* receipts.c -- POST /rooms/{roomId}/receipt/{receiptType}/{eventId} and
 * POST /rooms/{roomId}/read_markers.
 *
 * m.read and m.read.private are receipts (store/receipts.h), one per
 * user, type and thread; m.fully_read is the user's room account data.
 * All of them only move forward: a receipt for an older event than the one
 * already held changes nothing, so a slow device cannot rewind a fast one. */
#include "api/receipts.h"

#include <string.h>

#include "api/account_data.h"
#include "api/room_access.h"
#include "federation/outbox.h"
#include "matrix/ids.h"
#include "room/room.h"
#include "store/account_data.h"
#include "store/meta.h"
#include "store/receipts.h"
#include "store/store.h"
#include "util/json.h"

/* The event, which must be in the room and visible to the caller. */
static bool room_event(ht_ctx *ctx, const char *room_id, const char *event_id, ht_event_row *row, ht_reply *err) {
    if (!event_id || !ht_event_id_valid(event_id) ||
        !ht_store_event_by_id(ctx->env->store, ctx->arena, event_id, row) || strcmp(row->room_id, room_id) != 0 ||
        !ht_room_event_visible(ctx->env, ctx->auth.user_id, row)) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "There is no such event in this room.");
        return false;
    }
    return true;
}

static bool set_receipt(ht_ctx *ctx, const char *room_id, const char *type, const char *thread_id,
                        const ht_event_row *ev) {
    ht_store *store = ctx->env->store;
    ht_receipt_row old;
    if (ht_store_receipt_get(store, ctx->arena, room_id, ctx->auth.user_id, type, thread_id, &old) &&
        old.event_stream >= ev->stream)
        return true;
    ht_receipt_row row = {ctx->auth.user_id, type, thread_id, ev->event_id, ev->stream, ctx->now_ms,
                          (int64_t)ht_store_stream_advance(store)};
    if (!ht_store_receipt_set(store, room_id, &row)) return false;
    if (strcmp(type, "m.read") != 0) return true; /* private receipts stay here */
    json_t *data = json_pack("{s:I}", "ts", (json_int_t)ctx->now_ms);
    if (*thread_id) json_object_set_new(data, "thread_id", json_string(thread_id));
    return ht_outbox_queue_room_edu(
        ctx->env, room_id, "m.receipt",
        json_pack("{s:{s:{s:{s:[s],s:o}}}}", room_id, "m.read", ctx->auth.user_id, "event_ids", ev->event_id,
                  "data", data));
}

static bool set_fully_read(ht_ctx *ctx, const char *room_id, const ht_event_row *ev) {
    const char *text = ht_store_account_data_get(ctx->env->store, ctx->arena, ctx->auth.user_id, room_id,
                                                 "m.fully_read");
    const char *old_id = ht_json_str(ht_json_parse(ctx->arena, text), "event_id");
    ht_event_row old;
    if (old_id && ht_store_event_by_id(ctx->env->store, ctx->arena, old_id, &old) && old.stream >= ev->stream)
        return true;
    json_t *content = ht_json_keep(ctx->arena, json_pack("{s:s}", "event_id", ev->event_id));
    return ht_account_data_set(ctx, room_id, "m.fully_read", content);
}

/* The thread an event is in: its m.thread root, or "main". */
static const char *thread_of(ht_ctx *ctx, const ht_event_row *ev) {
    json_t *rel = json_object_get(ht_room_event_content(ctx->arena, ev), "m.relates_to");
    const char *type = ht_json_str(rel, "rel_type");
    const char *root = ht_json_str(rel, "event_id");
    return type && root && strcmp(type, "m.thread") == 0 ? root : "main";
}

/* thread_id: absent (unthreaded, ""), "main", or the root of the event's
 * thread; the event must belong to it. */
static bool check_thread(ht_ctx *ctx, json_t *body, const char *type, const ht_event_row *ev,
                         const char **thread_id, ht_reply *err) {
    json_t *t = json_object_get(body, "thread_id");
    *thread_id = "";
    if (!t) return true;
    if (!json_is_string(t) || !json_string_length(t)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "thread_id must be a non-empty string.");
        return false;
    }
    if (strcmp(type, "m.fully_read") == 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "m.fully_read markers have no thread_id.");
        return false;
    }
    const char *wanted = json_string_value(t);
    const char *actual = thread_of(ctx, ev);
    bool is_root = strcmp(wanted, ev->event_id) == 0;
    if (strcmp(wanted, actual) != 0 && !(is_root && strcmp(actual, "main") == 0)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "That event is not in the thread given by thread_id.");
        return false;
    }
    *thread_id = wanted;
    return true;
}

ht_reply ht_api_receipt(ht_ctx *ctx) {
    const char *room_id, *thread_id;
    json_t *body;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    const char *type = ht_param_get(ctx, "receiptType");
    if (strcmp(type, "m.read") != 0 && strcmp(type, "m.read.private") != 0 && strcmp(type, "m.fully_read") != 0)
        return ht_reply_error(HT_M_INVALID_PARAM, "The receipt type must be m.read, m.read.private or m.fully_read.");
    if (!ht_room_require_joined(ctx, room_id, &err) || !ht_body_object(ctx, &body, &err)) return err;
    ht_event_row ev;
    if (!room_event(ctx, room_id, ht_param_get(ctx, "eventId"), &ev, &err)) return err;
    if (!check_thread(ctx, body, type, &ev, &thread_id, &err)) return err;
    bool ok = strcmp(type, "m.fully_read") == 0 ? set_fully_read(ctx, room_id, &ev)
                                                : set_receipt(ctx, room_id, type, thread_id, &ev);
    if (!ok) return ht_reply_error(HT_M_SERVER_ERROR, "The receipt could not be stored.");
    return ht_reply_empty();
}

ht_reply ht_api_read_markers(ht_ctx *ctx) {
    const char *room_id;
    json_t *body;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    if (!ht_room_require_joined(ctx, room_id, &err) || !ht_body_object(ctx, &body, &err)) return err;
    static const char *const keys[] = {"m.fully_read", "m.read", "m.read.private"};
    ht_event_row events[3];
    bool given[3];
    /* Check everything before changing anything. */
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(body, keys[i]);
        given[i] = v != NULL;
        if (v && !json_is_string(v)) return ht_reply_errorf(ctx, HT_M_BAD_JSON, "%s must be an event id.", keys[i]);
        if (v && !room_event(ctx, room_id, json_string_value(v), &events[i], &err)) return err;
    }
    bool ok = true;
    if (given[0]) ok = set_fully_read(ctx, room_id, &events[0]);
    for (size_t i = 1; i < 3; i++)
        if (given[i]) ok = ok && set_receipt(ctx, room_id, keys[i], "", &events[i]);
    if (!ok) return ht_reply_error(HT_M_SERVER_ERROR, "The read markers could not be stored.");
    return ht_reply_empty();
}
