/* resolve.c -- server discovery (spec: server-server API, "Resolving server
 * names"), as one lookup per server name that walks these steps:
 *
 *   IP literal                 that address, its port or 8448
 *   hostname:port              its AAAA/A addresses, that port
 *   hostname                   GET https://hostname/.well-known/matrix/server
 *     m.server = IP[:port]     that address, its port or 8448
 *     m.server = name:port     name's addresses, that port
 *     m.server = name          SRV _matrix-fed._tcp.name, then the deprecated
 *                              _matrix._tcp.name, then name's addresses, 8448
 *   (no usable .well-known)    the same SRV steps and 8448 for hostname
 *
 * The certificate must be valid for the hostname (or the delegated one) and
 * the Host header is that name as written (with its port if it has one),
 * whatever SRV pointed the connection at; so the URL keeps that name and the
 * connection is sent to the SRV target with CURLOPT_CONNECT_TO.
 *
 * The one decision: every name is resolved here, through c-ares, and handed
 * to libcurl as CURLOPT_RESOLVE entries, so curl never asks the system's
 * resolver, one DNS configuration serves SRV and addresses alike (a test can
 * point it at its own DNS server), and nothing blocks the loop.
 *
 * Caches, bounded in entries (names are chosen by peers): .well-known answers
 * 24 h, or as Cache-Control says within 5 min..48 h, errors 1 h (the spec's
 * recommendations); whole destinations for their addresses' DNS TTL within
 * 30 s..5 min, dropped early when a connection to them fails. Concurrent
 * requests for one name share one lookup. */
#include "host/native/resolve.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host/native/name_table.h"
#include "host/native/server_name.h"
#include "util/oom.h"

enum {
    CACHE_ENTRIES = 10000,
    WELL_KNOWN_MAX_BYTES = 64 * 1024, /* {"m.server": "..."} is tiny */
    WELL_KNOWN_TIMEOUT_MS = 10000,    /* for all its redirects together */
    WELL_KNOWN_MAX_REDIRECTS = 5,
};
#define MINUTE_MS (60 * 1000LL)
#define HOUR_MS (60 * MINUTE_MS)
#define WELL_KNOWN_DEFAULT_MS (24 * HOUR_MS)
#define WELL_KNOWN_MIN_MS (5 * MINUTE_MS)
#define WELL_KNOWN_MAX_MS (48 * HOUR_MS)
#define WELL_KNOWN_ERROR_MS HOUR_MS
#define DESTINATION_MIN_MS (30 * 1000LL)
#define DESTINATION_MAX_MS (5 * MINUTE_MS)

typedef struct well_known_entry {
    char m_server[300]; /* "" after an error */
    int64_t expires_ms, ttl_ms;
} well_known_entry;

typedef struct destination_entry {
    ht_destination dest;
    int64_t expires_ms;
} destination_entry;

typedef struct lookup lookup;

struct ht_resolve_wait {
    lookup *l;
    ht_resolve_wait *prev, *next;
    ht_resolve_done *done;
    void *data;
};

struct lookup {
    ht_resolver *r;
    char server_name[300];
    ht_server_name name;
    bool valid;
    /* where discovery goes on from: the delegated name, or the name itself */
    ht_server_name base;
    char base_text[300];
    int64_t well_known_ttl_ms;
    char how[320];  /* the .well-known step, "" when none was taken */
    char step[320]; /* the step after it */
    /* .well-known */
    char wk_url[2048];
    char wk_host[256]; /* as in a URL: an IPv6 literal in brackets */
    int wk_port, wk_hops;
    int64_t wk_deadline_ms;
    /* SRV */
    bool deprecated_srv;
    ht_dns_srv_record srv[HT_DNS_MAX_SRV];
    size_t srv_count, srv_next;
    /* the target being resolved */
    char target[256];
    int port;
    ht_resolve_wait *waits;
    lookup *next_queued;
};

