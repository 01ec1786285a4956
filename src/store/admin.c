/* admin.c -- the admin API's reads and changes (see admin.h). */
#include "store/admin.h"

#include "store/db.h"

static void user_row(ht_arena *arena, sqlite3_stmt *s, ht_admin_user_row *out) {
    out->user_id = ht_db_col_dup(arena, s, 0);
    out->displayname = ht_db_col_dup(arena, s, 1);
    out->avatar_url = ht_db_col_dup(arena, s, 2);
    out->admin = ht_db_col_int(s, 3) != 0;
    out->deactivated = ht_db_col_int(s, 4) != 0;
    out->created_ms = ht_db_col_int(s, 5);
    out->has_password = ht_db_col_int(s, 6) != 0;
}

bool ht_store_admin_user_get(ht_store *store, ht_arena *arena, const char *user_id, ht_admin_user_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_USER_DETAILS);
    ht_db_bind_text(s, 1, user_id);
    bool found = ht_db_row(store, s);
    if (found) user_row(arena, s, out);
    sqlite3_reset(s);
    return found;
}

bool ht_store_admin_set(ht_store *store, const char *user_id, bool admin) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_USER_SET_ADMIN);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, admin);
    return ht_db_exec(store, s);
}

bool ht_store_user_reactivate(ht_store *store, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_USER_REACTIVATE);
    ht_db_bind_text(s, 1, user_id);
    return ht_db_exec(store, s);
}

static void bind_user_filter(sqlite3_stmt *s, const ht_admin_user_filter *f) {
    ht_db_bind_text(s, 1, f->user_id_part);
    ht_db_bind_text(s, 2, f->name_part);
    ht_db_bind_int(s, 3, f->with_deactivated);
    if (f->admins >= 0) ht_db_bind_int(s, 4, f->admins);
}

size_t ht_store_admin_users(ht_store *store, ht_arena *arena, const ht_admin_user_filter *filter,
                            const char *order_by, bool descending, int64_t limit, int64_t offset,
                            ht_admin_user_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_USERS_LIST);
    bind_user_filter(s, filter);
    ht_db_bind_text(s, 5, order_by);
    ht_db_bind_int(s, 6, descending);
    ht_db_bind_int(s, 7, limit);
    ht_db_bind_int(s, 8, offset);
    size_t n = 0, cap = 0;
    ht_admin_user_row *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        user_row(arena, s, &rows[n++]);
    }
    *out = rows;
    return n;
}

int64_t ht_store_admin_users_count(ht_store *store, const ht_admin_user_filter *filter) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_USERS_COUNT);
    bind_user_filter(s, filter);
    return ht_db_single_int(store, s);
}

void ht_store_server_counts(ht_store *store, int64_t *users, int64_t *admins, int64_t *rooms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_SERVER_COUNTS);
    *users = *admins = *rooms = 0;
    if (ht_db_row(store, s)) {
        *users = ht_db_col_int(s, 0);
        *admins = ht_db_col_int(s, 1);
        *rooms = ht_db_col_int(s, 2);
    }
    sqlite3_reset(s);
}

size_t ht_store_rooms_all(ht_store *store, ht_arena *arena, int64_t limit, const char ***out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_ROOMS_ALL);
    ht_db_bind_int(s, 1, limit);
    return ht_db_text_list(store, arena, s, out);
}

int64_t ht_store_room_state_count(ht_store *store, const char *room_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_ROOM_STATE_COUNT);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_single_int(store, s);
}

int64_t ht_store_room_remembered(ht_store *store, const char *room_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_ROOM_REMEMBERED);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_single_int(store, s);
}

