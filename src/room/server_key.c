/* server_key.c -- the server's signing key and key objects (see
 * server_key.h).
 *
 * It lives in src/room because its first job is signing the events the
 * rooms engine makes, and like the rest of the engine it reads the store
 * through store/ and the cryptography through util/; the federation handlers
 * that will serve and fetch key objects sit above and call down into it. */
#include "room/server_key.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "room/key_name.h"
#include "store/meta.h"

/* The meta key of the seed: unpadded base64 of 32 random bytes. */
static const char seed_setting[] = "server_signing_seed_ed25519";
/* The meta key of the name the database was made (or first opened) with. */
static const char name_setting[] = "server_name";

bool ht_server_key_load(ht_store *store, ht_signing_key *key) {
    char text[64];
    unsigned char seed[HT_ED25519_SEED_BYTES];
    if (!ht_store_meta_get(store, seed_setting, text, sizeof text) ||
        !ht_base64_decode_exact(text, seed, sizeof seed))
        return false;
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES], secret[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(public_key, secret, seed);
    sodium_memzero(secret, sizeof secret);
    char key_id[32];
    snprintf(key_id, sizeof key_id, "ed25519:%02x%02x%02x%02x", public_key[0], public_key[1], public_key[2],
             public_key[3]);
    bool ok = ht_signing_key_from_seed(key, seed, key_id);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(text, sizeof text);
    return ok;
}

bool ht_server_key_ensure(ht_store *store, char *err, size_t err_size) {
    unsigned char seed[HT_ED25519_SEED_BYTES];
    char text[64];
    randombytes_buf(seed, sizeof seed);
    sodium_bin2base64(text, sizeof text, seed, sizeof seed, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    sodium_memzero(seed, sizeof seed);
    /* Kept only if there is none yet: the identity never changes by itself. */
    bool added = ht_store_meta_add(store, seed_setting, text);
    sodium_memzero(text, sizeof text);
    if (!added) {
        snprintf(err, err_size, "the server signing key could not be stored: %s", ht_store_last_error(store));
        return false;
    }
    ht_signing_key key;
    if (!ht_server_key_load(store, &key)) {
        snprintf(err, err_size, "the server signing key in the database is damaged (meta '%s')", seed_setting);
        return false;
    }
    ht_signing_key_wipe(&key);
    return true;
}

bool ht_server_name_settle(ht_store *store, const ht_signing_key *key, bool name_from_key, bool key_is_new,
                           const char *configured, char *out, size_t out_size, char *err, size_t err_size) {
    char stored[256];
    char key_name[HT_KEY_NAME_LEN + 1];
    const char *name = configured;
    bool has_name = ht_store_meta_get(store, name_setting, stored, sizeof stored);
    /* A key name is the database's identity in any mode: its users and rooms
     * are named by that key, and no other server can take the name. */
    if (has_name && (name_from_key || ht_key_name_key(stored, NULL))) {
        name = stored;
    } else if (name_from_key && key_is_new) {
        ht_key_name(key->public_key, key_name);
        name = key_name;
    }
    if (!name || strlen(name) >= out_size) {
        snprintf(err, err_size, "the server name is missing or too long");
        return false;
    }
    /* First writer wins: the name recorded is the one the database began with. */
    if (!ht_store_meta_add(store, name_setting, name)) {
        snprintf(err, err_size, "the server name could not be stored: %s", ht_store_last_error(store));
        return false;
    }
    memmove(out, name, strlen(name) + 1);
    return true;
}

json_t *ht_server_key_object(const ht_signing_key *key, const char *server_name, int64_t now_ms) {
    char public_key[64];
    sodium_bin2base64(public_key, sizeof public_key, key->public_key, sizeof key->public_key,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    json_t *obj = json_pack("{s:s, s:{s:{s:s}}, s:{}, s:I}", "server_name", server_name, "verify_keys",
                            key->key_id, "key", public_key, "old_verify_keys", "valid_until_ts",
                            (json_int_t)(now_ms + HT_SERVER_KEY_VALID_MS));
    ht_json_sign(obj, server_name, key);
    return obj;
}

const char *ht_server_key_object_check(ht_arena *arena, json_t *obj, const char *server_name, int64_t now_ms,
                                       int64_t *usable_until) {
    if (!json_is_object(obj)) return "The key object is not a JSON object.";
    const char *named = json_string_value(json_object_get(obj, "server_name"));
    if (!named || strcmp(named, server_name) != 0)
        return ht_arena_printf(arena, "The key object is not for %s.", server_name);
    json_t *valid_until = json_object_get(obj, "valid_until_ts");
    if (!json_is_integer(valid_until)) return "The key object has no valid_until_ts.";
    if (json_integer_value(valid_until) <= now_ms) return "The key object has expired.";
    json_t *old = json_object_get(obj, "old_verify_keys");
    if (old && !json_is_object(old)) return "old_verify_keys must be an object.";

    json_t *keys = json_object_get(obj, "verify_keys");
    json_t *signatures = json_object_get(json_object_get(obj, "signatures"), server_name);
    if (!json_is_object(keys)) return "The key object has no verify_keys.";
    int ed25519_keys = 0, verified = 0;
    const char *key_id;
    json_t *entry;
    json_object_foreach(keys, key_id, entry) {
        if (strncmp(key_id, "ed25519:", 8) != 0) continue; /* an algorithm we do not know */
        const char *public_key = json_string_value(json_object_get(entry, "key"));
        if (!ht_ed25519_public_key_valid(public_key))
            return ht_arena_printf(arena, "verify_keys[\"%s\"] is not an ed25519 public key.", key_id);
        ed25519_keys++;
        if (!json_object_get(signatures, key_id)) continue;
        if (!ht_json_signature_valid(obj, server_name, key_id, public_key))
            return ht_arena_printf(arena, "The key object's signature with %s does not verify.", key_id);
        verified++;
    }
    if (!ed25519_keys) return "The key object has no ed25519 verify key.";
    if (!verified) return ht_arena_printf(arena, "The key object is not signed by %s with any of its keys.", server_name);
    if (usable_until) {
        int64_t cap = now_ms + HT_SERVER_KEY_VALID_MS;
        int64_t until = json_integer_value(valid_until);
        *usable_until = until < cap ? until : cap;
    }
    return NULL;
}
