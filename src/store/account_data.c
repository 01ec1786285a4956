/* account_data.c -- global and per-room account data. */
#include "store/account_data.h"

#include "store/db.h"
#include "util/wake.h"

bool ht_store_account_data_put(ht_store *store, const char *user_id, const char *room_id,
                               const char *type, const char *content, int64_t stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ACCOUNT_DATA_PUT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, room_id);
    ht_db_bind_text(s, 3, type);
    ht_db_bind_text(s, 4, content);
    ht_db_bind_int(s, 5, stream);
    ht_db_touch(store, (uint64_t)stream, ht_wake_key(HT_WAKE_USER, user_id));
    return ht_db_exec(store, s);
}

const char *ht_store_account_data_get(ht_store *store, ht_arena *arena, const char *user_id,
                                      const char *room_id, const char *type) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ACCOUNT_DATA_GET);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, room_id);
    ht_db_bind_text(s, 3, type);
    const char *content = ht_db_row(store, s) ? ht_db_col_dup(arena, s, 0) : NULL;
    sqlite3_reset(s);
    return content;
}

void ht_store_account_data_usage(ht_store *store, const char *user_id, int64_t *entries, int64_t *bytes) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ACCOUNT_DATA_USAGE);
    ht_db_bind_text(s, 1, user_id);
    bool row = ht_db_row(store, s);
    *entries = row ? ht_db_col_int(s, 0) : 0;
    *bytes = row ? ht_db_col_int(s, 1) : 0;
    sqlite3_reset(s);
}

bool ht_store_account_data_delete_user(ht_store *store, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ACCOUNT_DATA_DELETE_USER);
    ht_db_bind_text(s, 1, user_id);
    return ht_db_exec(store, s);
}

size_t ht_store_account_data_since(ht_store *store, ht_arena *arena, const char *user_id,
                                   const char *room_id, int64_t since, int64_t upto,
                                   ht_account_data_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ACCOUNT_DATA_SINCE);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, room_id);
    ht_db_bind_int(s, 3, since);
    ht_db_bind_int(s, 4, upto);
    size_t n = 0, cap = 0;
    ht_account_data_row *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_account_data_row){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                          ht_db_col_int(s, 2)};
    }
    *out = list;
    return n;
}
