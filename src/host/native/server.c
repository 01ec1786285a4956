/* server.c -- connections, keep-alive and parked long-polls on libuv.
 *
 * Each connection accumulates bytes until ht_request_length_resume() says a
 * whole request is there, then hands exactly those bytes to the core.
 * Requests on one connection are answered in order: while one is parked (a
 * /sync waiting for news), hashing a password or streaming its answer, later
 * pipelined bytes wait in the buffer.
 *
 * A parked connection keeps its request bytes. After every core call that
 * moved the stream position, the parked connections the write may concern
 * are retried: those waiting on a key the write touched, found through the
 * park index (park_index.c), not every one; see hometab.h. Its own timer
 * retries each at its deadline. The core is single-threaded and
 * synchronous, so nothing here needs a lock.
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
 * Group commit. A write is durable once its COMMIT has reached the disk
 * (an fsync), and under load the fsyncs, not the work, bound how many
 * writes a second the server takes. So a request that may write is not
 * answered where it is read: its connection joins the server's group, and
 * after every poll of the loop (a uv_check handle) the group runs, one
 * request after another, inside one transaction with one COMMIT
 * (ht_core_group_begin/commit); only then are its answers sent. Requests
 * that arrived together are thus committed together, and those arriving
 * while a COMMIT runs form the next group. Reads (ht_request_is_read) are
 * answered at once, outside any group: they never wait for a write nor see
 * one that is not committed. A lone write runs as before, alone.
 *
 * Durability. SQLite does not sync the COMMITs (ht_config.host_syncs): a
 * thread of wal_sync.c syncs the WAL file while the loop goes on with the
 * next requests. Every byte the server would send after a commit that no
 * returned sync covers yet waits (srv->held_head, in order) and goes when
 * one does: an answer never acknowledges a write that a power cut could
 * still take, nor shows what such a write made (a read, a woken long-poll),
 * and the outbox sends other servers nothing until then either. Reads wait
 * for the sync of the commits before them: the one under way, and at most
 * one more (before, the loop itself waited in every COMMIT's sync).
 *
 * Checkpoints. Once a sync has returned and the WAL holds 16 MiB not yet in
 * the database file, a thread of checkpoints.c copies it there on a
 * connection of its own while the loop goes on; then the group waits while
 * the thread copies the frames committed meanwhile (on_checkpointed), and
 * the next write starts the WAL over.
 *
 * Memory. The design decision of this file: the bytes held for a client are
 * bounded whatever it does, and so are the bytes held for all of them.
 *   - Received bytes: a request may not pass the core's limits (head, body,
 *     chunked framing: ht_request_length_resume refuses it as it arrives).
 *     While a request is parked, hashing or streaming, the connection reads
 *     at most PIPELINE_ALLOWANCE bytes beyond it, then stops reading: the
 *     client's further sends wait in its kernel buffers, not in ours. Bytes
 *     are read into one buffer shared by all connections and copied into the
 *     connection's own, which is freed whenever it empties and shrinks after
 *     a large request: an idle keep-alive connection holds none.
 *   - Answers: once WRITE_HIGH_WATER bytes of answers wait for a client, the
 *     server stops reading and answering there until it has taken them down
 *     to WRITE_LOW_WATER. A large body (a media download) is not copied
 *     whole: the core hands it out as a body the server pulls STREAM_PIECE
 *     bytes at a time as the socket drains (ht_core_body_read).
 *   - Slow readers: a client that takes none of its waiting answers for
 *     --send-timeout-ms is disconnected.
 *   - In all: received bytes and waiting answers of every connection are
 *     counted (srv->held). Past --max-buffered, new connections get 503,
 *     connections stop reading (a 408 ends those that cannot finish in
 *     time) and stop answering while they have answers waiting, until
 *     memory is given back. */
#include "host/native/server.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "host/native/checkpoints.h"
#include "host/native/federation.h"
#include "host/native/log.h"
#include "host/native/park_index.h"
#include "host/native/request_log.h"
#include "host/native/static_files.h"
#include "host/native/wal_sync.h"
#include "http/response.h"
#include "util/oom.h"

typedef struct server server;

typedef struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;   /* request, idle, send, park or linger deadline */
    uv_shutdown_t shutdown;
    server *srv;
    struct conn *prev, *next;         /* all connections */
    park_entry park;                  /* in the park index while parked */
    struct conn *mem_prev, *mem_next; /* waiting for memory (srv->mem_waiters) */
    unsigned char *buf; /* bytes received and not yet answered */
    size_t len, cap;
    ht_framing framing; /* how far the request at buf's start was framed */
    char ip[64];
    bool reading;           /* uv_read_start is in effect */
    bool parked;
    bool working;           /* its request's password work is on the thread pool */
    bool fetching;          /* its request's fetches are out to other servers */
    bool grouped;           /* its request waits for the group to run (group_next) */
    bool freed_after_work;  /* closed while working or fetching: free when that is back */
    bool closing;
    bool close_after_write; /* answer, then close */
    bool lingering;         /* our side is shut down; the client's bytes are dropped */
    bool peer_done;         /* the client closed its side (EOF) */
    bool sent_continue;
    bool request_timer;     /* the timer runs for the request being received */
    bool paused;            /* not answering: too many answers wait for the client */
    bool mem_waiting;       /* not reading: the server holds --max-buffered bytes */
    bool shutdown_held;     /* lingering: shut our side down once its held writes went */
    int64_t received_ms;    /* when the current request was complete */
    uint64_t park_position;
    int64_t park_deadline_ms;
    long request_len;       /* length of the parked or working request */
    unsigned pending_writes;
    size_t pending_bytes;   /* answers written to libuv or held, not yet taken by the client */
    unsigned held_writes;   /* ...of which held until a sync (srv->held_head) */
    uint64_t bytes_queued;  /* all answer bytes ever written to libuv */
    uint64_t taken_mark;    /* how many the client had taken at the last send check */
    uv_work_t work_req;
    ht_work *work;
    ht_body *body;          /* an answer's body still being streamed */
    struct conn *group_next;
    struct held_answer *held; /* its answer in a group, sent once the group committed */
} conn;

