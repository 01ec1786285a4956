/* typing.c -- PUT /rooms/{roomId}/typing/{userId}: "I am typing for the
 * next N ms" or "I stopped".
 *
 * Only a change to the set of typing users moves the stream (and so wakes
 * parked syncs); a client repeating "still typing" only pushes the expiry
 * back. Expiry itself is noticed by the next /sync (see sync_extras.c),
 * which removes the notice and moves the stream then. */
#include "api/typing.h"

#include <string.h>

#include "api/room_access.h"
#include "federation/outbox.h"
#include "store/meta.h"
#include "store/store.h"
#include "store/typing.h"

enum { DEFAULT_TIMEOUT_MS = 30000, MAX_TIMEOUT_MS = 120000 };

static void typing_changed(ht_ctx *ctx, const char *room_id) {
    ht_store_typing_mark(ctx->env->store, room_id, (int64_t)ht_store_stream_advance(ctx->env->store));
}

ht_reply ht_api_typing(ht_ctx *ctx) {
    const char *room_id;
    json_t *body;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    if (strcmp(ht_param_get(ctx, "userId"), ctx->auth.user_id) != 0)
        return ht_reply_error(HT_M_FORBIDDEN, "You can only say whether you yourself are typing.");
    if (!ht_room_require_joined(ctx, room_id, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *typing = json_object_get(body, "typing");
    json_t *timeout = json_object_get(body, "timeout");
    if (!typing) return ht_reply_error(HT_M_MISSING_PARAM, "typing (true or false) is required.");
    if (!json_is_boolean(typing)) return ht_reply_error(HT_M_BAD_JSON, "typing must be true or false.");
    if (timeout && !json_is_integer(timeout)) return ht_reply_error(HT_M_BAD_JSON, "timeout must be an integer.");
    if (timeout && json_integer_value(timeout) < 0)
        return ht_reply_error(HT_M_INVALID_PARAM, "timeout must not be negative.");

    ht_store *store = ctx->env->store;
    int64_t expires = 0;
    bool was_typing = ht_store_typing_get(store, room_id, ctx->auth.user_id, &expires) && expires > ctx->now_ms;
    int64_t ms = timeout ? json_integer_value(timeout) : DEFAULT_TIMEOUT_MS;
    if (ms > MAX_TIMEOUT_MS) ms = MAX_TIMEOUT_MS;
    if (json_is_true(typing) && ms > 0) {
        ht_store_typing_set(store, room_id, ctx->auth.user_id, ctx->now_ms + ms);
        if (!was_typing) typing_changed(ctx, room_id);
    } else { /* typing for 0 ms is not typing */
        ht_store_typing_delete(store, room_id, ctx->auth.user_id);
        if (was_typing) typing_changed(ctx, room_id);
    }
    /* Other servers in the room hear every call, "still typing" too: theirs
     * is the spec's timer (30 s), renewed by each notice. */
    bool now_typing = json_is_true(typing) && ms > 0;
    if ((now_typing || was_typing) &&
        !ht_outbox_queue_room_edu(ctx->env, room_id, "m.typing",
                                  json_pack("{s:s,s:s,s:b}", "room_id", room_id, "user_id", ctx->auth.user_id,
                                            "typing", now_typing)))
        return ht_reply_error(HT_M_SERVER_ERROR, "The typing notice could not be queued for other servers.");
    return ht_reply_empty();
}
