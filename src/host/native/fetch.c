/* fetch.c -- requests to other servers: admission, discovery, transfer.
 *
 * A request goes through three lists: waiting (its turn has not come),
 * active (being resolved, then sent) and failing (refused at once; its
 * callback runs on the next turn of the loop, never inside ht_fetcher_send).
 * It is admitted in order of arrival while fewer than max_in_flight are
 * active in all and fewer than max_per_destination for its server name;
 * more than max_waiting (or max_waiting_bytes of bodies) waiting are refused.
 * A caller that floods one server therefore delays only itself.
 *
 * The one decision: a request's time-out counts from ht_fetcher_send and
 * covers waiting, discovery and the transfer, so a caller's deadline holds
 * whatever is slow. One timer (sweep) watches the deadlines of requests
 * waiting or being resolved; libcurl enforces the rest of the time on the
 * transfer itself (CURLOPT_TIMEOUT_MS). */
#include "host/native/fetch.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host/native/curl_uv.h"
#include "host/native/dns.h"
#include "host/native/name_table.h"
#include "host/native/resolve.h"
#include "host/native/server_name.h"
#include "room/key_name.h"
#include "util/oom.h"

enum {
    DEFAULT_TIMEOUT_MS = 60 * 1000,
    MAX_TIMEOUT_MS = 10 * 60 * 1000,
    MAX_PATH_BYTES = 8192,
    MAX_HEADERS = 100,
    MAX_HEADER_BYTES = 16384,
};

typedef enum { WAITING, RESOLVING, SENDING, FAILING } request_state;

typedef struct request {
    ht_fetcher *f;
    struct request *prev, *next;
    request_state state;
    char *server_name, *method, *path;
    char **headers;
    size_t header_count;
    unsigned char *body;
    size_t body_len;
    int64_t deadline_ms, timeout_ms;
    ht_resolve_wait *wait;
    char *error; /* FAILING: what the callback will be told */
    ht_fetch_done *done;
    void *data;
} request;

typedef struct request_list {
    request *head, *tail;
    size_t count;
} request_list;

struct ht_fetcher {
    uv_loop_t *loop;
    ht_fetcher_options options;
    ht_curl *curl;
    ht_dns *dns;
    ht_resolver *resolver;
    request_list waiting, active, failing;
    size_t waiting_bytes;
    ht_name_table *per_destination; /* server name -> unsigned: active requests */
    uv_timer_t sweep;
    int64_t sweep_due_ms;
    bool sweep_armed, closing;
};

static int64_t now_ms(ht_fetcher *f) { return (int64_t)uv_now(f->loop); }

/* ---- lists ----------------------------------------------------------------- */

static void list_append(request_list *list, request *q) {
    q->prev = list->tail;
    q->next = NULL;
    if (list->tail) list->tail->next = q;
    else list->head = q;
    list->tail = q;
    list->count++;
}

static void list_remove(request_list *list, request *q) {
    if (q->prev) q->prev->next = q->next;
    else list->head = q->next;
    if (q->next) q->next->prev = q->prev;
    else list->tail = q->prev;
    q->prev = q->next = NULL;
    list->count--;
}

static unsigned *destination_count(ht_fetcher *f, const char *server_name) {
    return ht_name_table_get(f->per_destination, server_name);
}

/* Takes q out of whatever list holds it, keeping the counts. */
static void detach(ht_fetcher *f, request *q) {
    if (q->state == WAITING) {
        list_remove(&f->waiting, q);
        f->waiting_bytes -= q->body_len;
    } else if (q->state == FAILING) {
        list_remove(&f->failing, q);
    } else {
        list_remove(&f->active, q);
        unsigned *n = destination_count(f, q->server_name);
        if (n && --*n == 0) free(ht_name_table_take(f->per_destination, q->server_name));
    }
}

static void free_request(request *q) {
    for (size_t i = 0; i < q->header_count; i++) free(q->headers[i]);
    free(q->headers);
    free(q->server_name);
    free(q->method);
    free(q->path);
    free(q->body);
    free(q->error);
    free(q);
}

/* ---- ending a request ------------------------------------------------------- */

static void pump(ht_fetcher *f);
static void arm_sweep(ht_fetcher *f, int64_t due_ms);

