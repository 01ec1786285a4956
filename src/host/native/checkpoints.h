/* checkpoints.h -- the native server's checkpoints off its loop.
 *
 * A thread of this file's own copies the WAL into the database file on a
 * connection of its own (ht_checkpointer_run, hometab.h) when the loop
 * asks: pass after pass until a pass finds little to copy, or, asked for
 * the last pass (the loop holding the writes meanwhile), once. It tells
 * the loop what the last pass copied. Before, the core did the whole of it
 * inside a commit: some 10 ms of a busy server's loop, every request
 * waiting.
 *
 * A thread of its own, not libuv's pool, for the reason wal_sync.h gives. */
#ifndef HT_HOST_NATIVE_CHECKPOINTS_H
#define HT_HOST_NATIVE_CHECKPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "hometab.h"

typedef struct checkpoints checkpoints;

/* Called on the loop's thread once the passes asked for have run: ok false
 * if one failed; copied is what the last pass found and copied; last_pass
 * as asked. */
typedef void (*checkpoints_done)(void *data, bool ok, ht_wal_state copied, bool last_pass);

/* Opens a checkpointing connection to db_path and starts the thread. NULL,
 * with a sentence in err, if either cannot be done. */
checkpoints *checkpoints_start(uv_loop_t *loop, const char *db_path, checkpoints_done done, void *data,
                               char *err, size_t err_size);

/* Asks for passes (last_pass: one); ignored while some run (their `done`
 * is still to come). */
void checkpoints_ask(checkpoints *c, bool last_pass);
bool checkpoints_running(const checkpoints *c);

/* Ends the thread once the pass under way (if any) has returned, and closes
 * its connection; `done` is not called again. Freed when libuv has closed
 * its handle. */
void checkpoints_stop(checkpoints *c);

#endif
