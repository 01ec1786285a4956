/* keys.c -- this server's key, served; other servers' keys, fetched once
 * and kept (server-server "Retrieving server keys": straight from the
 * server itself, no notary).
 *
 * A key is asked of its server the first time a request or an event
 * signed with it arrives, and kept until the valid_until_ts its server
 * published (at most 7 days ahead, as the spec caps it). */
#include "federation/federation.h"

#include <string.h>

#include "matrix/remote.h"
#include "room/pdu.h"
#include "room/server_key.h"
#include "store/federation.h"
#include "util/json.h"

enum { KEY_FETCH_TIMEOUT_MS = 15000 };

ht_reply ht_fed_key_server(ht_ctx *ctx) {
    const char *key_id = ht_param_get(ctx, "keyId");
    if (key_id && strcmp(key_id, ctx->env->signing_key->key_id) != 0)
        return ht_reply_error(HT_M_NOT_FOUND, "This server has no key with that id.");
    return ht_reply_json(ht_server_key_object(ctx->env->signing_key, ctx->env->server_name, ctx->now_ms));
}

ht_reply ht_fed_version(ht_ctx *ctx) {
    (void)ctx;
    return ht_reply_json(json_pack("{s:{s:s, s:s}}", "server", "name", "hometab", "version", "0.1"));
}

/* Keeps every ed25519 key of a checked key object. */
static void keep_keys(ht_ctx *ctx, const char *server, json_t *obj, int64_t usable_until) {
    const char *key_id;
    json_t *entry;
    json_object_foreach(json_object_get(obj, "verify_keys"), key_id, entry) {
        const char *key = ht_json_str(entry, "key");
        if (strncmp(key_id, "ed25519:", 8) == 0 && key)
            ht_store_server_key_put(ctx->env->store, server, key_id, key, usable_until, ctx->now_ms);
    }
}

bool ht_fed_server_key(ht_ctx *ctx, const char *server, const char *key_id, int64_t ts, const char **key,
                       const char **why) {
    *key = NULL;
    *why = NULL;
    if (strcmp(server, ctx->env->server_name) == 0) {
        if (strcmp(key_id, ctx->env->signing_key->key_id) == 0)
            *key = ht_signing_key_public_base64(ctx->arena, ctx->env->signing_key);
        return true;
    }
    int64_t valid_until = 0;
    const char *cached = ht_store_server_key(ctx->env->store, ctx->arena, server, key_id, &valid_until);
    int64_t needed = ts > ctx->now_ms ? ts : ctx->now_ms;
    if (cached && valid_until >= needed) {
        *key = cached;
        return true;
    }
    ht_remote_answer answer;
    if (!ht_remote_ask(ctx, server, "GET", "/_matrix/key/v2/server", NULL, KEY_FETCH_TIMEOUT_MS, &answer))
        return false;
    if (answer.status != 200) {
        *why = ht_arena_printf(ctx->arena, "%s's keys could not be fetched: %s", server,
                               answer.error ? answer.error : "it refused");
        return true;
    }
    int64_t usable_until;
    const char *bad = ht_server_key_object_check(ctx->arena, answer.json, server, ctx->now_ms, &usable_until);
    if (bad) {
        *why = bad;
        return true;
    }
    keep_keys(ctx, server, answer.json, usable_until);
    *key = ht_store_server_key(ctx->env->store, ctx->arena, server, key_id, &valid_until);
    if (!*key) *why = ht_arena_printf(ctx->arena, "%s publishes no key %s.", server, key_id);
    return true;
}

bool ht_fed_prefetch_keys(ht_ctx *ctx, json_t *const *pdus, size_t count) {
    bool ready = true;
    for (size_t i = 0; i < count; i++) {
        json_t *ts = json_object_get(pdus[i], "origin_server_ts");
        /* Only the servers whose signatures count: a PDU naming others in
         * its signatures cannot make this server call them. */
        const char *servers[2];
        size_t n = ht_pdu_signing_servers(pdus[i], servers);
        for (size_t s = 0; s < n; s++) {
            const char *key_id;
            json_t *sig;
            json_object_foreach(json_object_get(json_object_get(pdus[i], "signatures"), servers[s]), key_id, sig) {
                const char *key, *why;
                if (strncmp(key_id, "ed25519:", 8) == 0 &&
                    !ht_fed_server_key(ctx, servers[s], key_id, json_integer_value(ts), &key, &why))
                    ready = false;
            }
        }
    }
    return ready;
}

const char *ht_fed_cached_key(void *self, const char *server, const char *key_id, int64_t ts) {
    ht_env *env = self;
    if (strcmp(server, env->server_name) == 0)
        return strcmp(key_id, env->signing_key->key_id) == 0 ? ht_signing_key_public_base64(env->arena, env->signing_key)
                                                              : NULL;
    int64_t valid_until = 0;
    const char *key = ht_store_server_key(env->store, env->arena, server, key_id, &valid_until);
    /* Room versions 5 and later: the key must have been valid when the event was sent. */
    return key && valid_until >= ts ? key : NULL;
}
