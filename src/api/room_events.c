/* room_events.c -- sending and reading single events and room state:
 * /send, /redact, /state, /event, /members, /joined_members. */
#include <stdio.h>
#include <string.h>

#include "api/directory.h"
#include "api/filter.h"
#include "api/profile.h"
#include "api/room_access.h"
#include "api/rooms.h"
#include "api/sync_write.h"
#include "matrix/ids.h"
#include "room/room.h"
#include "store/accounts.h"
#include "store/relations.h"
#include "store/store.h"
#include "util/json.h"
#include "util/json_scan.h"

enum { MAX_TXN_ID_BYTES = 255 };

static const ht_viewer *viewer(ht_ctx *ctx) {
    ht_viewer *v = ht_arena_alloc(ctx->arena, sizeof *v);
    v->user_id = ctx->auth.user_id;
    v->device_id = ctx->auth.device_id;
    return v;
}

/* The spec makes a request a retransmission when both its transaction id
 * and its HTTP path are the same as before (from the same device): the same
 * txnId sent to another room, or used for a redaction, is a new request. So
 * the transaction remembered (store/txn_keys.c) is the path after the
 * version prefix (it ends with the txnId), each decoded segment
 * length-prefixed to stay unambiguous. */
static const char *txn_key(ht_ctx *ctx) {
    size_t size = 1;
    for (size_t i = 3; i < ctx->req->segment_count; i++) size += 21 + 1 + strlen(ctx->req->segments[i]);
    char *key = ht_arena_alloc(ctx->arena, size), *at = key;
    for (size_t i = 3; i < ctx->req->segment_count; i++) {
        const char *segment = ctx->req->segments[i];
        size_t len = strlen(segment);
        at += snprintf(at, (size_t)(key + size - at), "%zu:", len);
        memcpy(at, segment, len);
        at += len;
    }
    *at = '\0';
    return key;
}

/* A transaction already seen from this device answers with its event. */
static bool txn_seen(ht_ctx *ctx, ht_reply *reply) {
    const char *event_id = ht_store_txn_get(ctx->env->store, ctx->arena, ctx->auth.user_id,
                                            ctx->auth.device_id, txn_key(ctx));
    if (!event_id) return false;
    *reply = ht_reply_json(json_pack("{s:s}", "event_id", event_id));
    return true;
}

static ht_reply send_with_txn(ht_ctx *ctx, ht_new_event *ev) {
    const char *event_id;
    int64_t stream;
    ht_error e = ht_room_send(ctx->env, ev, &event_id, &stream);
    if (e.code) return (ht_reply){.error = e};
    if (ev->txn_id)
        ht_store_txn_put(ctx->env->store, ctx->auth.user_id, ctx->auth.device_id, txn_key(ctx), stream);
    return ht_reply_json(json_pack("{s:s}", "event_id", event_id));
}

static bool txn_param(ht_ctx *ctx, const char **txn_id, ht_reply *err) {
    const char *t = ht_param_get(ctx, "txnId");
    if (!t || !*t || strlen(t) > MAX_TXN_ID_BYTES) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "The transaction id must be 1 to 255 bytes.");
        return false;
    }
    *txn_id = t;
    return true;
}

ht_reply ht_api_send(ht_ctx *ctx) {
    const char *room_id, *txn_id;
    json_t *content;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !txn_param(ctx, &txn_id, &err)) return err;
    if (txn_seen(ctx, &err)) return err;
    if (!ht_body_object(ctx, &content, &err)) return err;
    const char *type = ht_param_get(ctx, "eventType");
    if (!*type) return ht_reply_error(HT_M_INVALID_PARAM, "The event type may not be empty.");
    ht_new_event ev = {.room_id = room_id, .type = type, .sender = ctx->auth.user_id,
                       .content = content, .txn_id = txn_id, .device_id = ctx->auth.device_id};
    return send_with_txn(ctx, &ev);
}

ht_reply ht_api_redact(ht_ctx *ctx) {
    const char *room_id, *txn_id;
    json_t *body;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !txn_param(ctx, &txn_id, &err)) return err;
    if (txn_seen(ctx, &err)) return err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    const char *target = ht_param_get(ctx, "eventId");
    if (!ht_event_id_valid(target)) return ht_reply_error(HT_M_INVALID_PARAM, "That is not a valid event id.");
    json_t *reason = json_object_get(body, "reason");
    if (reason && !json_is_string(reason)) return ht_reply_error(HT_M_BAD_JSON, "reason must be a string.");
    json_t *content = ht_json_keep(ctx->arena, json_object());
    if (reason) json_object_set(content, "reason", reason);
    ht_new_event ev = {.room_id = room_id, .type = "m.room.redaction", .sender = ctx->auth.user_id,
                       .content = content, .redacts = target, .txn_id = txn_id,
                       .device_id = ctx->auth.device_id};
    return send_with_txn(ctx, &ev);
}

