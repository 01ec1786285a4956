/* room_keys.c -- server-side room key backups (see room_keys.h). */
#include "store/room_keys.h"

#include "store/db.h"

int64_t ht_store_backup_version_create(ht_store *store, const char *user_id, const char *algorithm,
                                       const char *auth_data) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_BACKUP_VERSION_CREATE);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, algorithm);
    ht_db_bind_text(s, 3, auth_data);
    int64_t version = ht_db_row(store, s) ? ht_db_col_int(s, 0) : 0;
    while (ht_db_row(store, s)) {
    }
    sqlite3_reset(s);
    return version;
}

bool ht_store_backup_version_get(ht_store *store, ht_arena *arena, const char *user_id, int64_t version,
                                 ht_backup_version_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, version ? HT_STMT_BACKUP_VERSION_GET : HT_STMT_BACKUP_VERSION_CURRENT);
    ht_db_bind_text(s, 1, user_id);
    if (version) ht_db_bind_int(s, 2, version);
    bool found = ht_db_row(store, s);
    if (found) {
        out->version = ht_db_col_int(s, 0);
        out->algorithm = ht_db_col_dup(arena, s, 1);
        out->auth_data = ht_db_col_dup(arena, s, 2);
        out->etag = ht_db_col_int(s, 3);
    }
    sqlite3_reset(s);
    return found;
}

static bool user_version_exec(ht_store *store, ht_stmt_id id, const char *user_id, int64_t version) {
    sqlite3_stmt *s = ht_db_stmt(store, id);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, version);
    return ht_db_exec(store, s);
}

bool ht_store_backup_version_update(ht_store *store, const char *user_id, int64_t version,
                                    const char *auth_data) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_BACKUP_VERSION_UPDATE);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, version);
    ht_db_bind_text(s, 3, auth_data);
    return ht_db_exec(store, s);
}

bool ht_store_backup_version_delete(ht_store *store, const char *user_id, int64_t version) {
    ht_store_backup_keys_delete(store, user_id, version, NULL, NULL);
    return user_version_exec(store, HT_STMT_BACKUP_VERSION_DELETE, user_id, version);
}

bool ht_store_backup_etag_bump(ht_store *store, const char *user_id, int64_t version) {
    return user_version_exec(store, HT_STMT_BACKUP_ETAG_BUMP, user_id, version);
}

int64_t ht_store_backup_count(ht_store *store, const char *user_id, int64_t version) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_BACKUP_COUNT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, version);
    return ht_db_single_int(store, s);
}

bool ht_store_backup_key_get(ht_store *store, const char *user_id, int64_t version, const char *room_id,
                             const char *session_id, ht_backup_key_meta *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_BACKUP_KEY_GET);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, version);
    ht_db_bind_text(s, 3, room_id);
    ht_db_bind_text(s, 4, session_id);
    bool found = ht_db_row(store, s);
    if (found) {
        out->first_message_index = ht_db_col_int(s, 0);
        out->forwarded_count = ht_db_col_int(s, 1);
        out->is_verified = ht_db_col_int(s, 2) != 0;
    }
    sqlite3_reset(s);
    return found;
}

bool ht_store_backup_key_put(ht_store *store, const char *user_id, int64_t version, const char *room_id,
                             const char *session_id, const ht_backup_key_meta *meta, const char *json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_BACKUP_KEY_PUT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, version);
    ht_db_bind_text(s, 3, room_id);
    ht_db_bind_text(s, 4, session_id);
    ht_db_bind_int(s, 5, meta->first_message_index);
    ht_db_bind_int(s, 6, meta->forwarded_count);
    ht_db_bind_int(s, 7, meta->is_verified);
    ht_db_bind_text(s, 8, json);
    return ht_db_exec(store, s);
}

size_t ht_store_backup_keys(ht_store *store, ht_arena *arena, const char *user_id, int64_t version,
                            const char *room_id, const char *session_id, ht_backup_key_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_BACKUP_KEYS_LIST);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, version);
    ht_db_bind_text(s, 3, room_id);
    ht_db_bind_text(s, 4, session_id);
    size_t n = 0, cap = 0;
    ht_backup_key_row *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        rows[n++] = (ht_backup_key_row){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                        ht_db_col_dup(arena, s, 2)};
    }
    *out = rows;
    return n;
}

int64_t ht_store_backup_keys_delete(ht_store *store, const char *user_id, int64_t version,
                                    const char *room_id, const char *session_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_BACKUP_KEYS_DELETE);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, version);
    ht_db_bind_text(s, 3, room_id);
    ht_db_bind_text(s, 4, session_id);
    return ht_db_exec(store, s) ? sqlite3_changes64(store->db) : 0;
}
