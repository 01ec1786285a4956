/* device_lists.c -- telling other servers when our users' devices and keys
 * change, and hearing when theirs do: the m.device_list_update and
 * m.signing_key_update EDUs (spec, server-server API, "Device Management"
 * and "End-to-End Encryption").
 *
 * Out: every change of a local user's device list is already a row of
 * e2e_device_list_changes, whoever made it (a keys upload, a device deleted
 * by a trigger, a new signature). Rather than a call at every such site, the
 * door sweeps the rows not yet sent after each write
 * (ht_fed_device_lists_queue) and queues one EDU per change for every server
 * sharing a room with the user: a device's change as m.device_list_update
 * (stream_id its row's position, prev_id the user's previous one), a
 * cross-signing change as m.signing_key_update.
 *
 * In: an update about one of the sender's users we share a room with drops
 * the cached keys (user_keys.c) and marks the user changed, so our users'
 * /sync device_lists.changed tells their clients to query again, which
 * fetches afresh. Updates are not applied piecemeal: a refetch is always
 * right, and one missed or reordered update cannot leave a wrong list. */
#include "federation/federation.h"

#include <string.h>

#include "federation/outbox.h"
#include "matrix/device_keys.h"
#include "matrix/ids.h"
#include "store/keys.h"
#include "store/to_device.h"
#include "util/json.h"
#include "util/str.h"

enum {
    SWEEP_LIMIT = 100,     /* changes queued per write; the rest on the next one */
    MAX_SERVERS = 1000,    /* servers told of one change */
    MAX_ID_BYTES = 255,
};

static json_t *device_list_update(ht_ctx *ctx, const ht_device_list_change *c) {
    json_t *content = json_pack("{s:s, s:s, s:I}", "user_id", c->user_id, "device_id", c->device_id, "stream_id",
                                (json_int_t)c->stream);
    int64_t prev = ht_store_device_list_stream(ctx->env->store, c->user_id, c->stream);
    json_object_set_new(content, "prev_id", prev ? json_pack("[I]", (json_int_t)prev) : json_array());
    json_t *wanted = ht_json_keep(ctx->arena, json_pack("[s]", c->device_id));
    json_t *found = ht_json_keep(ctx->arena, ht_device_keys_of(ctx, c->user_id, wanted, NULL));
    json_t *keys = json_object_get(found, c->device_id);
    if (keys) { /* without its name: device names stay here (matrix/device_keys.h) */
        json_object_del(keys, "unsigned");
        json_object_set(content, "keys", keys);
    } else if (!ht_store_device_exists(ctx->env->store, c->user_id, c->device_id)) {
        json_object_set_new(content, "deleted", json_true());
    }
    return json_pack("{s:s, s:o}", "edu_type", "m.device_list_update", "content", content);
}

static json_t *signing_key_update(ht_ctx *ctx, const char *user_id) {
    json_t *content = json_pack("{s:s}", "user_id", user_id);
    json_t *k;
    if ((k = ht_cross_signing_key_of(ctx, user_id, "master", NULL))) json_object_set_new(content, "master_key", k);
    if ((k = ht_cross_signing_key_of(ctx, user_id, "self_signing", NULL)))
        json_object_set_new(content, "self_signing_key", k);
    return json_pack("{s:s, s:o}", "edu_type", "m.signing_key_update", "content", content);
}

bool ht_fed_device_lists_queue(ht_env *env) {
    ht_ctx ctx = {.env = env, .arena = env->arena, .now_ms = env->now_ms};
    ht_device_list_change *rows;
    size_t n = ht_store_device_list_unsent(env->store, env->arena, env->server_name, SWEEP_LIMIT, &rows);
    for (size_t i = 0; i < n; i++) {
        const char **servers;
        size_t count = ht_store_user_servers(env->store, env->arena, rows[i].user_id, env->server_name, MAX_SERVERS,
                                             &servers);
        if (!count) continue;
        json_t *edu = ht_json_keep(env->arena, rows[i].device_id ? device_list_update(&ctx, &rows[i])
                                                                 : signing_key_update(&ctx, rows[i].user_id));
        for (size_t j = 0; j < count; j++)
            if (!ht_outbox_queue_edu(env, servers[j], edu)) return false;
    }
    return !n || ht_store_device_list_sent(env->store, rows[n - 1].stream);
}

/* A change the origin tells us about one of its users: believed only for
 * its own users, and heeded only while we share a room with the user (we
 * hold nothing about the others; a peer cannot make us record changes for
 * anyone it likes). */
static void user_changed(ht_ctx *ctx, const char *user_id, const char *device_id) {
    if (!user_id || strlen(user_id) > MAX_ID_BYTES || !ht_user_id_valid(user_id) ||
        !ht_str_is(ht_id_server(user_id), ctx->origin) ||
        !ht_store_shares_room_with(ctx->env->store, user_id, ctx->env->server_name))
        return;
    ht_store_remote_keys_forget(ctx->env->store, user_id);
    ht_store_device_list_changed(ctx->env->store, user_id, device_id, NULL);
}

void ht_fed_take_device_list_update(ht_ctx *ctx, json_t *content) {
    const char *device_id = ht_json_str(content, "device_id");
    if (!device_id || !*device_id || strlen(device_id) > MAX_ID_BYTES ||
        !json_is_integer(json_object_get(content, "stream_id")))
        return;
    user_changed(ctx, ht_json_str(content, "user_id"), device_id);
}

void ht_fed_take_signing_key_update(ht_ctx *ctx, json_t *content) {
    user_changed(ctx, ht_json_str(content, "user_id"), NULL);
}
