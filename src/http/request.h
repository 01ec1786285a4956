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

#include "hometab.h"
#include "matrix/error.h"
#include "matrix/request.h"
#include "util/arena.h"

/* Parses exactly one request. On failure returns an error whose status is
 * the HTTP status to answer with (400, 405, 413, 414, 431, 501). */
ht_error ht_http_parse(ht_arena *arena, const ht_config *cfg,
                       const unsigned char *bytes, size_t len, ht_request *out);

/* Percent-decodes src[0..len) into the arena; '+' becomes ' ' if plus_is_space.
 * Returns NULL for a bad escape, an encoded NUL or invalid UTF-8. */
char *ht_percent_decode(ht_arena *arena, const char *src, size_t len, bool plus_is_space);

#endif
