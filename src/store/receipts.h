/* receipts.h -- read receipts: one per (room, user, receipt type, thread).
 * thread_id is "" for an unthreaded receipt. event_stream is the stream
 * position of the event read up to, which is how receipts compare with the
 * timeline; stream is the position of the receipt's last change. */
#ifndef HT_STORE_RECEIPTS_H
#define HT_STORE_RECEIPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

typedef struct ht_receipt_row {
    const char *user_id;
    const char *type;      /* "m.read" or "m.read.private" */
    const char *thread_id; /* "" unthreaded, "main", or a thread root */
    const char *event_id;
    int64_t event_stream;
    int64_t ts;
    int64_t stream;
} ht_receipt_row;

bool ht_store_receipt_get(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                          const char *type, const char *thread_id, ht_receipt_row *out);
/* An m.read or m.read.private receipt also marks the user's unread counts
 * in the room stale (store/unread.h). */
bool ht_store_receipt_set(ht_store *store, const char *room_id, const ht_receipt_row *row);
/* The room's receipts changed in (since, upto], oldest change first. */
size_t ht_store_receipts_since(ht_store *store, ht_arena *arena, const char *room_id, int64_t since,
                               int64_t upto, ht_receipt_row **out);

/* How far a user has read, per thread ("" unthreaded): the later of their
 * m.read and m.read.private receipts, as an event stream position. */
typedef struct ht_read_mark {
    const char *thread_id;
    int64_t event_stream;
} ht_read_mark;

size_t ht_store_read_marks(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                           ht_read_mark **out);

#endif