struct ht_resolver {
    uv_loop_t *loop;
    ht_curl *curl;
    ht_dns *dns;
    bool insecure_http, stopping;
    ht_name_table *well_known;   /* hostname -> well_known_entry */
    ht_name_table *destinations; /* server name -> destination_entry */
    ht_name_table *lookups;      /* server name -> lookup in flight */
    lookup *queued;              /* created, to begin on the next turn of the loop */
    uv_timer_t kick;
};

static int64_t now_ms(ht_resolver *r) { return (int64_t)uv_now(r->loop); }

static const char *scheme(ht_resolver *r) { return r->insecure_http ? "http" : "https"; }

/* ---- finishing ----------------------------------------------------------- */

static void finish(lookup *l, const ht_destination *dest, const char *error) {
    ht_resolver *r = l->r;
    ht_name_table_take(r->lookups, l->server_name);
    /* One at a time from the list, so a wait cancelled by an earlier
     * waiter's callback is simply no longer there. */
    ht_resolve_wait *w;
    while ((w = l->waits)) {
        l->waits = w->next;
        if (l->waits) l->waits->prev = NULL;
        w->done(w->data, dest, error);
        free(w);
    }
    free(l);
}

static void fail(lookup *l, const char *why) {
    char error[1200];
    snprintf(error, sizeof error, "cannot find %s: %s", l->server_name, why);
    finish(l, NULL, error);
}

/* The lookup may go on to its next step only while the resolver runs. */
static bool stopped(lookup *l) {
    if (!l->r->stopping) return false;
    fail(l, "cancelled: the resolver is shutting down");
    return true;
}

static void url_host(const char *host, char *out, size_t cap) {
    snprintf(out, cap, strchr(host, ':') ? "[%s]" : "%s", host);
}

