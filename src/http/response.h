/* response.h -- the one place that writes HTTP response bytes.
 *
 * Every response carries Content-Length and the CORS headers the Matrix
 * client-server spec asks for, so browsers (and the demo page) can call any
 * endpoint from any origin. */
#ifndef HT_HTTP_RESPONSE_H
#define HT_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "matrix/error.h"
#include "util/buf.h"

typedef struct ht_response {
    int status;
    const char *content_type;
    const unsigned char *body;
    size_t body_len;
    const char *extra_headers; /* whole "Name: value\r\n" lines, or NULL */
    bool close;                /* send Connection: close */
    bool omit_body;            /* HEAD: headers as for GET, no body */
} ht_response;

void ht_http_write_response(ht_buf *out, const ht_response *res);
/* A whole response carrying a Matrix error body, for hosts that must refuse
 * a connection or request before the core sees it (408, 503). */
void ht_http_write_error(ht_buf *out, ht_error err, bool close);
const char *ht_http_reason(int status);

#endif