/* A group's answer, kept until the group's COMMIT says whether it stands. */
typedef struct held_answer {
    ht_body *body;
    bool close_connection;
    size_t len;
    unsigned char response[];
} held_answer;

enum {
    WRITE_HIGH_WATER = 1 << 20,
    WRITE_LOW_WATER = 1 << 18,
    READ_CHUNK = 64 * 1024,          /* one read from a socket */
    PIPELINE_ALLOWANCE = 64 * 1024,  /* read beyond a request that is not answered yet */
    STREAM_PIECE = 64 * 1024,        /* one piece of a streamed body */
    SHRINK_ABOVE = 64 * 1024,        /* a receive buffer larger than this shrinks when mostly empty */
};

struct server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_signal_t sigint, sigterm;
    ht_core *core;
    ht_fed_host *fed;         /* other servers: fetches and the outbox (NULL: federation off) */
    const ht_config *cfg;
    const ht_server_options *opts;
    conn *conns;
    park_index *parked;
    conn *mem_waiters;
    unsigned conn_count;
    bool stopping;
    size_t held;              /* received bytes and waiting answers of every connection */
    uint64_t matrix_requests; /* answered by the core; reported at exit */
    uint64_t core_calls;      /* ht_core_handle calls, retries included; reported at exit */
    uv_check_t group_check;   /* runs the group after each poll */
    uv_idle_t group_idle;     /* while a group waits: the poll must not block */
    conn *group_head, *group_tail; /* connections whose request waits for the group */
    uint64_t groups;          /* groups of two or more run together; reported at exit */
    uint64_t grouped_requests; /* ...and the requests in them */
    wal_sync *sync;           /* NULL: each COMMIT was synced by SQLite */
    checkpoints *checkpoints; /* NULL: the core checkpoints inside its commits */
    bool writes_held;         /* the group waits for a checkpoint's last pass */
    uint64_t checkpointed;    /* checkpoints off the loop, to the WAL's end; reported at exit */
    uint64_t asked;           /* the newest commit a sync was asked for */
    uint64_t synced;          /* ...and the newest a returned sync covers */
    struct write_req *held_head, *held_tail; /* writes waiting for a sync, in order */
    unsigned char read_buf[READ_CHUNK]; /* every read lands here first */
};

typedef struct write_req {
    uv_write_t req;
    conn *c;
    size_t len;
    uint64_t commits;               /* held: the commits it must not go before */
    struct write_req *held_next;
    unsigned char data[];
} write_req;

static int64_t now_ms(void) {
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void process(conn *c);
static void resume(conn *c);
static void wake_parked(server *srv, const uint64_t *keys, size_t key_count, bool all);
static void update_reading(conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void on_timer(uv_timer_t *t);

/* ---- memory ------------------------------------------------------------ */

static bool busy(const conn *c) { return c->parked || c->working || c->fetching || c->grouped || c->body; }

/* Something outside the connection still points to it: it is freed when
 * that comes back (freed_after_work). */
static bool referenced(const conn *c) { return c->working || c->fetching || c->grouped || c->held_writes; }

static bool over_budget(const server *srv) { return srv->held >= srv->opts->max_buffered; }

/* Connections that stopped reading for want of memory read again. */
static void memory_given_back(server *srv) {
    if (!srv->mem_waiters || over_budget(srv)) return;
    conn *list = srv->mem_waiters;
    srv->mem_waiters = NULL;
    while (list) {
        conn *c = list;
        list = c->mem_next;
        c->mem_prev = c->mem_next = NULL;
        c->mem_waiting = false;
        update_reading(c);
    }
}

static void wait_for_memory(conn *c) {
    if (c->mem_waiting) return;
    server *srv = c->srv;
    c->mem_waiting = true;
    c->mem_prev = NULL;
    c->mem_next = srv->mem_waiters;
    if (srv->mem_waiters) srv->mem_waiters->mem_prev = c;
    srv->mem_waiters = c;
    update_reading(c);
}

static void stop_waiting_for_memory(conn *c) {
    if (!c->mem_waiting) return;
    if (c->mem_prev) c->mem_prev->mem_next = c->mem_next;
    else c->srv->mem_waiters = c->mem_next;
    if (c->mem_next) c->mem_next->mem_prev = c->mem_prev;
    c->mem_prev = c->mem_next = NULL;
    c->mem_waiting = false;
}

/* Drops the first n received bytes (an answered request): the rest moves to
 * the front, and a buffer left empty is freed, one left mostly empty shrinks. */
static void consume(conn *c, size_t n) {
    server *srv = c->srv;
    if (n > c->len) n = c->len;
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    srv->held -= n;
    c->framing = (ht_framing){0};
    if (c->len == 0) {
        free(c->buf);
        c->buf = NULL;
        c->cap = 0;
    } else if (c->cap > SHRINK_ABOVE && c->len < c->cap / 4) {
        c->cap = (c->len + 4095) & ~(size_t)4095;
        c->buf = ht_xrealloc(c->buf, c->cap);
    }
    memory_given_back(srv);
}

/* Appends what was read. The buffer grows by doubling, so a large upload is
 * copied a few times in all, not once per read. */
static void append(conn *c, const unsigned char *bytes, size_t n) {
    if (c->cap - c->len < n) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap - c->len < n) cap *= 2;
        c->buf = ht_xrealloc(c->buf, cap);
        c->cap = cap;
    }
    memcpy(c->buf + c->len, bytes, n);
    c->len += n;
    c->srv->held += n;
}

