/* federation.c -- carrying the core's fetches and its outbox (see
 * federation.h).
 *
 * Every fetch the host takes goes back to the core exactly once, whatever
 * happens (an answer, an error, the server stopping), since the core owns
 * it again only then. The outbox is pumped after every answer that queued
 * something and when the core's next retry time comes; the core keeps at
 * most one transaction in flight per destination, so pumping more often
 * than needed costs only a query. */
#include "host/native/federation.h"

#include <stdlib.h>
#include <string.h>

#include "util/oom.h"

struct ht_fed_host {
    uv_loop_t *loop;
    ht_core *core;
    ht_fetcher *fetcher;
    uv_timer_t timer; /* the outbox's next retry */
    bool pumping;     /* a pump is running: a nested call only asks for another round */
    bool again;
    bool stopping;    /* being freed: what comes back is not followed by more */
    bool (*waits)(void *); /* ht_fed_host_wait_while */
    void *waits_data;
    bool waited;      /* a pump was put off by waits: ht_fed_host_resume runs it */
};

/* The fetches of one request. */
typedef struct batch {
    ht_fed_host *host;
    size_t remaining;
    void (*all_done)(void *);
    void *data;
} batch;

typedef struct item {
    ht_fed_host *host;
    ht_fetch *fetch;
    batch *batch; /* NULL: an outbox transaction */
} item;

static int64_t now_ms(void) {
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void on_reply(void *data, const ht_fetch_reply *reply) {
    item *it = data;
    ht_fed_host *h = it->host;
    ht_fetch_set_content_type(it->fetch, reply->content_type);
    ht_core_fetch_done(h->core, it->fetch, reply->status, reply->body, reply->body_len, reply->error);
    batch *b = it->batch;
    free(it);
    if (!b) {
        ht_fed_host_pump(h); /* the destination is free for its next transaction */
        return;
    }
    if (--b->remaining == 0) {
        b->all_done(b->data);
        free(b);
    }
}

static void send_one(ht_fed_host *h, ht_fetch *f, batch *b) {
    item *it = ht_xmalloc(sizeof *it);
    *it = (item){h, f, b};
    size_t body_len;
    const unsigned char *body = ht_fetch_body(f, &body_len);
    char *auth = NULL;
    const char *headers[2];
    size_t n = 0;
    if (ht_fetch_authorization(f)) {
        size_t len = strlen(ht_fetch_authorization(f)) + 16;
        auth = ht_xmalloc(len);
        snprintf(auth, len, "Authorization: %s", ht_fetch_authorization(f));
        headers[n++] = auth;
    }
    if (body) headers[n++] = "Content-Type: application/json";
    ht_fetcher_send(h->fetcher, ht_fetch_destination(f), ht_fetch_method(f), ht_fetch_target(f), headers, n, body,
                    body_len, ht_fetch_timeout_ms(f), on_reply, it);
    free(auth);
}

void ht_fed_host_fetch(ht_fed_host *h, ht_fetch **fetches, size_t count, void (*all_done)(void *), void *data) {
    batch *b = ht_xmalloc(sizeof *b);
    *b = (batch){h, count, all_done, data};
    for (size_t i = 0; i < count; i++) send_one(h, fetches[i], b);
}

static void on_timer(uv_timer_t *t) { ht_fed_host_pump(t->data); }

void ht_fed_host_pump(ht_fed_host *h) {
    if (h->stopping) return;
    if (h->waits && h->waits(h->waits_data)) {
        h->waited = true;
        return;
    }
    if (h->pumping) {
        h->again = true;
        return;
    }
    h->pumping = true;
    int64_t next = 0;
    do {
        h->again = false;
        ht_fetch *f;
        while ((f = ht_core_outbound_next(h->core, now_ms(), &next))) send_one(h, f, NULL);
    } while (h->again);
    h->pumping = false;
    uv_timer_stop(&h->timer);
    if (next) {
        int64_t wait = next - now_ms();
        uv_timer_start(&h->timer, on_timer, wait > 0 ? (uint64_t)wait : 0, 0);
    }
}

void ht_fed_host_wait_while(ht_fed_host *h, bool (*waits)(void *data), void *data) {
    h->waits = waits;
    h->waits_data = data;
}

void ht_fed_host_resume(ht_fed_host *h) {
    if (!h->waited) return;
    h->waited = false;
    ht_fed_host_pump(h);
}

ht_fed_host *ht_fed_host_new(uv_loop_t *loop, ht_core *core, const ht_fetcher_options *options, char *err,
                             size_t err_size) {
    ht_fetcher *fetcher = ht_fetcher_new(loop, options, err, err_size);
    if (!fetcher) return NULL;
    ht_fed_host *h = ht_xmalloc(sizeof *h);
    *h = (ht_fed_host){.loop = loop, .core = core, .fetcher = fetcher};
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    return h;
}

static void on_timer_closed(uv_handle_t *handle) { free(handle->data); }

void ht_fed_host_free(ht_fed_host *h) {
    if (!h) return;
    h->stopping = true;
    uv_timer_stop(&h->timer);
    ht_fetcher_free(h->fetcher); /* every fetch comes back, with an error */
    uv_close((uv_handle_t *)&h->timer, on_timer_closed);
}
