/* registration_tokens.c -- registration tokens' rows (see the .h). */
#include "store/registration_tokens.h"

#include "store/db.h"

static void bind_limit(sqlite3_stmt *s, int i, int64_t v) {
    if (v >= 0) ht_db_bind_int(s, i, v);
    else sqlite3_bind_null(s, i);
}

/* A statement with RETURNING: true if it returned a row. */
static bool returned_row(ht_store *store, sqlite3_stmt *s) {
    bool row = ht_db_row(store, s);
    sqlite3_reset(s);
    return row;
}

bool ht_store_reg_token_insert(ht_store *store, const char *token, int64_t uses_allowed,
                               int64_t expiry_ms, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_TOKEN_INSERT);
    ht_db_bind_text(s, 1, token);
    bind_limit(s, 2, uses_allowed);
    bind_limit(s, 3, expiry_ms);
    ht_db_bind_int(s, 4, now_ms);
    return returned_row(store, s);
}

static void token_row(ht_arena *arena, sqlite3_stmt *s, ht_reg_token_row *out) {
    out->token = ht_db_col_dup(arena, s, 0);
    out->limited = sqlite3_column_type(s, 1) != SQLITE_NULL;
    out->uses_allowed = ht_db_col_int(s, 1);
    out->pending = ht_db_col_int(s, 2);
    out->completed = ht_db_col_int(s, 3);
    out->expires = sqlite3_column_type(s, 4) != SQLITE_NULL;
    out->expiry_ms = ht_db_col_int(s, 4);
}

bool ht_store_reg_token_get(ht_store *store, ht_arena *arena, const char *token, ht_reg_token_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_TOKEN_GET);
    ht_db_bind_text(s, 1, token);
    bool found = ht_db_row(store, s);
    if (found) token_row(arena, s, out);
    sqlite3_reset(s);
    return found;
}

size_t ht_store_reg_token_list(ht_store *store, ht_arena *arena, int valid, int64_t now_ms,
                               int64_t limit, ht_reg_token_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_TOKEN_LIST);
    if (valid >= 0) ht_db_bind_int(s, 1, valid);
    ht_db_bind_int(s, 2, now_ms);
    ht_db_bind_int(s, 3, limit);
    size_t n = 0, cap = 0;
    ht_reg_token_row *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        token_row(arena, s, &rows[n++]);
    }
    *out = rows;
    return n;
}

bool ht_store_reg_token_update(ht_store *store, const char *token, bool set_uses, int64_t uses_allowed,
                               bool set_expiry, int64_t expiry_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_TOKEN_UPDATE);
    ht_db_bind_text(s, 1, token);
    ht_db_bind_int(s, 2, set_uses);
    bind_limit(s, 3, uses_allowed);
    ht_db_bind_int(s, 4, set_expiry);
    bind_limit(s, 5, expiry_ms);
    return returned_row(store, s);
}

bool ht_store_reg_token_delete(ht_store *store, const char *token) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_TOKEN_DELETE);
    ht_db_bind_text(s, 1, token);
    return returned_row(store, s);
}

bool ht_store_reg_token_usable(ht_store *store, const char *token, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_TOKEN_USABLE);
    ht_db_bind_text(s, 1, token);
    ht_db_bind_int(s, 2, now_ms);
    return returned_row(store, s);
}

bool ht_store_reg_token_use(ht_store *store, const char *token, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OP_TOKEN_USE);
    ht_db_bind_text(s, 1, token);
    ht_db_bind_int(s, 2, now_ms);
    return returned_row(store, s);
}