bool ht_room_state_content_ok(ht_ctx *ctx, const char *room_id, const char *type, json_t *content,
                              ht_reply *err) {
    if (strcmp(type, "m.room.canonical_alias") == 0)
        return ht_directory_check_canonical_alias(ctx, room_id, content, err);
    if (strcmp(type, "m.room.member") == 0) {
        json_t *name = json_object_get(content, "displayname"), *avatar = json_object_get(content, "avatar_url");
        if (json_string_length(name) > HT_MAX_DISPLAYNAME_BYTES ||
            json_string_length(avatar) > HT_MAX_AVATAR_URL_BYTES) {
            *err = ht_reply_error(HT_M_INVALID_PARAM, "A member's displayname may be at most 256 bytes and "
                                                      "avatar_url 1000, as in a profile.");
            return false;
        }
    }
    return true;
}

static const char *state_key_param(ht_ctx *ctx) {
    const char *key = ht_param_get(ctx, "stateKey");
    return key ? key : "";
}

ht_reply ht_api_state_put(ht_ctx *ctx) {
    const char *room_id;
    json_t *content;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    if (!ht_body_object(ctx, &content, &err)) return err;
    const char *type = ht_param_get(ctx, "eventType");
    const char *key = state_key_param(ctx);
    if (!*type) return ht_reply_error(HT_M_INVALID_PARAM, "The event type may not be empty.");
    if (!ht_room_state_content_ok(ctx, room_id, type, content, &err)) return err;

    /* Setting state to what it already is from the same sender is a no-op
     * that answers with the existing event, as clients retry PUTs. */
    int64_t current = ht_store_state_get(ctx->env->store, room_id, type, key);
    ht_event_row row;
    if (current && ht_store_event_by_stream(ctx->env->store, ctx->arena, current, &row) &&
        strcmp(row.sender, ctx->auth.user_id) == 0 && !row.redacted_by &&
        json_equal(ht_room_event_content(ctx->arena, &row), content)) {
        const char *membership = ht_store_membership_get(ctx->env->store, ctx->arena, room_id,
                                                         ctx->auth.user_id, NULL, NULL);
        if (membership && strcmp(membership, "join") == 0)
            return ht_reply_json(json_pack("{s:s}", "event_id", row.event_id));
    }
    ht_new_event ev = {.room_id = room_id, .type = type, .state_key = key,
                       .sender = ctx->auth.user_id, .content = content};
    return send_with_txn(ctx, &ev);
}

ht_reply ht_api_state_get(ht_ctx *ctx) {
    const char *room_id;
    int64_t upto;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !ht_room_read_limit(ctx, room_id, &upto, &err)) return err;
    const char *type = ht_param_get(ctx, "eventType");
    const char *key = state_key_param(ctx);
    int64_t stream = upto ? ht_store_state_at(ctx->env->store, room_id, type, key, upto)
                          : ht_store_state_get(ctx->env->store, room_id, type, key);
    ht_event_row row;
    if (!stream || !ht_store_event_by_stream(ctx->env->store, ctx->arena, stream, &row))
        return ht_reply_error(HT_M_NOT_FOUND, "The room has no such state.");
    const char *format = ht_request_query(ctx->req, "format");
    if (format && strcmp(format, "event") == 0)
        return ht_reply_json(ht_room_event_json(ctx->env, &row, viewer(ctx), ctx->now_ms, true));
    return ht_reply_json(json_incref(ht_room_event_content(ctx->arena, &row)));
}

ht_reply ht_api_state_all(ht_ctx *ctx) {
    const char *room_id;
    int64_t upto;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !ht_room_read_limit(ctx, room_id, &upto, &err)) return err;
    int64_t *streams;
    size_t n = ht_store_state_list(ctx->env->store, ctx->arena, room_id, upto, &streams);
    /* A big room's state is mostly its members: written as text, as the
     * member lists below are. */
    bool threads = ht_store_room_has_threads(ctx->env->store, room_id);
    ht_buf out = {0};
    ht_buf_append(&out, "[", 1);
    size_t written = 0;
    for (size_t i = 0; i < n; i++) {
        ht_event_row row;
        if (!ht_store_event_by_stream(ctx->env->store, ctx->arena, streams[i], &row)) continue;
        if (written++) ht_buf_append(&out, ",", 1);
        ht_sync_write_event(ctx, &out, &row, threads, true);
    }
    ht_buf_append(&out, "]", 1);
    return ht_reply_json_text(ctx, &out);
}