/* ---- reading, started and stopped -------------------------------------- */

/* Whether the connection should be reading now. */
static bool wants_bytes(const conn *c) {
    if (c->closing || c->peer_done) return false;
    if (c->lingering) return true; /* read and drop until the client closes */
    if (c->paused || c->mem_waiting) return false;
    /* Busy: a little of what is pipelined behind, then wait. */
    if (busy(c)) return c->len < (size_t)(c->request_len > 0 ? c->request_len : 0) + PIPELINE_ALLOWANCE;
    return true;
}

static void update_reading(conn *c) {
    bool want = wants_bytes(c);
    if (want && !c->reading) {
        c->reading = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

/* ---- closing ----------------------------------------------------------- */

static void unpark(conn *c) {
    if (!c->parked) return;
    park_index_remove(c->srv->parked, &c->park);
    c->parked = false;
}

static void end_stream(conn *c) {
    if (!c->body) return;
    ht_core_body_close(c->srv->core, c->body);
    c->body = NULL;
}

static void conn_free(conn *c) {
    c->srv->held -= c->len;
    free(c->buf);
    server *srv = c->srv;
    free(c);
    memory_given_back(srv);
}

static void on_timer_closed(uv_handle_t *h) {
    conn *c = h->data;
    if (referenced(c)) {
        c->freed_after_work = true;
        return;
    }
    conn_free(c);
}

/* What held a closed connection has come back: free it if nothing else does. */
static void free_if_unreferenced(conn *c) {
    if (c->freed_after_work && !referenced(c)) conn_free(c);
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
    end_stream(c);
    stop_waiting_for_memory(c);
    server *srv = c->srv;
    if (c->prev) c->prev->next = c->next;
    else srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    srv->conn_count--;
    uv_timer_stop(&c->timer);
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
}

/* ---- writing ----------------------------------------------------------- */

static void stream_more(conn *c);
static void arm_timer(conn *c);
static void shut_down(conn *c);

/* A write done with (written, or one the client will not get): its bytes
 * are no longer held. */
static void drop_write(conn *c, write_req *w) {
    c->pending_writes--;
    c->pending_bytes -= w->len;
    c->srv->held -= w->len;
    free(w);
}

static void on_written(uv_write_t *req, int status) {
    write_req *w = (write_req *)req;
    conn *c = w->c;
    server *srv = c->srv;
    drop_write(c, w);
    memory_given_back(srv);
    if (c->closing) return;
    if (status < 0 || (c->close_after_write && c->peer_done && c->pending_writes == 0 && !c->body)) {
        conn_close(c);
        return;
    }
    if (c->body) {
        stream_more(c);
        return;
    }
    if (c->paused && c->pending_bytes <= WRITE_LOW_WATER) {
        resume(c);
        return;
    }
    /* Everything taken by a client with nothing else going on: now it idles. */
    if (c->pending_writes == 0 && c->len == 0 && !busy(c) && !c->lingering) arm_timer(c);
}

/* Commits no returned sync covers yet: what is sent now waits for one. */
static bool unsynced(server *srv) { return srv->sync && ht_core_commits(srv->core) > srv->synced; }

/* Makes sure a sync covering every commit so far is under way or asked. */
static void ask_sync(server *srv) {
    uint64_t commits = ht_core_commits(srv->core);
    if (commits > srv->asked) {
        srv->asked = commits;
        wal_sync_ask(srv->sync, commits);
    }
}

/* Gives w to libuv. */
static void hand_write(conn *c, write_req *w) {
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
    c->bytes_queued += w->len;
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
        drop_write(c, w);
        conn_close(c);
    }
}

/* wal_sync's word: the commits up to `synced` are durable. The writes that
 * waited for them go, in the order they were made; then what the outbox
 * held back. */
static void on_synced(void *data, uint64_t synced) {
    server *srv = data;
    srv->synced = synced;
    while (srv->held_head && srv->held_head->commits <= synced) {
        write_req *w = srv->held_head;
        srv->held_head = w->held_next;
        if (!srv->held_head) srv->held_tail = NULL;
        conn *c = w->c;
        c->held_writes--;
        if (c->closing) {
            drop_write(c, w);
            free_if_unreferenced(c);
            continue;
        }
        hand_write(c, w);
        if (!c->held_writes && c->shutdown_held && !c->closing) {
            c->shutdown_held = false;
            shut_down(c);
        }
    }
    memory_given_back(srv);
    if (srv->fed) ht_fed_host_resume(srv->fed);
    ht_wal_need need = srv->checkpoints ? ht_core_wal_need(srv->core) : HT_WAL_SMALL;
    if (need == HT_WAL_SMALL || srv->writes_held) return;
    if (!checkpoints_running(srv->checkpoints)) checkpoints_ask(srv->checkpoints, false);
    else if (need == HT_WAL_TOO_LARGE) srv->writes_held = true; /* the passes catch up; then the last */
}

static void on_group_idle(uv_idle_t *idle);

/* checkpoints' word: its passes ran. After the passes beside the writes,
 * the writes are held for the last pass, which copies the frames committed
 * meanwhile: the next write then starts the WAL over. Reads go on. */
static void on_checkpointed(void *data, bool ok, ht_wal_state copied, bool last_pass) {
    server *srv = data;
    if (ok) ht_core_wal_copied(srv->core, copied);
    if (ok && !last_pass) {
        srv->writes_held = true;
        checkpoints_ask(srv->checkpoints, true);
        return;
    }
    srv->writes_held = false;
    if (srv->group_head) uv_idle_start(&srv->group_idle, on_group_idle);
    if (ok) srv->checkpointed++;
    /* A later sync asks again; past 256 MiB the core checkpoints itself. */
    else ht_host_log(HT_LOG_WARN, "the checkpoint off the loop failed; it is tried again after the next sync");
}

/* The outbox waits while commits are not synced: the events it would send
 * must be durable here before other servers build on them. */
static bool outbox_waits(void *data) {
    server *srv = data;
    if (!unsynced(srv)) return false;
    ask_sync(srv);
    return true;
}

/* Queues w (len bytes of answer) for the client: to libuv now, or once the
 * commits before it are synced (see Durability at the top). Held writes
 * are counted as pending, so a client's limits see them. */
static void queue_write(conn *c, write_req *w, size_t len) {
    server *srv = c->srv;
    w->c = c;
    w->len = len;
    c->pending_writes++;
    c->pending_bytes += len;
    srv->held += len;
    if (!unsynced(srv)) {
        hand_write(c, w);
        return;
    }
    w->commits = ht_core_commits(srv->core);
    w->held_next = NULL;
    if (srv->held_tail) srv->held_tail->held_next = w;
    else srv->held_head = w;
    srv->held_tail = w;
    c->held_writes++;
    ask_sync(srv);
}

static void conn_write(conn *c, const unsigned char *data, size_t len) {
    if (c->closing) return;
    write_req *w = ht_xmalloc(sizeof *w + len);
    memcpy(w->data, data, len);
    queue_write(c, w, len);
}

static void write_error(conn *c, int status, ht_errcode code, const char *message) {
    ht_buf out = {0};
    ht_http_write_error(&out, (ht_error){code, status, message}, true);
    conn_write(c, out.data, out.len);
    ht_buf_free(&out);
}

/* ---- ending a connection ----------------------------------------------- */

static void on_shutdown(uv_shutdown_t *req, int status) { (void)req, (void)status; }

/* Our side is done once libuv has written what it was given. */
static void shut_down(conn *c) {
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        conn_close(c);
        return;
    }
    update_reading(c);
}

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
    c->srv->held -= c->len;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
    stop_waiting_for_memory(c);
    memory_given_back(c->srv);
    uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
    if (c->held_writes) {
        c->shutdown_held = true; /* after them: on_synced() */
        return;
    }
    shut_down(c);
}

