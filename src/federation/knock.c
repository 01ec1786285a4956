/* knock.c -- our user knocks on a room on other servers (server-server
 * "Knocking Upon Rooms", the knocking side): make_knock to a resident for
 * the event to sign, send_knock with it signed. The knock is kept as an
 * outlier, our user's membership "knock", with the stripped state the
 * resident answered, so their /sync shows the room under rooms.knock until
 * someone lets them in (an invite, which crosses as any invite) or not.
 *
 * The client's request is replayed as answers come (matrix/remote.h): the
 * knock is built the same on every pass. */
#include "federation/federation.h"

#include <string.h>

#include "federation/pdus.h"
#include "http/outbound.h"
#include "matrix/remote.h"
#include "room/pdu.h"
#include "room/room.h"
#include "store/federation.h"
#include "util/json.h"

enum { ASK_TIMEOUT_MS = 30000 };

/* One attempt through `server`: true with *out, or with *failed set when
 * this server cannot help (*refused: it said no); false while it waits. */
static bool knock_through(ht_ctx *ctx, const char *server, const char *room_id, json_t *content, ht_reply *out,
                          const char **failed, bool *refused) {
    *failed = NULL;
    *refused = false;
    const char *user = ctx->auth.user_id;
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/make_knock/%s/%s?ver=10&ver=11",
                                         ht_percent_encode(ctx->arena, room_id), ht_percent_encode(ctx->arena, user));
    ht_remote_answer made;
    if (!ht_remote_ask(ctx, server, "GET", target, NULL, ASK_TIMEOUT_MS, &made)) return false;
    const ht_room_version *v = ht_room_version_get(ht_json_str(made.json, "room_version"));
    json_t *template_event = json_object_get(made.json, "event");
    if (made.status != 200 || !v || !json_is_object(template_event)) {
        *refused = made.status == 403;
        *failed = made.status == 200 ? "it offered a room version this server does not know"
                  : made.error      ? made.error
                                    : ht_json_str(made.json, "error");
        if (!*failed) *failed = "it would not hand out a knock";
        return true;
    }
    if (!ht_str_is(ht_json_str(template_event, "room_id"), room_id) ||
        !ht_str_is(ht_json_str(template_event, "state_key"), user) ||
        !ht_str_is(ht_json_str(template_event, "sender"), user) ||
        !ht_str_is(ht_json_str(json_object_get(template_event, "content"), "membership"), "knock")) {
        *failed = "its knock template is for another room, user or membership";
        return true;
    }
    json_t *knock = ht_fed_own_membership(ctx, v, template_event, content);
    const char *event_id = knock ? ht_pdu_id(ctx->arena, v, knock, NULL) : NULL;
    if (!event_id) {
        *failed = "its knock template could not be signed";
        return true;
    }
    target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/send_knock/%s/%s", ht_percent_encode(ctx->arena, room_id),
                             ht_percent_encode(ctx->arena, event_id));
    ht_remote_answer sent;
    if (!ht_remote_ask(ctx, server, "PUT", target, knock, ASK_TIMEOUT_MS, &sent)) return false;
    if (sent.status != 200) {
        *refused = sent.status == 403;
        *failed = sent.error ? sent.error : ht_json_str(sent.json, "error");
        if (!*failed) *failed = "it did not take the knock";
        return true;
    }
    /* The spec's name, and the one of the proposal older servers answer with. */
    json_t *state = json_object_get(sent.json, "knock_room_state");
    if (!json_is_array(state)) state = json_object_get(sent.json, "knock_state_events");
    json_t *kept = ht_fed_kept_stripped_state(ctx, state);
    ht_error e = ht_room_take_own_outlier(ctx->env, v->id, knock);
    if (!e.code && !ht_store_invite_state_put(ctx->env->store, room_id, user, ht_json_dump(ctx->arena, kept)))
        e = (ht_error){HT_M_SERVER_ERROR, 0, "The knock could not be stored."};
    *out = e.code ? (ht_reply){.error = e} : ht_reply_json(json_pack("{s:s}", "room_id", room_id));
    return true;
}

bool ht_fed_knock(ht_ctx *ctx, const char *room_id, const char *const *servers, size_t count, json_t *content,
                  ht_reply *out) {
    return ht_fed_through_servers(ctx, knock_through, "knocked on", room_id, servers, count, content, out);
}
