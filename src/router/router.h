/* router.h -- from method and path to a handler.
 *
 * Routes are written as path templates, one literal or {parameter} per
 * segment; a segment like (r0|v3) accepts any of its alternatives, which is
 * how one route serves every spec version prefix. Matching walks the table
 * in order; the table is small enough that a linear scan costs less than
 * the JSON encoding of any answer. */
#ifndef HT_ROUTER_H
#define HT_ROUTER_H

#include <stddef.h>

#include "matrix/handler.h"

/* The rate-limit flags take a token from a bucket (core/rate_limit.h)
 * before the handler runs, when the config's rate_limit is on. */
enum ht_route_flags {
    HT_ROUTE_AUTH = 1 << 0,      /* needs a valid access token */
    HT_ROUTE_AUTH_OPT = 1 << 1,  /* uses a token if one is given */
    HT_ROUTE_RATE_LIMITED = 1 << 2, /* costly for the server: the caller's own bucket (with AUTH) */
    HT_ROUTE_RATE_REGISTER = 1 << 4, /* the registration buckets: every caller's and the address's */
    HT_ROUTE_FEDERATION = 1 << 5,    /* server-server: X-Matrix signed by the origin (federation/auth.c) */
    HT_ROUTE_KEYS = 1 << 6,          /* server-server without a signature (keys, version) */
    HT_ROUTE_ADMIN = 1 << 7,     /* a server admin's token, or the operator (api/admin.h) */
};

typedef struct ht_route {
    const char *method;
    const char *path; /* template */
    ht_handler handler;
    unsigned flags;
} ht_route;

typedef enum ht_match_result {
    HT_ROUTE_FOUND,
    HT_ROUTE_NO_PATH,   /* 404 M_UNRECOGNIZED */
    HT_ROUTE_NO_METHOD, /* 405 M_UNRECOGNIZED */
} ht_match_result;

enum { HT_MAX_PATH_PARAMS = 8 };

typedef struct ht_match {
    const ht_route *route;
    ht_param params[HT_MAX_PATH_PARAMS];
    size_t param_count;
    char allow[48]; /* with HT_ROUTE_NO_METHOD: the path's methods, "GET, HEAD, OPTIONS" */
} ht_match;

/* Matches against the given table (NULL-method terminated). HEAD matches GET
 * routes; OPTIONS (the CORS preflight) is answered for every path. */
ht_match_result ht_route_match(const ht_route *table, const char *method, const char **segments,
                               size_t segment_count, ht_match *out);

/* The routes of the Matrix API, in routes.c. */
extern const ht_route ht_routes[];

#endif
