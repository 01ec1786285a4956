#include "store/accounts.h"

#include "store/db.h"

bool ht_store_user_insert(ht_store *store, const char *user_id, const char *password_hash,
                          int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_USER_INSERT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, password_hash);
    ht_db_bind_int(s, 3, now_ms);
    return ht_db_exec(store, s);
}

bool ht_store_user_get(ht_store *store, ht_arena *arena, const char *user_id, ht_user_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_USER_GET);
    ht_db_bind_text(s, 1, user_id);
    bool found = ht_db_row(store, s);
    if (found) {
        out->password_hash = ht_db_col_dup(arena, s, 0);
        out->deactivated = ht_db_col_int(s, 1) != 0;
        out->displayname = ht_db_col_dup(arena, s, 2);
        out->avatar_url = ht_db_col_dup(arena, s, 3);
    }
    sqlite3_reset(s);
    return found;
}

bool ht_store_user_set_password(ht_store *store, const char *user_id, const char *password_hash) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_USER_SET_PASSWORD);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, password_hash);
    return ht_db_exec(store, s);
}

bool ht_store_user_deactivate(ht_store *store, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_USER_DEACTIVATE);
    ht_db_bind_text(s, 1, user_id);
    return ht_db_exec(store, s);
}

bool ht_store_device_upsert(ht_store *store, const char *user_id, const char *device_id,
                            const char *display_name, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_DEVICE_UPSERT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, display_name);
    ht_db_bind_int(s, 4, now_ms);
    return ht_db_exec(store, s);
}

static void device_row(ht_arena *arena, sqlite3_stmt *s, ht_device_row *out) {
    out->device_id = ht_db_col_dup(arena, s, 0);
    out->display_name = ht_db_col_dup(arena, s, 1);
    out->seen = sqlite3_column_type(s, 2) != SQLITE_NULL;
    out->last_seen_ms = ht_db_col_int(s, 2);
}

bool ht_store_device_get(ht_store *store, ht_arena *arena, const char *user_id, const char *device_id,
                         ht_device_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_DEVICE_GET);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    bool found = ht_db_row(store, s);
    if (found) device_row(arena, s, out);
    sqlite3_reset(s);
    return found;
}

size_t ht_store_device_list(ht_store *store, ht_arena *arena, const char *user_id, ht_device_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_DEVICE_LIST);
    ht_db_bind_text(s, 1, user_id);
    size_t n = 0, cap = 0;
    ht_device_row *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        device_row(arena, s, &rows[n++]);
    }
    *out = rows;
    return n;
}

bool ht_store_device_set_name(ht_store *store, const char *user_id, const char *device_id,
                              const char *display_name) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_DEVICE_SET_NAME);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, display_name);
    return ht_db_exec(store, s);
}

/* The trigger e2e_device_deleted (schema.c) moves the stream once per
 * device deleted, to tell the user's contacts: those positions concern
 * the user and everyone sharing a room with them. */
static bool devices_deleted(ht_store *store, const char *user_id, bool ok) {
    int deleted = ok ? sqlite3_changes(store->db) : 0;
    if (deleted <= 0) return ok;
    uint64_t now = ht_store_stream_position(store);
    for (uint64_t p = now - (uint64_t)deleted + 1; p <= now; p++) ht_db_touch_user_and_rooms(store, p, user_id);
    return ok;
}

bool ht_store_device_delete(ht_store *store, const char *user_id, const char *device_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_DEVICE_DELETE);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    return devices_deleted(store, user_id, ht_db_exec(store, s));
}

bool ht_store_device_delete_all_but(ht_store *store, const char *user_id, const char *keep_device_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_DEVICE_DELETE_ALL_BUT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, keep_device_id);
    return devices_deleted(store, user_id, ht_db_exec(store, s));
}

bool ht_store_token_insert(ht_store *store, const unsigned char *hash, size_t hash_len,
                           const char *user_id, const char *device_id, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TOKEN_INSERT);
    ht_db_bind_blob(s, 1, hash, hash_len);
    ht_db_bind_text(s, 2, user_id);
    ht_db_bind_text(s, 3, device_id);
    ht_db_bind_int(s, 4, now_ms);
    return ht_db_exec(store, s);
}

bool ht_store_token_lookup(ht_store *store, ht_arena *arena, const unsigned char *hash,
                           size_t hash_len, ht_token_row *out) {
    if (ht_db_token_remembered(store, arena, hash, hash_len, out)) return true;
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TOKEN_LOOKUP);
    ht_db_bind_blob(s, 1, hash, hash_len);
    bool found = ht_db_row(store, s);
    if (found) {
        out->id = ht_db_col_int(s, 0);
        out->user_id = ht_db_col_dup(arena, s, 1);
        out->device_id = ht_db_col_dup(arena, s, 2);
        out->deactivated = ht_db_col_int(s, 3) != 0;
        ht_db_token_remember(store, hash, hash_len, out);
    }
    sqlite3_reset(s);
    return found;
}

bool ht_store_token_delete_device(ht_store *store, const char *user_id, const char *device_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TOKEN_DELETE_DEVICE);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    return ht_db_exec(store, s);
}

bool ht_store_token_delete_all_but(ht_store *store, const char *user_id, int64_t keep_token_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TOKEN_DELETE_ALL_BUT);
    ht_db_bind_text(s, 1, user_id);
    if (keep_token_id) ht_db_bind_int(s, 2, keep_token_id);
    return ht_db_exec(store, s);
}

bool ht_store_uia_insert(ht_store *store, const char *session, const char *user_id, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UIA_INSERT);
    ht_db_bind_text(s, 1, session);
    ht_db_bind_text(s, 2, user_id);
    ht_db_bind_int(s, 3, now_ms);
    return ht_db_exec(store, s);
}

bool ht_store_uia_get(ht_store *store, ht_arena *arena, const char *session, int64_t not_before_ms,
                      const char **user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UIA_GET);
    ht_db_bind_text(s, 1, session);
    ht_db_bind_int(s, 2, not_before_ms);
    bool found = ht_db_row(store, s);
    if (found) *user_id = ht_db_col_dup(arena, s, 0);
    sqlite3_reset(s);
    return found;
}

bool ht_store_uia_delete(ht_store *store, const char *session, int64_t expired_before_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UIA_DELETE);
    ht_db_bind_text(s, 1, session);
    ht_db_bind_int(s, 2, expired_before_ms);
    return ht_db_exec(store, s);
}

int64_t ht_store_filter_insert(ht_store *store, const char *user_id, const char *json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_FILTER_INSERT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, json);
    int64_t id = ht_db_row(store, s) ? ht_db_col_int(s, 0) : -1;
    sqlite3_reset(s);
    return id;
}

const char *ht_store_filter_get(ht_store *store, ht_arena *arena, const char *user_id,
                                int64_t filter_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_FILTER_GET);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, filter_id);
    const char *json = ht_db_row(store, s) ? ht_db_col_dup(arena, s, 0) : NULL;
    sqlite3_reset(s);
    return json;
}
