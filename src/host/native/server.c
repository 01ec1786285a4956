/* server.c -- connections, keep-alive and parked long-polls on libuv.
 *
 * Each connection accumulates bytes until ht_request_length() says a whole
 * request is there, then hands exactly those bytes to the core. Requests on
 * one connection are answered in order: while one is parked (a /sync waiting
 * for news), later pipelined bytes simply wait in the buffer.
 *
 * A parked connection keeps its request bytes. After every core call that
 * moved the stream position, every parked connection whose position was
 * passed is retried; its own timer retries it at its deadline. The core is
 * single-threaded and synchronous, so nothing here needs a lock.
 *
 * Parked requests are bounded like connections: in all (--max-parked, 503)
 * and per client address (--max-parked-per-ip, 429 with retry_after_ms),
 * since each one holds its request bytes and a timer for up to a minute.
 * A refused long-poll gets its answer at once and the connection stays open.
 *
 * A request that needs a password hashed or checked comes back as HT_WORK:
 * the work runs on libuv's thread pool while the loop serves everyone else,
 * then the request is retried like a woken long-poll. A connection closed
 * meanwhile is freed only once its work is back.
 *
 * A connection the server ends itself (after an error answer, a 408 or a
 * 503) is closed "lingering": see conn_finish().
 *
 * A client that pipelines requests but does not read the answers would make
 * the server hold every answer in memory. Once WRITE_HIGH_WATER bytes of
 * answers wait for one connection, it stops reading and answering there; it
 * goes on when the client has taken them down to WRITE_LOW_WATER. The
 * client's own sends then block in its kernel buffers, not in our memory. */
#include "host/native/server.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "host/native/log.h"
#include "host/native/static_files.h"
#include "http/response.h"
#include "util/oom.h"

typedef struct server server;

typedef struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;   /* read timeout, idle timeout, park or linger deadline */
    uv_shutdown_t shutdown;
    server *srv;
    struct conn *prev, *next; /* all connections */
    struct conn *park_next;   /* parked connections */
    unsigned char *buf; /* bytes received and not yet answered */
    size_t len, cap;
    char ip[64];
    bool parked;
    bool working;           /* its request's password work is on the thread pool */
    bool freed_after_work;  /* closed while working: free when the work is back */
    bool closing;
    bool close_after_write; /* answer, then close */
    bool lingering;         /* our side is shut down; the client's bytes are dropped */
    bool peer_done;         /* the client closed its side (EOF) */
    bool sent_continue;
    bool request_timer;     /* the timer runs for the request being received */
    int64_t received_ms;    /* when the current request was complete */
    uint64_t park_position;
    int64_t park_deadline_ms;
    long request_len;       /* length of the parked request */
    unsigned pending_writes;
    size_t pending_bytes;   /* answers written to libuv, not yet taken by the client */
    uv_work_t work_req;
    ht_work *work;
    bool paused;            /* not reading: pending_bytes passed WRITE_HIGH_WATER */
} conn;

enum { WRITE_HIGH_WATER = 1 << 20, WRITE_LOW_WATER = 1 << 18 };

struct server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_signal_t sigint, sigterm;
    ht_core *core;
    const ht_config *cfg;
    const ht_server_options *opts;
    conn *conns;
    conn *parked;
    unsigned conn_count;
    bool stopping;
    uint64_t matrix_requests; /* answered by the core; reported at exit */
};

typedef struct write_req {
    uv_write_t req;
    conn *c;
    size_t len;
    unsigned char data[];
} write_req;

