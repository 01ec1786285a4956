#include "util/crypto.h"

#include <sodium.h>
#include <string.h>

bool ht_crypto_init(void) { return sodium_init() >= 0; }

static char *base64(ht_arena *arena, const unsigned char *data, size_t len, int variant) {
    size_t size = sodium_base64_encoded_len(len, variant);
    char *out = ht_arena_alloc(arena, size);
    sodium_bin2base64(out, size, data, len, variant);
    return out;
}

char *ht_base64_unpadded(ht_arena *arena, const unsigned char *data, size_t len) {
    return base64(arena, data, len, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

char *ht_base64_urlsafe(ht_arena *arena, const unsigned char *data, size_t len) {
    return base64(arena, data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

char *ht_random_token(ht_arena *arena, size_t nbytes) {
    unsigned char buf[64];
    if (nbytes > sizeof buf) nbytes = sizeof buf;
    randombytes_buf(buf, nbytes);
    char *token = ht_base64_urlsafe(arena, buf, nbytes);
    sodium_memzero(buf, sizeof buf);
    return token;
}

char *ht_random_string(ht_arena *arena, size_t len, const char *alphabet) {
    uint32_t n = (uint32_t)strlen(alphabet);
    char *out = ht_arena_alloc(arena, len + 1);
    for (size_t i = 0; i < len; i++) out[i] = alphabet[randombytes_uniform(n)];
    out[len] = '\0';
    return out;
}

void ht_sha256(const void *data, size_t len, unsigned char out[HT_SHA256_BYTES]) {
    crypto_hash_sha256(out, data, len);
}

_Static_assert(HT_PASSWORD_HASH_BYTES == crypto_pwhash_STRBYTES, "the hash string's size");

bool ht_password_hash_into(char out[HT_PASSWORD_HASH_BYTES], const char *password, unsigned long opslimit,
                           size_t memlimit) {
    return crypto_pwhash_str_alg(out, password, strlen(password), opslimit, memlimit,
                                 crypto_pwhash_ALG_ARGON2ID13) == 0;
}

char *ht_password_hash(ht_arena *arena, const char *password, unsigned long opslimit,
                       size_t memlimit) {
    char *out = ht_arena_alloc(arena, HT_PASSWORD_HASH_BYTES);
    return ht_password_hash_into(out, password, opslimit, memlimit) ? out : NULL;
}

bool ht_password_verify(const char *hash, const char *password) {
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}