/* Runs q's callback (q already detached) and frees it. */
static void deliver(request *q, const ht_fetch_reply *reply) {
    q->done(q->data, reply);
    free_request(q);
}

static void deliver_error(request *q, const char *error) {
    ht_fetch_reply reply = {.error = error};
    deliver(q, &reply);
}

static void finish_error(ht_fetcher *f, request *q, const char *error) {
    detach(f, q);
    deliver_error(q, error);
    pump(f);
}

/* Refused before it began: told on the next turn of the loop. */
static void fail_later(ht_fetcher *f, request *q, const char *fmt, const char *detail) {
    char error[600];
    snprintf(error, sizeof error, fmt, q->server_name, detail);
    q->error = ht_xstrdup(error);
    q->state = FAILING;
    list_append(&f->failing, q);
    arm_sweep(f, 0);
}

static void timeout_error(request *q, const char *where, const char *detail, char *out, size_t cap) {
    snprintf(out, cap, "%s did not answer within %lld ms (%s%s%s)", q->server_name, (long long)q->timeout_ms, where,
             detail ? ": " : "", detail ? detail : "");
}

/* ---- sending ------------------------------------------------------------------- */

static void on_sent(void *data, const ht_curl_reply *reply) {
    request *q = data;
    ht_fetcher *f = q->f;
    char error[1400];
    if (reply->error) {
        if (reply->no_connection) ht_resolver_forget(f->resolver, q->server_name);
        if (reply->timed_out) timeout_error(q, "sending", reply->error, error, sizeof error);
        else snprintf(error, sizeof error, "%s: %s", q->server_name, reply->error);
        finish_error(f, q, error);
        return;
    }
    ht_fetch_reply out = {
        .status = reply->status,
        .content_type = ht_curl_reply_header(reply, "Content-Type"),
        .headers = reply->headers,
        .header_count = reply->header_count,
        .body = reply->body,
        .body_len = reply->body_len,
    };
    detach(f, q);
    deliver(q, &out);
    pump(f);
}

/* phase: what q was doing, for the time-out error */
static void send_to(ht_fetcher *f, request *q, const ht_destination *dest, const char *phase) {
    int64_t left = q->deadline_ms - now_ms(f);
    if (left <= 0) { /* told by the sweep: pump(), which may be here, runs no callback */
        detach(f, q);
        q->error = ht_xmalloc(600);
        timeout_error(q, phase, NULL, q->error, 600);
        q->state = FAILING;
        list_append(&f->failing, q);
        arm_sweep(f, 0);
        return;
    }
    size_t url_len = strlen(dest->url_base) + strlen(q->path) + 1;
    char *url = ht_xmalloc(url_len);
    snprintf(url, url_len, "%s%s", dest->url_base, q->path);
    const char **headers = ht_xmalloc((q->header_count + 1) * sizeof *headers);
    headers[0] = dest->host_header;
    for (size_t i = 0; i < q->header_count; i++) headers[i + 1] = q->headers[i];
    ht_curl_request req = {
        .url = url,
        .connect_to = dest->connect_to[0] ? dest->connect_to : NULL,
        .resolve = dest->resolve[0] ? dest->resolve : NULL,
        .method = q->method,
        .headers = headers,
        .header_count = q->header_count + 1,
        .body = q->body,
        .body_len = q->body_len,
        .timeout_ms = left,
        .max_body = f->options.max_response_bytes,
        .plain_http = strncmp(dest->url_base, "http://", 7) == 0 && f->options.p2p_gateway,
    };
    q->state = SENDING;
    ht_curl_start(f->curl, &req, on_sent, q);
    free(headers);
    free(url);
}

static void on_destination(void *data, const ht_destination *dest, const char *error) {
    request *q = data;
    q->wait = NULL;
    if (error) finish_error(q->f, q, error);
    else send_to(q->f, q, dest, "discovering where it is");
}

/* ---- admission ------------------------------------------------------------------ */

/* A browser server (its name is its key) has no address: the relay's
 * gateway carries the request to the page that runs it, told which by the
 * Host header (js-bridge/p2p/gateway.mjs). */
