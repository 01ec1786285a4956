/* keys.c -- /keys/upload, /keys/query, /keys/claim, /keys/changes,
 * /keys/device_signing/upload and /keys/signatures/upload.
 *
 * Keys are kept as the JSON the client signed and handed out unchanged;
 * the only thing the server adds is signatures that were uploaded later,
 * merged in when a key is queried. Signatures on cross-signing keys and
 * uploaded signatures are verified before they are stored, so what a
 * client reads was really signed by the key it names. Every change a
 * contact's client must react to moves the stream and is recorded as a
 * device-list change, which /sync and /keys/changes report. */
#include "api/keys.h"

#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/filter.h"
#include "federation/federation.h"
#include "matrix/device_keys.h"
#include "matrix/ids.h"
#include "store/keys.h"
#include "store/meta.h"
#include "store/store.h"
#include "store/to_device.h"
#include "util/json.h"
#include "util/signing.h"

enum {
    MAX_KEY_JSON_BYTES = 16384, /* one key object */
    MAX_KEYS_PER_UPLOAD = 1000, /* one-time keys in one /keys/upload */
    /* What one device may hold. Clients keep about 50 one-time keys and one
     * fallback key per algorithm; the counts go out in every /sync. */
    MAX_ONE_TIME_KEYS = 10000,
    MAX_FALLBACK_KEYS = 20,
    MAX_QUERY_ENTRIES = 10000,  /* users and devices named in one query or claim */
    MAX_ID_BYTES = 255,
    REMOTE_TIMEOUT_MS = 10000,
};

static ht_store *store_of(ht_ctx *ctx) { return ctx->env->store; }

/* Stored JSON text back to a value owned by the request. */
static json_t *parse(ht_ctx *ctx, const char *text) { return text ? ht_json_parse(ctx->arena, text) : NULL; }

static bool id_ok(const char *s) { return s && *s && strlen(s) <= MAX_ID_BYTES; }

/* A key object (or, for one-time keys, a bare string) of a sane size. */
static bool key_value_ok(json_t *v, bool string_allowed) {
    if (json_is_string(v)) return string_allowed && id_ok(json_string_value(v));
    if (!json_is_object(v)) return false;
    char *text = json_dumps(v, JSON_COMPACT);
    bool ok = text && strlen(text) <= MAX_KEY_JSON_BYTES;
    free(text);
    return ok;
}

/* "algorithm:id", both parts non-empty; *algorithm gets the first part. */
static bool key_id_split(ht_ctx *ctx, const char *key_id, const char **algorithm) {
    const char *colon = strchr(key_id, ':');
    if (!id_ok(key_id) || !colon || colon == key_id || !colon[1]) return false;
    *algorithm = ht_arena_strndup(ctx->arena, key_id, (size_t)(colon - key_id));
    return true;
}

static bool ed25519_key(json_t *keys, const char *key_id, const char **public_key) {
    const char *v = ht_json_str(keys, key_id);
    if (!v) return false;
    *public_key = v;
    return true;
}

/* ---- /keys/upload ------------------------------------------------------ */

static bool check_device_keys(ht_ctx *ctx, json_t *dk, ht_reply *err) {
    if (!json_is_object(dk) || !key_value_ok(dk, false) || !json_is_array(json_object_get(dk, "algorithms")) ||
        !json_is_object(json_object_get(dk, "keys")) || !json_is_object(json_object_get(dk, "signatures"))) {
        *err = ht_reply_error(HT_M_BAD_JSON, "device_keys must be an object with algorithms, keys and "
                                             "signatures, at most 16 KiB.");
        return false;
    }
    const char *user = ht_json_str(dk, "user_id"), *device = ht_json_str(dk, "device_id");
    if (!user || !device || strcmp(user, ctx->auth.user_id) != 0 || strcmp(device, ctx->auth.device_id) != 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM,
                              "device_keys.user_id and device_id must be your own user and this device.");
        return false;
    }
    return true;
}