static bool is_ip_literal(const char *host) {
    unsigned char addr[16];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

static void set_step(lookup *l, const char *step) { snprintf(l->step, sizeof l->step, "%s", step); }

/* The destination once the target's addresses are known (addresses NULL:
 * the target is an IP literal). The certificate must be valid for
 * l->base.host; the Host header is host_header. */
static void complete(lookup *l, const char *host_header, const ht_dns_addresses *addresses) {
    ht_resolver *r = l->r;
    ht_destination d = {.well_known_ttl_ms = l->well_known_ttl_ms};
    char tls[300], target[300];
    url_host(l->base.host, tls, sizeof tls);
    url_host(l->target, target, sizeof target);
    snprintf(d.url_base, sizeof d.url_base, "%s://%s:%d", scheme(r), tls, l->port);
    snprintf(d.host_header, sizeof d.host_header, "Host: %s", host_header);
    if (strcmp(tls, target) != 0)
        snprintf(d.connect_to, sizeof d.connect_to, "%s:%d:%s:%d", tls, l->port, target, l->port);
    int64_t ttl = DESTINATION_MAX_MS;
    if (addresses) {
        int n = snprintf(d.resolve, sizeof d.resolve, "+%s:%d:", l->target, l->port);
        for (size_t i = 0; i < addresses->count && n > 0 && (size_t)n < sizeof d.resolve; i++) {
            char a[64];
            url_host(addresses->address[i], a, sizeof a);
            n += snprintf(d.resolve + n, sizeof d.resolve - (size_t)n, "%s%s", i ? "," : "", a);
        }
        ttl = (int64_t)addresses->ttl_s * 1000;
        if (ttl < DESTINATION_MIN_MS) ttl = DESTINATION_MIN_MS;
        if (ttl > DESTINATION_MAX_MS) ttl = DESTINATION_MAX_MS;
    }
    snprintf(d.how, sizeof d.how, "%s%s", l->how, l->step);
    destination_entry *e = ht_xmalloc(sizeof *e);
    *e = (destination_entry){.dest = d, .expires_ms = now_ms(r) + ttl};
    ht_name_table_put(r->destinations, l->server_name, e);
    finish(l, &d, NULL);
}

/* ---- the target's addresses ------------------------------------------------ */

static void try_srv_target(lookup *l);

/* An SRV target is connected to with the Host header of the bare name; the
 * other cases write the name as given (with its port, if any). */
static const char *host_header(lookup *l) { return l->srv_count ? l->base.host : l->base_text; }

static void on_target_addresses(void *data, const ht_dns_addresses *found, const char *error) {
    lookup *l = data;
    if (stopped(l)) return;
    if (!found) {
        if (l->srv_next < l->srv_count) { /* the next SRV target, in RFC 2782 order */
            try_srv_target(l);
            return;
        }
        fail(l, error);
        return;
    }
    complete(l, host_header(l), found);
}

/* Connects to l->target:l->port; the certificate and Host follow l->base. */
static void resolve_target(lookup *l) {
    if (is_ip_literal(l->target)) {
        complete(l, host_header(l), NULL);
        return;
    }
    ht_dns_lookup_addresses(l->r->dns, l->target, on_target_addresses, l);
}

/* ---- SRV ------------------------------------------------------------------- */

/* RFC 2782: lowest priority first; within one priority, a random pick
 * weighted by weight, again for what is left. */
static void order_srv(ht_dns_srv_record *recs, size_t count) {
    size_t start = 0;
    while (start < count) {
        size_t end = start;
        while (end < count && recs[end].priority == recs[start].priority) end++;
        for (size_t i = start; i < end; i++) {
            long total = 0;
            for (size_t j = i; j < end; j++) total += recs[j].weight;
            size_t pick = i;
            if (total > 0) {
                long roll = (long)(random() % (total + 1)), sum = 0;
                for (pick = i; pick < end; pick++) {
                    sum += recs[pick].weight;
                    if (sum >= roll && recs[pick].weight > 0) break;
                }
                if (pick == end) pick = i;
            }
            ht_dns_srv_record t = recs[i];
            recs[i] = recs[pick];
            recs[pick] = t;
        }
        start = end;
    }
}

static void try_srv_target(lookup *l) {
    ht_dns_srv_record *rec = &l->srv[l->srv_next++];
    snprintf(l->target, sizeof l->target, "%s", rec->target);
    l->port = rec->port;
    snprintf(l->step, sizeof l->step, "SRV %s%s -> %s:%d", l->deprecated_srv ? "_matrix._tcp." : "_matrix-fed._tcp.",
             l->base.host, rec->target, rec->port);
    resolve_target(l);
}

static void lookup_srv(lookup *l);

static void on_srv(void *data, const ht_dns_srv_record *records, size_t count, const char *error) {
    lookup *l = data;
    if (stopped(l)) return;
    if (error) {
        fail(l, error);
        return;
    }
    if (count == 0) {
        if (!l->deprecated_srv) {
            l->deprecated_srv = true;
            lookup_srv(l);
            return;
        }
        /* No SRV either way: the name itself on port 8448. */
        set_step(l, "port 8448");
        snprintf(l->target, sizeof l->target, "%s", l->base.host);
        l->port = HT_DEFAULT_FEDERATION_PORT;
        resolve_target(l);
        return;
    }
    if (count == 1 && strcmp(records[0].target, ".") == 0) { /* RFC 2782: "decidedly not available" */
        fail(l, "its SRV record says it offers no federation service");
        return;
    }
    l->srv_count = 0;
    for (size_t i = 0; i < count; i++)
        if (strcmp(records[i].target, ".") != 0 && records[i].port > 0) l->srv[l->srv_count++] = records[i];
    if (l->srv_count == 0) {
        fail(l, "its SRV records name no usable target");
        return;
    }
    order_srv(l->srv, l->srv_count);
    l->srv_next = 0;
    try_srv_target(l);
}

static void lookup_srv(lookup *l) {
    char name[300];
    snprintf(name, sizeof name, "%s%s", l->deprecated_srv ? "_matrix._tcp." : "_matrix-fed._tcp.", l->base.host);
    ht_dns_lookup_srv(l->r->dns, name, on_srv, l);
}

/* ---- after .well-known ------------------------------------------------------ */

/* Discovery goes on from l->base (the delegated name, or the name itself). */
static void from_base(lookup *l) {
    if (l->base.ip_literal) {
        set_step(l, "IP literal");
        snprintf(l->target, sizeof l->target, "%s", l->base.host);
        l->port = l->base.port ? l->base.port : HT_DEFAULT_FEDERATION_PORT;
        complete(l, l->base_text, NULL);
    } else if (l->base.port) {
        set_step(l, "explicit port");
        snprintf(l->target, sizeof l->target, "%s", l->base.host);
        l->port = l->base.port;
        resolve_target(l);
    } else {
        lookup_srv(l);
    }
}

static void use_well_known(lookup *l, const well_known_entry *e) {
    l->well_known_ttl_ms = e->ttl_ms;
    if (e->m_server[0]) {
        ht_server_name_parse(e->m_server, &l->base); /* checked before it was cached */
        snprintf(l->base_text, sizeof l->base_text, "%s", e->m_server);
        snprintf(l->how, sizeof l->how, ".well-known -> %s; ", e->m_server);
    } else {
        snprintf(l->how, sizeof l->how, "no .well-known; ");
    }
    from_base(l);
}

/* ---- .well-known ----------------------------------------------------------- */

/* Cache-Control max-age within bounds; no-store or no-cache asks for as
 * little caching as we allow; nothing said, the spec's 24 hours. */
static int64_t well_known_ttl_ms(const char *cache_control) {
    int64_t ttl = WELL_KNOWN_DEFAULT_MS;
    for (const char *p = cache_control; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        size_t n = strcspn(p, ",");
        if (n >= 8 && strncasecmp(p, "max-age=", 8) == 0) {
            const char *v = p + 8 + (p[8] == '"');
            long long seconds = 0;
            bool digits = false;
            for (; *v >= '0' && *v <= '9'; v++) {
                digits = true;
                if (seconds < WELL_KNOWN_MAX_MS / 1000) seconds = seconds * 10 + (*v - '0');
            }
            if (digits) ttl = seconds * 1000;
        } else if ((n >= 8 && strncasecmp(p, "no-store", 8) == 0) || (n >= 8 && strncasecmp(p, "no-cache", 8) == 0)) {
            ttl = 0;
            break;
        }
        p += n;
    }
    if (ttl < WELL_KNOWN_MIN_MS) ttl = WELL_KNOWN_MIN_MS;
    if (ttl > WELL_KNOWN_MAX_MS) ttl = WELL_KNOWN_MAX_MS;
    return ttl;
}

static void well_known_result(lookup *l, const char *m_server, int64_t ttl_ms) {
    well_known_entry *e = ht_xmalloc(sizeof *e);
    *e = (well_known_entry){.expires_ms = now_ms(l->r) + ttl_ms, .ttl_ms = ttl_ms};
    snprintf(e->m_server, sizeof e->m_server, "%s", m_server ? m_server : "");
    ht_name_table_put(l->r->well_known, l->name.host, e);
    use_well_known(l, e);
}

/* The m.server of a valid answer, or NULL. */
static bool parse_well_known(const ht_curl_reply *reply, char *m_server, size_t cap) {
    json_t *root = json_loadb((const char *)reply->body, reply->body_len, JSON_REJECT_DUPLICATES, NULL);
    const char *value = json_string_value(json_object_get(root, "m.server"));
    ht_server_name parsed;
    bool ok = json_is_object(root) && value && strlen(value) < cap && ht_server_name_parse(value, &parsed);
    if (ok) snprintf(m_server, cap, "%s", value);
    json_decref(root);
    return ok;
}

static void fetch_well_known(lookup *l);

/* A redirect: the next URL, relative to the current one. */
static bool follow(lookup *l, const char *location) {
    CURLU *u = curl_url();
    if (!u) ht_out_of_memory(0);
    char *next_scheme = NULL, *host = NULL, *port = NULL, *url = NULL;
    bool ok = curl_url_set(u, CURLUPART_URL, l->wk_url, 0) == CURLUE_OK &&
              curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &next_scheme, 0) == CURLUE_OK &&
              strcmp(next_scheme, scheme(l->r)) == 0 &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK && strlen(url) < sizeof l->wk_url;
    if (ok) { /* the host must be a name or address we can look up as it is */
        ht_server_name check;
        char name[300];
        snprintf(name, sizeof name, "%s", host);
        ok = ht_server_name_parse(name, &check) && check.port == 0;
        if (ok) {
            snprintf(l->wk_url, sizeof l->wk_url, "%s", url);
            snprintf(l->wk_host, sizeof l->wk_host, "%s", check.host);
            l->wk_port = atoi(port);
        }
    }
    curl_free(next_scheme);
    curl_free(host);
    curl_free(port);
    curl_free(url);
    curl_url_cleanup(u);
    return ok;
}

