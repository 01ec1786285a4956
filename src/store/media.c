/* media.c -- media rows and their bytes (see media.h). */
#include "store/media.h"

#include <string.h>

#include "store/db.h"
#include "util/wake.h"

bool ht_store_media_insert(ht_store *store, const char *media_id, const char *uploader,
                           int64_t now_ms, const char *content_type, const char *filename,
                           const unsigned char *data, size_t len) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEDIA_INSERT);
    ht_db_bind_text(s, 1, media_id);
    ht_db_bind_text(s, 2, uploader);
    ht_db_bind_int(s, 3, now_ms);
    ht_db_bind_text(s, 4, content_type);
    ht_db_bind_text(s, 5, filename);
    ht_db_bind_int(s, 6, (int64_t)len);
    /* A zero-length blob, not NULL: an empty file is still a file. */
    ht_db_bind_blob(s, 7, data ? (const void *)data : (const void *)"", len);
    return ht_db_exec(store, s);
}

bool ht_store_media_create(ht_store *store, const char *media_id, const char *uploader,
                           int64_t now_ms, int64_t expires_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEDIA_CREATE);
    ht_db_bind_text(s, 1, media_id);
    ht_db_bind_text(s, 2, uploader);
    ht_db_bind_int(s, 3, now_ms);
    ht_db_bind_int(s, 4, expires_ms);
    return ht_db_exec(store, s);
}

bool ht_store_media_fill(ht_store *store, const char *media_id, int64_t now_ms,
                         const char *content_type, const char *filename,
                         const unsigned char *data, size_t len) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEDIA_FILL);
    ht_db_bind_text(s, 1, media_id);
    ht_db_bind_text(s, 2, content_type);
    ht_db_bind_text(s, 3, filename);
    ht_db_bind_int(s, 4, (int64_t)len);
    ht_db_bind_int(s, 5, now_ms);
    ht_db_bind_blob(s, 6, data ? (const void *)data : (const void *)"", len);
    if (!ht_db_exec(store, s) || sqlite3_changes(store->db) != 1) return false;
    /* Downloads waiting for these bytes are parked on the stream: move it,
     * for them alone. */
    ht_db_touch(store, ht_store_stream_advance(store), ht_wake_key(HT_WAKE_MEDIA, media_id));
    return true;
}

bool ht_store_media_get(ht_store *store, ht_arena *arena, const char *media_id, ht_media_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEDIA_GET);
    ht_db_bind_text(s, 1, media_id);
    bool found = ht_db_row(store, s);
    if (found) {
        out->uploader = ht_db_col_dup(arena, s, 0);
        out->created_ms = ht_db_col_int(s, 1);
        out->expires_ms = ht_db_col_int(s, 2);
        out->content_type = ht_db_col_dup(arena, s, 3);
        out->filename = ht_db_col_dup(arena, s, 4);
        out->size = ht_db_col_int(s, 5);
        out->uploaded = sqlite3_column_type(s, 6) != SQLITE_NULL;
    }
    sqlite3_reset(s);
    return found;
}

const unsigned char *ht_store_media_data(ht_store *store, ht_arena *arena, const char *media_id,
                                         size_t *len) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEDIA_DATA);
    ht_db_bind_text(s, 1, media_id);
    unsigned char *copy = NULL;
    *len = 0;
    if (ht_db_row(store, s) && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        const void *blob = sqlite3_column_blob(s, 0);
        size_t n = (size_t)sqlite3_column_bytes(s, 0);
        copy = ht_arena_alloc(arena, n + 1);
        if (n) memcpy(copy, blob, n);
        copy[n] = 0;
        *len = n;
    }
    sqlite3_reset(s);
    return copy;
}

int64_t ht_store_media_pending_count(ht_store *store, const char *uploader, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEDIA_PENDING_EXPIRE);
    ht_db_bind_text(s, 1, uploader);
    ht_db_bind_int(s, 2, now_ms);
    ht_db_exec(store, s);
    s = ht_db_stmt(store, HT_STMT_MEDIA_PENDING_COUNT);
    ht_db_bind_text(s, 1, uploader);
    ht_db_bind_int(s, 2, now_ms);
    return ht_db_single_int(store, s);
}
