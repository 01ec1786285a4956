/* checkpoint.h -- copying the WAL into the database file.
 *
 * SQLite appends every commit to the WAL; a checkpoint copies the newest
 * copy of each page there into the database file, and once every frame is
 * copied the next write starts the WAL over from its beginning. By default
 * the store checkpoints by itself once its WAL holds HT_CHECKPOINT_FRAMES
 * (the WAL hook, checkpoint.c), inside the commit that crossed the mark:
 * for a busy server about 10 ms (some 500 distinct pages read from the WAL
 * and written one by one, and two fdatasyncs), during which every request
 * waits.
 *
 * A host with threads takes that over (ht_store_host_checkpoints): on a
 * connection of its own, on another thread (ht_store_checkpointer_run),
 * while this one goes on writing, and then once more with the writes held
 * for the frames committed meanwhile. Only then can the WAL start over:
 * SQLite starts it over when a write begins with every frame copied, which
 * a checkpoint running beside a busy writer never leaves, and the WAL would
 * grow without end. The host tells the store what it copied
 * (ht_store_wal_copied), so that the store knows when to ask again. */
#ifndef HT_STORE_CHECKPOINT_H
#define HT_STORE_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* 16 MiB of WAL, not SQLite's 1,000 pages: a checkpoint copies each page
 * once however often it changed since the last, and a send's hot pages (the
 * stream, extremities, counts, the ends of append-only tables, index
 * interiors) change with every group. Measured with the wrk figure of make
 * bench, seven rounds taking turns: write calls per message 3.4 -> 2.5, the
 * server's CPU per message 0.157-0.245 ms -> 0.146-0.155 ms. The cost: a WAL
 * four times larger to replay after a crash. */
enum { HT_CHECKPOINT_FRAMES = 4000 };

/* A store whose host checkpoints still does so itself past this many
 * frames: a host that falls behind must not let the WAL grow without end. */
enum { HT_CHECKPOINT_FRAMES_ALONE = 16 * HT_CHECKPOINT_FRAMES };

/* The WAL as the last commit or checkpoint left it: how many frames it
 * holds, and how many of them the last checkpoint copied. */
typedef struct ht_wal_frames {
    int frames;
    int copied;
} ht_wal_frames;

/* The host checkpoints from now on (up to HT_CHECKPOINT_FRAMES_ALONE). */
void ht_store_host_checkpoints(ht_store *store);
ht_wal_frames ht_store_wal_frames(const ht_store *store);
/* Another connection's checkpoint copied this much of the WAL. */
void ht_store_wal_copied(ht_store *store, ht_wal_frames copied);

/* A connection of its own that does nothing but checkpoint the database at
 * db_path (already made by ht_store_open). Opened on any thread, then used
 * by one thread at a time; its syncs are SQLite's own, all real. */
typedef struct ht_store_checkpointer ht_store_checkpointer;
ht_store_checkpointer *ht_store_checkpointer_open(const char *db_path, char *err, size_t err_size);
/* One pass: copies every frame no reader still needs. out->frames is the
 * WAL's size as the pass found it. */
bool ht_store_checkpointer_run(ht_store_checkpointer *c, ht_wal_frames *out);
void ht_store_checkpointer_close(ht_store_checkpointer *c);

#endif
