/* receipts.c -- read receipts. */
#include "store/receipts.h"

#include <string.h>

#include "store/db.h"
#include "store/unread.h"
#include "util/wake.h"

bool ht_store_receipt_get(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                          const char *type, const char *thread_id, ht_receipt_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_RECEIPT_GET);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    ht_db_bind_text(s, 3, type);
    ht_db_bind_text(s, 4, thread_id);
    bool found = ht_db_row(store, s);
    if (found)
        *out = (ht_receipt_row){user_id, type, thread_id, ht_db_col_dup(arena, s, 0),
                                ht_db_col_int(s, 1), ht_db_col_int(s, 2), ht_db_col_int(s, 3)};
    sqlite3_reset(s);
    return found;
}

bool ht_store_receipt_set(ht_store *store, const char *room_id, const ht_receipt_row *row) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_RECEIPT_SET);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, row->user_id);
    ht_db_bind_text(s, 3, row->type);
    ht_db_bind_text(s, 4, row->thread_id);
    ht_db_bind_text(s, 5, row->event_id);
    ht_db_bind_int(s, 6, row->event_stream);
    ht_db_bind_int(s, 7, row->ts);
    ht_db_bind_int(s, 8, row->stream);
    ht_db_touch(store, (uint64_t)row->stream, ht_wake_key(HT_WAKE_ROOM, room_id));
    if (!ht_db_exec(store, s)) return false;
    /* A read receipt moves the reader's marks: their kept counts are
     * counted again on their next read. */
    bool read = strcmp(row->type, "m.read") == 0 || strcmp(row->type, "m.read.private") == 0;
    return !read || ht_store_unread_stale_member(store, room_id, row->user_id);
}

size_t ht_store_receipts_since(ht_store *store, ht_arena *arena, const char *room_id, int64_t since,
                               int64_t upto, ht_receipt_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_RECEIPTS_SINCE);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, since);
    ht_db_bind_int(s, 3, upto);
    size_t n = 0, cap = 0;
    ht_receipt_row *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_receipt_row){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                     ht_db_col_dup(arena, s, 2), ht_db_col_dup(arena, s, 3),
                                     ht_db_col_int(s, 4), ht_db_col_int(s, 5), ht_db_col_int(s, 6)};
    }
    *out = list;
    return n;
}

size_t ht_store_read_marks(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                           ht_read_mark **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_READ_MARKS);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    size_t n = 0, cap = 0;
    ht_read_mark *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_read_mark){ht_db_col_dup(arena, s, 0), ht_db_col_int(s, 1)};
    }
    *out = list;
    return n;
}