/* one_time_keys or fallback_keys: {"algorithm:id": key}. */
static bool check_key_map(ht_ctx *ctx, json_t *map, const char *name, ht_reply *err) {
    if (!map) return true;
    if (!json_is_object(map) || json_object_size(map) > MAX_KEYS_PER_UPLOAD) {
        *err = ht_reply_errorf(ctx, HT_M_BAD_JSON, "%s must be an object of at most %d keys.", name,
                               MAX_KEYS_PER_UPLOAD);
        return false;
    }
    const char *key_id, *algorithm;
    json_t *value;
    json_object_foreach(map, key_id, value) {
        if (!key_id_split(ctx, key_id, &algorithm) || !key_value_ok(value, true)) {
            *err = ht_reply_errorf(ctx, HT_M_BAD_JSON,
                                   "%s: each key id must be \"algorithm:id\" and each key a string or an object.",
                                   name);
            return false;
        }
    }
    return true;
}

static bool store_one_time_keys(ht_ctx *ctx, json_t *map, ht_reply *err) {
    const char *key_id, *algorithm;
    json_t *value;
    json_object_foreach(map, key_id, value) {
        key_id_split(ctx, key_id, &algorithm);
        const char *old = ht_store_otk_get(store_of(ctx), ctx->arena, ctx->auth.user_id, ctx->auth.device_id, key_id);
        if (old) {
            /* Clients retry uploads: the same key again is fine. */
            if (json_equal(parse(ctx, old), value)) continue;
            *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM,
                                   "One-time key %s was already uploaded with different content.", key_id);
            return false;
        }
        ht_store_otk_insert(store_of(ctx), ctx->auth.user_id, ctx->auth.device_id, algorithm, key_id,
                            ht_json_dump(ctx->arena, value));
    }
    return true;
}

static void store_fallback_keys(ht_ctx *ctx, json_t *map) {
    const char *key_id, *algorithm;
    json_t *value;
    json_object_foreach(map, key_id, value) {
        key_id_split(ctx, key_id, &algorithm);
        ht_store_fallback_put(store_of(ctx), ctx->auth.user_id, ctx->auth.device_id, algorithm, key_id,
                              ht_json_dump(ctx->arena, value));
    }
}

/* The device's one-time key counts; signed_curve25519 is always present,
 * as clients decide from it how many keys to top up. */
json_t *ht_keys_otk_counts(ht_ctx *ctx, const char *user_id, const char *device_id) {
    ht_key_count_row *rows;
    size_t n = ht_store_otk_counts(store_of(ctx), ctx->arena, user_id, device_id, &rows);
    json_t *counts = json_pack("{s:i}", "signed_curve25519", 0);
    for (size_t i = 0; i < n; i++) json_object_set_new(counts, rows[i].algorithm, json_integer(rows[i].count));
    return counts;
}

ht_reply ht_api_keys_upload(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *dk = json_object_get(body, "device_keys");
    json_t *otks = json_object_get(body, "one_time_keys");
    json_t *fallback = json_object_get(body, "fallback_keys");
    if (!fallback) fallback = json_object_get(body, "org.matrix.msc2732.fallback_keys");
    if ((dk && !check_device_keys(ctx, dk, &err)) || !check_key_map(ctx, otks, "one_time_keys", &err) ||
        !check_key_map(ctx, fallback, "fallback_keys", &err))
        return err;

    if (dk) {
        const char *old = ht_store_device_keys_get(store_of(ctx), ctx->arena, ctx->auth.user_id, ctx->auth.device_id);
        if (!old || !json_equal(parse(ctx, old), dk)) {
            ht_store_device_keys_put(store_of(ctx), ctx->auth.user_id, ctx->auth.device_id,
                                     ht_json_dump(ctx->arena, dk));
            ht_store_device_list_changed(store_of(ctx), ctx->auth.user_id, ctx->auth.device_id, NULL);
        }
    }
    if (otks && !store_one_time_keys(ctx, otks, &err)) return err;
    if (fallback) store_fallback_keys(ctx, fallback);
    /* Judged after storing: the request's transaction undoes a refusal. */
    json_t *counts = ht_keys_otk_counts(ctx, ctx->auth.user_id, ctx->auth.device_id);
    json_int_t held = 0;
    const char *algorithm;
    json_t *count;
    json_object_foreach(counts, algorithm, count) held += json_integer_value(count);
    if (held > MAX_ONE_TIME_KEYS ||
        ht_store_fallback_count(store_of(ctx), ctx->auth.user_id, ctx->auth.device_id) > MAX_FALLBACK_KEYS) {
        json_decref(counts);
        return ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "A device may hold at most %d one-time keys and %d "
                               "fallback keys.", MAX_ONE_TIME_KEYS, MAX_FALLBACK_KEYS);
    }
    return ht_reply_json(json_pack("{s:o}", "one_time_key_counts", counts));
}