/* ---- streamed bodies --------------------------------------------------- */

/* Pulls the next pieces of the body being streamed while the client keeps
 * up; at its end, goes on with the requests pipelined behind it. */
static void stream_more(conn *c) {
    while (c->body && !c->closing && c->pending_bytes < STREAM_PIECE) {
        write_req *w = ht_xmalloc(sizeof *w + STREAM_PIECE);
        long n = ht_core_body_read(c->srv->core, c->body, w->data, STREAM_PIECE);
        if (n > 0) {
            queue_write(c, w, (size_t)n);
            continue;
        }
        free(w);
        end_stream(c);
        if (n < 0) {
            /* Unreadable halfway (the file was deleted): the client sees a
             * body shorter than its Content-Length, never a wrong one. */
            conn_close(c);
            return;
        }
        if (c->close_after_write) {
            conn_finish(c);
            return;
        }
        process(c);
        return;
    }
}

/* ---- timers ------------------------------------------------------------ */

/* Bytes of answers the client has taken from us, in all. */
static uint64_t bytes_taken(conn *c) {
    return c->bytes_queued - uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
}

static void on_timer(uv_timer_t *t) {
    conn *c = t->data;
    const ht_server_options *o = c->srv->opts;
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
    if (c->len > 0 && !c->paused && !c->body && c->request_timer) {
        write_error(c, 408, HT_M_UNKNOWN, "The request took too long to arrive.");
        conn_finish(c);
        return;
    }
    if (c->pending_writes > 0) {
        /* Answers are waiting: fine while the client takes some of them. */
        uint64_t taken = bytes_taken(c);
        if (taken == c->taken_mark) {
            conn_close(c); /* a client that stopped reading */
            return;
        }
        c->taken_mark = taken;
        uv_timer_start(&c->timer, on_timer, o->send_timeout_ms, 0);
        return;
    }
    conn_close(c); /* idle keep-alive connection */
}

/* The request timeout runs from a request's first byte, not from the latest
 * one: restarting it on every read would let a client that sends one byte
 * every few seconds hold a connection forever. While answers wait for the
 * client, the send timeout watches that it keeps taking them. */
