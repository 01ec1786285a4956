/* resolve.h -- server discovery: from a Matrix server name to where and how
 * to connect (spec: server-server API, "Resolving server names"). */
#ifndef HT_NATIVE_RESOLVE_H
#define HT_NATIVE_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "host/native/curl_uv.h"
#include "host/native/dns.h"

/* Where a request for one server name goes, as libcurl options. The URL
 * keeps the name the certificate must be valid for (and the SNI curl sends:
 * none for an IP literal); CURLOPT_CONNECT_TO and CURLOPT_RESOLVE send the
 * connection to the address discovery found. */
typedef struct ht_destination {
    char url_base[320];    /* "https://example.org:8448": scheme, TLS name, port; no path */
    char host_header[300]; /* "Host: example.org" */
    char connect_to[640];  /* "NAME:PORT:TARGET:TPORT", or "" */
    char resolve[800];     /* "+HOST:PORT:ADDRESS[,ADDRESS...]", or "" (an IP literal) */
    char how[640];         /* the path discovery took, for errors and tests */
    int64_t well_known_ttl_ms; /* how long the .well-known answer it used is cached; -1: none asked */
} ht_destination;

typedef struct ht_resolver ht_resolver;
typedef struct ht_resolve_wait ht_resolve_wait;

/* dest, or error (a sentence naming the server). */
typedef void ht_resolve_done(void *data, const ht_destination *dest, const char *error);

/* curl fetches .well-known, dns answers SRV and address lookups; both stay
 * the caller's. insecure_http: .well-known over http:// (port 80), and
 * every destination URL http://. */
ht_resolver *ht_resolver_new(uv_loop_t *loop, ht_curl *curl, ht_dns *dns, bool insecure_http);

/* Shutting down, in this order: ht_resolver_stop() (no lookup goes on to a
 * next step any more), then free the ht_curl and the ht_dns given above (which
 * ends every lookup still waiting for them), then ht_resolver_free(). Every
 * wait's callback has run by then. */
void ht_resolver_stop(ht_resolver *r);
void ht_resolver_free(ht_resolver *r);

/* True, filling dest, when the answer needs no lookup: an IP literal, or a
 * name resolved recently (still cached). */
bool ht_resolver_cached(ht_resolver *r, const char *server_name, ht_destination *dest);

/* Discovers server_name; done runs exactly once, later (never before this
 * returns), unless the wait is cancelled first. Concurrent waits for one
 * name share one lookup. */
ht_resolve_wait *ht_resolver_find(ht_resolver *r, const char *server_name, ht_resolve_done *done, void *data);
void ht_resolve_wait_cancel(ht_resolve_wait *wait);

/* Drops the cached destination of server_name (not its .well-known answer):
 * a connection to it failed, so the next request looks again. */
void ht_resolver_forget(ht_resolver *r, const char *server_name);

#endif
