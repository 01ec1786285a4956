/* federation.c -- keys, transactions, room servers and the outbox. */
#include "store/federation.h"

#include "store/db.h"

const char *ht_store_server_key(ht_store *store, ht_arena *arena, const char *server, const char *key_id,
                                int64_t *valid_until_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_SERVER_KEY_GET);
    ht_db_bind_text(s, 1, server);
    ht_db_bind_text(s, 2, key_id);
    const char *key = NULL;
    if (ht_db_row(store, s)) {
        key = ht_db_col_dup(arena, s, 0);
        if (valid_until_ms) *valid_until_ms = ht_db_col_int(s, 1);
    }
    sqlite3_reset(s);
    return key;
}

bool ht_store_server_key_put(ht_store *store, const char *server, const char *key_id, const char *public_key,
                             int64_t valid_until_ms, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_SERVER_KEY_PUT);
    ht_db_bind_text(s, 1, server);
    ht_db_bind_text(s, 2, key_id);
    ht_db_bind_text(s, 3, public_key);
    ht_db_bind_int(s, 4, valid_until_ms);
    ht_db_bind_int(s, 5, now_ms);
    return ht_db_exec(store, s);
}

const char *ht_store_fed_txn_get(ht_store *store, ht_arena *arena, const char *origin, const char *txn_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_FED_TXN_GET);
    ht_db_bind_text(s, 1, origin);
    ht_db_bind_text(s, 2, txn_id);
    const char *response = ht_db_row(store, s) ? ht_db_col_dup(arena, s, 0) : NULL;
    sqlite3_reset(s);
    return response;
}

bool ht_store_fed_txn_put(ht_store *store, const char *origin, const char *txn_id, const char *response,
                          int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_FED_TXN_PUT);
    ht_db_bind_text(s, 1, origin);
    ht_db_bind_text(s, 2, txn_id);
    ht_db_bind_text(s, 3, response);
    ht_db_bind_int(s, 4, now_ms);
    return ht_db_exec(store, s);
}

bool ht_store_fed_txn_expire(ht_store *store, int64_t before_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_FED_TXN_EXPIRE);
    ht_db_bind_int(s, 1, before_ms);
    return ht_db_exec(store, s);
}

size_t ht_store_room_servers(ht_store *store, ht_arena *arena, const char *room_id, const char *except,
                             const char ***out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ROOM_SERVERS);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, except);
    return ht_db_text_list(store, arena, s, out);
}

bool ht_store_outbox_pdu(ht_store *store, const char *destination, int64_t event_stream, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OUTBOX_PDU);
    ht_db_bind_text(s, 1, destination);
    ht_db_bind_int(s, 2, event_stream);
    ht_db_bind_int(s, 3, now_ms);
    return ht_db_exec(store, s);
}

bool ht_store_outbox_edu(ht_store *store, const char *destination, const char *edu_json, bool durable,
                         int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OUTBOX_EDU);
    ht_db_bind_text(s, 1, destination);
    ht_db_bind_text(s, 2, edu_json);
    ht_db_bind_int(s, 3, now_ms);
    ht_db_bind_int(s, 4, durable);
    if (!ht_db_exec(store, s)) return false;
    s = ht_db_stmt(store, HT_STMT_OUTBOX_EDU_TRIM);
    ht_db_bind_text(s, 1, destination);
    ht_db_bind_int(s, 2, durable ? HT_OUTBOX_MAX_DURABLE_EDUS : HT_OUTBOX_MAX_EDUS);
    ht_db_bind_int(s, 3, durable);
    return ht_db_exec(store, s);
}

const char *ht_store_outbox_ready(ht_store *store, ht_arena *arena, int64_t now_ms, const char *busy) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OUTBOX_READY);
    ht_db_bind_int(s, 1, now_ms);
    ht_db_bind_text(s, 2, busy);
    const char *destination = ht_db_row(store, s) ? ht_db_col_dup(arena, s, 0) : NULL;
    sqlite3_reset(s);
    return destination;
}

int64_t ht_store_outbox_next_retry(ht_store *store, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OUTBOX_NEXT_RETRY);
    ht_db_bind_int(s, 1, now_ms);
    return ht_db_single_int(store, s);
}

int64_t ht_store_outbox_waiting(ht_store *store) {
    return ht_db_single_int(store, ht_db_stmt(store, HT_STMT_OUTBOX_WAITING));
}

size_t ht_store_outbox_items(ht_store *store, ht_arena *arena, const char *destination, bool pdus, bool edus,
                             int64_t limit, ht_outbox_item **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OUTBOX_ITEMS);
    ht_db_bind_text(s, 1, destination);
    ht_db_bind_int(s, 2, pdus);
    ht_db_bind_int(s, 3, edus);
    ht_db_bind_int(s, 4, limit);
    size_t n = 0, cap = 0;
    ht_outbox_item *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        rows[n++] = (ht_outbox_item){ht_db_col_int(s, 0), ht_db_col_dup(arena, s, 1), ht_db_col_dup(arena, s, 2),
                                     ht_db_col_int(s, 3), ht_db_col_dup(arena, s, 4), ht_db_col_dup(arena, s, 5)};
    }
    *out = rows;
    return n;
}

bool ht_store_outbox_sent(ht_store *store, const char *destination, int64_t through) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_OUTBOX_SENT);
    ht_db_bind_text(s, 1, destination);
    ht_db_bind_int(s, 2, through);
    return ht_db_exec(store, s);
}

bool ht_store_destination_ok(ht_store *store, const char *destination, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_DESTINATION_OK);
    ht_db_bind_text(s, 1, destination);
    ht_db_bind_int(s, 2, now_ms);
    return ht_db_exec(store, s);
}

int64_t ht_store_destination_failures(ht_store *store, const char *destination) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_DESTINATION_GET);
    ht_db_bind_text(s, 1, destination);
    return ht_db_single_int(store, s);
}

bool ht_store_destination_failed(ht_store *store, const char *destination, int64_t retry_at_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_DESTINATION_FAILED);
    ht_db_bind_text(s, 1, destination);
    ht_db_bind_int(s, 2, retry_at_ms);
    return ht_db_exec(store, s);
}

bool ht_store_invite_state_put(ht_store *store, const char *room_id, const char *user_id, const char *json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_INVITE_STATE_PUT);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    ht_db_bind_text(s, 3, json);
    return ht_db_exec(store, s);
}

const char *ht_store_invite_state_get(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_INVITE_STATE_GET);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    const char *json = ht_db_row(store, s) ? ht_db_col_dup(arena, s, 0) : NULL;
    sqlite3_reset(s);
    return json;
}
