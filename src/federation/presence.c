/* presence.c -- who is online, across servers: the m.presence EDU (spec,
 * server-server API, "Presence").
 *
 * Out: as with device lists, the door sweeps after each write: every
 * presence change of one of our users at a stream position the write made
 * goes to each server sharing a room with them (ht_fed_presence_queue), as
 * an EDU that a newer one may supersede. Activity alone moves no position;
 * an unchanged presence is told again every 20 minutes (api/presence.c's
 * ht_presence_touch), as servers forget a user they hear nothing of.
 *
 * In: a server speaks only for its own users, and only of users who share
 * a room with ours (we keep nothing about anyone else). A changed state or
 * status message moves the stream, so our users' /sync shows it; the
 * same state again only renews how recently the user was active. Another
 * server's user falls offline here after 30 minutes without news
 * (api/presence.c). */
#include "federation/federation.h"

#include <string.h>

#include "federation/outbox.h"
#include "matrix/ids.h"
#include "store/keys.h"
#include "store/meta.h"
#include "store/presence.h"
#include "util/json.h"
#include "util/str.h"

enum {
    SWEEP_LIMIT = 100,   /* changes sent per write; a write makes one or a few */
    MAX_SERVERS = 1000,  /* servers told of one change */
    MAX_PUSH = 100,      /* users one EDU may speak of */
    MAX_STATUS_BYTES = 1024,
    MAX_ID_BYTES = 255,
    CURRENTLY_ACTIVE_MS = 5 * 60 * 1000,
};

static bool is_state(const char *s) {
    return ht_str_is(s, "online") || ht_str_is(s, "unavailable") || ht_str_is(s, "offline");
}

static json_t *presence_edu(ht_env *env, const ht_presence_row *row) {
    int64_t ago = env->now_ms > row->last_active_ms ? env->now_ms - row->last_active_ms : 0;
    json_t *entry = json_pack("{s:s, s:s, s:I, s:b}", "user_id", row->user_id, "presence", row->presence,
                              "last_active_ago", (json_int_t)ago, "currently_active",
                              ht_str_is(row->presence, "online") && ago < CURRENTLY_ACTIVE_MS);
    if (row->status_msg) json_object_set_new(entry, "status_msg", json_string(row->status_msg));
    return json_pack("{s:s, s:{s:[o]}}", "edu_type", "m.presence", "content", "push", entry);
}

bool ht_fed_presence_tell(ht_env *env, const ht_presence_row *row) {
    if (!ht_str_is(ht_id_server(row->user_id), env->server_name)) return true;
    const char **servers;
    size_t count = ht_store_user_servers(env->store, env->arena, row->user_id, env->server_name, MAX_SERVERS, &servers);
    if (!count) return true;
    json_t *edu = ht_json_keep(env->arena, presence_edu(env, row));
    for (size_t j = 0; j < count; j++)
        if (!ht_outbox_queue_edu(env, servers[j], edu)) return false;
    return true;
}

bool ht_fed_presence_queue(ht_env *env, int64_t since) {
    ht_presence_row *rows;
    size_t n = ht_store_presence_changed_since(env->store, env->arena, since, SWEEP_LIMIT, &rows);
    for (size_t i = 0; i < n; i++)
        if (!ht_fed_presence_tell(env, &rows[i])) return false;
    return true;
}

/* One user's presence as their server tells it. */
static void take_one(ht_ctx *ctx, json_t *entry) {
    const char *user_id = ht_json_str(entry, "user_id"), *state = ht_json_str(entry, "presence");
    json_t *status = json_object_get(entry, "status_msg"), *ago = json_object_get(entry, "last_active_ago");
    if (!user_id || strlen(user_id) > MAX_ID_BYTES || !ht_user_id_valid(user_id) ||
        !ht_str_is(ht_id_server(user_id), ctx->origin) || !is_state(state) ||
        (status && !json_is_null(status) && (!json_is_string(status) || json_string_length(status) > MAX_STATUS_BYTES)) ||
        (ago && !json_is_integer(ago)) ||
        !ht_store_shares_room_with(ctx->env->store, user_id, ctx->env->server_name))
        return;
    int64_t ago_ms = json_integer_value(ago);
    if (ago_ms < 0 || ago_ms > ctx->now_ms) ago_ms = 0;
    const char *msg = json_string_value(status);
    ht_store *store = ctx->env->store;
    ht_presence_row old;
    bool known = ht_store_presence_get(store, ctx->arena, user_id, &old);
    if (known && ht_str_is(old.presence, state) &&
        ((!old.status_msg && !msg) || (old.status_msg && msg && strcmp(old.status_msg, msg) == 0))) {
        ht_store_presence_touch(store, user_id, ctx->now_ms - ago_ms);
        return;
    }
    ht_presence_row row = {user_id, state, msg, ctx->now_ms - ago_ms, (int64_t)ht_store_stream_advance(store)};
    ht_store_presence_set(store, &row);
}

void ht_fed_take_presence(ht_ctx *ctx, json_t *content) {
    json_t *push = json_object_get(content, "push");
    if (!json_is_array(push)) return;
    size_t i;
    json_t *entry;
    json_array_foreach(push, i, entry) {
        if (i == MAX_PUSH) break;
        take_one(ctx, entry);
    }
}
