/* crypto.h -- randomness, hashes, base64 and password hashing (libsodium).
 *
 * libsodium is used because it builds for wasm as well as natively and gives
 * all of these from one well-kept library: Argon2id, SHA-256, a CSPRNG that
 * reads getrandom() natively and crypto.getRandomValues() in the browser. */
#ifndef HT_CRYPTO_H
#define HT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

enum { HT_SHA256_BYTES = 32 };

bool ht_crypto_init(void);

/* nbytes of randomness, as unpadded URL-safe base64. */
char *ht_random_token(ht_arena *arena, size_t nbytes);
/* len characters drawn uniformly from alphabet. */
char *ht_random_string(ht_arena *arena, size_t len, const char *alphabet);

void ht_sha256(const void *data, size_t len, unsigned char out[HT_SHA256_BYTES]);
char *ht_base64_unpadded(ht_arena *arena, const unsigned char *data, size_t len);
char *ht_base64_urlsafe(ht_arena *arena, const unsigned char *data, size_t len);

enum { HT_PASSWORD_HASH_BYTES = 128 }; /* room for any hash string below */

/* Writes an Argon2id hash string (with its parameters and salt) into out;
 * false if memory for the hash could not be had. Touches nothing shared, so
 * any thread may call it. */
bool ht_password_hash_into(char out[HT_PASSWORD_HASH_BYTES], const char *password, unsigned long opslimit,
                           size_t memlimit);
/* The same in the arena, or NULL. */
char *ht_password_hash(ht_arena *arena, const char *password, unsigned long opslimit,
                       size_t memlimit);
bool ht_password_verify(const char *hash, const char *password);

#endif
