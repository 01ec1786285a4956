/* database_checkpoint.c -- the door's checkpoints off the loop (hometab.h):
 * the store's (store/checkpoint.h) under the door's names. */
#include "hometab.h"

#include <stdlib.h>

#include "core/core.h"
#include "store/checkpoint.h"
#include "util/oom.h"

struct ht_checkpointer {
    ht_store_checkpointer *conn;
};

void ht_core_host_checkpoints(ht_core *core) { ht_store_host_checkpoints(core->env.store); }

ht_wal_need ht_core_wal_need(const ht_core *core) {
    ht_wal_frames w = ht_store_wal_frames(core->env.store);
    int uncopied = w.frames - w.copied;
    return uncopied >= 3 * HT_CHECKPOINT_FRAMES ? HT_WAL_TOO_LARGE
           : uncopied >= HT_CHECKPOINT_FRAMES   ? HT_WAL_CHECKPOINT
                                                : HT_WAL_SMALL;
}

void ht_core_wal_copied(ht_core *core, ht_wal_state copied) {
    ht_store_wal_copied(core->env.store, (ht_wal_frames){copied.frames, copied.copied});
}

ht_checkpointer *ht_checkpointer_open(const char *db_path, char *err, size_t err_size) {
    ht_store_checkpointer *conn = ht_store_checkpointer_open(db_path, err, err_size);
    if (!conn) return NULL;
    ht_checkpointer *c = ht_xmalloc(sizeof *c);
    c->conn = conn;
    return c;
}

bool ht_checkpointer_run(ht_checkpointer *c, ht_wal_state *out) {
    ht_wal_frames w = {0, 0};
    bool ok = ht_store_checkpointer_run(c->conn, &w);
    *out = (ht_wal_state){w.frames, w.copied};
    return ok;
}

void ht_checkpointer_close(ht_checkpointer *c) {
    if (!c) return;
    ht_store_checkpointer_close(c->conn);
    free(c);
}
