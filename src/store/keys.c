/* keys.c -- end-to-end encryption keys (see keys.h). */
#include "store/keys.h"

#include "store/db.h"
#include "util/wake.h"
#include "store/meta.h"

enum { MAX_DEVICE_LIST_USERS = 10000 };

const char *ht_store_device_keys_get(ht_store *store, ht_arena *arena, const char *user_id,
                                     const char *device_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_DEVICE_KEYS_GET);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    const char *json = ht_db_row(store, s) ? ht_db_col_dup(arena, s, 0) : NULL;
    sqlite3_reset(s);
    return json;
}

bool ht_store_device_keys_put(ht_store *store, const char *user_id, const char *device_id,
                              const char *json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_DEVICE_KEYS_PUT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, json);
    return ht_db_exec(store, s);
}

size_t ht_store_device_keys_of_user(ht_store *store, ht_arena *arena, const char *user_id,
                                    ht_device_keys_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_DEVICE_KEYS_OF_USER);
    ht_db_bind_text(s, 1, user_id);
    size_t n = 0, cap = 0;
    ht_device_keys_row *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_device_keys_row){.device_id = ht_db_col_dup(arena, s, 0),
                                         .json = ht_db_col_dup(arena, s, 1),
                                         .display_name = ht_db_col_dup(arena, s, 2)};
    }
    *out = list;
    return n;
}

const char *ht_store_otk_get(ht_store *store, ht_arena *arena, const char *user_id,
                             const char *device_id, const char *key_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_OTK_GET);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, key_id);
    const char *json = ht_db_row(store, s) ? ht_db_col_dup(arena, s, 0) : NULL;
    sqlite3_reset(s);
    return json;
}

bool ht_store_otk_insert(ht_store *store, const char *user_id, const char *device_id,
                         const char *algorithm, const char *key_id, const char *json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_OTK_INSERT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, algorithm);
    ht_db_bind_text(s, 4, key_id);
    ht_db_bind_text(s, 5, json);
    return ht_db_exec(store, s);
}

size_t ht_store_otk_counts(ht_store *store, ht_arena *arena, const char *user_id, const char *device_id,
                           ht_key_count_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_OTK_COUNTS);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    size_t n = 0, cap = 0;
    ht_key_count_row *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        rows[n++] = (ht_key_count_row){ht_db_col_dup(arena, s, 0), ht_db_col_int(s, 1)};
    }
    *out = rows;
    return n;
}

/* Reads (key_id, json) from a RETURNING row, then finishes the statement
 * so the change is complete before anyone reads the table again. */
static bool returned_key(ht_store *store, ht_arena *arena, sqlite3_stmt *s, const char **key_id,
                         const char **json) {
    bool found = ht_db_row(store, s);
    if (found) {
        *key_id = ht_db_col_dup(arena, s, 0);
        *json = ht_db_col_dup(arena, s, 1);
        while (ht_db_row(store, s)) {
        }
    }
    sqlite3_reset(s);
    return found;
}

bool ht_store_otk_claim(ht_store *store, ht_arena *arena, const char *user_id, const char *device_id,
                        const char *algorithm, const char **key_id, const char **json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_OTK_CLAIM);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, algorithm);
    return returned_key(store, arena, s, key_id, json);
}

bool ht_store_otk_taken_mark(ht_store *store, const char *user_id, const char *device_id, int64_t stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_OTK_TAKEN_MARK);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_int(s, 3, stream);
    ht_db_touch(store, (uint64_t)stream, ht_wake_key(HT_WAKE_USER, user_id));
    return ht_db_exec(store, s);
}

int64_t ht_store_otk_taken_stream(ht_store *store, const char *user_id, const char *device_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_OTK_TAKEN_GET);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    return ht_db_single_int(store, s);
}

bool ht_store_fallback_put(ht_store *store, const char *user_id, const char *device_id,
                           const char *algorithm, const char *key_id, const char *json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_FALLBACK_PUT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, algorithm);
    ht_db_bind_text(s, 4, key_id);
    ht_db_bind_text(s, 5, json);
    return ht_db_exec(store, s);
}

