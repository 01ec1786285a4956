/* dns.c -- c-ares driven by the libuv loop.
 *
 * c-ares does no I/O waiting of its own here: it tells us through its socket
 * state callback which sockets to watch (a uv_poll_t each), and ares_timeout()
 * when it next needs a call to retransmit or give up (one uv_timer_t). Every
 * event goes back in through ares_process_fd(). So a lookup never blocks the
 * loop, and an unanswered query costs a bounded time: TIMEOUT_MS per try,
 * TRIES tries per server (c-ares doubles the wait on each round).
 *
 * Search domains are off: a server name is always a complete name, and
 * "matrix" must not quietly become "matrix.corp.example". */
#include "host/native/dns.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/oom.h"

enum { TIMEOUT_MS = 2000, TRIES = 2 };

typedef struct watch {
    uv_poll_t poll;
    ares_socket_t fd;
    ht_dns *dns;
    struct watch *next;
} watch;

struct ht_dns {
    uv_loop_t *loop;
    ares_channel channel;
    uv_timer_t timer;
    watch *watches;
    unsigned open_handles; /* the timer and every poll not yet closed */
    bool closing;
};

typedef struct query {
    ht_dns *dns;
    ht_dns_addresses_done *addresses_done;
    ht_dns_srv_done *srv_done;
    void *data;
    char name[256];
} query;

static void on_handle_closed(uv_handle_t *h) {
    ht_dns *dns = h->data;
    if (h->type == UV_POLL) free(h); /* the watch: poll is its first member */
    if (--dns->open_handles == 0 && dns->closing) free(dns);
}

static void on_timer(uv_timer_t *t);

static void reschedule(ht_dns *dns) {
    if (dns->closing) return;
    struct timeval tv;
    if (!ares_timeout(dns->channel, NULL, &tv)) {
        uv_timer_stop(&dns->timer);
        return;
    }
    uint64_t ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)(tv.tv_usec + 999) / 1000;
    uv_timer_start(&dns->timer, on_timer, ms, 0);
}

static void on_timer(uv_timer_t *t) {
    ht_dns *dns = t->data;
    ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    reschedule(dns);
}

static void on_poll(uv_poll_t *p, int status, int events) {
    watch *w = (watch *)p;
    ht_dns *dns = w->dns;
    /* On an error both directions are offered, so c-ares reads the error. */
    ares_socket_t rfd = (status < 0 || (events & UV_READABLE)) ? w->fd : ARES_SOCKET_BAD;
    ares_socket_t wfd = (status < 0 || (events & UV_WRITABLE)) ? w->fd : ARES_SOCKET_BAD;
    ares_process_fd(dns->channel, rfd, wfd);
    reschedule(dns);
}

