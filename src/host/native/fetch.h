/* fetch.h -- the native host's outbound federation client: one request to
 * another Matrix server (found by server discovery), one reply, on the libuv
 * loop. libcurl speaks HTTP and TLS (curl_uv.c), c-ares DNS (dns.c),
 * resolve.c the spec's discovery; this is the part a caller sees. */
#ifndef HT_NATIVE_FETCH_H
#define HT_NATIVE_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct ht_fetcher ht_fetcher;

/* Zero means the default given beside each. */
typedef struct ht_fetcher_options {
    const char *ca_file;         /* PEM CAs trusted besides the system's (--federation-ca), or NULL */
    bool insecure_http;          /* plain http:// to every destination (tests, development) */
    const char *p2p_gateway;     /* "ADDR:PORT" of a p2p relay's HTTP gateway (loopback, plain http):
                                  * servers named by their key (browser servers) are reached through
                                  * it; NULL: they cannot be reached */
    const char *dns_server;      /* "ADDR:PORT" to ask instead of the system's resolvers (tests) */
    size_t max_response_bytes;   /* 8 MiB: a larger body is refused and its connection closed */
    unsigned max_in_flight;      /* 256 requests being resolved or sent, in all */
    unsigned max_per_destination;/* 8 of those to one server name */
    unsigned max_waiting;        /* 4096 more wait their turn; beyond, refused at once */
    size_t max_waiting_bytes;    /* 64 MiB of request bodies waiting; beyond, refused at once */
    int64_t connect_timeout_ms;  /* 10 s for TCP and TLS */
    unsigned max_idle_connections; /* 64 keep-alive connections kept for reuse */
} ht_fetcher_options;

typedef struct ht_fetch_reply {
    int status;                  /* the HTTP status, any (0 with error) */
    const char *content_type;    /* or NULL */
    const char *const *headers;  /* "Name: value" lines of the response */
    size_t header_count;
    const unsigned char *body;
    size_t body_len;
    const char *error;           /* NULL, or a sentence: the transport failed (the server
                                    name is in it); then there is no status, no body */
} ht_fetch_reply;

/* The reply's memory is the fetcher's until the callback returns. */
typedef void ht_fetch_done(void *data, const ht_fetch_reply *reply);

/* What ht_fetcher_new would refuse in options (an unreadable CA file, a DNS
 * server that is not ADDRESS:PORT), checked without starting anything:
 * false with a sentence in err. For checking flags at start-up. */
bool ht_fetcher_check_options(const ht_fetcher_options *options, char *err, size_t err_size);

/* NULL on failure (an unreadable CA file, a bad DNS address...), with a
 * sentence in err. */
ht_fetcher *ht_fetcher_new(uv_loop_t *loop, const ht_fetcher_options *options, char *err, size_t err_size);

/* Sends METHOD path_and_query to server_name, with headers ("Name: value";
 * a Host header is replaced by the one discovery decides) and body, all
 * copied. done runs exactly once, always later from the loop (never before
 * this returns), with the reply or an error: a bad server name or request,
 * too many waiting, no answer within timeout_ms (0: 60 s; at most 10 min,
 * counted from this call: waiting, discovery and transfer together). Any
 * HTTP status is a reply, not an error; redirects are not followed. */
void ht_fetcher_send(ht_fetcher *f, const char *server_name, const char *method, const char *path_and_query,
                     const char *const *headers, size_t header_count, const unsigned char *body,
                     size_t body_len, int64_t timeout_ms, ht_fetch_done *done, void *data);

/* Cancels every request (each callback runs now, once, with an error),
 * closes every connection and handle. The memory is released once the loop
 * has run the close callbacks (uv_run after this). Not from inside a done
 * callback; a send from a callback this runs fails at once. */
void ht_fetcher_free(ht_fetcher *f);

#endif
