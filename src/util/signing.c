/* signing.c -- ed25519 over canonical JSON, with libsodium (see signing.h). */
#include "util/signing.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static bool base64_decode(const char *text, unsigned char *out, size_t want) {
    size_t len = 0;
    /* Signatures are unpadded standard base64 by the spec; some clients pad. */
    if (sodium_base642bin(out, want, text, strlen(text), "=", &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
        return false;
    return len == want;
}

bool ht_ed25519_public_key_valid(const char *text) {
    unsigned char key[crypto_sign_PUBLICKEYBYTES];
    return text && base64_decode(text, key, sizeof key);
}

bool ht_json_signature_valid(json_t *signed_json, const char *user_id, const char *key_id,
                             const char *public_key) {
    json_t *sig = json_object_get(json_object_get(json_object_get(signed_json, "signatures"), user_id), key_id);
    unsigned char key[crypto_sign_PUBLICKEYBYTES], signature[crypto_sign_BYTES];
    if (!json_is_string(sig) || !public_key || !base64_decode(public_key, key, sizeof key) ||
        !base64_decode(json_string_value(sig), signature, sizeof signature))
        return false;
    json_t *copy = json_copy(signed_json);
    json_object_del(copy, "signatures");
    json_object_del(copy, "unsigned");
    /* Canonical JSON: sorted keys, no insignificant white space, UTF-8. */
    char *text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(copy);
    bool ok = text && crypto_sign_verify_detached(signature, (const unsigned char *)text, strlen(text), key) == 0;
    free(text);
    return ok;
}