static const ht_destination *gateway_destination(ht_fetcher *f, const char *server_name, ht_destination *dest) {
    memset(dest, 0, sizeof *dest);
    char host[128];
    snprintf(host, sizeof host, "%.*s", (int)strcspn(server_name, ":"), server_name);
    snprintf(dest->url_base, sizeof dest->url_base, "http://%s", host);
    snprintf(dest->host_header, sizeof dest->host_header, "Host: %s", server_name);
    snprintf(dest->connect_to, sizeof dest->connect_to, "%s:80:%s", host, f->options.p2p_gateway);
    snprintf(dest->how, sizeof dest->how, "a browser server, through the p2p gateway %s", f->options.p2p_gateway);
    dest->well_known_ttl_ms = -1;
    return dest;
}

static void admit(ht_fetcher *f, request *q) {
    list_remove(&f->waiting, q);
    f->waiting_bytes -= q->body_len;
    q->state = RESOLVING;
    list_append(&f->active, q);
    unsigned *n = destination_count(f, q->server_name);
    if (!n) {
        n = ht_xmalloc(sizeof *n);
        *n = 0;
        ht_name_table_put(f->per_destination, q->server_name, n);
    }
    ++*n;
    ht_destination dest;
    if (ht_key_name_key(q->server_name, NULL)) send_to(f, q, gateway_destination(f, q->server_name, &dest), "sending");
    else if (ht_resolver_cached(f->resolver, q->server_name, &dest)) send_to(f, q, &dest, "waiting for a free connection");
    else q->wait = ht_resolver_find(f->resolver, q->server_name, on_destination, q);
}

/* Admits waiting requests, oldest first, as far as the bounds allow. Nothing
 * here runs a callback, so walking the list is safe. */
static void pump(ht_fetcher *f) {
    if (f->closing) return;
    for (request *q = f->waiting.head, *next; q && f->active.count < f->options.max_in_flight; q = next) {
        next = q->next;
        unsigned *n = destination_count(f, q->server_name);
        if (!n || *n < f->options.max_per_destination) admit(f, q);
    }
}

/* ---- deadlines ------------------------------------------------------------------- */

static void on_sweep(uv_timer_t *t);

static void arm_sweep(ht_fetcher *f, int64_t due_ms) {
    if (f->closing || (f->sweep_armed && f->sweep_due_ms <= due_ms)) return;
    int64_t now = now_ms(f);
    uv_timer_start(&f->sweep, on_sweep, due_ms > now ? (uint64_t)(due_ms - now) : 0, 0);
    f->sweep_armed = true;
    f->sweep_due_ms = due_ms;
}

static void on_sweep(uv_timer_t *t) {
    ht_fetcher *f = t->data;
    f->sweep_armed = false;
    int64_t now = now_ms(f);
    /* First take every request to end out of the lists, then run their
     * callbacks: a callback may send, which changes the lists. */
    request_list ending = {0};
    while (f->failing.head) {
        request *q = f->failing.head;
        detach(f, q);
        list_append(&ending, q);
    }
    for (request *q = f->waiting.head, *next; q; q = next) {
        next = q->next;
        if (q->deadline_ms > now) continue;
        detach(f, q);
        q->error = ht_xmalloc(600);
        timeout_error(q, "waiting for a free connection", NULL, q->error, 600);
        list_append(&ending, q);
    }
    for (request *q = f->active.head, *next; q; q = next) {
        next = q->next;
        if (q->state != RESOLVING || q->deadline_ms > now) continue;
        ht_resolve_wait_cancel(q->wait);
        q->wait = NULL;
        detach(f, q);
        q->error = ht_xmalloc(600);
        timeout_error(q, "discovering where it is", NULL, q->error, 600);
        list_append(&ending, q);
    }
    while (ending.head) {
        request *q = ending.head;
        list_remove(&ending, q);
        deliver_error(q, q->error);
    }
    pump(f);
    int64_t due = INT64_MAX;
    for (request *q = f->waiting.head; q; q = q->next)
        if (q->deadline_ms < due) due = q->deadline_ms;
    for (request *q = f->active.head; q; q = q->next)
        if (q->state == RESOLVING && q->deadline_ms < due) due = q->deadline_ms;
    if (due != INT64_MAX) arm_sweep(f, due);
}

