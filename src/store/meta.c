#include "store/meta.h"

#include <string.h>

#include "store/db.h"

uint64_t ht_store_stream_position(ht_store *store) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STREAM_GET);
    return (uint64_t)ht_db_single_int(store, s);
}

uint64_t ht_store_stream_advance(ht_store *store) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STREAM_ADVANCE);
    return (uint64_t)ht_db_single_int(store, s);
}

bool ht_store_meta_get(ht_store *store, const char *key, char *out, size_t out_size) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_META_GET);
    ht_db_bind_text(s, 1, key);
    bool found = false;
    if (ht_db_row(store, s)) {
        const char *value = ht_db_col_text(s, 0);
        size_t len = value ? strlen(value) : 0;
        if (value && len < out_size) {
            memcpy(out, value, len + 1);
            found = true;
        }
    }
    sqlite3_reset(s);
    return found;
}

bool ht_store_meta_add(ht_store *store, const char *key, const char *value) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_META_ADD);
    ht_db_bind_text(s, 1, key);
    ht_db_bind_text(s, 2, value);
    return ht_db_exec(store, s);
}
