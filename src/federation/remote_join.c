/* remote_join.c -- our user joins a room on other servers (server-server
 * "Joining Rooms", the joining side): make_join to a resident server for
 * the event to sign, send_join with it signed, then the room as the
 * resident gave it -- its state and auth chain, every event checked
 * (signatures, hashes, the rules against its own auth events) and kept as
 * an outlier -- and our join on top, judged against that state.
 *
 * The client's request is replayed as answers come (matrix/remote.h): the
 * join event is built the same on every pass (its time is the request's,
 * its signature deterministic), so the send_join asked on one pass is the
 * one answered on the next. */
#include "federation/federation.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "federation/join_intake.h"
#include "federation/pdus.h"
#include "http/outbound.h"
#include "matrix/ids.h"
#include "matrix/remote.h"
#include "room/pdu.h"
#include "room/room.h"
#include "store/accounts.h"
#include "util/json.h"

enum { ASK_TIMEOUT_MS = 30000 };

/* Whether a step of the join's intake ends this pass: not once it is done;
 * else with *result as join_through returns it: true when it failed
 * (*failed is set), false when there is more (called again once the host
 * has served others). */
static bool pass_ends(ht_ctx *ctx, ht_intake_step step, bool *result) {
    if (step == HT_INTAKE_DONE) return false;
    if (step == HT_INTAKE_MORE) ht_remote_resume(ctx);
    *result = step == HT_INTAKE_FAILED;
    return true;
}

/* One attempt through `server`: true with *out, or with *failed set when
 * this server cannot help (try the next; *refused when it said the room
 * will not have this user, as for a ban); false while it waits. */
static bool join_through(ht_ctx *ctx, const char *server, const char *room_id, json_t *content, ht_reply *out,
                         const char **failed, bool *refused) {
    *failed = NULL;
    *refused = false;
    const char *user = ctx->auth.user_id;
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/make_join/%s/%s?ver=10&ver=11",
                                         ht_percent_encode(ctx->arena, room_id), ht_percent_encode(ctx->arena, user));
    ht_remote_answer made;
    if (!ht_remote_ask(ctx, server, "GET", target, NULL, ASK_TIMEOUT_MS, &made)) return false;
    const char *version_id = ht_json_str(made.json, "room_version");
    const ht_room_version *v = version_id ? ht_room_version_get(version_id) : NULL;
    json_t *template_event = json_object_get(made.json, "event");
    if (made.status != 200 || !v || !json_is_object(template_event)) {
        *refused = made.status == 403;
        *failed = made.status == 200 ? "it offered a room version this server does not know"
                  : made.error      ? made.error
                                    : ht_json_str(made.json, "error");
        return true;
    }
    if (!ht_str_is(ht_json_str(template_event, "room_id"), room_id) ||
        !ht_str_is(ht_json_str(template_event, "state_key"), user) ||
        !ht_str_is(ht_json_str(template_event, "sender"), user)) {
        *failed = "its join template is for another room or user";
        return true;
    }
    json_t *join = ht_fed_own_membership(ctx, v, template_event, content);
    const char *event_id = join ? ht_pdu_id(ctx->arena, v, join, NULL) : NULL;
    if (!event_id) {
        *failed = "its join template could not be signed";
        return true;
    }
    target = ht_arena_printf(ctx->arena, "/_matrix/federation/v2/send_join/%s/%s", ht_percent_encode(ctx->arena, room_id),
                             ht_percent_encode(ctx->arena, event_id));
    /* The answer, up to a whole room's state, is read a slice a pass
     * (join_intake.h), not parsed here at once. */
    ht_remote_answer sent;
    if (!ht_remote_ask_unparsed(ctx, server, "PUT", target, join, ASK_TIMEOUT_MS, &sent)) return false;
    ht_join_intake *in = ht_join_intake_kept(&sent);
    if (!in && sent.status != 200) {
        *refused = sent.status == 403;
        *failed = sent.error ? sent.error : ht_json_str(ht_json_parse(ctx->arena, (const char *)sent.body), "error");
        if (!*failed) *failed = "its send_join answer is malformed";
        return true;
    }
    if (!in && !(in = ht_join_intake_of(ctx, &sent, failed))) return true;
    bool result;
    if (pass_ends(ctx, ht_join_intake_read(ctx, v, &sent, in, failed), &result)) return result;
    /* A restricted join comes back signed by the resident too. */
    json_t *signed_join = ht_join_intake_signed_join(in);
    if (signed_join && ht_str_is(ht_pdu_id(ctx->arena, v, signed_join, NULL), event_id)) join = signed_join;

    /* Every key that signed an event of the room, then the events, a slice
     * a pass (join_intake.h). */
    if (!ht_join_intake_keys_ready(in)) {
        size_t total;
        json_t **all = ht_join_intake_pdus(ctx, in, join, &total);
        if (!ht_fed_prefetch_keys(ctx, all, total)) return false;
        ht_join_intake_set_keys_ready(in);
    }
    if (pass_ends(ctx, ht_join_intake_take(ctx, v, room_id, in, failed), &result)) return result;
    size_t state_count;
    const char **state_ids = ht_join_intake_state_ids(ctx, in, &state_count);
    ht_receive_opts opts = {.state_before = state_ids, .state_before_count = state_count};
    ht_received r = ht_room_receive(ctx->env, v->id, join, ht_fed_cached_key, ctx->env, &opts);
    if (r.outcome != HT_RECEIVED_TIMELINE && r.outcome != HT_RECEIVED_DUPLICATE) {
        *failed = r.reason ? r.reason : "the room's state does not let this user join";
        return true;
    }
    *out = ht_reply_json(json_pack("{s:s}", "room_id", room_id));
    return true;
}

bool ht_fed_join(ht_ctx *ctx, const char *room_id, const char *const *servers, size_t count, json_t *content,
                 ht_reply *out) {
    return ht_fed_through_servers(ctx, join_through, "joined", room_id, servers, count, content, out);
}
