/* server.h -- the native host's HTTP server on a libuv event loop. */
#ifndef HT_NATIVE_SERVER_H
#define HT_NATIVE_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "host/native/fetch.h"
#include "hometab.h"

typedef struct ht_server_options {
    const char *host;        /* address to listen on */
    int port;
    const char *web_root;    /* static files, or NULL */
    uint64_t idle_timeout_ms;    /* keep-alive connection with nothing to do */
    uint64_t request_timeout_ms; /* a started request must arrive within this */
    uint64_t send_timeout_ms;    /* a client must take some of its waiting answers within this */
    size_t max_buffered;         /* bytes received and answers waiting, all connections together */
    unsigned max_connections;
    unsigned max_connections_per_ip;
    unsigned max_parked;         /* long-polls waiting at once; more get 503 */
    unsigned max_parked_per_ip;  /* ... from one address; more get 429 */
    bool log_requests;
    const char *start_note;      /* appended to the start line (how it was configured) */
    /* Federation: the core's fetches and outbox carried by the outbound
     * client (federation.h, fetch.h). */
    bool federation;                /* --federation; off by default */
    ht_fetcher_options fetch;       /* --federation-ca, --federation-insecure-http, --federation-dns */
} ht_server_options;

/* Runs until SIGINT or SIGTERM. Returns a process exit code; on a listen
 * error prints why. */
int ht_server_run(ht_core *core, const ht_config *cfg, const ht_server_options *opts);

#endif
