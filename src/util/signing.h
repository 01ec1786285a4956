/* signing.h -- ed25519 signatures on JSON (spec appendices "Signing JSON",
 * "Checking for a Signature"), with libsodium.
 *
 * Signed JSON carries its signatures inside itself, under
 * signatures.<entity>.<key id>; what is signed is the canonical JSON of the
 * object without "signatures" and "unsigned", so anyone may add signatures
 * or unsigned data later without breaking the ones already there. Users'
 * cross-signing keys and servers' keys and events all use this one scheme. */
#ifndef HT_UTIL_SIGNING_H
#define HT_UTIL_SIGNING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

enum {
    HT_ED25519_SEED_BYTES = 32,
    HT_ED25519_PUBLIC_BYTES = 32,
    HT_ED25519_SECRET_BYTES = 64, /* libsodium's form: the seed, then the public key */
    HT_ED25519_SIGNATURE_BYTES = 64,
    HT_KEY_ID_MAX = 64,
};

/* A key that signs: what the server holds in memory (never its seed's text). */
typedef struct ht_signing_key {
    unsigned char secret[HT_ED25519_SECRET_BYTES];
    unsigned char public_key[HT_ED25519_PUBLIC_BYTES];
    char key_id[HT_KEY_ID_MAX]; /* "ed25519:<version>" */
} ht_signing_key;

/* Derives the key pair from a seed; false if key_id does not fit. */
bool ht_signing_key_from_seed(ht_signing_key *key, const unsigned char seed[HT_ED25519_SEED_BYTES],
                              const char *key_id);
/* Overwrites the secret half. */
void ht_signing_key_wipe(ht_signing_key *key);
/* The public key as unpadded base64, in the arena. */
char *ht_signing_key_public_base64(ht_arena *arena, const ht_signing_key *key);

/* Signs obj in place: obj.signatures[entity][key->key_id] becomes the
 * signature of obj's canonical JSON without "signatures" and "unsigned".
 * Other signatures and unsigned stay. False (obj unchanged) if obj is not an
 * object, is not canonical JSON, or has a "signatures" that is not an object
 * of objects. */
bool ht_json_sign(json_t *obj, const char *entity, const ht_signing_key *key);

/* True if signed_json.signatures[entity][key_id] is a valid ed25519
 * signature, by public_key (unpadded base64), of the canonical JSON of
 * signed_json without its "signatures" and "unsigned" members. */
bool ht_json_signature_valid(json_t *signed_json, const char *entity, const char *key_id,
                             const char *public_key);

/* The same check over bytes already made canonical: signature and
 * public_key in unpadded base64 (padding tolerated). */
bool ht_ed25519_verify(const void *message, size_t len, const char *signature, const char *public_key);
/* The signature of message as unpadded base64, in the arena. */
char *ht_ed25519_sign(ht_arena *arena, const void *message, size_t len, const ht_signing_key *key);

/* True if text is an unpadded base64 ed25519 public key (32 bytes). */
bool ht_ed25519_public_key_valid(const char *text);
/* Decodes unpadded base64 (padding tolerated) of exactly `want` bytes. */
bool ht_base64_decode_exact(const char *text, unsigned char *out, size_t want);

#endif
