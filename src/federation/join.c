/* join.c -- another server's user joins, knocks on or leaves a room we are
 * in (server-server "Joining Rooms", "Knocking Upon Rooms", "Leaving
 * Rooms", the resident's side): make_* hands out the event to sign, send_*
 * takes it signed, stores it, tells the room's other servers, and answers:
 * a join with the room's state so the joining server can build the room,
 * a knock with the room's stripped state, a leave with nothing.
 *
 * spec: server-server "GET /_matrix/federation/v1/make_join/{roomId}/{userId}",
 * "PUT /_matrix/federation/v2/send_join/{roomId}/{eventId}", make_knock and
 * send_knock (v1), make_leave and send_leave (v2). */
#include "federation/federation.h"

#include <string.h>

#include "federation/pdus.h"
#include "matrix/ids.h"
#include "matrix/remote.h"
#include "room/room.h"
#include "store/federation.h"
#include "store/graph.h"
#include "util/json.h"

/* The room of the path, which this server must be in. */
static bool resident_room(ht_ctx *ctx, const char **room_id, ht_room_row *room, ht_reply *err) {
    *room_id = ht_param_get(ctx, "roomId");
    if (!ht_room_id_valid(*room_id) || !ht_store_room_get(ctx->env->store, ctx->arena, *room_id, room) ||
        !ht_fed_resident(ctx->env, *room_id)) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "This server is not in that room.");
        return false;
    }
    return true;
}

/* The spec's `ver` query parameters: the room versions the asking server
 * knows (none given means version 1 only). */
static bool knows_version(ht_ctx *ctx, const char *version) {
    for (size_t i = 0; i < ctx->req->query_count; i++)
        if (strcmp(ctx->req->query[i].name, "ver") == 0 && strcmp(ctx->req->query[i].value, version) == 0)
            return true;
    return false;
}

/* make_join, make_knock and make_leave: the template of a membership event
 * by a user of the asking server. */
static ht_reply make_membership(ht_ctx *ctx, const char *membership) {
    const char *room_id;
    ht_room_row room;
    ht_reply err;
    if (!resident_room(ctx, &room_id, &room, &err)) return err;
    const char *user_id = ht_param_get(ctx, "userId");
    const char *server = ht_user_id_valid(user_id) ? ht_id_server(user_id) : NULL;
    if (!server || strcmp(server, ctx->origin) != 0)
        return ht_reply_error(HT_M_FORBIDDEN, "A server may only make events for its own users.");
    if (strcmp(membership, "leave") != 0 && !knows_version(ctx, room.version)) {
        ht_reply r = ht_reply_errorf(ctx, HT_M_INCOMPATIBLE_ROOM_VERSION,
                                     "The room is of version %s, which the asking server did not name.", room.version);
        r.error_extra = json_pack("{s:s}", "room_version", room.version);
        return r;
    }
    json_t *content = ht_json_keep(ctx->arena, json_pack("{s:s}", "membership", membership));
    ht_new_event ev = {.room_id = room_id, .type = "m.room.member", .state_key = user_id,
                       .sender = user_id, .content = content};
    json_t *pdu;
    const char *version;
    ht_error e = ht_room_template(ctx->env, &ev, &pdu, &version);
    if (e.code) return ht_reply_errorf(ctx, HT_M_FORBIDDEN, "The room would not take it: %s", e.message);
    return ht_reply_json(json_pack("{s:s, s:O}", "room_version", version, "event", pdu));
}

ht_reply ht_fed_make_join(ht_ctx *ctx) { return make_membership(ctx, "join"); }
ht_reply ht_fed_make_knock(ht_ctx *ctx) { return make_membership(ctx, "knock"); }
ht_reply ht_fed_make_leave(ht_ctx *ctx) { return make_membership(ctx, "leave"); }

/* send_join, send_knock and send_leave: the membership event, signed by
 * its server. */
