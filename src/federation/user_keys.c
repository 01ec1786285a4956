/* user_keys.c -- users' devices and end-to-end keys across servers: the
 * server-server endpoints we serve about our users (GET /v1/user/devices,
 * POST /v1/user/keys/query and /v1/user/keys/claim; spec, server-server API,
 * "End-to-End Encryption" and "Device Management"), and the same asked of
 * other servers for our clients' /keys/query and /keys/claim.
 *
 * Another server's users' keys are cached per user, as Synapse does, but
 * only while we share a room with the user: then their server tells us of
 * every change (m.device_list_update, device_lists.c), which drops the
 * cached copy. A change of the user's memberships since it was kept (they
 * left and came back: updates may have gone unsent) makes it stale too. What a peer answers is untrusted: only the users asked of
 * it, on that server, with keys that say they are that user's and device's,
 * each bounded, are taken; the rest is left out. */
#include "federation/federation.h"

#include <string.h>

#include "http/outbound.h"
#include "matrix/device_keys.h"
#include "matrix/ids.h"
#include "matrix/remote.h"
#include "store/keys.h"
#include "util/json.h"
#include "util/str.h"

enum {
    MAX_ENTRIES = 10000,         /* users and devices named in one query or claim */
    MAX_ID_BYTES = 255,
};

static bool ours(ht_ctx *ctx, const char *id) { return ht_str_is(ht_id_server(id), ctx->env->server_name); }

/* An object of at most max_bytes as compact JSON. */
static bool small(ht_ctx *ctx, json_t *v, size_t max_bytes) {
    const char *text = json_is_object(v) ? ht_json_dump(ctx->arena, v) : NULL;
    return text && strlen(text) <= max_bytes;
}

/* ---- served ------------------------------------------------------------- */

/* GET /_matrix/federation/v1/user/devices/{userId} (spec: "GET
 * /_matrix/federation/v1/user/devices/{userId}"): every device with keys,
 * the stream id the next m.device_list_update will name as prev_id, and the
 * cross-signing keys others may see. */
ht_reply ht_fed_user_devices(ht_ctx *ctx) {
    const char *user_id = ht_param_get(ctx, "userId");
    if (!ht_user_id_valid(user_id) || !ours(ctx, user_id))
        return ht_reply_error(HT_M_INVALID_PARAM, "The user is not one of this server's.");
    json_t *keys = ht_json_keep(ctx->arena, ht_device_keys_of(ctx, user_id, NULL, NULL));
    json_t *devices = json_array();
    const char *device_id;
    json_t *dk;
    json_object_foreach(keys, device_id, dk) {
        /* No device_display_name: names stay here (matrix/device_keys.h). */
        json_t *entry = json_pack("{s:s, s:O}", "device_id", device_id, "keys", dk);
        json_object_del(json_object_get(entry, "keys"), "unsigned");
        json_array_append_new(devices, entry);
    }
    json_t *out = json_pack("{s:s, s:I, s:o}", "user_id", user_id, "stream_id",
                            (json_int_t)ht_store_device_list_stream(ctx->env->store, user_id, INT64_MAX),
                            "devices", devices);
    json_t *k;
    if ((k = ht_cross_signing_key_of(ctx, user_id, "master", NULL))) json_object_set_new(out, "master_key", k);
    if ((k = ht_cross_signing_key_of(ctx, user_id, "self_signing", NULL)))
        json_object_set_new(out, "self_signing_key", k);
    return ht_reply_json(out);
}

/* {user: [device...]} (lists) or {user: {device: algorithm}}, bounded. */
static bool request_map_ok(json_t *map, bool lists) {
    if (!json_is_object(map)) return false;
    size_t entries = 0;
    const char *user_id;
    json_t *value;
    json_object_foreach(map, user_id, value) {
        if (lists ? !json_is_array(value) : !json_is_object(value)) return false;
        entries += 1 + (lists ? json_array_size(value) : json_object_size(value));
    }
    return entries <= MAX_ENTRIES;
}

/* POST /_matrix/federation/v1/user/keys/query: our users' device keys and
 * master and self-signing keys (never user-signing keys); other users are
 * left out. */
ht_reply ht_fed_user_keys_query(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *wanted = json_object_get(body, "device_keys");
    if (!request_map_ok(wanted, true))
        return ht_reply_errorf(ctx, HT_M_BAD_JSON, "device_keys must map user ids to lists of device ids, "
                               "at most %d entries.", MAX_ENTRIES);
    json_t *devices = json_object(), *master = json_object(), *self_signing = json_object();
    const char *user_id;
    json_t *list;
    json_object_foreach(wanted, user_id, list) {
        if (!ht_user_id_valid(user_id) || !ours(ctx, user_id)) continue;
        json_object_set_new(devices, user_id, ht_device_keys_of(ctx, user_id, list, NULL));
        json_t *k;
        if ((k = ht_cross_signing_key_of(ctx, user_id, "master", NULL))) json_object_set_new(master, user_id, k);
        if ((k = ht_cross_signing_key_of(ctx, user_id, "self_signing", NULL)))
            json_object_set_new(self_signing, user_id, k);
    }
    return ht_reply_json(json_pack("{s:o, s:o, s:o}", "device_keys", devices, "master_keys", master,
                                   "self_signing_keys", self_signing));
}