static void arm_timer(conn *c) {
    const ht_server_options *o = c->srv->opts;
    if (c->len > 0 && !c->paused && !c->body) {
        if (c->request_timer) return;
        c->request_timer = true;
        uv_timer_start(&c->timer, on_timer, o->request_timeout_ms, 0);
        return;
    }
    c->request_timer = false;
    if (c->pending_writes > 0) {
        c->taken_mark = bytes_taken(c);
        uv_timer_start(&c->timer, on_timer, o->send_timeout_ms, 0);
    } else {
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

/* 0 if one more request may park on c; otherwise the status to refuse it
 * with. c itself is not parked while the core decides, so a woken request
 * that parks again always finds its own place free. */
static int park_refusal(conn *c) {
    server *srv = c->srv;
    unsigned total = 0, same_ip = 0;
    for (park_entry *e = park_index_first(srv->parked); e; e = e->next) {
        conn *o = e->owner;
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
    /* Built in a growing buffer, not a fixed one: no length to get wrong. */
    ht_buf body = {0};
    ht_buf_printf(&body, "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"error\":\"%s\",\"retry_after_ms\":%d}",
                  status == 429 ? "Too many of your requests are already waiting for news; "
                                  "try again in a moment."
                                : "The server is holding too many waiting requests; "
                                  "try again in a moment.",
                  PARK_RETRY_MS);
    ht_response res = {.status = status,
                       .content_type = "application/json",
                       .body = body.data,
                       .body_len = body.len,
                       .extra_headers = "Retry-After: 1\r\n"};
    ht_buf out = {0};
    ht_http_write_response(&out, &res);
    conn_write(c, out.data, out.len);
    ht_buf_free(&out);
    ht_buf_free(&body);
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
        free_if_unreferenced(c);
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
    update_reading(c);
}

/* Back on the loop: every fetch of the request is with the core again,
 * which now has their answers; the request is retried. */
static void on_fetched(void *data) {
    conn *c = data;
    c->fetching = false;
    if (c->freed_after_work) {
        free_if_unreferenced(c);
        return;
    }
    if (c->closing) return;
    process(c);
}

static void start_fetch(conn *c, ht_fetch **fetches, size_t count, long request_len) {
    server *srv = c->srv;
    c->fetching = true;
    c->request_len = request_len; /* the same bytes are retried */
    uv_timer_stop(&c->timer);     /* the client has sent it all: no 408 while we ask */
    if (srv->fed) {
        ht_fed_host_fetch(srv->fed, fetches, count, on_fetched, c);
    } else {
        /* No federation here: the core hears so and answers the client. */
        for (size_t i = 0; i < count; i++)
            ht_core_fetch_done(srv->core, fetches[i], 0, NULL, 0, "federation is off on this server");
        on_fetched(c);
        return;
    }
    update_reading(c);
}

/* Calls the core for the request at the start of the buffer (len bytes).
 * Returns false if it is not answered now (parked, hashing, fetching);
 * else *refusal is 0 and res holds the answer, or *refusal is the status
 * a long-poll that may not wait gets. */
static bool call_core(conn *c, size_t len, ht_result *res, int *refusal) {
    server *srv = c->srv;
    int64_t now = now_ms();
    if (!c->parked && c->received_ms == 0) c->received_ms = now;
    ht_request_meta meta = {.received_ms = c->received_ms, .now_ms = now, .client_address = c->ip};
    ht_core_handle(srv->core, c->buf, len, &meta, res);
    srv->core_calls++;
    /* libuv's clock is read once per loop iteration: after a long call
     * (a large upload, a slow disk) a timer armed now would count from
     * before it, and a send timeout could fire before the answer left. */
    uv_update_time(srv->loop);
    *refusal = 0;
    if (res->outcome == HT_WORK) {
        start_work(c, res->work, (long)len);
        return false;
    }
    if (res->outcome == HT_FETCH) {
        start_fetch(c, res->fetches, res->fetch_count, (long)len);
        return false;
    }
    if (res->outcome == HT_PARK) {
        /* A long job's pause (its deadline is now) is no long-poll: the
         * caps on those do not refuse it. */
        *refusal = res->park_deadline_ms > now ? park_refusal(c) : 0;
        if (*refusal) {
            srv->matrix_requests++;
            return true;
        }
        c->parked = true;
        c->park_position = res->park_position;
        c->park_deadline_ms = res->park_deadline_ms;
        c->request_len = (long)len;
        park_index_add(srv->parked, &c->park, c, res->park_keys, res->park_key_count);
        int64_t wait = res->park_deadline_ms - now;
        uv_timer_start(&c->timer, on_timer, wait > 0 ? (uint64_t)wait : 0, 0);
        update_reading(c);
        return false;
    }
    srv->matrix_requests++;
    return true;
}

/* Sends an answer of the core for the request of len bytes at the start of
 * the buffer; a streamed body follows as the client takes it. */
static void send_answer(conn *c, size_t len, const unsigned char *response, size_t response_len, ht_body *body,
                        bool close_connection) {
    server *srv = c->srv;
    if (srv->opts->log_requests) {
        char line[HT_REQUEST_LOG_LINE_MAX];
        ht_request_log_line(line, sizeof line, c->ip, c->buf, len, response, response_len);
        ht_host_log(HT_LOG_INFO, "%s", line);
    }
    conn_write(c, response, response_len);
    c->body = body;
    if (close_connection) c->close_after_write = true;
}

/* The request of request_len bytes is answered: on to the next one.
 * Returns false if the connection must not process anything else now. */
static bool finish_request(conn *c, long request_len) {
    c->received_ms = 0;
    c->sent_continue = false;
    c->request_timer = false; /* the next request gets its own deadline */
    c->request_len = 0;
    consume(c, request_len <= 0 ? c->len : (size_t)request_len);
    if (request_len <= 0) c->close_after_write = true;
    if (c->body) {
        /* Nothing else is answered on this connection until the body is
         * sent; the send timeout watches that the client takes it. */
        arm_timer(c);
        update_reading(c);
        stream_more(c);
        return false;
    }
    if (c->close_after_write) {
        conn_finish(c);
        return false;
    }
    return true;
}

/* An active idle handle keeps the loop from blocking in its poll; the
 * group itself runs in on_group_check, right after the poll. */
static void on_group_idle(uv_idle_t *idle) { (void)idle; }

/* The request waits for the group, which runs after this poll. */
static void join_group(conn *c, long request_len) {
    server *srv = c->srv;
    c->grouped = true;
    c->request_len = request_len;
    c->group_next = NULL;
    if (srv->group_tail) srv->group_tail->group_next = c;
    else srv->group_head = c;
    srv->group_tail = c;
    uv_timer_stop(&c->timer); /* it has all arrived: no 408 while it waits */
    if (!srv->writes_held) uv_idle_start(&srv->group_idle, on_group_idle);
    update_reading(c);
}

static bool answer_now(conn *c, long request_len);

/* Answers the request at the start of the buffer, parks it, or lets it
 * wait for the group. Returns false if the connection must not process
 * anything else now. */
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
        return finish_request(c, request_len);
    }
    if (request_len > 0 && !ht_request_is_read(bytes, len)) {
        join_group(c, request_len);
        return false;
    }
    return answer_now(c, request_len);
}

/* Answers a Matrix request in a transaction of its own, or parks it. */
static bool answer_now(conn *c, long request_len) {
    server *srv = c->srv;
    size_t len = request_len > 0 ? (size_t)request_len : c->len;
    uint64_t before = ht_core_stream_position(srv->core);
    ht_result res;
    int refusal;
    if (!call_core(c, len, &res, &refusal)) return false;
    if (refusal) {
        write_park_refusal(c, refusal);
    } else {
        ht_host_log_lines(res.log, res.log_count);
        send_answer(c, len, res.response, res.response_len, res.body, res.close_connection);
        if (ht_core_stream_position(srv->core) != before)
            wake_parked(srv, res.wake_keys, res.wake_key_count, res.wake_all);
        if (res.outbound && srv->fed) ht_fed_host_pump(srv->fed);
    }
    return finish_request(c, request_len);
}

/* ---- the group ---------------------------------------------------------- */

static void hold_answer(conn *c, const ht_result *res) {
    held_answer *h = ht_xmalloc(sizeof *h + res->response_len);
    h->body = res->body;
    h->close_connection = res->close_connection;
    h->len = res->response_len;
    memcpy(h->response, res->response, res->response_len);
    c->held = h;
    c->srv->held += h->len;
}

/* Sends what the group's COMMIT decided: the held answer, or the failure
 * answer in its place (its streamed body, if any, is dropped). */
static void release_answer(conn *c, const ht_group_result *group) {
    held_answer *h = c->held;
    c->held = NULL;
    c->srv->held -= h->len;
    size_t len = (size_t)c->request_len;
    if (group->committed) {
        send_answer(c, len, h->response, h->len, h->body, h->close_connection);
    } else {
        if (h->body) ht_core_body_close(c->srv->core, h->body);
        send_answer(c, len, group->failure, group->failure_len, NULL, h->close_connection);
    }
    free(h);
}

/* Runs the requests waiting for the group: together in one transaction
 * when there are several (see the top of this file), else the one alone. */
static void run_group(server *srv) {
    conn *list = srv->group_head;
    srv->group_head = srv->group_tail = NULL;
    uv_idle_stop(&srv->group_idle);
    bool together = list && list->group_next && ht_core_group_begin(srv->core);
    conn *answered = NULL, **answered_end = &answered;
    size_t count = 0;
    for (conn *c = list, *next; c; c = next) {
        next = c->group_next;
        c->group_next = NULL;
        c->grouped = false;
        if (c->freed_after_work) { /* closed while it waited */
            conn_free(c);
            continue;
        }
        if (c->closing) continue;
        long request_len = c->request_len;
        if (!together) {
            if (answer_now(c, request_len)) process(c);
            continue;
        }
        ht_result res;
        int refusal;
        if (!call_core(c, (size_t)request_len, &res, &refusal)) continue;
        count++;
        c->request_len = request_len;
        if (refusal) {
            write_park_refusal(c, refusal); /* no answer of the core: nothing to hold */
            if (finish_request(c, request_len)) process(c);
            continue;
        }
        ht_host_log_lines(res.log, res.log_count); /* lines that wait for no commit */
        hold_answer(c, &res);
        *answered_end = c;
        answered_end = &c->group_next;
    }
    if (!together) return;
    ht_group_result group;
    ht_core_group_commit(srv->core, &group);
    uv_update_time(srv->loop); /* the COMMIT's fsync took time: see call_core */
    srv->groups++;
    srv->grouped_requests += count;
    for (conn *c = answered; c; c = c->group_next) release_answer(c, &group);
    ht_host_log_lines(group.log, group.log_count);
    if (group.committed && (group.wake_key_count || group.wake_all))
        wake_parked(srv, group.wake_keys, group.wake_key_count, group.wake_all);
    if (group.outbound && srv->fed) ht_fed_host_pump(srv->fed);
    for (conn *c = answered, *next; c; c = next) {
        next = c->group_next;
        c->group_next = NULL;
        if (finish_request(c, c->request_len)) process(c);
    }
}

/* After each poll: the group runs, and so does any group its answers let
 * form (pipelined writes behind them). */
static void on_group_check(uv_check_t *check) {
    server *srv = check->data;
    if (srv->writes_held) { /* until the checkpoint's last pass: on_checkpointed */
        uv_idle_stop(&srv->group_idle);
        return;
    }
    while (srv->group_head) run_group(srv);
}

/* Answers every complete request in the buffer, in order. */
static void process(conn *c) {
    server *srv = c->srv;
    while (!c->closing && !busy(c) && c->len > 0) {
        /* A client that does not take its answers gets no more of them; nor,
         * while the server holds all it may, one that has answers waiting. */
        if (c->pending_bytes > WRITE_HIGH_WATER || (over_budget(srv) && c->pending_bytes > 0)) {
            c->paused = true;
            update_reading(c);
            arm_timer(c);
            return;
        }
        bool expects_continue = false;
        long n = c->request_len > 0
                     ? c->request_len
                     : ht_request_length_resume(srv->cfg, c->buf, c->len, &c->framing, &expects_continue);
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
    if (!c->closing && !busy(c)) {
        update_reading(c);
        arm_timer(c);
    }
}

/* The client has taken enough of its answers: read and answer again. */
static void resume(conn *c) {
    c->paused = false;
    if (c->closing) return;
    update_reading(c);
    process(c);
}

/* Retries the parked requests a write that touched `keys` (or `all`) may
 * concern. They are listed first: a retry calls the core (which reuses the
 * memory `keys` points into), may park again, or may write and wake others
 * in turn. */
static void wake_parked(server *srv, const uint64_t *keys, size_t key_count, bool all) {
    uint64_t pos = ht_core_stream_position(srv->core);
    void **list = NULL;
    size_t cap = 0;
    size_t n = park_index_match(srv->parked, keys, key_count, all, &list, &cap);
    for (size_t i = 0; i < n; i++) {
        conn *c = list[i];
        /* Taken care of meanwhile (answered, closed, or parked again at a
         * later position by a wake in between)? */
        if (!c->parked || c->closing || c->park_position >= pos) continue;
        unpark(c);
        uv_timer_stop(&c->timer);
        process(c);
    }
    free(list);
}

/* ---- reading ----------------------------------------------------------- */

/* Every read lands in the server's one buffer, and on_read keeps what the
 * connection needs. Past --max-buffered an empty buffer is offered, which
 * libuv reports as UV_ENOBUFS: the connection then waits for memory. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    conn *c = h->data;
    server *srv = c->srv;
    (void)suggested;
    size_t room = c->lingering ? READ_CHUNK : over_budget(srv) ? 0 : srv->opts->max_buffered - srv->held;
    if (room == 0) {
        *b = uv_buf_init(NULL, 0);
        return;
    }
    *b = uv_buf_init((char *)srv->read_buf, (unsigned)(room < READ_CHUNK ? room : READ_CHUNK));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    conn *c = s->data;
    if (n == UV_ENOBUFS) {
        wait_for_memory(c);
        return;
    }
    if (n < 0) {
        /* The client is gone, or has only finished sending (a half-close):
         * answers already queued are still delivered before closing. */
        c->peer_done = true;
        update_reading(c);
        if ((c->pending_writes > 0 && !c->parked) || c->working || c->fetching || c->grouped) {
            c->close_after_write = true; /* a request being hashed still gets its answer */
        } else {
            conn_close(c);
        }
        return;
    }
    if (n == 0) return;
    if (c->lingering) return; /* dropped: nothing more is answered */
    append(c, (const unsigned char *)b->base, (size_t)n);
    if (busy(c)) {
        update_reading(c); /* pipelined bytes wait for the answer before */
        return;
    }
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
        same_ip > srv->opts->max_connections_per_ip || over_budget(srv)) {
        write_error(c, 503, HT_M_LIMIT_EXCEEDED,
                    over_budget(srv) ? "The server is busy; try again shortly."
                                     : "Too many connections; try again shortly.");
        conn_finish(c);
        return;
    }
    update_reading(c);
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
    /* Requests waiting for a group were never run: they are dropped with
     * their connections, like any request not yet answered. */
    for (conn *c = srv->group_head; c; c = c->group_next) c->grouped = false;
    srv->group_head = srv->group_tail = NULL;
    uv_close((uv_handle_t *)&srv->group_check, NULL);
    uv_close((uv_handle_t *)&srv->group_idle, NULL);
    /* Answers waiting for a sync are not sent: their connections close
     * below. Their commits become durable as SQLite closes the database
     * (its last checkpoint syncs the WAL), unacknowledged. */
    while (srv->held_head) {
        write_req *w = srv->held_head;
        srv->held_head = w->held_next;
        w->c->held_writes--;
        drop_write(w->c, w);
    }
    srv->held_tail = NULL;
    if (srv->checkpoints) checkpoints_stop(srv->checkpoints);
    srv->checkpoints = NULL;
    if (srv->sync) wal_sync_stop(srv->sync);
    srv->sync = NULL;
    /* The core is synchronous, so no request is half-done here: every
     * acknowledged write is committed. Parked long-polls are simply closed;
     * fetches to other servers come back to the core as failed (what the
     * outbox had in flight is sent again at the next start). */
    while (srv->conns) conn_close(srv->conns);
    ht_fed_host_free(srv->fed);
    srv->fed = NULL;
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
                "hometab %s serving %s at %s/ with its data in %s (schema %d; users: %lld, admins: %lld, "
                "rooms: %lld)%s%s; admin API at /_synapse/admin/; federation %s; %s",
                HT_VERSION, srv->cfg->server_name, url, where, sum.schema_version,
                (long long)sum.users, (long long)sum.admins, (long long)sum.rooms,
                srv->opts->web_root ? "; the demo from " : "", srv->opts->web_root ? srv->opts->web_root : "",
                srv->opts->federation ? "on" : "off", srv->opts->start_note ? srv->opts->start_note : "");
}