static int64_t now_ms(void) {
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void process(conn *c);
static void resume(conn *c);
static void wake_parked(server *srv);

/* ---- closing ----------------------------------------------------------- */

static void unpark(conn *c) {
    if (!c->parked) return;
    for (conn **p = &c->srv->parked; *p; p = &(*p)->park_next) {
        if (*p == c) {
            *p = c->park_next;
            break;
        }
    }
    c->parked = false;
    c->park_next = NULL;
}

static void conn_free(conn *c) {
    free(c->buf);
    free(c);
}

static void on_timer_closed(uv_handle_t *h) {
    conn *c = h->data;
    if (c->working) {
        c->freed_after_work = true;
        return;
    }
    conn_free(c);
}

static void on_tcp_closed(uv_handle_t *h) {
    conn *c = h->data;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

enum { LINGER_MS = 2000 };

static void conn_close(conn *c) {
    if (c->closing) return;
    c->closing = true;
    unpark(c);
    server *srv = c->srv;
    if (c->prev) c->prev->next = c->next;
    else srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    srv->conn_count--;
    uv_timer_stop(&c->timer);
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
}

/* ---- writing ----------------------------------------------------------- */

static void on_written(uv_write_t *req, int status) {
    write_req *w = (write_req *)req;
    conn *c = w->c;
    c->pending_writes--;
    c->pending_bytes -= w->len;
    free(w);
    if (status < 0 || (c->close_after_write && c->peer_done && c->pending_writes == 0)) {
        conn_close(c);
        return;
    }
    if (c->paused && c->pending_bytes <= WRITE_LOW_WATER) resume(c);
}

static void conn_write(conn *c, const unsigned char *data, size_t len) {
    if (c->closing) return;
    write_req *w = ht_xmalloc(sizeof *w + len);
    memcpy(w->data, data, len);
    w->c = c;
    w->len = len;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    c->pending_writes++;
    c->pending_bytes += len;
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
        free(w);
        c->pending_writes--;
        c->pending_bytes -= len;
        conn_close(c);
    }
}

static void write_error(conn *c, int status, ht_errcode code, const char *message) {
    ht_buf out = {0};
    ht_http_write_error(&out, (ht_error){code, status, message}, true);
    conn_write(c, out.data, out.len);
    ht_buf_free(&out);
}

/* ---- ending a connection ----------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void on_timer(uv_timer_t *t);
static void on_shutdown(uv_shutdown_t *req, int status) { (void)req, (void)status; }

/* Ends a connection once its answers are written. Closing a socket while the
 * client is still sending (the rest of a 10 MB header, an upload refused
 * with 413) makes the kernel send a reset, and a reset can destroy the
 * answer before the client reads it. So unless the client has closed its
 * side already, we shut down ours after the answers, read and drop whatever
 * still comes, and close when the client does or after LINGER_MS. */
static void conn_finish(conn *c) {
    if (c->closing || c->lingering) return;
    c->close_after_write = true;
    unpark(c);
    if (c->peer_done) {
        if (c->pending_writes == 0) conn_close(c);
        return;
    }
    c->lingering = true;
    c->len = 0;
    uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        conn_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read); /* may be reading already */
}

/* ---- timers ------------------------------------------------------------ */

static void on_timer(uv_timer_t *t) {
    conn *c = t->data;
    if (c->lingering) {
        conn_close(c);
        return;
    }
    if (c->parked) {
        /* The deadline: ask the core again; it answers now. */
        unpark(c);
        process(c);
        return;
    }
    if (c->len > 0 && !c->paused) {
        write_error(c, 408, HT_M_UNKNOWN, "The request took too long to arrive.");
        conn_finish(c);
        return;
    }
    if (c->pending_writes > 0) {
        /* Idle only because a slow reader is still taking a large answer. */
        uv_timer_start(&c->timer, on_timer, c->srv->opts->idle_timeout_ms, 0);
        return;
    }
    conn_close(c); /* idle keep-alive connection */
}

/* The request timeout runs from a request's first byte, not from the latest
 * one: restarting it on every read would let a client that sends one byte
 * every few seconds hold a connection forever. */
static void arm_timer(conn *c) {
    const ht_server_options *o = c->srv->opts;
    if (c->len > 0) {
        if (c->request_timer) return;
        c->request_timer = true;
        uv_timer_start(&c->timer, on_timer, o->request_timeout_ms, 0);
    } else {
        c->request_timer = false;
        uv_timer_start(&c->timer, on_timer, o->idle_timeout_ms, 0);
    }
}