/* POST /_matrix/federation/v1/user/keys/claim: one key per device asked,
 * for our users. */
ht_reply ht_fed_user_keys_claim(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *wanted = json_object_get(body, "one_time_keys");
    if (!request_map_ok(wanted, false))
        return ht_reply_errorf(ctx, HT_M_BAD_JSON, "one_time_keys must map user ids to {device id: algorithm}, "
                               "at most %d entries.", MAX_ENTRIES);
    json_t *result = json_object();
    int64_t stream = 0;
    const char *user_id;
    json_t *per_device;
    json_object_foreach(wanted, user_id, per_device) {
        if (!ht_user_id_valid(user_id) || !ours(ctx, user_id)) continue;
        const char *device_id;
        json_t *alg;
        json_object_foreach(per_device, device_id, alg) {
            if (json_is_string(alg)) ht_one_time_key_claim(ctx, user_id, device_id, json_string_value(alg), result,
                                                           &stream);
        }
    }
    return ht_reply_json(json_pack("{s:o}", "one_time_keys", result));
}

/* ---- asked of other servers -------------------------------------------- */

/* {server: {user: value}} of the users in `wanted`. */
static json_t *by_server(ht_ctx *ctx, json_t *wanted) {
    json_t *servers = ht_json_keep(ctx->arena, json_object());
    const char *user_id;
    json_t *value;
    json_object_foreach(wanted, user_id, value) {
        const char *server = ht_id_server(user_id);
        json_t *users = json_object_get(servers, server);
        if (!users) {
            users = json_object();
            json_object_set_new(servers, server, users);
        }
        json_object_set(users, user_id, value);
    }
    return servers;
}

/* The spec's failures entry for a server that gave no usable answer. */
static void failed(json_t *answer, const char *server, const ht_remote_answer *a) {
    json_t *failures = json_object_get(answer, "failures");
    const char *message = a->error ? a->error : ht_json_str(a->json, "error");
    json_object_set_new(failures, server, json_pack("{s:i, s:s}", "status", a->status ? a->status : 503, "message",
                                                    message ? message : "The server gave no usable answer."));
}

/* A device's keys as another server gave them: an object that names the
 * user and device it is filed under, bounded. */
static bool device_keys_ok(ht_ctx *ctx, const char *user_id, const char *device_id, json_t *dk) {
    return strlen(device_id) <= MAX_ID_BYTES && small(ctx, dk, HT_FED_MAX_KEY_BYTES) &&
           ht_str_is(ht_json_str(dk, "user_id"), user_id) && ht_str_is(ht_json_str(dk, "device_id"), device_id) &&
           json_is_object(json_object_get(dk, "keys"));
}

/* A cross-signing key of `type` for user_id, bounded, or NULL. */
static json_t *cross_key_ok(ht_ctx *ctx, const char *user_id, const char *type, json_t *key) {
    if (!small(ctx, key, HT_FED_MAX_KEY_BYTES) || !ht_str_is(ht_json_str(key, "user_id"), user_id)) return NULL;
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(key, "usage"), i, u) {
        if (ht_str_is(json_string_value(u), type)) return key;
    }
    return NULL;
}

/* What server answered about user_id, kept to what may be believed:
 * {devices, master_key?, self_signing_key?}. NULL if it said nothing of
 * the user or gave too many devices. */
static json_t *user_keys_taken(ht_ctx *ctx, const char *user_id, json_t *answer) {
    json_t *devices = json_object_get(json_object_get(answer, "device_keys"), user_id);
    if (!json_is_object(devices) || json_object_size(devices) > HT_FED_MAX_REMOTE_DEVICES) return NULL;
    json_t *kept = ht_json_keep(ctx->arena, json_pack("{s:{}}", "devices"));
    const char *device_id;
    json_t *dk;
    json_object_foreach(devices, device_id, dk) {
        if (device_keys_ok(ctx, user_id, device_id, dk)) json_object_set(json_object_get(kept, "devices"), device_id, dk);
    }
    json_t *k;
    if ((k = cross_key_ok(ctx, user_id, "master",
                          json_object_get(json_object_get(answer, "master_keys"), user_id))))
        json_object_set(kept, "master_key", k);
    if ((k = cross_key_ok(ctx, user_id, "self_signing",
                          json_object_get(json_object_get(answer, "self_signing_keys"), user_id))))
        json_object_set(kept, "self_signing_key", k);
    return kept;
}

/* One user's keys into the client's answer: the devices asked for (all
 * when the list is empty). */