static void on_socket_state(void *data, ares_socket_t fd, int readable, int writable) {
    ht_dns *dns = data;
    watch **p = &dns->watches;
    while (*p && (*p)->fd != fd) p = &(*p)->next;
    watch *w = *p;
    if (!readable && !writable) {
        if (!w) return;
        *p = w->next;
        uv_poll_stop(&w->poll);
        uv_close((uv_handle_t *)&w->poll, on_handle_closed);
        return;
    }
    if (!w) {
        w = ht_xmalloc(sizeof *w);
        *w = (watch){.fd = fd, .dns = dns, .next = dns->watches};
        if (uv_poll_init_socket(dns->loop, &w->poll, fd) != 0) {
            free(w); /* c-ares times the query out */
            return;
        }
        w->poll.data = dns;
        dns->open_handles++;
        dns->watches = w;
    }
    uv_poll_start(&w->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

ht_dns *ht_dns_new(uv_loop_t *loop, const char *server, char *err, size_t err_size) {
    int rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) {
        snprintf(err, err_size, "c-ares cannot start: %s", ares_strerror(rc));
        return NULL;
    }
    ht_dns *dns = ht_xmalloc(sizeof *dns);
    *dns = (ht_dns){.loop = loop};
    struct ares_options options = {
        .flags = ARES_FLAG_NOSEARCH,
        .timeout = TIMEOUT_MS,
        .tries = TRIES,
        .domains = NULL,
        .ndomains = 0,
        .sock_state_cb = on_socket_state,
        .sock_state_cb_data = dns,
    };
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_DOMAINS | ARES_OPT_SOCK_STATE_CB;
    rc = ares_init_options(&dns->channel, &options, mask);
    if (rc == ARES_SUCCESS && server) {
        rc = ares_set_servers_ports_csv(dns->channel, server);
        if (rc != ARES_SUCCESS) {
            snprintf(err, err_size, "the DNS server '%s' is not ADDRESS:PORT (%s)", server, ares_strerror(rc));
            ares_destroy(dns->channel);
            free(dns);
            ares_library_cleanup();
            return NULL;
        }
    }
    if (rc != ARES_SUCCESS) {
        snprintf(err, err_size, "c-ares cannot start: %s", ares_strerror(rc));
        free(dns);
        ares_library_cleanup();
        return NULL;
    }
    uv_timer_init(loop, &dns->timer);
    dns->timer.data = dns;
    dns->open_handles = 1;
    return dns;
}

void ht_dns_free(ht_dns *dns) {
    if (!dns) return;
    /* Every pending query ends here with ARES_EDESTRUCTION, and c-ares
     * reports each socket closed (on_socket_state closes its poll). A lookup
     * asked for from one of those callbacks fails at once. */
    dns->closing = true;
    ares_destroy(dns->channel);
    ares_library_cleanup();
    while (dns->watches) { /* any c-ares did not report */
        watch *w = dns->watches;
        dns->watches = w->next;
        uv_poll_stop(&w->poll);
        uv_close((uv_handle_t *)&w->poll, on_handle_closed);
    }
    uv_timer_stop(&dns->timer);
    uv_close((uv_handle_t *)&dns->timer, on_handle_closed);
}

static const char *failure(int status) {
    return status == ARES_EDESTRUCTION ? "cancelled: the resolver is shutting down" : ares_strerror(status);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *result) {
    (void)timeouts;
    query *q = arg;
    ht_dns_addresses found = {.ttl_s = 0};
    char error[400];
    const char *why = NULL;
    if (status == ARES_SUCCESS) {
        for (struct ares_addrinfo_node *n = result->nodes; n && found.count < HT_DNS_MAX_ADDRESSES; n = n->ai_next) {
            const void *addr;
            if (n->ai_family == AF_INET) addr = &((const struct sockaddr_in *)n->ai_addr)->sin_addr;
            else if (n->ai_family == AF_INET6) addr = &((const struct sockaddr_in6 *)n->ai_addr)->sin6_addr;
            else continue;
            char text[sizeof found.address[0]];
            if (!inet_ntop(n->ai_family, addr, text, sizeof text)) continue;
            bool seen = false; /* c-ares lists an address once per socket type */
            for (size_t i = 0; i < found.count; i++) seen = seen || strcmp(found.address[i], text) == 0;
            if (seen) continue;
            memcpy(found.address[found.count++], text, sizeof text);
            if (found.count == 1 || n->ai_ttl < found.ttl_s) found.ttl_s = n->ai_ttl;
        }
        if (found.count == 0) why = "no IPv4 or IPv6 address";
    } else if (status == ARES_ENOTFOUND || status == ARES_ENODATA || status == ARES_ENONAME) {
        why = "no such host";
    } else {
        why = failure(status);
    }
    if (result) ares_freeaddrinfo(result);
    if (why) {
        snprintf(error, sizeof error, "cannot resolve %s: %s", q->name, why);
        q->addresses_done(q->data, NULL, error);
    } else {
        q->addresses_done(q->data, &found, NULL);
    }
    free(q);
}

void ht_dns_lookup_addresses(ht_dns *dns, const char *host, ht_dns_addresses_done *done, void *data) {
    query *q = ht_xmalloc(sizeof *q);
    *q = (query){.dns = dns, .addresses_done = done, .data = data};
    snprintf(q->name, sizeof q->name, "%s", host);
    if (dns->closing) {
        on_addrinfo(q, ARES_EDESTRUCTION, 0, NULL);
        return;
    }
    struct ares_addrinfo_hints hints = {.ai_flags = ARES_AI_NOSORT, .ai_family = AF_UNSPEC,
                                        .ai_socktype = SOCK_STREAM};
    ares_getaddrinfo(dns->channel, host, NULL, &hints, on_addrinfo, q);
    reschedule(dns);
}

static int by_priority(const void *a, const void *b) {
    const ht_dns_srv_record *x = a, *y = b;
    return x->priority - y->priority;
}

static void on_srv(void *arg, int status, int timeouts, unsigned char *answer, int answer_len) {
    (void)timeouts;
    query *q = arg;
    char error[400];
    if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
        q->srv_done(q->data, NULL, 0, NULL);
        free(q);
        return;
    }
    struct ares_srv_reply *replies = NULL;
    if (status == ARES_SUCCESS) status = ares_parse_srv_reply(answer, answer_len, &replies);
    if (status == ARES_ENODATA) { /* an answer with no SRV record in it */
        q->srv_done(q->data, NULL, 0, NULL);
        free(q);
        return;
    }
    if (status != ARES_SUCCESS) {
        snprintf(error, sizeof error, "cannot look up SRV %s: %s", q->name, failure(status));
        q->srv_done(q->data, NULL, 0, error);
        free(q);
        return;
    }
    ht_dns_srv_record records[HT_DNS_MAX_SRV];
    size_t count = 0;
    for (struct ares_srv_reply *r = replies; r && count < HT_DNS_MAX_SRV; r = r->next) {
        if (strlen(r->host) >= sizeof records[0].target) continue;
        ht_dns_srv_record *rec = &records[count++];
        snprintf(rec->target, sizeof rec->target, "%s", r->host);
        rec->port = r->port;
        rec->priority = r->priority;
        rec->weight = r->weight;
    }
    ares_free_data(replies);
    qsort(records, count, sizeof records[0], by_priority);
    q->srv_done(q->data, records, count, NULL);
    free(q);
}

void ht_dns_lookup_srv(ht_dns *dns, const char *name, ht_dns_srv_done *done, void *data) {
    query *q = ht_xmalloc(sizeof *q);
    *q = (query){.dns = dns, .srv_done = done, .data = data};
    snprintf(q->name, sizeof q->name, "%s", name);
    if (dns->closing) {
        on_srv(q, ARES_EDESTRUCTION, 0, NULL, 0);
        return;
    }
    ares_query(dns->channel, name, 1 /* C_IN */, 33 /* T_SRV */, on_srv, q);
    reschedule(dns);
}