/* ---- /keys/query ------------------------------------------------------- */

static bool is_local(ht_ctx *ctx, const char *user_id) {
    const char *server = ht_id_server(user_id);
    return server && strcmp(server, ctx->env->server_name) == 0;
}

/* {user_id: [device_id, ...]}, each a valid user id, lists of strings,
 * everything bounded. */
static bool check_user_map(ht_ctx *ctx, json_t *map, const char *name, bool lists, ht_reply *err) {
    size_t entries = 0;
    const char *user_id;
    json_t *value;
    if (!json_is_object(map)) goto bad;
    json_object_foreach(map, user_id, value) {
        if (!ht_user_id_valid(user_id)) {
            *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s names something that is not a user id.", name);
            return false;
        }
        entries++;
        if (lists) {
            if (!json_is_array(value)) goto bad;
            size_t i;
            json_t *d;
            json_array_foreach(value, i, d) {
                if (!json_is_string(d)) goto bad;
            }
            entries += json_array_size(value);
        } else {
            if (!json_is_object(value)) goto bad;
            const char *device_id;
            json_t *alg;
            json_object_foreach(value, device_id, alg) {
                if (!json_is_string(alg)) goto bad;
            }
            entries += json_object_size(value);
        }
    }
    if (entries <= MAX_QUERY_ENTRIES) return true;
    *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s names more than %d users and devices.", name,
                           MAX_QUERY_ENTRIES);
    return false;
bad:
    *err = ht_reply_errorf(ctx, HT_M_BAD_JSON, lists ? "%s must map user ids to lists of device ids."
                                                     : "%s must map user ids to {device id: algorithm}.", name);
    return false;
}

/* Without federation, other servers' users cannot be looked up: the spec
 * reports unreachable servers under failures. */
static void remote_failure(json_t *failures, const char *user_id) {
    json_object_set_new(failures, ht_id_server(user_id),
                        json_pack("{s:i, s:s}", "status", 503, "message", "This server does not federate."));
}

/* The request's "timeout" for other servers: the spec's default of 10 s,
 * and never more, as one client's query holds its request that long. */
static int64_t remote_timeout(json_t *timeout) {
    json_int_t ms = json_is_integer(timeout) ? json_integer_value(timeout) : REMOTE_TIMEOUT_MS;
    return ms < 1000 ? 1000 : ms > REMOTE_TIMEOUT_MS ? REMOTE_TIMEOUT_MS : ms;
}

ht_reply ht_api_keys_query(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *wanted = json_object_get(body, "device_keys");
    json_t *timeout = json_object_get(body, "timeout");
    if (timeout && !json_is_integer(timeout)) return ht_reply_error(HT_M_BAD_JSON, "timeout must be an integer.");
    if (!check_user_map(ctx, wanted, "device_keys", true, &err)) return err;

    json_t *devices = json_object(), *failures = json_object(), *master = json_object(),
           *self_signing = json_object(), *user_signing = json_object();
    json_t *answer = ht_json_keep(ctx->arena, json_pack("{s:o, s:o, s:o, s:o, s:o}", "device_keys", devices,
                                                        "failures", failures, "master_keys", master,
                                                        "self_signing_keys", self_signing,
                                                        "user_signing_keys", user_signing));
    json_t *remote = ht_json_keep(ctx->arena, json_object());
    const char *me = ctx->auth.user_id, *user_id;
    json_t *list;
    json_object_foreach(wanted, user_id, list) {
        if (!is_local(ctx, user_id)) {
            if (ctx->env->cfg->federation) json_object_set(remote, user_id, list);
            else remote_failure(failures, user_id);
            continue;
        }
        json_object_set_new(devices, user_id, ht_device_keys_of(ctx, user_id, list, me));
        json_t *k;
        if ((k = ht_cross_signing_key_of(ctx, user_id, "master", me))) json_object_set_new(master, user_id, k);
        if ((k = ht_cross_signing_key_of(ctx, user_id, "self_signing", me)))
            json_object_set_new(self_signing, user_id, k);
        /* A user-signing key only matters to its owner. */
        if (strcmp(user_id, me) == 0 && (k = ht_cross_signing_key_of(ctx, user_id, "user_signing", me)))
            json_object_set_new(user_signing, user_id, k);
    }
    if (json_object_size(remote) && !ht_fed_remote_keys_query(ctx, remote, remote_timeout(timeout), answer))
        return (ht_reply){0};
    return ht_reply_json(json_incref(answer));
}