static void answer_user(json_t *answer, const char *user_id, json_t *keys, json_t *list) {
    json_t *devices = json_object_get(keys, "devices"), *out = json_object();
    if (json_array_size(list)) {
        size_t i;
        json_t *d;
        json_array_foreach(list, i, d) {
            json_t *dk = json_is_string(d) ? json_object_get(devices, json_string_value(d)) : NULL;
            if (dk) json_object_set(out, json_string_value(d), dk);
        }
    } else {
        json_object_update(out, devices);
    }
    json_object_set_new(json_object_get(answer, "device_keys"), user_id, out);
    json_t *k;
    if ((k = json_object_get(keys, "master_key"))) json_object_set(json_object_get(answer, "master_keys"), user_id, k);
    if ((k = json_object_get(keys, "self_signing_key")))
        json_object_set(json_object_get(answer, "self_signing_keys"), user_id, k);
}

bool ht_fed_remote_keys_query(ht_ctx *ctx, json_t *wanted, int64_t timeout_ms, json_t *answer) {
    ht_store *store = ctx->env->store;
    json_t *servers = by_server(ctx, wanted);
    bool waiting = false;
    const char *server;
    json_t *users;
    json_object_foreach(servers, server, users) {
        /* The whole device list of each user not cached, so that what is
         * kept is complete; the devices asked for are picked here. */
        json_t *ask = ht_json_keep(ctx->arena, json_object());
        const char *user_id;
        json_t *list;
        json_object_foreach(users, user_id, list) {
            json_t *cached = ht_store_shares_room_with(store, user_id, ctx->env->server_name)
                                 ? ht_json_parse(ctx->arena, ht_store_remote_keys_get(store, ctx->arena, user_id))
                                 : NULL;
            if (cached) answer_user(answer, user_id, cached, list);
            else json_object_set_new(ask, user_id, json_array());
        }
        if (!json_object_size(ask)) continue;
        json_t *body = ht_json_keep(ctx->arena, json_pack("{s:O}", "device_keys", ask));
        ht_remote_answer a;
        if (!ht_remote_ask(ctx, server, "POST", "/_matrix/federation/v1/user/keys/query", body, timeout_ms, &a)) {
            waiting = true;
            continue;
        }
        if (a.status != 200 || !json_is_object(a.json)) {
            failed(answer, server, &a);
            continue;
        }
        json_object_foreach(ask, user_id, list) {
            json_t *keys = user_keys_taken(ctx, user_id, a.json);
            if (!keys) continue;
            /* Kept only while their server tells us of changes. */
            const char *text = ht_json_dump(ctx->arena, keys);
            if (text && strlen(text) <= HT_FED_MAX_CACHED_KEYS_BYTES &&
                ht_store_shares_room_with(store, user_id, ctx->env->server_name))
                ht_store_remote_keys_put(store, user_id, text);
            answer_user(answer, user_id, keys, json_object_get(users, user_id));
        }
    }
    return !waiting;
}

bool ht_fed_remote_keys_claim(ht_ctx *ctx, json_t *wanted, int64_t timeout_ms, json_t *answer) {
    json_t *servers = by_server(ctx, wanted);
    json_t *result = json_object_get(answer, "one_time_keys");
    bool waiting = false;
    const char *server;
    json_t *users;
    json_object_foreach(servers, server, users) {
        json_t *body = ht_json_keep(ctx->arena, json_pack("{s:O}", "one_time_keys", users));
        ht_remote_answer a;
        if (!ht_remote_ask(ctx, server, "POST", "/_matrix/federation/v1/user/keys/claim", body, timeout_ms, &a)) {
            waiting = true;
            continue;
        }
        json_t *got = json_object_get(a.json, "one_time_keys");
        if (a.status != 200 || !json_is_object(got)) {
            failed(answer, server, &a);
            continue;
        }
        /* Only keys of the devices asked for, one each, bounded. */
        const char *user_id;
        json_t *per_device;
        json_object_foreach(users, user_id, per_device) {
            json_t *theirs = json_object_get(got, user_id), *mine = NULL;
            const char *device_id;
            json_t *alg;
            json_object_foreach(per_device, device_id, alg) {
                json_t *keys = json_object_get(theirs, device_id);
                if (!json_is_object(keys) || json_object_size(keys) != 1) continue;
                const char *key_id = json_object_iter_key(json_object_iter(keys));
                json_t *key = json_object_iter_value(json_object_iter(keys));
                const char *algorithm = json_string_value(alg);
                size_t n = algorithm ? strlen(algorithm) : 0;
                if (!n || strncmp(key_id, algorithm, n) != 0 || key_id[n] != ':' || strlen(key_id) > MAX_ID_BYTES ||
                    (!json_is_string(key) && !small(ctx, key, HT_FED_MAX_KEY_BYTES)))
                    continue; /* not a key of the algorithm asked for */
                if (!mine) {
                    mine = json_object();
                    json_object_set_new(result, user_id, mine);
                }
                json_object_set(mine, device_id, keys);
            }
        }
    }
    return !waiting;
}
