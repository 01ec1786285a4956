/* media.c -- media rows and their bytes (see media.h).
 *
 * A file's bytes are stored in parts of HT_MEDIA_PART_BYTES, one row each
 * (media_parts), not as one blob: a large blob is a chain of overflow pages
 * that SQLite must walk from its start to reach any offset (tens of
 * milliseconds near the end of a 50 MB file), so a download streamed piece
 * by piece would cost the event loop more the further it got. A part is
 * found by its key and read whole. */
#include "store/media.h"

#include <string.h>

#include "store/db.h"
#include "store/meta.h"
#include "util/wake.h"

static bool write_parts(ht_store *store, const char *media_id, const unsigned char *data, size_t len) {
    for (size_t at = 0, part = 0; at < len; at += HT_MEDIA_PART_BYTES, part++) {
        size_t n = len - at < HT_MEDIA_PART_BYTES ? len - at : HT_MEDIA_PART_BYTES;
        sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEDIA_PART_INSERT);
        ht_db_bind_text(s, 1, media_id);
        ht_db_bind_int(s, 2, (int64_t)part);
        ht_db_bind_blob(s, 3, data + at, n);
        if (!ht_db_exec(store, s)) return false;
    }
    return true;
}

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
    return ht_db_exec(store, s) && write_parts(store, media_id, data, len);
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
    if (!ht_db_exec(store, s) || sqlite3_changes(store->db) != 1) return false;
    if (!write_parts(store, media_id, data, len)) return false;
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

bool ht_store_media_read(ht_store *store, const char *media_id, uint64_t offset, void *buf, size_t n) {
    unsigned char *out = buf;
    while (n > 0) {
        uint64_t part = offset / HT_MEDIA_PART_BYTES, within = offset % HT_MEDIA_PART_BYTES;
        sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEDIA_PART_GET);
        ht_db_bind_text(s, 1, media_id);
        ht_db_bind_int(s, 2, (int64_t)part);
        bool found = ht_db_row(store, s);
        size_t have = found ? (size_t)sqlite3_column_bytes(s, 0) : 0;
        if (!found || within >= have) {
            sqlite3_reset(s);
            return false; /* gone, or shorter than its size says */
        }
        size_t take = have - within < n ? have - (size_t)within : n;
        memcpy(out, (const unsigned char *)sqlite3_column_blob(s, 0) + within, take);
        sqlite3_reset(s);
        out += take;
        offset += take;
        n -= take;
    }
    return true;
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
