/* meta.c -- the one stream position, and the wake scope of a transaction
 * (see meta.h): which keys its writes touched, and whether every position
 * it moved the stream to was spoken for. */
#include "store/meta.h"

#include <string.h>

#include "store/db.h"
#include "util/wake.h"

uint64_t ht_store_stream_position(ht_store *store) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STREAM_GET);
    return (uint64_t)ht_db_single_int(store, s);
}

uint64_t ht_store_stream_advance(ht_store *store) {
    /* An update, then a read: with RETURNING, SQLite passes the new value
     * through a temporary table, which costs four times the two statements
     * (1.7 us against 0.45, once for every event). */
    if (!ht_db_exec(store, ht_db_stmt(store, HT_STMT_STREAM_ADVANCE))) return 0;
    return (uint64_t)ht_db_single_int(store, ht_db_stmt(store, HT_STMT_STREAM_GET));
}

bool ht_store_meta_get(ht_store *store, const char *key, char *out, size_t out_size) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_META_GET);
    ht_db_bind_text(s, 1, key);
    bool found = false;
    if (ht_db_row(store, s)) {
        const char *value = ht_db_col_text(s, 0);
        size_t len = value ? strlen(value) : 0;
        if (value && len < out_size) {
            memcpy(out, value, len + 1);
            found = true;
        }
    }
    sqlite3_reset(s);
    return found;
}

bool ht_store_meta_add(ht_store *store, const char *key, const char *value) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_META_ADD);
    ht_db_bind_text(s, 1, key);
    ht_db_bind_text(s, 2, value);
    return ht_db_exec(store, s);
}

void ht_store_scope_begin(ht_store *store, uint64_t position) {
    ht_scope *scope = &store->scope;
    scope->base = position;
    scope->key_count = 0;
    scope->too_many = false;
    scope->beyond = false;
    memset(scope->covered, 0, sizeof scope->covered);
}

void ht_db_touch(ht_store *store, uint64_t position, uint64_t key) {
    ht_scope *scope = &store->scope;
    if (position > scope->base) {
        uint64_t i = position - scope->base - 1;
        if (i < HT_STORE_SCOPE_POSITIONS) scope->covered[i / 64] |= (uint64_t)1 << (i % 64);
        else scope->beyond = true;
    }
    if (scope->too_many) return;
    for (size_t k = scope->key_count; k > 0; k--)
        if (scope->keys[k - 1] == key) return;
    if (scope->key_count == HT_STORE_MAX_TOUCHED) {
        scope->too_many = true;
        return;
    }
    scope->keys[scope->key_count++] = key;
}

void ht_db_touch_user_and_rooms(ht_store *store, uint64_t position, const char *user_id) {
    ht_db_touch(store, position, ht_wake_key(HT_WAKE_USER, user_id));
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERSHIPS_OF_USER);
    ht_db_bind_text(s, 1, user_id);
    while (ht_db_row(store, s))
        if (strcmp(ht_db_col_text(s, 1), "join") == 0)
            ht_db_touch(store, position, ht_wake_key(HT_WAKE_ROOM, ht_db_col_text(s, 0)));
    sqlite3_reset(s);
}

bool ht_store_scope_keys(const ht_store *store, uint64_t position, const uint64_t **keys, size_t *count) {
    const ht_scope *scope = &store->scope;
    *keys = scope->keys;
    *count = scope->key_count;
    if (scope->too_many || scope->beyond || position < scope->base ||
        position - scope->base > HT_STORE_SCOPE_POSITIONS)
        return false;
    for (uint64_t i = 0; i < position - scope->base; i++)
        if (!(scope->covered[i / 64] & ((uint64_t)1 << (i % 64)))) return false;
    return true;
}
