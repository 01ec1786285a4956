/* presence.c -- PUT and GET /presence/{userId}/status.
 *
 * A user's presence is shown to the people they share a room with (and to
 * themselves), through this endpoint and through /sync. Setting it moves
 * the stream only when the state or the status message changes; activity
 * alone just updates last_active. Another server's user's presence is what
 * their server told us (federation/presence.c). */
#include "api/presence.h"

#include <string.h>

#include "federation/federation.h"
#include "matrix/ids.h"
#include "store/accounts.h"
#include "store/meta.h"
#include "store/presence.h"
#include "store/store.h"
#include "util/str.h"

enum { MAX_STATUS_BYTES = 1024, CURRENTLY_ACTIVE_MS = 5 * 60 * 1000 };

static bool is_state(const char *s) {
    return s && (strcmp(s, "online") == 0 || strcmp(s, "offline") == 0 || strcmp(s, "unavailable") == 0);
}

static bool same(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

ht_reply ht_api_presence_put(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (strcmp(ht_param_get(ctx, "userId"), ctx->auth.user_id) != 0)
        return ht_reply_error(HT_M_FORBIDDEN, "You can only set your own presence.");
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *presence = json_object_get(body, "presence");
    json_t *status = json_object_get(body, "status_msg");
    if (!presence) return ht_reply_error(HT_M_MISSING_PARAM, "presence is required.");
    if (!json_is_string(presence)) return ht_reply_error(HT_M_BAD_JSON, "presence must be a string.");
    if (!is_state(json_string_value(presence)))
        return ht_reply_error(HT_M_INVALID_PARAM, "presence must be online, offline or unavailable.");
    if (status && !json_is_string(status) && !json_is_null(status))
        return ht_reply_error(HT_M_BAD_JSON, "status_msg must be a string.");
    if (json_string_length(status) > MAX_STATUS_BYTES)
        return ht_reply_error(HT_M_INVALID_PARAM, "status_msg is longer than 1024 bytes.");

    ht_store *store = ctx->env->store;
    ht_presence_row old;
    bool known = ht_store_presence_get(store, ctx->arena, ctx->auth.user_id, &old);
    const char *state = json_string_value(presence);
    const char *msg = json_string_value(status);
    if (known && strcmp(old.presence, state) == 0 && same(old.status_msg, msg)) {
        ht_presence_touch(ctx, &old);
        return ht_reply_empty();
    }
    ht_presence_row row = {ctx->auth.user_id, state, msg, ctx->now_ms, (int64_t)ht_store_stream_advance(store)};
    if (!ht_store_presence_set(store, &row)) return ht_reply_error(HT_M_SERVER_ERROR, "Presence could not be stored.");
    return ht_reply_empty();
}

enum {
    MAX_EXPIRED_PER_CALL = 100,
    MAX_ACTIVITY_INTERVAL_MS = 60 * 1000,
    /* Another server's user is shown offline after this long without news
     * of them: servers repeat an unchanged presence only every 25 minutes
     * or so (Synapse's interval). */
    REMOTE_PRESENCE_TIMEOUT_MS = 30 * 60 * 1000,
    PRESENCE_REPEAT_MS = 20 * 60 * 1000, /* see ht_presence_touch */
};

void ht_presence_expire(ht_ctx *ctx) {
    ht_store *store = ctx->env->store;
    const char **users;
    size_t n = ht_store_presence_stale(store, ctx->arena, ctx->env->server_name,
                                       ctx->now_ms - ctx->env->cfg->presence_offline_ms,
                                       ctx->now_ms - REMOTE_PRESENCE_TIMEOUT_MS, MAX_EXPIRED_PER_CALL, &users);
    if (!n) return;
    int64_t stream = (int64_t)ht_store_stream_advance(store);
    for (size_t i = 0; i < n; i++) ht_store_presence_go_offline(store, users[i], stream);
}

void ht_presence_touch(ht_ctx *ctx, const ht_presence_row *row) {
    ht_store_presence_touch(ctx->env->store, row->user_id, ctx->now_ms);
    /* Wall-clock periods need no record of when we last told: a user who is
     * active (or keeps a client syncing) is touched at least every minute,
     * so each period boundary is crossed by one touch. */
    if (ctx->env->cfg->federation && strcmp(row->presence, "offline") != 0 &&
        row->last_active_ms / PRESENCE_REPEAT_MS != ctx->now_ms / PRESENCE_REPEAT_MS) {
        ht_presence_row now = *row;
        now.last_active_ms = ctx->now_ms;
        ht_fed_presence_tell(ctx->env, &now);
    }
}

int64_t ht_presence_activity_interval(const ht_ctx *ctx) {
    int64_t third = ctx->env->cfg->presence_offline_ms / 3;
    return third < MAX_ACTIVITY_INTERVAL_MS ? third : MAX_ACTIVITY_INTERVAL_MS;
}

ht_reply ht_api_presence_get(ht_ctx *ctx) {
    const char *user_id = ht_param_get(ctx, "userId");
    if (!ht_user_id_valid(user_id)) return ht_reply_error(HT_M_INVALID_PARAM, "That is not a valid user id.");
    ht_store *store = ctx->env->store;
    ht_user_row user;
    bool ours = ht_str_is(ht_id_server(user_id), ctx->env->server_name);
    if (ours && (!ht_store_user_get(store, ctx->arena, user_id, &user) || user.deactivated))
        return ht_reply_error(HT_M_NOT_FOUND, "There is no such user on this server.");
    if (strcmp(user_id, ctx->auth.user_id) != 0 && !ht_store_users_share_room(store, ctx->auth.user_id, user_id))
        return ht_reply_error(HT_M_FORBIDDEN, "You can only see the presence of people you share a room with.");
    ht_presence_expire(ctx);
    ht_presence_row row;
    if (!ht_store_presence_get(store, ctx->arena, user_id, &row))
        return ht_reply_json(json_pack("{s:s}", "presence", "offline"));
    int64_t ago = ctx->now_ms > row.last_active_ms ? ctx->now_ms - row.last_active_ms : 0;
    json_t *out = json_pack("{s:s, s:I, s:b}", "presence", row.presence, "last_active_ago", (json_int_t)ago,
                            "currently_active", strcmp(row.presence, "online") == 0 && ago < CURRENTLY_ACTIVE_MS);
    if (row.status_msg) json_object_set_new(out, "status_msg", json_string(row.status_msg));
    return ht_reply_json(out);
}