/* ---- requests ---------------------------------------------------------- */

static bool is_matrix_path(const unsigned char *buf, size_t len) {
    const unsigned char *sp = memchr(buf, ' ', len < 16 ? len : 16);
    if (!sp) return true; /* malformed: let the core explain */
    size_t rest = len - (size_t)(sp + 1 - buf);
    const char *p = (const char *)sp + 1;
    return (rest >= 9 && memcmp(p, "/_matrix/", 9) == 0) ||
           (rest >= 20 && memcmp(p, "/.well-known/matrix/", 20) == 0) ||
           (rest >= 16 && memcmp(p, "/_synapse/admin/", 16) == 0);
}

/* One line per answered Matrix request: address, request line, status. An
 * access token in the query string is a password: it is not written out. */
static void log_request(conn *c, const unsigned char *bytes, size_t len, const unsigned char *response) {
    while (len && (*bytes == '\r' || *bytes == '\n')) bytes++, len--;
    const unsigned char *eol = memchr(bytes, '\r', len < 200 ? len : 200);
    size_t shown = eol ? (size_t)(eol - bytes) : (len < 80 ? len : 80);
    char line[256];
    size_t o = 0;
    static const char key[] = "access_token=";
    for (size_t i = 0; i < shown && o < sizeof line - 16;) {
        line[o++] = (char)bytes[i++];
        bool at_param = line[o - 1] == '?' || line[o - 1] == '&';
        if (at_param && shown - i >= sizeof key - 1 && memcmp(bytes + i, key, sizeof key - 1) == 0) {
            memcpy(line + o, key, sizeof key - 1);
            o += sizeof key - 1;
            memcpy(line + o, "<hidden>", 8);
            o += 8;
            i += sizeof key - 1;
            while (i < shown && bytes[i] != '&' && bytes[i] != ' ') i++;
        }
    }
    line[o] = '\0';
    for (size_t i = 0; i < o; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] == 0x7f) line[i] = '?';
    ht_host_log(HT_LOG_INFO, "%s %s -> %.3s", c->ip, line, response + 9);
}

/* 0 if one more request may park on c; otherwise the status to refuse it
 * with. c itself is not parked while the core decides, so a woken request
 * that parks again always finds its own place free. */
static int park_refusal(conn *c) {
    server *srv = c->srv;
    unsigned total = 0, same_ip = 0;
    for (conn *o = srv->conns; o; o = o->next) {
        if (!o->parked) continue;
        total++;
        if (strcmp(o->ip, c->ip) == 0) same_ip++;
    }
    if (same_ip >= srv->opts->max_parked_per_ip) return 429;
    if (total >= srv->opts->max_parked) return 503;
    return 0;
}

enum { PARK_RETRY_MS = 1000 };

/* The answer to a long-poll that may not wait; the connection stays open. */
static void write_park_refusal(conn *c, int status) {
    char body[256];
    int n = snprintf(body, sizeof body,
                     "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"error\":\"%s\",\"retry_after_ms\":%d}",
                     status == 429 ? "Too many of your requests are already waiting for news; "
                                     "try again in a moment."
                                   : "The server is holding too many waiting requests; "
                                     "try again in a moment.",
                     PARK_RETRY_MS);
    ht_response res = {.status = status,
                       .content_type = "application/json",
                       .body = (const unsigned char *)body,
                       .body_len = (size_t)n,
                       .extra_headers = "Retry-After: 1\r\n"};
    ht_buf out = {0};
    ht_http_write_response(&out, &res);
    conn_write(c, out.data, out.len);
    ht_buf_free(&out);
}

static void on_work(uv_work_t *req) {
    conn *c = req->data;
    ht_work_run(c->work);
}

/* Back on the loop: the core takes the work, and the request is retried. */
static void on_work_done(uv_work_t *req, int status) {
    conn *c = req->data;
    (void)status;
    ht_core_work_done(c->srv->core, c->work);
    c->work = NULL;
    c->working = false;
    if (c->freed_after_work) {
        conn_free(c);
        return;
    }
    if (c->closing) return;
    process(c);
}

