/* db.h -- private to src/store: the one place that runs SQL.
 *
 * Every statement the server uses is listed in statements.c, prepared when
 * the store opens (so a typo fails at start-up, in the unit tests, not in
 * front of a user) and reused with bound parameters. Text built from input
 * never reaches SQLite. */
#ifndef HT_STORE_DB_H
#define HT_STORE_DB_H

#include <sqlite3.h>

#include "store/accounts.h"
#include "store/checkpoint.h"
#include "store/meta.h"
#include "store/statements.h"
#include "store/store.h"
#include "util/arena.h"

/* What the transaction's writes said they concern (meta.c). */
typedef struct ht_scope {
    uint64_t base;          /* the stream position when the transaction began */
    uint64_t keys[HT_STORE_MAX_TOUCHED];
    size_t key_count;
    bool too_many;          /* more keys than fit: wake everyone */
    uint64_t covered[HT_STORE_SCOPE_POSITIONS / 64]; /* bit i: base + 1 + i was spoken for */
    bool beyond;            /* a position past the bitmap was touched */
} ht_scope;

/* The statements that open and end transactions and savepoints (store.c). */
typedef enum ht_txn_id {
    HT_TXN_BEGIN, HT_TXN_COMMIT, HT_TXN_ROLLBACK, HT_TXN_SAVEPOINT, HT_TXN_RELEASE, HT_TXN_ROLLBACK_TO,
    HT_TXN_COUNT
} ht_txn_id;

struct ht_store {
    sqlite3 *db;
    sqlite3_stmt *stmts[HT_STMT_COUNT];
    sqlite3_stmt *txn[HT_TXN_COUNT];
    bool in_transaction; /* a request's: its own, or a savepoint in a group */
    bool in_group;       /* a group's transaction is open (ht_store_group_begin) */
    bool group_lost;     /* ...and SQLite has rolled it back by itself */
    bool failed; /* an SQL error happened in this request */
    int last_rc; /* result of the last ht_db_exec */
    ht_scope scope;
    ht_event_watch watch; /* told of changed events (event_changes.c) */
    void *watch_data;
    struct ht_token_cache *tokens; /* remembered access tokens (token_cache.c) */
    uint64_t commits;    /* COMMITs since open, counted by the WAL hook */
    ht_wal_frames wal;     /* the WAL as the last commit or checkpoint left it */
    bool host_checkpoints; /* checkpoint.h */
};

/* checkpoint.c: the WAL hook, set when the store opens. */
int ht_store_wal_hook(void *data, sqlite3 *db, const char *name, int frames);

/* A write that stamps rows with stream position `position` says which key
 * they concern (util/wake.h). Every position the transaction advances to
 * must be spoken for by some write, or every long-poll wakes. */
void ht_db_touch(ht_store *store, uint64_t position, uint64_t key);
/* The same for a user and every room they are joined to: what their
 * presence or their device list concerns. */
void ht_db_touch_user_and_rooms(ht_store *store, uint64_t position, const char *user_id);

/* search.c: the SQL functions the schema and the statements use
 * (words(text)); registered when the store opens, before migrating. */
bool ht_db_register_functions(sqlite3 *db);
/* member_keys.c: name_key(text) and user_key(user_id), which it calls. */
bool ht_db_register_member_keys(sqlite3 *db);
/* txn_keys.c: txn_key(user_id, device_id, txn), which it calls too. */
bool ht_db_register_txn_keys(sqlite3 *db);

/* event_changes.c: the triggers that tell the watcher, set up once the
 * schema is migrated; and the report of a rollback (store.c makes it for
 * a transaction, from SQLite's rollback hook, and for a request's
 * savepoint, which that hook does not see). */
bool ht_db_watch_events_setup(ht_store *store);
void ht_db_events_rolled_back(ht_store *store);

/* token_cache.c: access tokens remembered between requests. Set up once
 * the schema is migrated (its triggers forget them when a token or user
 * row changes); ht_db_tokens_forget on every rollback. */
typedef struct ht_token_cache ht_token_cache;
bool ht_db_token_cache_setup(ht_store *store);
void ht_db_token_cache_free(ht_store *store);
/* The row remembered for the token's hash: false if none is. */
bool ht_db_token_remembered(ht_store *store, ht_arena *arena, const unsigned char *hash, size_t hash_len,
                            ht_token_row *out);
void ht_db_token_remember(ht_store *store, const unsigned char *hash, size_t hash_len, const ht_token_row *row);
void ht_db_tokens_forget(ht_store *store);

/* Returns the prepared statement, reset and with its bindings cleared. */
sqlite3_stmt *ht_db_stmt(ht_store *store, ht_stmt_id id);

/* Binds text (NULL binds SQL NULL), integers and blobs by 1-based index. */
void ht_db_bind_text(sqlite3_stmt *s, int i, const char *text);
void ht_db_bind_int(sqlite3_stmt *s, int i, int64_t v);
void ht_db_bind_blob(sqlite3_stmt *s, int i, const void *data, size_t len);

/* Steps once: true if a row is ready. Errors are logged and read as "no row";
 * the request's transaction is then rolled back by the core. */
bool ht_db_row(ht_store *store, sqlite3_stmt *s);
/* Steps a statement that returns no rows; false on error. */
bool ht_db_exec(ht_store *store, sqlite3_stmt *s);
/* True if the last ht_db_exec failed on a UNIQUE or PRIMARY KEY constraint. */
bool ht_db_was_constraint(ht_store *store);

/* Column text copied into... nothing: valid until the next step or reset. */
const char *ht_db_col_text(sqlite3_stmt *s, int col);
int64_t ht_db_col_int(sqlite3_stmt *s, int col);
/* The first column of the first row as an integer, 0 if there is no row;
 * the statement is reset afterwards. */
int64_t ht_db_single_int(ht_store *store, sqlite3_stmt *s);
/* The first column of every row, as an arena array of integers or of
 * strings copied into the arena; returns how many. */
size_t ht_db_int_list(ht_store *store, ht_arena *arena, sqlite3_stmt *s, int64_t **out);
size_t ht_db_text_list(ht_store *store, ht_arena *arena, sqlite3_stmt *s, const char ***out);
/* Column text copied into the arena; NULL for SQL NULL. */
const char *ht_db_col_dup(ht_arena *arena, sqlite3_stmt *s, int col);

#endif
