/* to_device.c -- send-to-device messages (see to_device.h). */
#include "store/to_device.h"

#include "store/db.h"
#include "util/wake.h"

bool ht_store_to_device_insert(ht_store *store, const char *user_id, const char *device_id,
                               const char *sender, const char *type, const char *content,
                               int64_t stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TO_DEVICE_INSERT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, sender);
    ht_db_bind_text(s, 4, type);
    ht_db_bind_text(s, 5, content);
    ht_db_bind_int(s, 6, stream);
    ht_db_touch(store, (uint64_t)stream, ht_wake_key(HT_WAKE_USER, user_id));
    return ht_db_exec(store, s);
}

bool ht_store_to_device_ack(ht_store *store, const char *user_id, const char *device_id, int64_t acked) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TO_DEVICE_ACK);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_int(s, 3, acked);
    return ht_db_exec(store, s);
}

int64_t ht_store_to_device_nth_stream(ht_store *store, const char *user_id, const char *device_id,
                                      int64_t after, int64_t upto, int64_t n) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TO_DEVICE_NTH_STREAM);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_int(s, 3, after);
    ht_db_bind_int(s, 4, upto);
    ht_db_bind_int(s, 5, n);
    return ht_db_single_int(store, s);
}

size_t ht_store_to_device_list(ht_store *store, ht_arena *arena, const char *user_id, const char *device_id,
                               int64_t after, int64_t upto, ht_to_device_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TO_DEVICE_LIST);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_int(s, 3, after);
    ht_db_bind_int(s, 4, upto);
    size_t n = 0, cap = 0;
    ht_to_device_row *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        rows[n++] = (ht_to_device_row){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                       ht_db_col_dup(arena, s, 2)};
    }
    *out = rows;
    return n;
}

bool ht_store_to_device_txn_new(ht_store *store, const char *user_id, const char *device_id,
                                const char *txn_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TO_DEVICE_TXN_INSERT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, txn_id);
    return ht_db_exec(store, s) && sqlite3_changes(store->db) == 1;
}

size_t ht_store_device_ids(ht_store *store, ht_arena *arena, const char *user_id, const char ***ids) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TO_DEVICE_DEVICES_OF);
    ht_db_bind_text(s, 1, user_id);
    return ht_db_text_list(store, arena, s, ids);
}

bool ht_store_device_exists(ht_store *store, const char *user_id, const char *device_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TO_DEVICE_DEVICE_EXISTS);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    bool found = ht_db_row(store, s);
    sqlite3_reset(s);
    return found;
}
