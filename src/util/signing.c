/* signing.c -- ed25519 over canonical JSON, with libsodium (see signing.h).
 *
 * Signatures are deterministic (ed25519 needs no randomness to sign), which
 * is what lets the unit tests hold this file to the spec's test vectors and
 * the differential test to Synapse's signedjson byte for byte. */
#include "util/signing.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/canonical.h"

/* Room for the unpadded base64 of a signature, and its NUL. */
enum { SIGNATURE_TEXT = 90 };

static int base64_value(char c) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *at = c ? strchr(alphabet, c) : NULL;
    return at ? (int)(at - alphabet) : -1;
}

bool ht_base64_decode_exact(const char *text, unsigned char *out, size_t want) {
    /* Unpadded standard base64 by the spec; some clients pad. The bits of
     * the last character past the data are ignored, as Python's decoder
     * (Synapse's) ignores them: the spec's own test seed has them set, and
     * libsodium refuses such text, so they are cleared first. */
    char copy[128];
    size_t n = text ? strcspn(text, "=") : 0;
    if (!text || n >= sizeof copy || text[n + strspn(text + n, "=")] != '\0') return false;
    memcpy(copy, text, n);
    copy[n] = '\0';
    int spare_bits = (int)(n * 6 % 8);
    if (n && spare_bits) {
        int last = base64_value(copy[n - 1]);
        if (last < 0) return false;
        copy[n - 1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[last & ~((1 << spare_bits) - 1)];
    }
    size_t len = 0;
    if (sodium_base642bin(out, want, copy, n, NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
        return false;
    return len == want;
}

bool ht_ed25519_public_key_valid(const char *text) {
    unsigned char key[crypto_sign_PUBLICKEYBYTES];
    return text && ht_base64_decode_exact(text, key, sizeof key);
}

bool ht_signing_key_from_seed(ht_signing_key *key, const unsigned char seed[HT_ED25519_SEED_BYTES],
                              const char *key_id) {
    _Static_assert(HT_ED25519_SECRET_BYTES == crypto_sign_SECRETKEYBYTES, "libsodium's secret key");
    _Static_assert(HT_ED25519_PUBLIC_BYTES == crypto_sign_PUBLICKEYBYTES, "libsodium's public key");
    _Static_assert(HT_ED25519_SEED_BYTES == crypto_sign_SEEDBYTES, "libsodium's seed");
    if (strlen(key_id) >= sizeof key->key_id) return false;
    crypto_sign_seed_keypair(key->public_key, key->secret, seed);
    strcpy(key->key_id, key_id);
    return true;
}

void ht_signing_key_wipe(ht_signing_key *key) { sodium_memzero(key->secret, sizeof key->secret); }

char *ht_signing_key_public_base64(ht_arena *arena, const ht_signing_key *key) {
    size_t size = sodium_base64_encoded_len(sizeof key->public_key, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    char *out = ht_arena_alloc(arena, size);
    sodium_bin2base64(out, size, key->public_key, sizeof key->public_key,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    return out;
}

static void sign_into(char out[SIGNATURE_TEXT], const void *message, size_t len, const ht_signing_key *key) {
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, message, len, key->secret);
    sodium_bin2base64(out, SIGNATURE_TEXT, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

char *ht_ed25519_sign(ht_arena *arena, const void *message, size_t len, const ht_signing_key *key) {
    char *out = ht_arena_alloc(arena, SIGNATURE_TEXT);
    sign_into(out, message, len, key);
    return out;
}

bool ht_ed25519_verify(const void *message, size_t len, const char *signature, const char *public_key) {
    unsigned char key[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
    return ht_base64_decode_exact(public_key, key, sizeof key) &&
           ht_base64_decode_exact(signature, sig, sizeof sig) &&
           crypto_sign_verify_detached(sig, message, len, key) == 0;
}

/* The bytes a signature covers: canonical JSON without signatures and
 * unsigned. malloc'd, or NULL if obj is not canonical. */
static char *signed_bytes(json_t *obj, size_t *len) {
    json_t *copy = json_copy(obj); /* shallow: only the two members go */
    json_object_del(copy, "signatures");
    json_object_del(copy, "unsigned");
    char *text = ht_canonical_json(copy, len, NULL);
    json_decref(copy);
    return text;
}

bool ht_json_sign(json_t *obj, const char *entity, const ht_signing_key *key) {
    if (!json_is_object(obj)) return false;
    json_t *signatures = json_object_get(obj, "signatures");
    json_t *mine = json_object_get(signatures, entity);
    if ((signatures && !json_is_object(signatures)) || (mine && !json_is_object(mine))) return false;
    size_t len;
    char *text = signed_bytes(obj, &len);
    if (!text) return false;
    char sig[SIGNATURE_TEXT];
    sign_into(sig, text, len, key);
    free(text);
    if (!signatures) json_object_set_new(obj, "signatures", signatures = json_object());
    if (!mine) json_object_set_new(signatures, entity, mine = json_object());
    json_object_set_new(mine, key->key_id, json_string(sig));
    return true;
}

bool ht_json_signature_valid(json_t *signed_json, const char *entity, const char *key_id,
                             const char *public_key) {
    json_t *sig = json_object_get(json_object_get(json_object_get(signed_json, "signatures"), entity), key_id);
    if (!json_is_string(sig) || !json_is_object(signed_json)) return false;
    size_t len;
    char *text = signed_bytes(signed_json, &len);
    bool ok = text && ht_ed25519_verify(text, len, json_string_value(sig), public_key);
    free(text);
    return ok;
}
