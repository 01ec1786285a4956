/* request.h -- a parsed HTTP request, as every layer above the parser sees it.
 *
 * src/http turns bytes into this view (http/request.h); handlers, the door
 * and the router read it. Strings live in the request's arena and are
 * already percent-decoded and checked to be UTF-8. */
#ifndef HT_MATRIX_REQUEST_H
#define HT_MATRIX_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ht_header {
    const char *name; /* lower-cased */
    const char *value;
} ht_header;

typedef struct ht_param {
    const char *name;
    const char *value;
} ht_param;

typedef struct ht_request {
    const char *method;     /* "GET", "POST", ... */
    const char *target;     /* the request target as sent */
    const char *raw_path;   /* target up to '?', still percent-encoded */
    const char **segments;  /* decoded path segments, without the leading '/' */
    size_t segment_count;
    ht_param *query;        /* decoded, in order; repeated names repeat */
    size_t query_count;
    ht_header *headers;     /* in order; repeated names repeat */
    size_t header_count;
    const unsigned char *body; /* NUL-terminated for convenience; may hold NULs */
    size_t body_len;
    int minor_version;      /* HTTP/1.x */
    bool keep_alive;
} ht_request;

/* The first header with this (lower-case) name, or NULL. */
const char *ht_request_header(const ht_request *req, const char *name);
/* The first query parameter with this name, or NULL. */
const char *ht_request_query(const ht_request *req, const char *name);

#endif
