#include "store/meta.h"

#include "store/db.h"

uint64_t ht_store_stream_position(ht_store *store) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STREAM_GET);
    uint64_t pos = ht_db_row(store, s) ? (uint64_t)ht_db_col_int(s, 0) : 0;
    sqlite3_reset(s);
    return pos;
}

uint64_t ht_store_stream_advance(ht_store *store) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STREAM_ADVANCE);
    uint64_t pos = ht_db_row(store, s) ? (uint64_t)ht_db_col_int(s, 0) : 0;
    sqlite3_reset(s);
    return pos;
}
