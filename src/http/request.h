/* request.h -- the one place that turns bytes into an HTTP request.
 *
 * ht_request_length() (declared in hometab.h) tells a host how many bytes make
 * one request, so it can cut requests out of a TCP stream; ht_http_parse() turns those bytes into an
 * ht_request whose strings live in the request's arena. Path segments and
 * query parameters are percent-decoded here, once, and checked to be UTF-8,
 * so handlers never see escapes or invalid text. */
#ifndef HT_HTTP_REQUEST_H
#define HT_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "api/error.h"
#include "hometab.h"
#include "util/arena.h"

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

/* Parses exactly one request. On failure returns an error whose status is
 * the HTTP status to answer with (400, 405, 413, 414, 431, 501). */
ht_error ht_http_parse(ht_arena *arena, const ht_config *cfg,
                       const unsigned char *bytes, size_t len, ht_request *out);

/* The first header with this (lower-case) name, or NULL. */
const char *ht_request_header(const ht_request *req, const char *name);
/* The first query parameter with this name, or NULL. */
const char *ht_request_query(const ht_request *req, const char *name);

/* Percent-decodes src[0..len) into the arena; '+' becomes ' ' if plus_is_space.
 * Returns NULL for a bad escape, an encoded NUL or invalid UTF-8. */
char *ht_percent_decode(ht_arena *arena, const char *src, size_t len, bool plus_is_space);
bool ht_utf8_valid(const unsigned char *s, size_t len);

#endif
