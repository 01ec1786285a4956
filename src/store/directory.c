/* directory.c -- published rooms and reports. */
#include "store/directory.h"

#include "store/db.h"

size_t ht_store_published_rooms(ht_store *store, ht_arena *arena, int64_t limit, const char ***out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PUBLISHED_ROOMS);
    ht_db_bind_int(s, 1, limit);
    return ht_db_text_list(store, arena, s, out);
}

bool ht_store_report_insert(ht_store *store, const char *room_id, const char *event_id,
                            const char *reporter, const char *reason, const int64_t *score,
                            int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_REPORT_INSERT);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, event_id);
    ht_db_bind_text(s, 3, reporter);
    ht_db_bind_text(s, 4, reason);
    if (score) ht_db_bind_int(s, 5, *score);
    ht_db_bind_int(s, 6, now_ms);
    return ht_db_exec(store, s);
}
