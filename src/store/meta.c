#include "store/meta.h"

#include "store/db.h"

uint64_t ht_store_stream_position(ht_store *store) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STREAM_GET);
    return (uint64_t)ht_db_single_int(store, s);
}

uint64_t ht_store_stream_advance(ht_store *store) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STREAM_ADVANCE);
    return (uint64_t)ht_db_single_int(store, s);
}
