#include "util/crypto.h"

#include <sodium.h>
#include <string.h>
#ifndef __EMSCRIPTEN__
#include <openssl/evp.h>
#endif

#include "util/oom.h"

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

/* Natively, OpenSSL's SHA-256: it uses the CPU's SHA instructions where
 * there are some, 0.5 us for an event's 700 bytes against libsodium's
 * 2.2-2.8 us (portable C), and a send hashes about five times (its
 * content, its reference, its transaction, the access token). The digest
 * is fetched once: SHA256() and EVP_sha256() fetch it again on every
 * call, which costs more than hashing a token. The browser's build has
 * libsodium's. */
#ifdef __EMSCRIPTEN__
static bool sha256_init(void) { return true; }

void ht_sha256(const void *data, size_t len, unsigned char out[HT_SHA256_BYTES]) {
    crypto_hash_sha256(out, data, len);
}
#else
static EVP_MD *sha256_md;

static bool sha256_init(void) {
    if (!sha256_md) sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    return sha256_md != NULL;
}

void ht_sha256(const void *data, size_t len, unsigned char out[HT_SHA256_BYTES]) {
    if (!sha256_init() || !EVP_Digest(data, len, out, NULL, sha256_md, NULL)) ht_out_of_memory(0);
}
#endif

bool ht_crypto_init(void) { return sodium_init() >= 0 && sha256_init(); }

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
