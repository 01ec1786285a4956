/* invite.c -- invites across servers, and leaving a room we are not in.
 *
 * Inviting another server's user: the invite event is built and signed
 * here, sent to the invitee's server (PUT /v2/invite), which signs it too,
 * and only then stored and sent to the room. Being invited: the event is
 * signed by us and kept as an outlier with the room's stripped state (we
 * may know nothing else of the room), so the invitee's sync shows it.
 * Declining, or leaving a room no user of ours is joined to, goes through
 * a resident server (make_leave, send_leave); if none answers, the leave is
 * local only, as the spec allows for a rejected invite.
 *
 * spec: server-server "PUT /_matrix/federation/v2/invite/{roomId}/{eventId}",
 * "Leaving Rooms (Rejecting Invites)". */
#include "federation/federation.h"

#include <stdlib.h>
#include <string.h>

#include "federation/pdus.h"
#include "http/outbound.h"
#include "matrix/ids.h"
#include "matrix/remote.h"
#include "room/pdu.h"
#include "room/room.h"
#include "store/accounts.h"
#include "store/federation.h"
#include "store/meta.h"
#include "store/rooms.h"
#include "util/json.h"

enum {
    ASK_TIMEOUT_MS = 30000,
};

ht_reply ht_fed_invite(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    const char *version = ht_json_str(body, "room_version");
    json_t *pdu = json_object_get(body, "event");
    if (!version || !json_is_object(pdu)) return ht_reply_error(HT_M_BAD_JSON, "room_version and event are required.");
    const ht_room_version *v = ht_room_version_get(version);
    if (!v) {
        ht_reply r = ht_reply_error(HT_M_INCOMPATIBLE_ROOM_VERSION, "This server does not know that room version.");
        r.error_extra = json_pack("{s:s}", "room_version", version);
        return r;
    }
    const char *sender = ht_json_str(pdu, "sender"), *invitee = ht_json_str(pdu, "state_key");
    ht_user_row user;
    if (!ht_str_is(ht_json_str(pdu, "type"), "m.room.member") ||
        !ht_str_is(ht_json_str(json_object_get(pdu, "content"), "membership"), "invite") || !sender ||
        !ht_str_is(ht_id_server(sender), ctx->origin) || !ht_str_is(ht_json_str(pdu, "room_id"), ht_param_get(ctx, "roomId")))
        return ht_reply_errorf(ctx, HT_M_BAD_JSON, "The event must be an invite by a user of %s into this room.",
                               ctx->origin);
    if (!invitee || !ht_str_is(ht_id_server(invitee), ctx->env->server_name) ||
        !ht_store_user_get(ctx->env->store, ctx->arena, invitee, &user) || user.deactivated)
        return ht_reply_error(HT_M_NOT_FOUND, "There is no such user on this server.");
    if (!ht_str_is(ht_pdu_id(ctx->arena, v, pdu, NULL), ht_param_get(ctx, "eventId")))
        return ht_reply_error(HT_M_BAD_JSON, "The event's id is not the one in the path.");
    if (!ht_fed_prefetch_keys(ctx, &pdu, 1)) return (ht_reply){0};
    json_t *invite_state = json_object_get(body, "invite_room_state");
    ht_received r = ht_room_take_invite(ctx->env, version, pdu,
                                        json_is_array(invite_state) ? ht_fed_kept_stripped_state(ctx, invite_state) : NULL,
                                        ht_fed_cached_key, ctx->env);
    if (r.outcome == HT_RECEIVED_DROPPED) return ht_reply_errorf(ctx, HT_M_FORBIDDEN, "%s", r.reason);
    /* Our signature: the invitee's server agrees to the invite. */
    json_t *signed_pdu = json_deep_copy(pdu);
    ht_pdu_sign(v, signed_pdu, ctx->env->server_name, ctx->env->signing_key);
    return ht_reply_json(json_pack("{s:o}", "event", signed_pdu));
}