bool ht_store_fallback_claim(ht_store *store, ht_arena *arena, const char *user_id,
                             const char *device_id, const char *algorithm, const char **key_id,
                             const char **json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_FALLBACK_CLAIM);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, algorithm);
    return returned_key(store, arena, s, key_id, json);
}

int64_t ht_store_fallback_count(ht_store *store, const char *user_id, const char *device_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_FALLBACK_COUNT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    return ht_db_single_int(store, s);
}

size_t ht_store_fallback_unused(ht_store *store, ht_arena *arena, const char *user_id, const char *device_id,
                                const char ***algorithms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_FALLBACK_UNUSED);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    return ht_db_text_list(store, arena, s, algorithms);
}

const char *ht_store_cross_signing_get(ht_store *store, ht_arena *arena, const char *user_id,
                                       const char *key_type, const char **public_key) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_XSIGN_GET);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, key_type);
    const char *json = NULL;
    if (ht_db_row(store, s)) {
        if (public_key) *public_key = ht_db_col_dup(arena, s, 0);
        json = ht_db_col_dup(arena, s, 1);
    }
    sqlite3_reset(s);
    return json;
}

bool ht_store_cross_signing_put(ht_store *store, const char *user_id, const char *key_type,
                                const char *public_key, const char *json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_XSIGN_PUT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, key_type);
    ht_db_bind_text(s, 3, public_key);
    ht_db_bind_text(s, 4, json);
    return ht_db_exec(store, s);
}

const char *ht_store_cross_signing_by_public_key(ht_store *store, ht_arena *arena, const char *user_id,
                                                 const char *public_key, const char **json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_XSIGN_BY_PUBLIC_KEY);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, public_key);
    const char *type = NULL;
    if (ht_db_row(store, s)) {
        type = ht_db_col_dup(arena, s, 0);
        if (json) *json = ht_db_col_dup(arena, s, 1);
    }
    sqlite3_reset(s);
    return type;
}

bool ht_store_signature_put(ht_store *store, const char *target_user, const char *target_key,
                            const char *signer_user, const char *signer_key_id, const char *signature) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_SIGNATURE_PUT);
    ht_db_bind_text(s, 1, target_user);
    ht_db_bind_text(s, 2, target_key);
    ht_db_bind_text(s, 3, signer_user);
    ht_db_bind_text(s, 4, signer_key_id);
    ht_db_bind_text(s, 5, signature);
    return ht_db_exec(store, s);
}

size_t ht_store_signatures_of(ht_store *store, ht_arena *arena, const char *target_user,
                              const char *target_key, const char *viewer, ht_signature_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_SIGNATURES_OF);
    ht_db_bind_text(s, 1, target_user);
    ht_db_bind_text(s, 2, target_key);
    ht_db_bind_text(s, 3, viewer);
    size_t n = 0, cap = 0;
    ht_signature_row *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        rows[n++] = (ht_signature_row){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                       ht_db_col_dup(arena, s, 2)};
    }
    *out = rows;
    return n;
}

bool ht_store_device_list_changed(ht_store *store, const char *user_id, const char *device_id,
                                  const char *only_for) {
    int64_t stream = (int64_t)ht_store_stream_advance(store);
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_DEVICE_LIST_CHANGE);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, stream);
    ht_db_bind_text(s, 3, only_for);
    ht_db_bind_text(s, 4, device_id);
    if (!ht_db_exec(store, s)) return false;
    /* Everyone sharing a room with the user sees the change, or only the
     * one user it is for. */
    ht_db_touch_user_and_rooms(store, (uint64_t)stream, user_id);
    if (only_for && *only_for) ht_db_touch(store, (uint64_t)stream, ht_wake_key(HT_WAKE_USER, only_for));
    return true;
}

