/* search.c -- the FTS5 full-text index (see search.h). */
#include "store/search.h"

#include "store/db.h"

bool ht_store_search_add(ht_store *store, int64_t stream, const char *room_id, const char *key,
                         const char *value) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_SEARCH_INSERT);
    ht_db_bind_int(s, 1, stream);
    ht_db_bind_text(s, 2, value);
    ht_db_bind_text(s, 3, key);
    ht_db_bind_text(s, 4, room_id);
    return ht_db_exec(store, s);
}

bool ht_store_search_forget(ht_store *store, const char *event_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_SEARCH_FORGET);
    ht_db_bind_text(s, 1, event_id);
    return ht_db_exec(store, s);
}

static void bind_query(sqlite3_stmt *s, const char *match, const char *rooms_json, unsigned keys) {
    ht_db_bind_text(s, 1, match);
    ht_db_bind_text(s, 2, rooms_json);
    ht_db_bind_int(s, 3, (keys & HT_SEARCH_BODY) != 0);
    ht_db_bind_int(s, 4, (keys & HT_SEARCH_NAME) != 0);
    ht_db_bind_int(s, 5, (keys & HT_SEARCH_TOPIC) != 0);
}

size_t ht_store_search(ht_store *store, ht_arena *arena, const char *match, const char *rooms_json,
                       unsigned keys, bool by_rank, int64_t offset, int64_t limit, ht_search_hit **out) {
    sqlite3_stmt *s = ht_db_stmt(store, by_rank ? HT_STMT_SEARCH_BY_RANK : HT_STMT_SEARCH_BY_RECENT);
    bind_query(s, match, rooms_json, keys);
    ht_db_bind_int(s, 6, limit);
    ht_db_bind_int(s, 7, offset);
    size_t n = 0, cap = 0;
    ht_search_hit *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_search_hit){ht_db_col_int(s, 0), sqlite3_column_double(s, 1)};
    }
    *out = list;
    return n;
}
