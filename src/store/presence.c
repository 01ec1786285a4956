/* presence.c -- presence rows. */
#include "store/presence.h"

#include "store/db.h"

bool ht_store_presence_get(ht_store *store, ht_arena *arena, const char *user_id, ht_presence_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PRESENCE_GET);
    ht_db_bind_text(s, 1, user_id);
    bool found = ht_db_row(store, s);
    if (found)
        *out = (ht_presence_row){user_id, ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                 ht_db_col_int(s, 2), ht_db_col_int(s, 3)};
    sqlite3_reset(s);
    return found;
}

bool ht_store_presence_set(ht_store *store, const ht_presence_row *row) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PRESENCE_SET);
    ht_db_bind_text(s, 1, row->user_id);
    ht_db_bind_text(s, 2, row->presence);
    ht_db_bind_text(s, 3, row->status_msg);
    ht_db_bind_int(s, 4, row->last_active_ms);
    ht_db_bind_int(s, 5, row->stream);
    if (!ht_db_exec(store, s)) return false;
    /* Presence is shown to the user and to everyone sharing a room. */
    ht_db_touch_user_and_rooms(store, (uint64_t)row->stream, row->user_id);
    return true;
}

size_t ht_store_presence_stale(ht_store *store, ht_arena *arena, const char *server_name, int64_t local_before_ms,
                               int64_t remote_before_ms, int64_t limit, const char ***out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PRESENCE_STALE);
    ht_db_bind_int(s, 1, local_before_ms > remote_before_ms ? local_before_ms : remote_before_ms);
    ht_db_bind_int(s, 2, limit);
    ht_db_bind_int(s, 3, remote_before_ms);
    ht_db_bind_text(s, 4, ht_arena_printf(arena, ":%s", server_name));
    return ht_db_text_list(store, arena, s, out);
}

/* The rows of a statement that selects user_id, presence, status_msg,
 * last_active_ms, stream. */
static size_t presence_rows(ht_store *store, ht_arena *arena, sqlite3_stmt *s, ht_presence_row **out) {
    size_t n = 0, cap = 0;
    ht_presence_row *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_presence_row){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                      ht_db_col_dup(arena, s, 2), ht_db_col_int(s, 3), ht_db_col_int(s, 4)};
    }
    *out = list;
    return n;
}

size_t ht_store_presence_changed_since(ht_store *store, ht_arena *arena, int64_t since, int64_t limit,
                                       ht_presence_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PRESENCE_CHANGED_SINCE);
    ht_db_bind_int(s, 1, since);
    ht_db_bind_int(s, 2, limit);
    return presence_rows(store, arena, s, out);
}

bool ht_store_presence_go_offline(ht_store *store, const char *user_id, int64_t stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PRESENCE_GO_OFFLINE);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, stream);
    return ht_db_exec(store, s);
}

bool ht_store_presence_touch(ht_store *store, const char *user_id, int64_t last_active_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PRESENCE_TOUCH);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, last_active_ms);
    return ht_db_exec(store, s);
}

size_t ht_store_presence_visible_since(ht_store *store, ht_arena *arena, const char *viewer,
                                       int64_t since, int64_t upto, int64_t limit, ht_presence_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PRESENCE_VISIBLE_SINCE);
    ht_db_bind_text(s, 1, viewer);
    ht_db_bind_int(s, 2, since);
    ht_db_bind_int(s, 3, limit);
    ht_db_bind_int(s, 4, upto);
    return presence_rows(store, arena, s, out);
}

bool ht_store_users_share_room(ht_store *store, const char *a, const char *b) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_USERS_SHARE_ROOM);
    ht_db_bind_text(s, 1, a);
    ht_db_bind_text(s, 2, b);
    bool found = ht_db_row(store, s);
    sqlite3_reset(s);
    return found;
}