/* ---- checking what a caller asks ------------------------------------------------- */

static bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

static const char *check_request(const char *server_name, const char *method, const char *path,
                                 const char *const *headers, size_t header_count) {
    ht_server_name parsed;
    if (strlen(server_name) >= 300 || !ht_server_name_parse(server_name, &parsed)) return "not a valid server name";
    size_t n = strlen(method);
    if (n == 0 || n > 16) return "the method must be 1 to 16 letters";
    for (size_t i = 0; i < n; i++)
        if (method[i] < 'A' || method[i] > 'Z') return "the method must be 1 to 16 letters";
    n = strlen(path);
    if (path[0] != '/' || n > MAX_PATH_BYTES) return "the path must start with / and be at most 8192 bytes";
    for (size_t i = 0; i < n; i++)
        if (path[i] <= ' ' || path[i] > '~') return "the path may hold only visible ASCII (percent-encode the rest)";
    if (header_count > MAX_HEADERS) return "more than 100 request headers";
    for (size_t i = 0; i < header_count; i++) {
        const char *h = headers[i];
        size_t name_len = 0;
        while (h[name_len] && is_token_char(h[name_len])) name_len++;
        if (name_len == 0 || h[name_len] != ':') return "a header is not \"Name: value\"";
        if (strlen(h) > MAX_HEADER_BYTES) return "a request header passes 16384 bytes";
        for (const char *c = h; *c; c++)
            if (*c == '\r' || *c == '\n') return "a header holds a line break";
    }
    return NULL;
}

static bool is_host_header(const char *h) { return strncasecmp(h, "Host:", 5) == 0; }

/* ---- the fetcher --------------------------------------------------------------------- */

void ht_fetcher_send(ht_fetcher *f, const char *server_name, const char *method, const char *path_and_query,
                     const char *const *headers, size_t header_count, const unsigned char *body,
                     size_t body_len, int64_t timeout_ms, ht_fetch_done *done, void *data) {
    request *q = ht_xmalloc(sizeof *q);
    *q = (request){.f = f, .done = done, .data = data};
    q->server_name = ht_xstrdup(server_name);
    q->method = ht_xstrdup(method);
    q->path = ht_xstrdup(path_and_query);
    q->headers = ht_xmalloc((header_count ? header_count : 1) * sizeof *q->headers);
    for (size_t i = 0; i < header_count; i++)
        if (!is_host_header(headers[i])) q->headers[q->header_count++] = ht_xstrdup(headers[i]);
    q->body = ht_xmalloc(body_len ? body_len : 1);
    if (body_len) memcpy(q->body, body, body_len);
    q->body_len = body_len;
    q->timeout_ms = timeout_ms <= 0 ? DEFAULT_TIMEOUT_MS : timeout_ms > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : timeout_ms;
    uv_update_time(f->loop);
    q->deadline_ms = now_ms(f) + q->timeout_ms;

    if (f->closing) { /* from a callback ht_fetcher_free is running */
        deliver_error(q, "cancelled: the federation client is shutting down");
        return;
    }
    const char *bad = check_request(server_name, method, path_and_query, headers, header_count);
    if (bad) {
        fail_later(f, q, "cannot send to %s: %s", bad);
        return;
    }
    if (ht_key_name_key(server_name, NULL) && !f->options.p2p_gateway) {
        fail_later(f, q, "cannot send to %s: %s",
                   "it is a browser server (its name is its key), reached only through a p2p relay's gateway "
                   "(--p2p-gateway)");
        return;
    }
    if (f->waiting.count >= f->options.max_waiting || body_len > f->options.max_waiting_bytes - f->waiting_bytes) {
        fail_later(f, q, "cannot send to %s: %s", "too many requests are waiting for other servers; try again later");
        return;
    }
    q->state = WAITING;
    list_append(&f->waiting, q);
    f->waiting_bytes += body_len;
    pump(f);
    if (q->state == WAITING || q->state == RESOLVING) arm_sweep(f, q->deadline_ms);
}

/* "1.2.3.4:53" or "[::1]:53": what c-ares takes, and nothing it would read
 * another way. */