static void on_well_known(void *data, const ht_curl_reply *reply) {
    lookup *l = data;
    if (stopped(l)) return;
    char m_server[300];
    if (reply->error) {
        well_known_result(l, NULL, WELL_KNOWN_ERROR_MS);
    } else if (reply->status >= 300 && reply->status < 400 && ht_curl_reply_header(reply, "Location")) {
        if (++l->wk_hops > WELL_KNOWN_MAX_REDIRECTS || !follow(l, ht_curl_reply_header(reply, "Location")))
            well_known_result(l, NULL, WELL_KNOWN_ERROR_MS);
        else fetch_well_known(l);
    } else if (reply->status == 200 && parse_well_known(reply, m_server, sizeof m_server)) {
        well_known_result(l, m_server, well_known_ttl_ms(ht_curl_reply_header(reply, "Cache-Control")));
    } else {
        well_known_result(l, NULL, WELL_KNOWN_ERROR_MS);
    }
}

static void on_well_known_addresses(void *data, const ht_dns_addresses *found, const char *error) {
    (void)error;
    lookup *l = data;
    if (stopped(l)) return;
    int64_t left = l->wk_deadline_ms - now_ms(l->r);
    if (!found || left <= 0) {
        well_known_result(l, NULL, WELL_KNOWN_ERROR_MS);
        return;
    }
    char resolve[800];
    int n = snprintf(resolve, sizeof resolve, "+%s:%d:", l->wk_host, l->wk_port);
    for (size_t i = 0; i < found->count && n > 0 && (size_t)n < sizeof resolve; i++) {
        char a[64];
        url_host(found->address[i], a, sizeof a);
        n += snprintf(resolve + n, sizeof resolve - (size_t)n, "%s%s", i ? "," : "", a);
    }
    ht_curl_request req = {
        .url = l->wk_url,
        .resolve = is_ip_literal(l->wk_host) ? NULL : resolve,
        .method = "GET",
        .timeout_ms = left,
        .max_body = WELL_KNOWN_MAX_BYTES,
    };
    ht_curl_start(l->r->curl, &req, on_well_known, l);
}

