/* checkpoints.c -- the native server's checkpoints off its loop (see
 * checkpoints.h). */
#include "host/native/checkpoints.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/oom.h"

/* A pass that found at most this many frames beyond what the pass before
 * it copied was short: the frames committed during it, left for the last
 * pass, are about as few. A writer that never pauses may keep every pass
 * long: then the passes stop after MAX_PASSES, and the last pass, the
 * writes held, takes what is left. */
enum { FEW_FRAMES = 256, MAX_PASSES = 8 };

struct checkpoints {
    uv_async_t async; /* wakes the loop when the passes have run */
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t wake;
    ht_checkpointer *conn;
    checkpoints_done done;
    void *data;
    bool running; /* the loop's own: asked and not yet done */
    /* Under lock: */
    bool asked;
    bool last_pass; /* ...for one pass */
    bool finished; /* passes ran; ok and last say how */
    bool ok;
    ht_wal_state last;
    bool stopping;
};

static bool passes(checkpoints *c, int most, ht_wal_state *last) {
    int copied_before = -1;
    for (int pass = 0; pass < most; pass++) {
        if (!ht_checkpointer_run(c->conn, last)) return false;
        if (copied_before >= 0 && last->frames - copied_before <= FEW_FRAMES) break;
        copied_before = last->copied;
    }
    return true;
}

static void run(void *arg) {
    checkpoints *c = arg;
    uv_mutex_lock(&c->lock);
    for (;;) {
        while (!c->stopping && !c->asked) uv_cond_wait(&c->wake, &c->lock);
        if (c->stopping) break;
        c->asked = false;
        int most = c->last_pass ? 1 : MAX_PASSES;
        uv_mutex_unlock(&c->lock);
        ht_wal_state last = {0, 0};
        bool ok = passes(c, most, &last);
        uv_mutex_lock(&c->lock);
        c->finished = true;
        c->ok = ok;
        c->last = last;
        uv_async_send(&c->async);
    }
    uv_mutex_unlock(&c->lock);
}

static void on_finished(uv_async_t *async) {
    checkpoints *c = async->data;
    uv_mutex_lock(&c->lock);
    bool finished = c->finished, ok = c->ok, last_pass = c->last_pass;
    ht_wal_state last = c->last;
    c->finished = false;
    uv_mutex_unlock(&c->lock);
    if (!finished) return;
    c->running = false;
    c->done(c->data, ok, last, last_pass);
}

checkpoints *checkpoints_start(uv_loop_t *loop, const char *db_path, checkpoints_done done, void *data,
                               char *err, size_t err_size) {
    ht_checkpointer *conn = ht_checkpointer_open(db_path, err, err_size);
    if (!conn) return NULL;
    checkpoints *c = ht_xmalloc(sizeof *c);
    *c = (checkpoints){.conn = conn, .done = done, .data = data};
    uv_mutex_init(&c->lock);
    uv_cond_init(&c->wake);
    /* The thread sends on the async handle only after an ask: it may start
     * before the handle is made. */
    if (uv_thread_create(&c->thread, run, c) != 0) {
        snprintf(err, err_size, "cannot start the thread that checkpoints the database");
        uv_cond_destroy(&c->wake);
        uv_mutex_destroy(&c->lock);
        ht_checkpointer_close(conn);
        free(c);
        return NULL;
    }
    uv_async_init(loop, &c->async, on_finished);
    c->async.data = c;
    return c;
}

void checkpoints_ask(checkpoints *c, bool last_pass) {
    if (c->running) return;
    c->running = true;
    uv_mutex_lock(&c->lock);
    c->asked = true;
    c->last_pass = last_pass;
    uv_cond_signal(&c->wake);
    uv_mutex_unlock(&c->lock);
}

bool checkpoints_running(const checkpoints *c) { return c->running; }

static void on_closed(uv_handle_t *handle) { free(handle->data); }

void checkpoints_stop(checkpoints *c) {
    uv_mutex_lock(&c->lock);
    c->stopping = true;
    uv_cond_signal(&c->wake);
    uv_mutex_unlock(&c->lock);
    uv_thread_join(&c->thread);
    uv_cond_destroy(&c->wake);
    uv_mutex_destroy(&c->lock);
    ht_checkpointer_close(c->conn);
    uv_close((uv_handle_t *)&c->async, on_closed);
}