static bool is_address_and_port(const char *text) {
    char host[64];
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host) return false;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof host) return false;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
    }
    unsigned char addr[16];
    if (inet_pton(text[0] == '[' ? AF_INET6 : AF_INET, host, addr) != 1) return false;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return *end == '\0' && end != colon + 1 && port > 0 && port <= 65535;
}

bool ht_fetcher_check_options(const ht_fetcher_options *options, char *err, size_t err_size) {
    if (options->ca_file && !ht_curl_check_ca_file(options->ca_file, err, err_size)) return false;
    if (options->dns_server && !is_address_and_port(options->dns_server)) {
        snprintf(err, err_size, "the DNS server '%s' is not ADDRESS:PORT (e.g. 127.0.0.1:5353 or [::1]:53)",
                 options->dns_server);
        return false;
    }
    return true;
}

ht_fetcher *ht_fetcher_new(uv_loop_t *loop, const ht_fetcher_options *options, char *err, size_t err_size) {
    if (!ht_fetcher_check_options(options, err, err_size)) return NULL;
    ht_fetcher *f = ht_xmalloc(sizeof *f);
    *f = (ht_fetcher){.loop = loop, .options = *options};
    ht_fetcher_options *o = &f->options;
    if (!o->max_response_bytes) o->max_response_bytes = 8 * 1024 * 1024;
    if (!o->max_in_flight) o->max_in_flight = 256;
    if (!o->max_per_destination) o->max_per_destination = 8;
    if (!o->max_waiting) o->max_waiting = 4096;
    if (!o->max_waiting_bytes) o->max_waiting_bytes = 64 * 1024 * 1024;
    if (!o->connect_timeout_ms) o->connect_timeout_ms = 10 * 1000;
    if (!o->max_idle_connections) o->max_idle_connections = 64;
    o->ca_file = o->dns_server = NULL; /* not kept: used here */

    ht_curl_options curl_options = {
        .ca_file = options->ca_file,
        .insecure_http = o->insecure_http,
        .connect_timeout_ms = o->connect_timeout_ms,
        .max_idle_connections = o->max_idle_connections,
    };
    f->curl = ht_curl_new(loop, &curl_options, err, err_size);
    if (!f->curl) {
        free(f);
        return NULL;
    }
    f->dns = ht_dns_new(loop, options->dns_server, err, err_size);
    if (!f->dns) {
        ht_curl_free(f->curl); /* released when the loop runs its close callbacks */
        free(f);
        return NULL;
    }
    f->resolver = ht_resolver_new(loop, f->curl, f->dns, o->insecure_http);
    f->per_destination = ht_name_table_new(0, free); /* bounded by max_in_flight */
    uv_timer_init(loop, &f->sweep);
    f->sweep.data = f;
    return f;
}

static void on_sweep_closed(uv_handle_t *h) { free(h->data); }

void ht_fetcher_free(ht_fetcher *f) {
    if (!f) return;
    f->closing = true;
    uv_timer_stop(&f->sweep);
    /* Discovery first stops taking steps; then freeing curl ends every
     * transfer (requests being sent, and .well-known fetches), and freeing
     * the DNS client every lookup: each request still active hears of it
     * through on_sent or on_destination. */
    ht_resolver_stop(f->resolver);
    ht_curl_free(f->curl);
    ht_dns_free(f->dns);
    ht_resolver_free(f->resolver);
    request_list ending = {0};
    while (f->active.head) { /* none should be left; be sure */
        request *q = f->active.head;
        if (q->wait) ht_resolve_wait_cancel(q->wait);
        detach(f, q);
        list_append(&ending, q);
    }
    while (f->waiting.head) {
        request *q = f->waiting.head;
        detach(f, q);
        list_append(&ending, q);
    }
    while (f->failing.head) {
        request *q = f->failing.head;
        detach(f, q);
        list_append(&ending, q);
    }
    while (ending.head) {
        request *q = ending.head;
        list_remove(&ending, q);
        deliver_error(q, q->error ? q->error : "cancelled: the federation client is shutting down");
    }
    ht_name_table_free(f->per_destination);
    uv_close((uv_handle_t *)&f->sweep, on_sweep_closed);
}