static void start_work(conn *c, ht_work *work, long request_len) {
    c->working = true;
    c->work = work;
    c->request_len = request_len; /* the same bytes are retried */
    c->work_req.data = c;
    uv_timer_stop(&c->timer); /* the client has sent it all: no 408 while we hash */
    uv_queue_work(c->srv->loop, &c->work_req, on_work, on_work_done);
}

/* Answers the request at the start of the buffer, or parks it. Returns false
 * if the connection must not process anything else now. */
static bool answer_one(conn *c, long request_len) {
    server *srv = c->srv;
    const unsigned char *bytes = c->buf;
    size_t len = request_len > 0 ? (size_t)request_len : c->len;

    if (request_len > 0 && srv->opts->web_root && !is_matrix_path(bytes, len)) {
        ht_buf out = {0};
        bool close = ht_static_serve(srv->cfg, srv->opts->web_root, bytes, len, &out);
        conn_write(c, out.data, out.len);
        ht_buf_free(&out);
        if (close) c->close_after_write = true;
    } else {
        ht_result res;
        int64_t now = now_ms();
        if (!c->parked && c->received_ms == 0) c->received_ms = now;
        uint64_t before = ht_core_stream_position(srv->core);
        ht_core_handle(srv->core, bytes, len, c->received_ms, now, &res);
        if (res.outcome == HT_WORK) {
            start_work(c, res.work, (long)len);
            return false;
        }
        int refusal = res.outcome == HT_PARK ? park_refusal(c) : 0;
        if (res.outcome == HT_PARK && !refusal) {
            c->parked = true;
            c->park_position = res.park_position;
            c->park_deadline_ms = res.park_deadline_ms;
            c->request_len = (long)len;
            c->park_next = srv->parked;
            srv->parked = c;
            int64_t wait = res.park_deadline_ms - now;
            uv_timer_start(&c->timer, on_timer, wait > 0 ? (uint64_t)wait : 0, 0);
            return false;
        }
        srv->matrix_requests++;
        if (refusal) {
            write_park_refusal(c, refusal);
        } else {
            if (srv->opts->log_requests) log_request(c, bytes, len, res.response);
            ht_host_log_lines(res.log, res.log_count);
            conn_write(c, res.response, res.response_len);
            if (res.close_connection) c->close_after_write = true;
            if (ht_core_stream_position(srv->core) != before) wake_parked(srv);
        }
    }
    c->received_ms = 0;
    c->sent_continue = false;
    c->request_timer = false; /* the next request gets its own deadline */
    if (request_len <= 0) {
        c->close_after_write = true;
        c->len = 0;
    } else {
        memmove(c->buf, c->buf + request_len, c->len - (size_t)request_len);
        c->len -= (size_t)request_len;
    }
    if (c->close_after_write) {
        conn_finish(c);
        return false;
    }
    return true;
}

/* Answers every complete request in the buffer, in order. */
static void process(conn *c) {
    server *srv = c->srv;
    while (!c->closing && !c->parked && !c->working && c->len > 0) {
        if (c->pending_bytes > WRITE_HIGH_WATER) {
            c->paused = true;
            uv_read_stop((uv_stream_t *)&c->tcp);
            return;
        }
        bool expects_continue = false;
        long n = c->request_len > 0
                     ? c->request_len
                     : ht_request_length(srv->cfg, c->buf, c->len, &expects_continue);
        c->request_len = 0;
        if (n == 0) {
            if (expects_continue && !c->sent_continue) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                conn_write(c, (const unsigned char *)cont, sizeof cont - 1);
                c->sent_continue = true;
            }
            break;
        }
        if (!answer_one(c, n)) return;
    }
    if (!c->closing && !c->parked && !c->working) arm_timer(c);
}