static size_t user_list(ht_store *store, ht_arena *arena, ht_stmt_id id, const char *viewer, int64_t from,
                        int64_t to, const char ***users) {
    sqlite3_stmt *s = ht_db_stmt(store, id);
    ht_db_bind_text(s, 1, viewer);
    ht_db_bind_int(s, 2, from);
    ht_db_bind_int(s, 3, to);
    ht_db_bind_int(s, 4, MAX_DEVICE_LIST_USERS);
    return ht_db_text_list(store, arena, s, users);
}

/* A window of at most this many positions holds at most as many
 * membership changes: walking them by position costs less than probing
 * each of a user's rooms for them (a sync of a user in 300 rooms). */
enum { SHORT_WINDOW = 1024 };

static bool short_window(int64_t from, int64_t to) { return to - from <= SHORT_WINDOW; }

size_t ht_store_device_lists_changed(ht_store *store, ht_arena *arena, const char *viewer, int64_t from,
                                     int64_t to, const char ***users) {
    return user_list(store, arena,
                     short_window(from, to) ? HT_STMT_E2E_DEVICE_LISTS_CHANGED_BY_STREAM
                                            : HT_STMT_E2E_DEVICE_LISTS_CHANGED,
                     viewer, from, to, users);
}

size_t ht_store_device_lists_left(ht_store *store, ht_arena *arena, const char *viewer, int64_t from,
                                  int64_t to, const char ***users) {
    return user_list(store, arena,
                     short_window(from, to) ? HT_STMT_E2E_DEVICE_LISTS_LEFT_BY_STREAM : HT_STMT_E2E_DEVICE_LISTS_LEFT,
                     viewer, from, to, users);
}

/* ---- across servers ---- */

int64_t ht_store_device_list_stream(ht_store *store, const char *user_id, int64_t before) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_DEVICE_LIST_STREAM);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, before);
    return ht_db_single_int(store, s);
}

size_t ht_store_device_list_unsent(ht_store *store, ht_arena *arena, const char *server_name, int64_t limit,
                                   ht_device_list_change **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_DEVICE_LIST_MARK_GET);
    int64_t mark = ht_db_single_int(store, s);
    s = ht_db_stmt(store, HT_STMT_E2E_DEVICE_LIST_SWEEP);
    ht_db_bind_int(s, 1, mark);
    ht_db_bind_text(s, 2, server_name);
    ht_db_bind_int(s, 3, limit);
    size_t n = 0, cap = 0;
    ht_device_list_change *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        rows[n++] = (ht_device_list_change){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                            ht_db_col_int(s, 2)};
    }
    *out = rows;
    return n;
}

bool ht_store_device_list_sent(ht_store *store, int64_t through) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_DEVICE_LIST_MARK_SET);
    ht_db_bind_int(s, 1, through);
    return ht_db_exec(store, s);
}

size_t ht_store_user_servers(ht_store *store, ht_arena *arena, const char *user_id, const char *except,
                             int64_t limit, const char ***out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_USER_SERVERS);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, except);
    ht_db_bind_int(s, 3, limit);
    return ht_db_text_list(store, arena, s, out);
}

bool ht_store_shares_room_with(ht_store *store, const char *user_id, const char *server_name) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_SHARES_ROOM_WITH);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, server_name);
    bool found = ht_db_row(store, s);
    sqlite3_reset(s);
    return found;
}

const char *ht_store_remote_keys_get(ht_store *store, ht_arena *arena, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_REMOTE_KEYS_GET);
    ht_db_bind_text(s, 1, user_id);
    const char *json = ht_db_row(store, s) ? ht_db_col_dup(arena, s, 0) : NULL;
    sqlite3_reset(s);
    return json;
}

bool ht_store_remote_keys_put(ht_store *store, const char *user_id, const char *json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_REMOTE_KEYS_PUT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, json);
    ht_db_bind_int(s, 3, (int64_t)ht_store_stream_position(store));
    return ht_db_exec(store, s);
}

bool ht_store_remote_keys_forget(ht_store *store, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_E2E_REMOTE_KEYS_FORGET);
    ht_db_bind_text(s, 1, user_id);
    return ht_db_exec(store, s);
}
