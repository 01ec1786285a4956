/* device_keys.c -- local users' keys as the spec's JSON (see device_keys.h). */
#include "matrix/device_keys.h"

#include "store/keys.h"
#include "store/meta.h"
#include "util/json.h"

static json_t *parse(ht_ctx *ctx, const char *text) { return text ? ht_json_parse(ctx->arena, text) : NULL; }

/* Adds the signatures uploaded about a key that the viewer may see to the
 * key's own "signatures". */
static void merge_signatures(ht_ctx *ctx, const char *user_id, const char *target_key, json_t *signed_json,
                             const char *viewer) {
    ht_signature_row *rows;
    size_t n = ht_store_signatures_of(ctx->env->store, ctx->arena, user_id, target_key, viewer, &rows);
    for (size_t i = 0; i < n; i++) {
        json_t *sigs = json_object_get(signed_json, "signatures");
        if (!json_is_object(sigs)) {
            sigs = json_object();
            json_object_set_new(signed_json, "signatures", sigs);
        }
        json_t *by = json_object_get(sigs, rows[i].signer_user);
        if (!json_is_object(by)) {
            by = json_object();
            json_object_set_new(sigs, rows[i].signer_user, by);
        }
        json_object_set_new(by, rows[i].signer_key_id, json_string(rows[i].signature));
    }
}

json_t *ht_cross_signing_key_of(ht_ctx *ctx, const char *user_id, const char *type, const char *viewer) {
    const char *public_key;
    json_t *key = parse(ctx, ht_store_cross_signing_get(ctx->env->store, ctx->arena, user_id, type, &public_key));
    if (!key) return NULL;
    key = json_deep_copy(key);
    merge_signatures(ctx, user_id, public_key, key, viewer);
    return key;
}

json_t *ht_device_keys_of(ht_ctx *ctx, const char *user_id, json_t *wanted, const char *viewer) {
    ht_device_keys_row *rows;
    size_t n = ht_store_device_keys_of_user(ctx->env->store, ctx->arena, user_id, &rows);
    /* The wanted ids as a set: a list of 10,000 against as many devices
     * would otherwise be compared pair by pair. */
    json_t *only = NULL;
    if (json_array_size(wanted)) {
        only = ht_json_keep(ctx->arena, json_object());
        size_t j;
        json_t *d;
        json_array_foreach(wanted, j, d) {
            if (json_is_string(d)) json_object_set_new(only, json_string_value(d), json_true());
        }
    }
    json_t *out = json_object();
    for (size_t i = 0; i < n; i++) {
        if (only && !json_object_get(only, rows[i].device_id)) continue;
        json_t *keys = json_deep_copy(parse(ctx, rows[i].json));
        if (!keys) continue;
        merge_signatures(ctx, user_id, rows[i].device_id, keys, viewer);
        json_t *unsig = json_object();
        /* Device names stay on this server (as Synapse's default,
         * allow_device_name_lookup_over_federation: false): they often
         * say where or who someone is. */
        if (rows[i].display_name && viewer)
            json_object_set_new(unsig, "device_display_name", json_string(rows[i].display_name));
        json_object_set_new(keys, "unsigned", unsig);
        json_object_set_new(out, rows[i].device_id, keys);
    }
    return out;
}

bool ht_one_time_key_claim(ht_ctx *ctx, const char *user_id, const char *device_id, const char *algorithm,
                           json_t *result, int64_t *stream) {
    ht_store *store = ctx->env->store;
    const char *key_id, *key;
    /* A one-time key is handed out once; the fallback key stands in when
     * none is left, and may be handed out again. */
    if (!ht_store_otk_claim(store, ctx->arena, user_id, device_id, algorithm, &key_id, &key) &&
        !ht_store_fallback_claim(store, ctx->arena, user_id, device_id, algorithm, &key_id, &key))
        return false;
    json_t *value = parse(ctx, key);
    if (!value) return false;
    json_t *user = json_object_get(result, user_id);
    if (!user) {
        user = json_object();
        json_object_set_new(result, user_id, user);
    }
    json_object_set_new(user, device_id, json_pack("{s:O}", key_id, value));
    if (!*stream) *stream = (int64_t)ht_store_stream_advance(store);
    ht_store_otk_taken_mark(store, user_id, device_id, *stream);
    return true;
}
