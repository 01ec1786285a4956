/* outbound.h -- the HTTP of requests this server sends to other servers:
 * their bytes, and the bytes of the answers that come back.
 *
 * A host with an HTTP client (libcurl natively) sends the parts (method,
 * target, headers, body) and hands back status and body; a host that
 * carries bytes (the browsers' peer-to-peer transport) sends the request
 * bytes written here and hands back the answer's bytes, which are read
 * here. Both end in the same place in the core. */
#ifndef HT_HTTP_OUTBOUND_H
#define HT_HTTP_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"
#include "util/buf.h"

/* A whole HTTP/1.1 request: Host is the destination's server name. */
void ht_http_write_request(ht_buf *out, const char *method, const char *target, const char *host,
                           const char *authorization, const unsigned char *body, size_t body_len);

/* s percent-encoded for a path segment or a query value (everything but
 * the unreserved characters), in the arena. */
char *ht_percent_encode(ht_arena *arena, const char *s);

/* Reads a whole answer: its status and where its body is in `bytes`
 * (Content-Length, or a chunked body decoded into `decoded`, which the
 * caller frees). False, with a sentence in *why, if the bytes are not one
 * complete HTTP/1.1 response or its body exceeds max_body. */
bool ht_http_read_response(const unsigned char *bytes, size_t len, size_t max_body, int *status,
                           const unsigned char **body, size_t *body_len, ht_buf *decoded, const char **why);
/* One part of a multipart answer (RFC 2046): its headers (copies in the
 * arena, NULL when absent) and where its body lies in the answer. */
typedef struct ht_http_part {
    const char *content_type, *disposition, *location;
    const unsigned char *body;
    size_t body_len;
} ht_http_part;
/* Splits a multipart body into at most max parts; returns how many (0: not
 * multipart). The boundary is content_type's boundary parameter or, when
 * the type is not known, the body's first line. */
size_t ht_http_multipart(ht_arena *arena, const char *content_type, const unsigned char *body, size_t len,
                         ht_http_part *parts, size_t max);
/* The Content-Type of a whole answer's head, copied into out (NUL-ended);
 * false if it has none or it does not fit. */
bool ht_http_response_content_type(const unsigned char *bytes, size_t len, char *out, size_t out_size);

#endif