/* ---- /keys/claim ------------------------------------------------------- */

ht_reply ht_api_keys_claim(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *wanted = json_object_get(body, "one_time_keys");
    json_t *timeout = json_object_get(body, "timeout");
    if (timeout && !json_is_integer(timeout)) return ht_reply_error(HT_M_BAD_JSON, "timeout must be an integer.");
    if (!check_user_map(ctx, wanted, "one_time_keys", false, &err)) return err;

    json_t *result = json_object(), *failures = json_object();
    json_t *answer = ht_json_keep(ctx->arena, json_pack("{s:o, s:o}", "one_time_keys", result, "failures", failures));
    json_t *remote = ht_json_keep(ctx->arena, json_object());
    int64_t stream = 0; /* one stream position for every device whose keys were taken */
    const char *user_id;
    json_t *per_device;
    json_object_foreach(wanted, user_id, per_device) {
        if (!is_local(ctx, user_id)) {
            if (ctx->env->cfg->federation) json_object_set(remote, user_id, per_device);
            else remote_failure(failures, user_id);
            continue;
        }
        const char *device_id;
        json_t *alg;
        json_object_foreach(per_device, device_id, alg)
            ht_one_time_key_claim(ctx, user_id, device_id, json_string_value(alg), result, &stream);
    }
    /* Keys claimed here are claimed again on the pass that has the other
     * servers' answers: a waiting pass's writes are rolled back. */
    if (json_object_size(remote) && !ht_fed_remote_keys_claim(ctx, remote, remote_timeout(timeout), answer))
        return (ht_reply){0};
    return ht_reply_json(json_incref(answer));
}

/* ---- /keys/changes ----------------------------------------------------- */

static bool token_query(ht_ctx *ctx, const char *name, int64_t *out, ht_reply *err) {
    const char *v = ht_request_query(ctx->req, name);
    if (!v) {
        *err = ht_reply_errorf(ctx, HT_M_MISSING_PARAM, "The %s parameter is required.", name);
        return false;
    }
    if (!ht_stream_token_parse(v, out)) {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s is not a token this server gave out.", name);
        return false;
    }
    return true;
}

ht_reply ht_api_keys_changes(ht_ctx *ctx) {
    int64_t from, to;
    ht_reply err;
    if (!token_query(ctx, "from", &from, &err) || !token_query(ctx, "to", &to, &err)) return err;
    int64_t now = (int64_t)ht_store_stream_position(store_of(ctx));
    if (to > now) to = now;
    if (from > to) from = to;
    return ht_reply_json(ht_keys_device_lists(ctx, from, to));
}

json_t *ht_keys_device_lists(ht_ctx *ctx, int64_t from, int64_t to) {
    const char **changed, **left;
    size_t changed_count =
        ht_store_device_lists_changed(store_of(ctx), ctx->arena, ctx->auth.user_id, from, to, &changed);
    size_t left_count = ht_store_device_lists_left(store_of(ctx), ctx->arena, ctx->auth.user_id, from, to, &left);
    return json_pack("{s:o, s:o}", "changed", ht_json_string_array(changed, changed_count), "left",
                     ht_json_string_array(left, left_count));
}

/* ---- /keys/device_signing/upload --------------------------------------- */

typedef struct cross_key {
    const char *type;  /* master, self_signing, user_signing */
    const char *field; /* its name in the request */
    json_t *key;       /* from the request, or NULL */
    const char *public_key;
} cross_key;