bool ht_fed_invite_remote(ht_ctx *ctx, const char *room_id, const char *invitee, json_t *content, ht_reply *out) {
    ht_room_row room;
    if (!ht_store_room_get(ctx->env->store, ctx->arena, room_id, &room)) {
        *out = ht_reply_error(HT_M_NOT_FOUND, "There is no room with that id on this server.");
        return true;
    }
    ht_new_event ev = {.room_id = room_id, .type = "m.room.member", .state_key = invitee, .sender = ctx->auth.user_id,
                       .content = content};
    json_t *pdu;
    const char *event_id;
    ht_error e = ht_room_make(ctx->env, &ev, &pdu, &event_id);
    if (e.code) {
        *out = (ht_reply){.error = e};
        return true;
    }
    /* The event's time is the request's, so every pass asks the same. */
    (void)pdu;
    const char *server = ht_id_server(invitee);
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v2/invite/%s/%s",
                                         ht_percent_encode(ctx->arena, room_id), ht_percent_encode(ctx->arena, event_id));
    json_t *body = ht_json_keep(ctx->arena, json_pack("{s:s, s:O, s:o}", "room_version", room.version, "event", pdu,
                                                      "invite_room_state", ht_fed_stripped_state(ctx, room_id)));
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, server, "PUT", target, body, ASK_TIMEOUT_MS, &a)) return false;
    json_t *signed_pdu = json_object_get(a.json, "event");
    const ht_room_version *v = ht_room_version_get(room.version);
    if (a.status != 200 || !json_is_object(signed_pdu) || !ht_str_is(ht_pdu_id(ctx->arena, v, signed_pdu, NULL), event_id) ||
        !json_object_get(json_object_get(signed_pdu, "signatures"), server)) {
        *out = ht_reply_status_error(a.status >= 400 && a.status < 500 ? 403 : 502, HT_M_FORBIDDEN,
                                     ht_arena_printf(ctx->arena, "%s did not accept the invite: %s", server,
                                                     a.error                        ? a.error
                                                     : ht_json_str(a.json, "error") ? ht_json_str(a.json, "error")
                                                                                    : "its answer is not a signed invite"));
        return true;
    }
    if (!ht_fed_prefetch_keys(ctx, &signed_pdu, 1)) return false;
    ht_received r = ht_room_receive(ctx->env, room.version, signed_pdu, ht_fed_cached_key, ctx->env, NULL);
    if (r.outcome != HT_RECEIVED_TIMELINE && r.outcome != HT_RECEIVED_DUPLICATE) {
        *out = ht_reply_errorf(ctx, HT_M_FORBIDDEN, "The invite could not be stored: %s", r.reason ? r.reason : "?");
        return true;
    }
    *out = ht_reply_empty();
    return true;
}

/* The servers a room we are not in can be left through: the one that
 * invited us, then the room id's. */
static size_t leave_servers(ht_ctx *ctx, const char *room_id, const char **out) {
    size_t n = 0;
    int64_t stream;
    const char *m = ht_store_membership_get(ctx->env->store, ctx->arena, room_id, ctx->auth.user_id, &stream, NULL);
    ht_event_row row;
    if (m && stream && ht_store_event_by_stream(ctx->env->store, ctx->arena, stream, &row))
        out[n++] = ht_id_server(row.sender);
    const char *own = ht_id_server(room_id);
    if (own && (!n || strcmp(out[0], own) != 0)) out[n++] = own;
    return n;
}

bool ht_fed_leave_remote(ht_ctx *ctx, const char *room_id, json_t *content, ht_reply *out) {
    const char *servers[2];
    size_t n = leave_servers(ctx, room_id, servers);
    const char *user = ctx->auth.user_id;
    for (size_t i = 0; i < n; i++) {
        if (!servers[i] || strcmp(servers[i], ctx->env->server_name) == 0) continue;
        const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/make_leave/%s/%s",
                                             ht_percent_encode(ctx->arena, room_id), ht_percent_encode(ctx->arena, user));
        ht_remote_answer made;
        if (!ht_remote_ask(ctx, servers[i], "GET", target, NULL, ASK_TIMEOUT_MS, &made)) return false;
        const ht_room_version *v = ht_room_version_get(ht_json_str(made.json, "room_version"));
        json_t *event = json_object_get(made.json, "event");
        if (made.status != 200 || !v || !json_is_object(event) || !ht_str_is(ht_json_str(event, "state_key"), user))
            continue;
        json_t *reason = json_object_get(content, "reason");
        json_t *ours = ht_json_keep(ctx->arena, json_is_string(reason) ? json_pack("{s:O}", "reason", reason) : json_object());
        json_t *pdu = ht_fed_own_membership(ctx, v, event, ours);
        const char *event_id = pdu ? ht_pdu_id(ctx->arena, v, pdu, NULL) : NULL;
        if (!event_id) continue;
        target = ht_arena_printf(ctx->arena, "/_matrix/federation/v2/send_leave/%s/%s",
                                 ht_percent_encode(ctx->arena, room_id), ht_percent_encode(ctx->arena, event_id));
        ht_remote_answer sent;
        if (!ht_remote_ask(ctx, servers[i], "PUT", target, pdu, ASK_TIMEOUT_MS, &sent)) return false;
        if (sent.status != 200) continue;
        ht_error e = ht_room_take_own_outlier(ctx->env, v->id, pdu);
        *out = e.code ? (ht_reply){.error = e} : ht_reply_empty();
        return true;
    }
    /* Nobody answered: the invite is declined here, which is all the spec
     * asks of a server that cannot reach the room. */
    ht_store_membership_set(ctx->env->store, room_id, user, "leave", NULL, (int64_t)ht_store_stream_advance(ctx->env->store));
    *out = ht_reply_empty();
    return true;
}
