/* checkpoint.c -- copying the WAL into the database file (checkpoint.h). */
#include "store/checkpoint.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/db.h"

struct ht_store_checkpointer {
    sqlite3 *db;
};

void ht_store_host_checkpoints(ht_store *store) { store->host_checkpoints = true; }

ht_wal_frames ht_store_wal_frames(const ht_store *store) { return store->wal; }

static bool passive(sqlite3 *db, ht_wal_frames *out) {
    int frames = 0, copied = 0;
    if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied) != SQLITE_OK) return false;
    *out = (ht_wal_frames){frames, copied};
    return true;
}

/* SQLite's WAL hook: called after every commit (a request's, a group's, or
 * a statement's own outside any), once its frames are in the WAL. It
 * counts them for the host (ht_store_commits) and checkpoints as
 * wal_autocheckpoint would (the hook replaces it), unless the host does. */
int ht_store_wal_hook(void *data, sqlite3 *db, const char *name, int frames) {
    (void)name;
    ht_store *store = data;
    store->commits++;
    /* Fewer frames than before: a checkpoint had copied them all and this
     * commit started the WAL over. */
    if (frames < store->wal.frames) store->wal.copied = 0;
    store->wal.frames = frames;
    int limit = store->host_checkpoints ? HT_CHECKPOINT_FRAMES_ALONE : HT_CHECKPOINT_FRAMES;
    if (frames - store->wal.copied >= limit) passive(db, &store->wal);
    return SQLITE_OK;
}

void ht_store_wal_copied(ht_store *store, ht_wal_frames copied) {
    /* Only this connection writes, so the WAL the other one saw is this
     * one's, as large or smaller; it starts over only on a write here. */
    if (copied.frames <= store->wal.frames && copied.copied > store->wal.copied) store->wal.copied = copied.copied;
}

ht_store_checkpointer *ht_store_checkpointer_open(const char *db_path, char *err, size_t err_size) {
    sqlite3 *db = NULL;
    /* No SQLITE_OPEN_CREATE: the server's own connection made the file. The
     * default VFS, not wal_writes: this connection commits nothing, and
     * every sync a checkpoint asks must reach the disk. */
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "cannot open %s to checkpoint it: %s", db_path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    ht_store_checkpointer *c = malloc(sizeof *c);
    if (!c) {
        snprintf(err, err_size, "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    c->db = db;
    return c;
}

bool ht_store_checkpointer_run(ht_store_checkpointer *c, ht_wal_frames *out) { return passive(c->db, out); }

void ht_store_checkpointer_close(ht_store_checkpointer *c) {
    if (!c) return;
    sqlite3_close(c->db);
    free(c);
}
