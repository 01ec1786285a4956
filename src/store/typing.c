/* typing.c -- typing notices and their expiry. */
#include "store/typing.h"

#include "store/db.h"
#include "util/wake.h"

bool ht_store_typing_get(ht_store *store, const char *room_id, const char *user_id, int64_t *expires_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TYPING_GET);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    bool found = ht_db_row(store, s);
    if (found && expires_ms) *expires_ms = ht_db_col_int(s, 0);
    sqlite3_reset(s);
    return found;
}

bool ht_store_typing_set(ht_store *store, const char *room_id, const char *user_id, int64_t expires_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TYPING_SET);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    ht_db_bind_int(s, 3, expires_ms);
    return ht_db_exec(store, s);
}

bool ht_store_typing_delete(ht_store *store, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TYPING_DELETE);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    return ht_db_exec(store, s);
}

bool ht_store_typing_mark(ht_store *store, const char *room_id, int64_t stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TYPING_MARK);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, stream);
    ht_db_touch(store, (uint64_t)stream, ht_wake_key(HT_WAKE_ROOM, room_id));
    return ht_db_exec(store, s);
}

int64_t ht_store_typing_changed(ht_store *store, const char *room_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TYPING_CHANGED);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_single_int(store, s);
}

size_t ht_store_typing_expired_rooms(ht_store *store, ht_arena *arena, int64_t now_ms, const char ***out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TYPING_EXPIRED_ROOMS);
    ht_db_bind_int(s, 1, now_ms);
    return ht_db_text_list(store, arena, s, out);
}

bool ht_store_typing_delete_expired(ht_store *store, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TYPING_DELETE_EXPIRED);
    ht_db_bind_int(s, 1, now_ms);
    return ht_db_exec(store, s);
}

size_t ht_store_typing_users(ht_store *store, ht_arena *arena, const char *room_id, int64_t now_ms,
                             const char ***out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TYPING_USERS);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, now_ms);
    return ht_db_text_list(store, arena, s, out);
}

int64_t ht_store_typing_next_expiry(ht_store *store, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TYPING_NEXT_EXPIRY);
    ht_db_bind_text(s, 1, user_id);
    return ht_db_single_int(store, s);
}