/* {user_id: me, usage: [type], keys: {"ed25519:<pub>": "<pub>"}}. */
static bool check_cross_key(ht_ctx *ctx, cross_key *k, ht_reply *err) {
    json_t *key = k->key;
    json_t *usage = json_object_get(key, "usage");
    json_t *keys = json_object_get(key, "keys");
    bool usage_ok = false;
    size_t i;
    json_t *u;
    json_array_foreach(usage, i, u) usage_ok |= json_is_string(u) && strcmp(json_string_value(u), k->type) == 0;
    const char *user = ht_json_str(key, "user_id");
    if (!json_is_object(key) || !key_value_ok(key, false) || !usage_ok || !json_is_object(keys) ||
        json_object_size(keys) != 1 || !user) {
        *err = ht_reply_errorf(ctx, HT_M_BAD_JSON,
                               "%s must be a cross-signing key: user_id, usage [\"%s\"] and one ed25519 key.",
                               k->field, k->type);
        return false;
    }
    if (strcmp(user, ctx->auth.user_id) != 0) {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s.user_id must be your own user id.", k->field);
        return false;
    }
    const char *key_id = json_object_iter_key(json_object_iter(keys));
    const char *pub = ht_json_str(keys, key_id);
    if (strncmp(key_id, "ed25519:", 8) != 0 || !pub || strcmp(key_id + 8, pub) != 0 ||
        !ht_ed25519_public_key_valid(pub)) {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM,
                               "%s.keys must hold one \"ed25519:<public key>\": \"<public key>\".", k->field);
        return false;
    }
    k->public_key = pub;
    return true;
}

ht_reply ht_api_keys_device_signing_upload(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    cross_key keys[3] = {{"master", "master_key", NULL, NULL},
                         {"self_signing", "self_signing_key", NULL, NULL},
                         {"user_signing", "user_signing_key", NULL, NULL}};
    const char *me = ctx->auth.user_id;
    bool all_stored = true;
    for (int i = 0; i < 3; i++) {
        keys[i].key = json_object_get(body, keys[i].field);
        if (!keys[i].key) continue;
        if (!check_cross_key(ctx, &keys[i], &err)) return err;
        const char *old = ht_store_cross_signing_get(store_of(ctx), ctx->arena, me, keys[i].type, NULL);
        if (!old || !json_equal(parse(ctx, old), keys[i].key)) all_stored = false;
    }
    const char *old_master_pub = NULL;
    const char *old_master = ht_store_cross_signing_get(store_of(ctx), ctx->arena, me, "master", &old_master_pub);
    const char *master_pub = keys[0].key ? keys[0].public_key : old_master_pub;
    if (!master_pub && (keys[1].key || keys[2].key))
        return ht_reply_error(HT_M_MISSING_PARAM, "Upload a master_key first: it signs the other keys.");
    /* The subordinate keys must carry the master key's signature. */
    const char *master_key_id = master_pub ? ht_arena_printf(ctx->arena, "ed25519:%s", master_pub) : NULL;
    for (int i = 1; i < 3; i++) {
        if (keys[i].key && !ht_json_signature_valid(keys[i].key, me, master_key_id, master_pub))
            return ht_reply_errorf(ctx, HT_M_INVALID_SIGNATURE, "%s is not signed by the master key.",
                                   keys[i].field);
    }
    /* Spec v1.11: no user-interactive auth for the first keys, or for
     * uploading exactly the keys already stored (a retried request). */
    if (old_master && !all_stored) {
        ht_reply challenge;
        if (!ht_uia_check(ctx, body, "m.login.password", me, &challenge)) return challenge;
    }
    if (all_stored) return ht_reply_empty();
    for (int i = 0; i < 3; i++)
        if (keys[i].key)
            ht_store_cross_signing_put(store_of(ctx), me, keys[i].type, keys[i].public_key,
                                       ht_json_dump(ctx->arena, keys[i].key));
    ht_store_device_list_changed(store_of(ctx), me, NULL, NULL);
    return ht_reply_empty();
}

/* ---- /keys/signatures/upload ------------------------------------------- */

static void add_failure(json_t *failures, const char *user_id, const char *key_id, ht_errcode code,
                        const char *message) {
    json_t *user = json_object_get(failures, user_id);
    if (!user) {
        user = json_object();
        json_object_set_new(failures, user_id, user);
    }
    json_object_set_new(user, key_id, json_pack("{s:s, s:s}", "errcode", ht_errcode_name(code), "error", message));
}

/* The public key behind one of the caller's own key ids ("ed25519:X"): a
 * device of theirs, or one of their cross-signing keys. */
static const char *signer_public_key(ht_ctx *ctx, const char *key_id) {
    if (strncmp(key_id, "ed25519:", 8) != 0) return NULL;
    const char *name = key_id + 8;
    const char *me = ctx->auth.user_id;
    json_t *device = parse(ctx, ht_store_device_keys_get(store_of(ctx), ctx->arena, me, name));
    const char *pub;
    if (device && ed25519_key(json_object_get(device, "keys"), key_id, &pub)) return pub;
    if (ht_store_cross_signing_by_public_key(store_of(ctx), ctx->arena, me, name, NULL)) return name;
    return NULL;
}

