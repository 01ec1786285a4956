/* capabilities.c -- the questions a client asks when it starts, and
 * reporting content.
 *
 * The answers describe this server honestly: one room version, no
 * third-party identifiers, no TURN server, no bridges. */
#include "api/capabilities.h"

#include <string.h>

#include "api/room_access.h"
#include "matrix/ids.h"
#include "room/room.h"
#include "store/directory.h"
#include "store/store.h"
#include "util/json.h"

enum { MAX_REASON_BYTES = 4096 };

ht_reply ht_api_capabilities(ht_ctx *ctx) {
    (void)ctx;
    return ht_reply_json(json_pack(
        "{s:{s:{s:b}, s:{s:s, s:{s:s, s:s}}, s:{s:b}, s:{s:b}, s:{s:b}}}", "capabilities", "m.change_password",
        "enabled", 1, "m.room_versions", "default", HT_ROOM_VERSION_DEFAULT, "available", "10",
        "stable", "11", "stable", "m.set_displayname", "enabled", 1, "m.set_avatar_url",
        "enabled", 1, "m.3pid_changes", "enabled", 0));
}

/* There is no TURN server. The spec's answer has four required fields, but
 * matrix-js-sdk turns any `uris` it sees (even []) into an ICE server entry,
 * and browsers refuse an ICE server without URLs, which breaks 1:1 calls.
 * An empty object is what Synapse answers without TURN, and what clients
 * expect: they fall back to STUN or direct connections. */
ht_reply ht_api_turn_server(ht_ctx *ctx) {
    (void)ctx;
    return ht_reply_empty();
}

ht_reply ht_api_thirdparty_protocols(ht_ctx *ctx) {
    (void)ctx;
    return ht_reply_empty();
}

/* Accounts have no e-mail addresses or phone numbers here (and
 * m.3pid_changes says they cannot get any). */
ht_reply ht_api_account_3pids(ht_ctx *ctx) {
    (void)ctx;
    return ht_reply_json(json_pack("{s:[]}", "threepids"));
}

ht_reply ht_api_report_event(ht_ctx *ctx) {
    const char *room_id;
    json_t *body;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *reason = json_object_get(body, "reason");
    json_t *score = json_object_get(body, "score");
    if (reason && !json_is_string(reason) && !json_is_null(reason))
        return ht_reply_error(HT_M_BAD_JSON, "reason must be a string.");
    if (json_string_length(reason) > MAX_REASON_BYTES)
        return ht_reply_error(HT_M_INVALID_PARAM, "reason is too long.");
    /* score was dropped from the spec in v1.18; older clients still send it. */
    if (score && !json_is_integer(score)) return ht_reply_error(HT_M_BAD_JSON, "score must be an integer.");
    if (score && (json_integer_value(score) < -100 || json_integer_value(score) > 0))
        return ht_reply_error(HT_M_INVALID_PARAM, "score must be between -100 and 0.");

    /* Not joined, unknown, invisible or redacted: the same answer, so a
     * report tells nothing about a room one cannot read. */
    const char *event_id = ht_param_get(ctx, "eventId");
    ht_event_row row;
    ht_reply no_such = ht_reply_error(HT_M_NOT_FOUND, "The event was not found or you are not joined to the room.");
    if (!ht_room_require_joined(ctx, room_id, &err)) return no_such;
    if (!ht_event_id_valid(event_id) || !ht_store_event_by_id(ctx->env->store, ctx->arena, event_id, &row) ||
        strcmp(row.room_id, room_id) != 0 || row.redacted_by ||
        !ht_room_event_visible(ctx->env, ctx->auth.user_id, &row))
        return no_such;
    int64_t value = score ? json_integer_value(score) : 0;
    if (!ht_store_report_insert(ctx->env->store, room_id, event_id, ctx->auth.user_id,
                                json_string_value(reason), score ? &value : NULL, ctx->now_ms))
        return ht_reply_error(HT_M_SERVER_ERROR, "The report could not be stored.");
    return ht_reply_empty();
}