int ht_server_run(ht_core *core, const ht_config *cfg, const ht_server_options *opts) {
    server *srv = ht_xmalloc(sizeof *srv);
    *srv = (server){.loop = uv_default_loop(), .core = core, .cfg = cfg, .opts = opts, .parked = park_index_new()};
    signal(SIGPIPE, SIG_IGN);
    int code = 0;

    struct sockaddr_storage addr;
    int rc = strchr(opts->host, ':')
                 ? uv_ip6_addr(opts->host, opts->port, (struct sockaddr_in6 *)&addr)
                 : uv_ip4_addr(opts->host, opts->port, (struct sockaddr_in *)&addr);
    if (rc < 0) {
        ht_host_log(HT_LOG_ERROR, "%s is not an IP address", opts->host);
        code = 2;
        goto out;
    }
    uv_tcp_init(srv->loop, &srv->listener);
    srv->listener.data = srv;
    rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&addr, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&srv->listener, 1024, on_connection);
    if (rc < 0) {
        ht_host_log(HT_LOG_ERROR, "cannot listen on %s:%d: %s", opts->host, opts->port,
                    rc == UV_EADDRINUSE ? "the address is already in use" : uv_strerror(rc));
        if (rc == UV_EADDRINUSE)
            ht_host_log(HT_LOG_ERROR, "another program (perhaps another hometab) listens there; stop it, "
                                      "or choose another port with --listen (make run LISTEN=127.0.0.1:9000)");
        uv_close((uv_handle_t *)&srv->listener, NULL);
        uv_run(srv->loop, UV_RUN_DEFAULT);
        uv_loop_close(srv->loop);
        code = 3;
        goto out;
    }
    if (cfg->wal && cfg->host_syncs) {
        char path[4096], err[4200];
        snprintf(path, sizeof path, "%s-wal", cfg->db_path);
        srv->sync = wal_sync_start(srv->loop, path, on_synced, srv, err, sizeof err);
        if (!srv->sync) {
            ht_host_log(HT_LOG_ERROR, "%s", err);
            uv_close((uv_handle_t *)&srv->listener, NULL);
            uv_run(srv->loop, UV_RUN_DEFAULT);
            uv_loop_close(srv->loop);
            code = 4;
            goto out;
        }
        /* Without the thread the core checkpoints inside its commits, as
         * it always could: slower, not wrong. */
        srv->checkpoints = checkpoints_start(srv->loop, cfg->db_path, on_checkpointed, srv, err, sizeof err);
        if (srv->checkpoints) ht_core_host_checkpoints(srv->core);
        else ht_host_log(HT_LOG_WARN, "%s; the database is checkpointed inside its commits", err);
    }
    uv_check_init(srv->loop, &srv->group_check);
    uv_idle_init(srv->loop, &srv->group_idle);
    srv->group_check.data = srv->group_idle.data = srv;
    uv_check_start(&srv->group_check, on_group_check);
    uv_signal_init(srv->loop, &srv->sigint);
    uv_signal_init(srv->loop, &srv->sigterm);
    srv->sigint.data = srv->sigterm.data = srv;
    uv_signal_start(&srv->sigint, on_signal, SIGINT);
    uv_signal_start(&srv->sigterm, on_signal, SIGTERM);

    /* The port actually bound: with port 0 the system picked it, and tests
     * read it from this line. */
    struct sockaddr_storage bound;
    int bound_len = sizeof bound;
    int port = opts->port;
    if (uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &bound_len) == 0)
        port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                 : ((struct sockaddr_in *)&bound)->sin_port);
    bool v6 = strchr(opts->host, ':') != NULL;
    char url[300];
    snprintf(url, sizeof url, "http://%s%s%s:%d", v6 ? "[" : "", opts->host, v6 ? "]" : "", port);
    if (opts->federation) {
        char err[512];
        srv->fed = ht_fed_host_new(srv->loop, core, &opts->fetch, err, sizeof err);
        if (srv->fed && srv->sync) ht_fed_host_wait_while(srv->fed, outbox_waits, srv);
        if (!srv->fed) {
            ht_host_log(HT_LOG_ERROR, "federation cannot start: %s", err);
            code = 2;
            uv_stop(srv->loop);
            goto out;
        }
        ht_fed_host_pump(srv->fed); /* what waited in the outbox at the last stop */
    }
    printf("hometab: listening on %s/ (server name %s)\n", url, cfg->server_name);
    if (opts->web_root) print_two_servers(url, cfg);
    fflush(stdout);
    log_start(srv, url);
    uv_run(srv->loop, UV_RUN_DEFAULT);
    uv_loop_close(srv->loop);
    ht_host_log(HT_LOG_INFO,
                "stopped after %llu Matrix requests (%llu calls into the core); %llu writes committed "
                "together in %llu groups; %llu checkpoints off the loop",
                (unsigned long long)srv->matrix_requests, (unsigned long long)srv->core_calls,
                (unsigned long long)srv->grouped_requests, (unsigned long long)srv->groups,
                (unsigned long long)srv->checkpointed);
out:
    park_index_free(srv->parked);
    free(srv);
    return code;
}