static void fetch_well_known(lookup *l) {
    if (is_ip_literal(l->wk_host)) {
        ht_dns_addresses literal = {.count = 1};
        snprintf(literal.address[0], sizeof literal.address[0], "%.45s", l->wk_host);
        on_well_known_addresses(l, &literal, NULL);
        return;
    }
    ht_dns_lookup_addresses(l->r->dns, l->wk_host, on_well_known_addresses, l);
}

/* ---- a lookup's first step ------------------------------------------------- */

static void begin(lookup *l) {
    ht_resolver *r = l->r;
    if (stopped(l)) return;
    if (!l->valid) {
        fail(l, "not a valid server name");
        return;
    }
    l->well_known_ttl_ms = -1;
    l->base = l->name;
    snprintf(l->base_text, sizeof l->base_text, "%s", l->server_name);
    if (l->name.ip_literal || l->name.port) {
        from_base(l);
        return;
    }
    well_known_entry *e = ht_name_table_get(r->well_known, l->name.host);
    if (e && e->expires_ms > now_ms(r)) {
        use_well_known(l, e);
        return;
    }
    snprintf(l->wk_host, sizeof l->wk_host, "%s", l->name.host);
    l->wk_port = r->insecure_http ? 80 : 443;
    snprintf(l->wk_url, sizeof l->wk_url, "%s://%s/.well-known/matrix/server", scheme(r), l->name.host);
    l->wk_deadline_ms = now_ms(r) + WELL_KNOWN_TIMEOUT_MS;
    fetch_well_known(l);
}