static ht_reply send_membership(ht_ctx *ctx, const char *membership) {
    const char *room_id;
    ht_room_row room;
    ht_reply err;
    if (!resident_room(ctx, &room_id, &room, &err)) return err;
    json_t *pdu;
    if (!ht_body_object(ctx, &pdu, &err)) return err;
    const ht_room_version *version = ht_room_version_get(room.version);
    const char *sender = ht_json_str(pdu, "sender");
    const char *server = sender ? ht_id_server(sender) : NULL;
    json_t *content = json_object_get(pdu, "content");
    if (!ht_str_is(ht_json_str(pdu, "type"), "m.room.member") || !ht_str_is(ht_json_str(pdu, "state_key"), sender) ||
        !ht_str_is(ht_json_str(content, "membership"), membership) ||
        !ht_str_is(ht_json_str(pdu, "room_id"), room_id) || !server || strcmp(server, ctx->origin) != 0)
        return ht_reply_errorf(ctx, HT_M_BAD_JSON, "The body must be a %s event of a user of %s in this room.",
                               membership, ctx->origin);
    ht_canonical_error cerr;
    const char *event_id = ht_pdu_id(ctx->arena, version, pdu, &cerr);
    if (!event_id || !ht_str_is(event_id, ht_param_get(ctx, "eventId")))
        return ht_reply_error(HT_M_BAD_JSON, "The event's id is not the one in the path.");
    /* A restricted join that names one of our users: we vouch by signing. */
    const char *authoriser = ht_json_str(content, "join_authorised_via_users_server");
    if (authoriser && ht_str_is(ht_id_server(authoriser), ctx->env->server_name))
        ht_pdu_sign(version, pdu, ctx->env->server_name, ctx->env->signing_key);
    if (!ht_fed_prefetch_keys(ctx, &pdu, 1)) return (ht_reply){0};
    ht_received r = ht_room_receive(ctx->env, room.version, pdu, ht_fed_cached_key, ctx->env, NULL);
    if (r.outcome != HT_RECEIVED_TIMELINE && r.outcome != HT_RECEIVED_DUPLICATE)
        return ht_reply_errorf(ctx, HT_M_FORBIDDEN, "The room did not take the event: %s",
                               r.reason ? r.reason : "its prev or auth events are unknown here");
    /* The room's other servers hear of it from us, the resident. */
    if (r.outcome == HT_RECEIVED_TIMELINE) ht_fed_forward(ctx, room_id, event_id, ctx->origin);
    if (strcmp(membership, "leave") == 0) return ht_reply_empty();
    if (strcmp(membership, "knock") == 0) {
        /* The spec's name, and the proposal's, which servers of 2022
         * (Synapse 1.67) still read. */
        json_t *stripped = ht_fed_stripped_state(ctx, room_id);
        return ht_reply_json(json_pack("{s:O, s:o}", "knock_room_state", stripped, "knock_state_events", stripped));
    }
    ht_fed_texts lists[2];
    bool more;
    if (!ht_fed_state_before(ctx, event_id, &lists[0], &lists[1], &more))
        return ht_reply_error(HT_M_SERVER_ERROR, "The room's state could not be read.");
    if (more) {
        /* A big room's: read a slice a pass, the host serving others
         * between them; the event above is stored, found so next pass. */
        ht_remote_resume(ctx);
        return (ht_reply){0};
    }
    const char **servers;
    size_t n = ht_store_room_servers(ctx->env->store, ctx->arena, room_id, "", &servers);
    static const char *const names[] = {"state", "auth_chain"};
    return ht_fed_reply_with_pdus(ctx,
                                  json_pack("{s:s, s:O, s:b, s:o}", "origin", ctx->env->server_name, "event", pdu,
                                            "members_omitted", 0, "servers_in_room", ht_json_string_array(servers, n)),
                                  names, lists, 2);
}

ht_reply ht_fed_send_join(ht_ctx *ctx) { return send_membership(ctx, "join"); }
ht_reply ht_fed_send_knock(ht_ctx *ctx) { return send_membership(ctx, "knock"); }
ht_reply ht_fed_send_leave(ht_ctx *ctx) { return send_membership(ctx, "leave"); }
