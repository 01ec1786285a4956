/* wal_sync.c -- the WAL's fdatasync on a thread of its own (see wal_sync.h).
 *
 * A failed fdatasync stops the process at once, unanswered what waited for
 * it. Linux may have dropped the pages it could not write and marked them
 * clean, so a second fdatasync can succeed without them: no later sync can
 * vouch for those commits, and the only safe answer to the clients who made
 * them is none. At the next start SQLite takes from the WAL what reached
 * the disk whole. (PostgreSQL stops the same way for the same reason.) */
#include "host/native/wal_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/native/log.h"
#include "util/oom.h"

struct wal_sync {
    uv_async_t async; /* wakes the loop when a sync has returned */
    uv_thread_t thread;
    uv_mutex_t lock;
    uv_cond_t wake;
    int fd;
    wal_sync_done done;
    void *data;
    /* Under lock: */
    uint64_t asked;   /* the newest commit a sync was asked to cover */
    uint64_t started; /* ...the one the sync under way or the last covers */
    uint64_t synced;  /* ...the one the last returned sync covers */
    int error;        /* errno of a failed sync */
    bool stopping;
};

static void run(void *arg) {
    wal_sync *s = arg;
    uv_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stopping && s->asked <= s->started) uv_cond_wait(&s->wake, &s->lock);
        if (s->stopping) break;
        uint64_t target = s->asked;
        s->started = target;
        uv_mutex_unlock(&s->lock);
        int failed = fdatasync(s->fd) == 0 ? 0 : errno;
        uv_mutex_lock(&s->lock);
        if (failed) s->error = failed;
        else s->synced = target;
        uv_async_send(&s->async);
        if (failed) break;
    }
    uv_mutex_unlock(&s->lock);
}

static void on_synced(uv_async_t *async) {
    wal_sync *s = async->data;
    uv_mutex_lock(&s->lock);
    uint64_t synced = s->synced;
    int error = s->error;
    uv_mutex_unlock(&s->lock);
    if (error) {
        ht_host_log(HT_LOG_ERROR, "the database's WAL could not be made durable (fdatasync: %s): stopping at once, "
                                  "without answering the writes that waited for it", strerror(error));
        _exit(5);
    }
    s->done(s->data, synced);
}

wal_sync *wal_sync_start(uv_loop_t *loop, const char *path, wal_sync_done done, void *data, char *err,
                         size_t err_size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_size, "cannot open the database's WAL %s to sync it: %s", path, strerror(errno));
        return NULL;
    }
    wal_sync *s = ht_xmalloc(sizeof *s);
    *s = (wal_sync){.fd = fd, .done = done, .data = data};
    uv_mutex_init(&s->lock);
    uv_cond_init(&s->wake);
    /* The thread sends on the async handle only after a sync, hence after
     * an ask: it may start before the handle is made. */
    if (uv_thread_create(&s->thread, run, s) != 0) {
        snprintf(err, err_size, "cannot start the thread that syncs the database's WAL");
        uv_cond_destroy(&s->wake);
        uv_mutex_destroy(&s->lock);
        close(fd);
        free(s);
        return NULL;
    }
    uv_async_init(loop, &s->async, on_synced);
    s->async.data = s;
    return s;
}

void wal_sync_ask(wal_sync *s, uint64_t upto) {
    uv_mutex_lock(&s->lock);
    if (upto > s->asked) {
        s->asked = upto;
        uv_cond_signal(&s->wake);
    }
    uv_mutex_unlock(&s->lock);
}

static void on_closed(uv_handle_t *handle) { free(handle->data); }

void wal_sync_stop(wal_sync *s) {
    uv_mutex_lock(&s->lock);
    s->stopping = true;
    uv_cond_signal(&s->wake);
    uv_mutex_unlock(&s->lock);
    uv_thread_join(&s->thread);
    uv_cond_destroy(&s->wake);
    uv_mutex_destroy(&s->lock);
    close(s->fd);
    uv_close((uv_handle_t *)&s->async, on_closed);
}