static void on_kick(uv_timer_t *t) {
    ht_resolver *r = t->data;
    while (r->queued) {
        lookup *l = r->queued;
        r->queued = l->next_queued;
        begin(l);
    }
}

/* ---- the resolver ------------------------------------------------------------ */

bool ht_resolver_cached(ht_resolver *r, const char *server_name, ht_destination *dest) {
    ht_server_name name;
    if (!ht_server_name_parse(server_name, &name)) return false;
    if (name.ip_literal) {
        char host[300];
        ht_server_name_url_host(&name, host, sizeof host);
        *dest = (ht_destination){.well_known_ttl_ms = -1};
        snprintf(dest->url_base, sizeof dest->url_base, "%s://%s:%d", scheme(r), host,
                 name.port ? name.port : HT_DEFAULT_FEDERATION_PORT);
        snprintf(dest->host_header, sizeof dest->host_header, "Host: %s", server_name);
        snprintf(dest->how, sizeof dest->how, "IP literal");
        return true;
    }
    destination_entry *e = ht_name_table_get(r->destinations, server_name);
    if (!e) return false;
    if (e->expires_ms <= now_ms(r)) {
        free(ht_name_table_take(r->destinations, server_name));
        return false;
    }
    *dest = e->dest;
    return true;
}

ht_resolve_wait *ht_resolver_find(ht_resolver *r, const char *server_name, ht_resolve_done *done, void *data) {
    char key[300];
    snprintf(key, sizeof key, "%s", server_name); /* a longer name is not valid anyway */
    lookup *l = ht_name_table_get(r->lookups, key);
    if (!l) {
        l = ht_xmalloc(sizeof *l);
        *l = (lookup){.r = r};
        snprintf(l->server_name, sizeof l->server_name, "%s", key);
        l->valid = strlen(server_name) < sizeof l->server_name && ht_server_name_parse(server_name, &l->name);
        ht_name_table_put(r->lookups, key, l);
        /* Begins on the next turn of the loop, so no callback ever runs
         * inside this call, even when every answer is at hand. */
        l->next_queued = r->queued;
        r->queued = l;
        uv_timer_start(&r->kick, on_kick, 0, 0);
    }
    ht_resolve_wait *w = ht_xmalloc(sizeof *w);
    *w = (ht_resolve_wait){.l = l, .next = l->waits, .done = done, .data = data};
    if (w->next) w->next->prev = w;
    l->waits = w;
    return w;
}

void ht_resolve_wait_cancel(ht_resolve_wait *w) {
    lookup *l = w->l;
    if (w->prev) w->prev->next = w->next;
    else l->waits = w->next;
    if (w->next) w->next->prev = w->prev;
    free(w);
}

void ht_resolver_forget(ht_resolver *r, const char *server_name) {
    free(ht_name_table_take(r->destinations, server_name));
}

ht_resolver *ht_resolver_new(uv_loop_t *loop, ht_curl *curl, ht_dns *dns, bool insecure_http) {
    ht_resolver *r = ht_xmalloc(sizeof *r);
    *r = (ht_resolver){.loop = loop, .curl = curl, .dns = dns, .insecure_http = insecure_http};
    r->well_known = ht_name_table_new(CACHE_ENTRIES, free);
    r->destinations = ht_name_table_new(CACHE_ENTRIES, free);
    r->lookups = ht_name_table_new(0, NULL); /* bounded by the callers' requests in flight */
    uv_timer_init(loop, &r->kick);
    r->kick.data = r;
    return r;
}

void ht_resolver_stop(ht_resolver *r) {
    r->stopping = true;
    uv_timer_stop(&r->kick);
    on_kick(&r->kick); /* each queued lookup fails at once */
}

static void on_kick_closed(uv_handle_t *h) { free(h->data); }

void ht_resolver_free(ht_resolver *r) {
    if (!r) return;
    if (!r->stopping) ht_resolver_stop(r);
    ht_name_table_free(r->well_known);
    ht_name_table_free(r->destinations);
    ht_name_table_free(r->lookups); /* empty: every lookup has finished */
    uv_close((uv_handle_t *)&r->kick, on_kick_closed);
}
