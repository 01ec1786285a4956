/* xmatrix.h -- server-server "Request Authentication": the X-Matrix
 * Authorization header, written for requests this server sends and parsed
 * and checked on requests it receives.
 *
 * What is signed is a JSON object of the request's method, URI (path and
 * query as sent), origin, destination and, when there is a body, its JSON
 * content; the signature is the origin server's, over that object's
 * canonical JSON (util/signing.h). */
#ifndef HT_FEDERATION_XMATRIX_H
#define HT_FEDERATION_XMATRIX_H

#include <jansson.h>
#include <stdbool.h>

#include "util/arena.h"
#include "util/signing.h"

typedef struct ht_xmatrix {
    const char *origin;
    const char *destination; /* NULL: the sender left it out (old servers) */
    const char *key;         /* "ed25519:..." */
    const char *sig;         /* unpadded base64 */
} ht_xmatrix;

/* The header's value for a request from origin to destination, signed with
 * key. content NULL: the request has no body. NULL if content is not
 * canonical JSON. */
char *ht_xmatrix_header(ht_arena *arena, const ht_signing_key *key, const char *origin,
                        const char *destination, const char *method, const char *uri, json_t *content);

/* Parses an Authorization header value as RFC 9110's auth-param list
 * (case-insensitive names, tokens or quoted strings, optional whitespace,
 * empty elements), as the spec asks of receivers. False if it is not an
 * X-Matrix credential with origin, key and sig. */
bool ht_xmatrix_parse(ht_arena *arena, const char *header, ht_xmatrix *out);

/* True if x's signature over the request verifies with public_key
 * (unpadded base64) and names `me` as its destination (when it names one). */
bool ht_xmatrix_verify(const ht_xmatrix *x, const char *me, const char *method, const char *uri,
                       json_t *content, const char *public_key);

#endif