/* Equal apart from signatures and unsigned: the uploaded copy must be the
 * very key that is stored. */
static bool same_key(json_t *a, json_t *b) {
    json_t *x = json_copy(a), *y = json_copy(b);
    json_object_del(x, "signatures");
    json_object_del(x, "unsigned");
    json_object_del(y, "signatures");
    json_object_del(y, "unsigned");
    bool same = json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return same;
}

/* Checks and stores the caller's signatures on one key; returns false
 * (with a failure recorded) if any does not hold. */
static bool sign_one(ht_ctx *ctx, json_t *failures, const char *user_id, const char *key_id, json_t *signed_key) {
    const char *me = ctx->auth.user_id;
    json_t *stored = NULL;
    if (json_is_object(signed_key)) {
        stored = parse(ctx, ht_store_device_keys_get(store_of(ctx), ctx->arena, user_id, key_id));
        const char *xjson = NULL;
        if (!stored && ht_store_cross_signing_by_public_key(store_of(ctx), ctx->arena, user_id, key_id, &xjson))
            stored = parse(ctx, xjson);
    }
    if (!stored) {
        add_failure(failures, user_id, key_id, HT_M_NOT_FOUND, "There is no such device or cross-signing key.");
        return false;
    }
    if (!same_key(stored, signed_key)) {
        add_failure(failures, user_id, key_id, HT_M_INVALID_SIGNATURE,
                    "The signed object is not the key this server holds.");
        return false;
    }
    json_t *mine = json_object_get(json_object_get(signed_key, "signatures"), me);
    if (!json_is_object(mine) || json_object_size(mine) == 0 || json_object_size(mine) > 16) {
        add_failure(failures, user_id, key_id, HT_M_INVALID_SIGNATURE, "The object carries no signature of yours.");
        return false;
    }
    const char *sig_key_id;
    json_t *sig;
    json_object_foreach(mine, sig_key_id, sig) {
        if (!ht_json_signature_valid(signed_key, me, sig_key_id, signer_public_key(ctx, sig_key_id))) {
            add_failure(failures, user_id, key_id, HT_M_INVALID_SIGNATURE,
                        "A signature does not verify with any key of yours.");
            return false;
        }
    }
    json_object_foreach(mine, sig_key_id, sig)
        ht_store_signature_put(store_of(ctx), user_id, key_id, me, sig_key_id, json_string_value(sig));
    return true;
}

ht_reply ht_api_keys_signatures_upload(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    size_t entries = 0;
    const char *user_id;
    json_t *per_key;
    json_object_foreach(body, user_id, per_key) {
        if (!ht_user_id_valid(user_id) || !json_is_object(per_key))
            return ht_reply_error(HT_M_BAD_JSON, "The body must map user ids to {key id: signed key}.");
        entries += json_object_size(per_key);
    }
    if (entries > MAX_QUERY_ENTRIES)
        return ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "At most %d keys may be signed at once.", MAX_QUERY_ENTRIES);

    json_t *failures = json_object();
    json_object_foreach(body, user_id, per_key) {
        const char *key_id;
        json_t *signed_key;
        bool signed_any = false;
        bool own = strcmp(user_id, ctx->auth.user_id) == 0;
        json_object_foreach(per_key, key_id, signed_key) {
            if (!is_local(ctx, user_id)) {
                add_failure(failures, user_id, key_id, HT_M_NOT_FOUND, "This server does not federate.");
                continue;
            }
            bool ok = sign_one(ctx, failures, user_id, key_id, signed_key);
            /* A newly signed device of mine: other servers are sent that
             * device again (a cross-signing key: the change below). */
            if (ok && own && ht_store_device_exists(store_of(ctx), user_id, key_id))
                ht_store_device_list_changed(store_of(ctx), user_id, key_id, NULL);
            else signed_any |= ok;
        }
        /* Signatures on my own keys change my device list for everyone who
         * shares a room with me; my signature on someone else's key is
         * visible to me alone, so only my devices are told to refetch it. */
        if (signed_any) ht_store_device_list_changed(store_of(ctx), user_id, NULL, own ? NULL : ctx->auth.user_id);
    }
    return ht_reply_json(json_pack("{s:o}", "failures", failures));
}