bool ht_store_room_purge(ht_store *store, const char *room_id) {
    static const ht_stmt_id steps[] = {
        HT_STMT_OP_PURGE_TXN_KEYS,     HT_STMT_OP_PURGE_SEARCH,     HT_STMT_OP_PURGE_RELATIONS,
        HT_STMT_OP_PURGE_STATE,        HT_STMT_OP_PURGE_MEMBERSHIPS, HT_STMT_OP_PURGE_RECEIPTS,
        HT_STMT_OP_PURGE_TYPING,       HT_STMT_OP_PURGE_TYPING_CHANGES, HT_STMT_OP_PURGE_UNREAD_THREADS,
        HT_STMT_OP_PURGE_UNREAD_ROOMS, HT_STMT_OP_PURGE_UNREAD_ALIKE, HT_STMT_OP_PURGE_UNREAD_ALIKE_THREADS,
        HT_STMT_OP_PURGE_ACCOUNT_DATA, HT_STMT_OP_PURGE_REPORTS,    HT_STMT_OP_PURGE_ALIASES,
        HT_STMT_OP_PURGE_EDGES,        HT_STMT_OP_PURGE_EXTREMITIES,
        HT_STMT_OP_PURGE_STATE_LOG,    HT_STMT_OP_PURGE_STATE_GROUP_ENTRIES,
        HT_STMT_OP_PURGE_STATE_GROUPS, HT_STMT_OP_PURGE_OUTBOX,     HT_STMT_OP_PURGE_ROOM_SERVERS,
        HT_STMT_OP_PURGE_INVITE_STATE, HT_STMT_OP_PURGE_REDACTIONS_WAITING, HT_STMT_OP_PURGE_EVENTS,
        HT_STMT_OP_PURGE_ROOM,
    };
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        sqlite3_stmt *s = ht_db_stmt(store, steps[i]);
        ht_db_bind_text(s, 1, room_id);
        if (!ht_db_exec(store, s)) return false;
    }
    return true;
}

size_t ht_store_admin_media_of_user(ht_store *store, ht_arena *arena, const char *user_id,
                                    const char *order_by, bool descending, int64_t limit,
                                    int64_t offset, ht_admin_media_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_MEDIA_OF_USER);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, order_by);
    ht_db_bind_int(s, 3, descending);
    ht_db_bind_int(s, 4, limit);
    ht_db_bind_int(s, 5, offset);
    size_t n = 0, cap = 0;
    ht_admin_media_row *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        ht_admin_media_row *r = &rows[n++];
        r->media_id = ht_db_col_dup(arena, s, 0);
        r->created_ms = ht_db_col_int(s, 1);
        r->content_type = ht_db_col_dup(arena, s, 2);
        r->filename = ht_db_col_dup(arena, s, 3);
        r->size = ht_db_col_int(s, 4);
    }
    *out = rows;
    return n;
}

int64_t ht_store_admin_media_count(ht_store *store, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_MEDIA_COUNT_OF_USER);
    ht_db_bind_text(s, 1, user_id);
    return ht_db_single_int(store, s);
}

bool ht_store_media_delete(ht_store *store, const char *media_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_MEDIA_PARTS_DELETE);
    ht_db_bind_text(s, 1, media_id);
    if (!ht_db_exec(store, s)) return false;
    s = ht_db_stmt(store, HT_STMT_OP_MEDIA_DELETE);
    ht_db_bind_text(s, 1, media_id);
    return ht_db_exec(store, s);
}

bool ht_store_room_deletion_record(ht_store *store, const char *delete_id, const char *room_id,
                                   const char *result, int64_t now_ms, int64_t expire_before_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_DELETIONS_EXPIRE);
    ht_db_bind_int(s, 1, expire_before_ms);
    if (!ht_db_exec(store, s)) return false;
    s = ht_db_stmt(store, HT_STMT_OP_DELETION_INSERT);
    ht_db_bind_text(s, 1, delete_id);
    ht_db_bind_text(s, 2, room_id);
    ht_db_bind_text(s, 3, result);
    ht_db_bind_int(s, 4, now_ms);
    return ht_db_exec(store, s);
}

bool ht_store_room_deletion_get(ht_store *store, ht_arena *arena, const char *delete_id,
                                ht_room_deletion_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_DELETION_GET);
    ht_db_bind_text(s, 1, delete_id);
    bool found = ht_db_row(store, s);
    if (found) {
        out->delete_id = ht_db_col_dup(arena, s, 0);
        out->result = ht_db_col_dup(arena, s, 1);
    }
    sqlite3_reset(s);
    return found;
}

size_t ht_store_room_deletions(ht_store *store, ht_arena *arena, const char *room_id,
                               ht_room_deletion_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_DELETIONS_OF_ROOM);
    ht_db_bind_text(s, 1, room_id);
    size_t n = 0, cap = 0;
    ht_room_deletion_row *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        rows[n].delete_id = ht_db_col_dup(arena, s, 0);
        rows[n].result = ht_db_col_dup(arena, s, 1);
        n++;
    }
    *out = rows;
    return n;
}
