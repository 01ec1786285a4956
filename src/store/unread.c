/* unread.c -- the unread counts kept from push actions (see unread.h). */
#include "store/unread.h"

#include <string.h>

#include "store/db.h"

size_t ht_store_members_joined(ht_store *store, ht_arena *arena, const char *room_id, ht_member_push **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERS_JOINED);
    ht_db_bind_text(s, 1, room_id);
    size_t n = 0, cap = 0;
    ht_member_push *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_member_push){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1), ht_db_col_int(s, 2) != 0};
    }
    *out = list;
    return n;
}

int64_t ht_store_read_floor(ht_store *store, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_READ_FLOOR);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    return ht_db_single_int(store, s);
}

static sqlite3_stmt *member_stmt(ht_store *store, ht_stmt_id id, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, id);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, room_id);
    return s;
}

bool ht_store_unread_add(ht_store *store, const char *room_id, const char *user_id, const char *thread_id,
                         bool highlight) {
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_ADD, room_id, user_id);
    ht_db_bind_text(s, 3, thread_id);
    ht_db_bind_int(s, 4, highlight);
    return ht_db_exec(store, s);
}

bool ht_store_unread_add_alike(ht_store *store, const char *room_id, const char *server_name, const char *thread_id,
                               bool highlight, const char *except_json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UNREAD_ADD_ALIKE);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, thread_id);
    ht_db_bind_int(s, 3, highlight);
    ht_db_bind_text(s, 4, server_name);
    ht_db_bind_text(s, 5, except_json);
    return ht_db_exec(store, s);
}

bool ht_store_unread_own_event(ht_store *store, const char *room_id, const char *user_id, const char *thread_id,
                               int64_t stream) {
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_OWN, room_id, user_id);
    ht_db_bind_text(s, 3, thread_id);
    ht_db_bind_int(s, 4, stream);
    return ht_db_exec(store, s);
}

bool ht_store_unread_set(ht_store *store, const char *room_id, const char *user_id, const ht_unread_row *rows,
                         size_t n) {
    if (!ht_db_exec(store, member_stmt(store, HT_STMT_UNREAD_ZERO, room_id, user_id))) return false;
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].notifications) continue;
        sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_SET, room_id, user_id);
        ht_db_bind_text(s, 3, rows[i].thread_id);
        ht_db_bind_int(s, 4, rows[i].notifications);
        ht_db_bind_int(s, 5, rows[i].highlights);
        if (!ht_db_exec(store, s)) return false;
    }
    return true;
}

static size_t unread_rows(ht_store *store, ht_arena *arena, sqlite3_stmt *s, ht_unread_row **out, bool with_highlights) {
    size_t n = 0, cap = 0;
    ht_unread_row *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_unread_row){ht_db_col_dup(arena, s, 0), ht_db_col_int(s, 1),
                                    with_highlights ? ht_db_col_int(s, 2) : 0};
    }
    *out = list;
    return n;
}

size_t ht_store_unread_own_marks(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                                 ht_unread_row **out) {
    return unread_rows(store, arena, member_stmt(store, HT_STMT_UNREAD_OWN_MARKS, room_id, user_id), out, false);
}

size_t ht_store_unread_get(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                           ht_unread_row **out) {
    return unread_rows(store, arena, member_stmt(store, HT_STMT_UNREAD_GET, room_id, user_id), out, true);
}

/* ---- judged or stale --------------------------------------------------------- */

ht_unread_state ht_store_unread_state(ht_store *store, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_ROOM_GET, room_id, user_id);
    ht_unread_state state = HT_UNREAD_UNJUDGED;
    if (ht_db_row(store, s)) state = ht_db_col_int(s, 0) ? HT_UNREAD_STALE : HT_UNREAD_JUDGED;
    sqlite3_reset(s);
    return state;
}

bool ht_store_unread_set_judged(ht_store *store, const char *room_id, const char *user_id) {
    return ht_db_exec(store, member_stmt(store, HT_STMT_UNREAD_ROOM_JUDGED, room_id, user_id));
}

bool ht_store_unread_stale_user(ht_store *store, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UNREAD_STALE_USER);
    ht_db_bind_text(s, 1, user_id);
    return ht_db_exec(store, s);
}

bool ht_store_unread_stale_room(ht_store *store, const char *room_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UNREAD_STALE_ROOM);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_exec(store, s);
}

bool ht_store_unread_stale_member(ht_store *store, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UNREAD_STALE_MEMBER);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    return ht_db_exec(store, s);
}

bool ht_store_unread_stale_count_rules(ht_store *store, const char *room_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UNREAD_STALE_COUNT_RULES);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_exec(store, s);
}