/* The client has taken enough of its answers: read and answer again. */
static void resume(conn *c) {
    c->paused = false;
    if (c->closing) return;
    if (!c->peer_done && !c->lingering) uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    process(c);
}

static void wake_parked(server *srv) {
    uint64_t pos = ht_core_stream_position(srv->core);
    /* Retrying can park again or wake others; take the list first. */
    conn *list = srv->parked;
    srv->parked = NULL;
    while (list) {
        conn *c = list;
        list = c->park_next;
        c->park_next = NULL;
        if (c->park_position < pos) {
            c->parked = false;
            uv_timer_stop(&c->timer);
            process(c);
        } else {
            c->park_next = srv->parked;
            srv->parked = c;
        }
    }
}

/* ---- reading ----------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    conn *c = h->data;
    (void)suggested;
    size_t want = 64 * 1024;
    if (c->cap - c->len < want) {
        size_t cap = c->cap ? c->cap : want;
        while (cap - c->len < want) cap *= 2;
        c->buf = ht_xrealloc(c->buf, cap);
        c->cap = cap;
    }
    *b = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    conn *c = s->data;
    (void)b;
    if (n < 0) {
        /* The client is gone, or has only finished sending (a half-close):
         * answers already queued are still delivered before closing. */
        c->peer_done = true;
        uv_read_stop(s);
        if ((c->pending_writes > 0 && !c->parked) || c->working) {
            c->close_after_write = true; /* a request being hashed still gets its answer */
        } else {
            conn_close(c);
        }
        return;
    }
    if (n == 0) return;
    if (c->lingering) return; /* dropped: nothing more is answered */
    c->len += (size_t)n;
    if (c->parked || c->working) return; /* pipelined bytes wait for the answer before */
    process(c);
}

static void count_same_ip(server *srv, const char *ip, unsigned *count) {
    *count = 0;
    for (conn *o = srv->conns; o; o = o->next)
        if (strcmp(o->ip, ip) == 0) (*count)++;
}

