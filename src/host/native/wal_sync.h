/* wal_sync.h -- the native server's commits made durable off its loop.
 *
 * The core leaves the sync of each COMMIT to the host (ht_config.host_syncs).
 * A thread of this file's own fdatasyncs the WAL file when asked, while the
 * loop goes on running requests; the loop hears on its own thread when a
 * sync covering a given commit has returned. Asks made while a sync runs
 * are answered by the next one, which covers them all: commits append to
 * one file, and one fdatasync makes all of it durable.
 *
 * Why a thread of its own, not libuv's pool: the pool hashes passwords
 * (Argon2, tens of milliseconds each), and a sync queued behind four of
 * them would hold every answer that waits for it. */
#ifndef HT_HOST_NATIVE_WAL_SYNC_H
#define HT_HOST_NATIVE_WAL_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct wal_sync wal_sync;

/* Called on the loop's thread: commits up to `synced` are durable. */
typedef void (*wal_sync_done)(void *data, uint64_t synced);

/* Opens the WAL file at path and starts the thread. NULL, with a sentence
 * in err, if the file cannot be opened. A sync that fails stops the
 * process (see wal_sync.c): nothing after it may be acknowledged. */
wal_sync *wal_sync_start(uv_loop_t *loop, const char *path, wal_sync_done done, void *data, char *err,
                         size_t err_size);

/* Asks for a sync covering commit `upto` (the core's count). */
void wal_sync_ask(wal_sync *s, uint64_t upto);

/* Ends the thread once the sync under way (if any) has returned; `done` is
 * not called again. Freed when libuv has closed its handle. */
void wal_sync_stop(wal_sync *s);

#endif