ht_reply ht_api_event_get(ht_ctx *ctx) {
    const char *room_id;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    const char *event_id = ht_param_get(ctx, "eventId");
    ht_event_row row;
    if (!ht_event_id_valid(event_id) ||
        !ht_store_event_by_id(ctx->env->store, ctx->arena, event_id, &row) ||
        strcmp(row.room_id, room_id) != 0 ||
        !ht_room_event_visible(ctx->env, ctx->auth.user_id, &row))
        return ht_reply_error(HT_M_NOT_FOUND, "No such event, or you may not see it.");
    return ht_reply_json(ht_room_event_json(ctx->env, &row, viewer(ctx), ctx->now_ms, true));
}

/* The member lists below are a big room's whole membership in one answer
 * (5,000 events): written as text from the stored events
 * (api/sync_write.h), not built as a jansson tree of parsed events. */
ht_reply ht_api_members(ht_ctx *ctx) {
    const char *room_id;
    int64_t upto;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !ht_room_read_limit(ctx, room_id, &upto, &err)) return err;
    const char *only = ht_request_query(ctx->req, "membership");
    const char *except = ht_request_query(ctx->req, "not_membership");
    const char *at = ht_request_query(ctx->req, "at");
    if (at) {
        int64_t pos;
        if (!ht_stream_token_parse(at, &pos))
            return ht_reply_error(HT_M_INVALID_PARAM, "at is not a valid token.");
        if (!upto || pos < upto) upto = pos > 0 ? pos : 1;
    }
    ht_membership_row *rows;
    size_t n = ht_store_members_of_room(ctx->env->store, ctx->arena, room_id, &rows);
    bool threads = ht_store_room_has_threads(ctx->env->store, room_id);
    ht_buf out = {0};
    ht_buf_puts(&out, "{\"chunk\":[");
    size_t written = 0;
    for (size_t i = 0; i < n; i++) {
        /* A member whose event is from before `upto` had it then too: only
         * one changed since is looked up as it was. */
        bool current = !upto || rows[i].stream <= upto;
        int64_t stream =
            current ? rows[i].stream : ht_store_state_at(ctx->env->store, room_id, "m.room.member", rows[i].user_id, upto);
        ht_event_row row;
        if (!stream || !ht_store_event_by_stream(ctx->env->store, ctx->arena, stream, &row)) continue;
        const char *membership =
            current ? rows[i].membership : ht_json_str(ht_room_event_content(ctx->arena, &row), "membership");
        if (!membership || (only && strcmp(membership, only) != 0) || (except && strcmp(membership, except) == 0))
            continue;
        if (written++) ht_buf_append(&out, ",", 1);
        ht_sync_write_event(ctx, &out, &row, threads, true);
    }
    ht_buf_puts(&out, "]}");
    return ht_reply_json_text(ctx, &out);
}

/* A member event's display name and avatar as /joined_members names them:
 * the content's strings, copied as stored (one scan of the event's text),
 * or, for a text the scan cannot vouch for, from its parsed content. */
static void write_profile(ht_ctx *ctx, ht_buf *out, const ht_event_row *row) {
    static const char *const keys[] = {"displayname", "avatar_url"}, *const names[] = {"display_name", "avatar_url"};
    ht_json_span values[2];
    const char *content;
    size_t len;
    if (!ht_sync_stored_content(row->json, &content, &len) || !ht_json_top_members(content, keys, 2, values)) {
        json_t *parsed = ht_room_event_content(ctx->arena, row);
        for (int k = 0; k < 2; k++) {
            const char *s = ht_json_str(parsed, keys[k]);
            values[k].start = s ? ht_json_dump(ctx->arena, ht_json_keep(ctx->arena, json_string(s))) : NULL;
            values[k].len = s ? strlen(values[k].start) : 0;
        }
    }
    bool first = true;
    for (int k = 0; k < 2; k++) {
        if (!values[k].start || *values[k].start != '"') continue;
        ht_buf_printf(out, "%s\"%s\":", first ? "" : ",", names[k]);
        ht_buf_append(out, values[k].start, values[k].len);
        first = false;
    }
}

ht_reply ht_api_joined_members(ht_ctx *ctx) {
    const char *room_id;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !ht_room_require_joined(ctx, room_id, &err)) return err;
    ht_membership_row *rows;
    size_t n = ht_store_members_of_room(ctx->env->store, ctx->arena, room_id, &rows);
    ht_buf out = {0};
    ht_buf_puts(&out, "{\"joined\":{");
    size_t written = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].membership, "join") != 0) continue;
        ht_event_row row;
        if (!ht_store_event_by_stream(ctx->env->store, ctx->arena, rows[i].stream, &row)) continue;
        if (written++) ht_buf_append(&out, ",", 1);
        ht_sync_write_string(&out, rows[i].user_id);
        ht_buf_append(&out, ":{", 2);
        write_profile(ctx, &out, &row);
        ht_buf_append(&out, "}", 1);
    }
    ht_buf_puts(&out, "}}");
    return ht_reply_json_text(ctx, &out);
}