static void on_connection(uv_stream_t *listener, int status) {
    server *srv = listener->data;
    if (status < 0 || srv->stopping) return;
    conn *c = ht_xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->closing = false;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage addr;
    int addr_len = sizeof addr;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&addr, &addr_len) == 0) {
        if (addr.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&addr, c->ip, sizeof c->ip);
        else
            uv_ip4_name((struct sockaddr_in *)&addr, c->ip, sizeof c->ip);
    }
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    srv->conn_count++;

    unsigned same_ip;
    count_same_ip(srv, c->ip, &same_ip);
    if (srv->conn_count > srv->opts->max_connections ||
        same_ip > srv->opts->max_connections_per_ip) {
        write_error(c, 503, HT_M_LIMIT_EXCEEDED, "Too many connections; try again shortly.");
        conn_finish(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    arm_timer(c);
}

/* ---- lifecycle --------------------------------------------------------- */

static void on_listener_closed(uv_handle_t *h) { (void)h; }

static void on_signal(uv_signal_t *sig, int signum) {
    server *srv = sig->data;
    if (srv->stopping) return;
    srv->stopping = true;
    ht_host_log(HT_LOG_INFO, "%s received, shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
    uv_close((uv_handle_t *)&srv->sigint, NULL);
    uv_close((uv_handle_t *)&srv->sigterm, NULL);
    /* The core is synchronous, so no request is half-done here: every
     * acknowledged write is committed. Parked long-polls are simply closed. */
    while (srv->conns) conn_close(srv->conns);
}

/* With the demo served, one address answers for two different homeservers:
 * the page's own, inside the browser, and this one. Said once the socket
 * listens (never before: a port in use must not print a URL), so that an
 * account made in the page and then missing from curl is not a surprise. */
static void print_two_servers(const char *url, const ht_config *cfg) {
    printf("hometab: one address, two homeservers:\n"
           "  - open %s/ in a browser: the demo page runs its own homeserver inside that browser,\n"
           "    named after the page's address (%s); its accounts and rooms live in that browser only\n"
           "  - Matrix clients and curl at %s reach this native server, named %s,\n"
           "    with its database in %s\n",
           url, url + strlen("http://"), url, cfg->server_name, cfg->db_path);
}

/* The line an operator looks for in the log: what is served, where, and
 * from which data. */
static void log_start(server *srv, const char *url) {
    ht_core_summary sum;
    ht_core_summarize(srv->core, &sum);
    char where[PATH_MAX];
    if (!realpath(srv->cfg->db_path, where)) snprintf(where, sizeof where, "%s", srv->cfg->db_path);
    ht_host_log(HT_LOG_INFO,
                "hometab %s serving %s at %s/ with its data in %s (schema %d: %lld users, %lld admins, "
                "%lld rooms)%s%s%s; %s",
                HT_VERSION, srv->cfg->server_name, url, where, sum.schema_version,
                (long long)sum.users, (long long)sum.admins, (long long)sum.rooms,
                srv->opts->web_root ? "; the demo from " : "", srv->opts->web_root ? srv->opts->web_root : "",
                "; admin API at /_synapse/admin/", srv->opts->start_note ? srv->opts->start_note : "");
}

int ht_server_run(ht_core *core, const ht_config *cfg, const ht_server_options *opts) {
    server srv = {.loop = uv_default_loop(), .core = core, .cfg = cfg, .opts = opts};
    signal(SIGPIPE, SIG_IGN);

    struct sockaddr_storage addr;
    int rc = strchr(opts->host, ':')
                 ? uv_ip6_addr(opts->host, opts->port, (struct sockaddr_in6 *)&addr)
                 : uv_ip4_addr(opts->host, opts->port, (struct sockaddr_in *)&addr);
    if (rc < 0) {
        fprintf(stderr, "hometab: %s is not an IP address\n", opts->host);
        return 2;
    }
    uv_tcp_init(srv.loop, &srv.listener);
    srv.listener.data = &srv;
    rc = uv_tcp_bind(&srv.listener, (struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&srv.listener, 1024, on_connection);
    if (rc < 0) {
        ht_host_log(HT_LOG_ERROR, "cannot listen on %s:%d: %s", opts->host, opts->port,
                    rc == UV_EADDRINUSE ? "the address is already in use" : uv_strerror(rc));
        if (rc == UV_EADDRINUSE)
            ht_host_log(HT_LOG_ERROR, "another program (perhaps another hometab) listens there; stop it, "
                                      "or choose another port with --listen (make run LISTEN=127.0.0.1:9000)");
        uv_close((uv_handle_t *)&srv.listener, NULL);
        uv_run(srv.loop, UV_RUN_DEFAULT);
        uv_loop_close(srv.loop);
        return 3;
    }
    uv_signal_init(srv.loop, &srv.sigint);
    uv_signal_init(srv.loop, &srv.sigterm);
    srv.sigint.data = srv.sigterm.data = &srv;
    uv_signal_start(&srv.sigint, on_signal, SIGINT);
    uv_signal_start(&srv.sigterm, on_signal, SIGTERM);

    /* The port actually bound: with port 0 the system picked it, and tests
     * read it from this line. */
    struct sockaddr_storage bound;
    int bound_len = sizeof bound;
    int port = opts->port;
    if (uv_tcp_getsockname(&srv.listener, (struct sockaddr *)&bound, &bound_len) == 0)
        port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
    bool v6 = strchr(opts->host, ':') != NULL;
    char url[300];
    snprintf(url, sizeof url, "http://%s%s%s:%d", v6 ? "[" : "", opts->host, v6 ? "]" : "", port);
    printf("hometab: listening on %s/ (server name %s)\n", url, cfg->server_name);
    if (opts->web_root) print_two_servers(url, cfg);
    fflush(stdout);
    log_start(&srv, url);
    uv_run(srv.loop, UV_RUN_DEFAULT);
    uv_loop_close(srv.loop);
    ht_host_log(HT_LOG_INFO, "stopped after %llu Matrix requests", (unsigned long long)srv.matrix_requests);
    return 0;
}
