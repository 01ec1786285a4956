/* signing.h -- checking the ed25519 signatures on signed JSON (spec
 * "Signing JSON"), for cross-signing keys and uploaded key signatures.
 * The server signs nothing here; it only refuses signatures that do not
 * verify, so one client cannot publish a forged trust chain for another. */
#ifndef HT_UTIL_SIGNING_H
#define HT_UTIL_SIGNING_H

#include <jansson.h>
#include <stdbool.h>

/* True if signed_json.signatures[user_id][key_id] is a valid ed25519
 * signature, by public_key (unpadded base64), of the canonical JSON of
 * signed_json without its "signatures" and "unsigned" members. */
bool ht_json_signature_valid(json_t *signed_json, const char *user_id, const char *key_id,
                             const char *public_key);

/* True if text is an unpadded base64 ed25519 public key (32 bytes). */
bool ht_ed25519_public_key_valid(const char *text);

#endif
