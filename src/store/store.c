/* store.c -- opening, migrating and running the SQLite database.
 *
 * One connection, used by one request at a time. Natively the journal is WAL
 * with synchronous=FULL: a write we acknowledge must survive a power cut, not
 * only a crash of hometab. The native server's host takes a commit's sync
 * upon itself instead (ht_store_leave_syncs_to_host, wal_writes.h): it
 * syncs the WAL file on a thread of its own while the loop goes on, and
 * answers nothing that followed a commit before that commit's sync. In the browser the database
 * lives in memory and the host persists it, so journaling there would only
 * cost time. */
#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/schema.h"
#include "store/wal_writes.h"

static const char *const statement_sql[HT_STMT_COUNT] = {
#define HT_STMT_SQL(name, sql) [HT_STMT_##name] = sql,
    HT_STATEMENTS(HT_STMT_SQL)
#undef HT_STMT_SQL
};

static const char *const statement_names[HT_STMT_COUNT] = {
#define HT_STMT_NAME(name, sql) [HT_STMT_##name] = #name,
    HT_STATEMENTS(HT_STMT_NAME)
#undef HT_STMT_NAME
};

/* BEGIN, COMMIT and the savepoints run for every request: prepared once
 * (store->txn), not parsed again each time as sqlite3_exec would. */
static const char *const txn_sql[HT_TXN_COUNT] = {
    [HT_TXN_BEGIN] = "BEGIN",
    [HT_TXN_COMMIT] = "COMMIT",
    [HT_TXN_ROLLBACK] = "ROLLBACK",
    [HT_TXN_SAVEPOINT] = "SAVEPOINT request",
    [HT_TXN_RELEASE] = "RELEASE request",
    [HT_TXN_ROLLBACK_TO] = "ROLLBACK TO request",
};

static bool exec_script(sqlite3 *db, const char *sql, char *err, size_t err_size) {
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) == SQLITE_OK) return true;
    snprintf(err, err_size, "%s", message ? message : sqlite3_errmsg(db));
    sqlite3_free(message);
    return false;
}

static int read_user_version(sqlite3 *db) {
    sqlite3_stmt *s;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return version;
}

/* Refuses a file we must not touch: one that is not an SQLite database, or
 * one written by a newer hometab. This runs before any pragma, because even
 * switching the journal mode to WAL rewrites the file's header. */
static bool check_version(sqlite3 *db, const char *path, char *err, size_t err_size) {
    int version = read_user_version(db);
    if (version < 0) {
        snprintf(err, err_size, "%s is not a readable SQLite database: %s", path, sqlite3_errmsg(db));
        return false;
    }
    int latest = ht_schema_version_count();
    if (version > latest) {
        snprintf(err, err_size,
                 "%s has schema version %d, but this hometab knows only up to %d: "
                 "it was written by a newer hometab. Refusing to open it.",
                 path, version, latest);
        return false;
    }
    return true;
}

/* Brings the schema up to date, each migration in its own transaction. */
static bool migrate(sqlite3 *db, const char *path, char *err, size_t err_size) {
    int version = read_user_version(db);
    int latest = ht_schema_version_count();
    for (; version < latest; version++) {
        char step_err[512];
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d;", version + 1);
        if (!exec_script(db, "BEGIN IMMEDIATE;", step_err, sizeof step_err) ||
            !exec_script(db, ht_schema_migration(version), step_err, sizeof step_err) ||
            !exec_script(db, pragma, step_err, sizeof step_err) ||
            !exec_script(db, "COMMIT;", step_err, sizeof step_err)) {
            sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
            snprintf(err, err_size, "migrating %s from schema version %d failed: %s", path, version,
                     step_err);
            return false;
        }
    }
    return true;
}

/* What was remembered of the rows a rollback puts back is forgotten: the
 * parsed events a redaction or a move changed, the tokens a logout
 * deleted (and any read since). */
static void rolled_back(ht_store *store) {
    ht_db_events_rolled_back(store);
    ht_db_tokens_forget(store);
}

static void transaction_rolled_back(void *store) { rolled_back(store); }

ht_store *ht_store_open(const char *path, bool wal, char *err, size_t err_size) {
    /* SQLite counts every allocation for sqlite3_memory_used(), which we
     * never ask, under a global mutex: 3% of a send's CPU. It can be turned
     * off only before SQLite starts, so the first open does it and later
     * calls are refused, harmlessly. (The wasm build's SQLite is compiled
     * without the count.) */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    /* A file database's WAL gets each commit in a few large writes (wal_writes.h). */
    const char *vfs = wal && ht_wal_writes_register() ? HT_WAL_WRITES_VFS : NULL;
    if (sqlite3_open_v2(path, &db, flags, vfs) != SQLITE_OK) {
        snprintf(err, err_size, "cannot open database %s: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    char pragma_err[512];
    /* Checkpoints: checkpoint.h. */
    const char *pragmas = wal ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                              : "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;"
                                "PRAGMA foreign_keys=ON;";
    /* Once migrated (a migration's CREATE INDEX sorts a whole table, which
     * may spill to temporary files as it always has): temp_store=MEMORY. A
     * request inside a group commit is a savepoint, and SQLite keeps the
     * old copy of each page it changes in a journal of the savepoint's
     * own. Past 64 KiB (a send touches about twenty pages) that journal
     * became a temporary file: opened, written page by page and deleted
     * for every request, a quarter of a send's CPU. In memory it costs
     * what the request changed, which the request's own bounds limit. */
    const char *after_migrating = "PRAGMA temp_store=MEMORY;";
    if (!check_version(db, path, err, err_size)) {
        sqlite3_close(db);
        return NULL;
    }
    if (!ht_db_register_functions(db)) {
        snprintf(err, err_size, "cannot use database %s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    if (!exec_script(db, pragmas, pragma_err, sizeof pragma_err)) {
        snprintf(err, err_size, "cannot use database %s: %s", path, pragma_err);
        sqlite3_close(db);
        return NULL;
    }
    if (!migrate(db, path, err, err_size)) {
        sqlite3_close(db);
        return NULL;
    }
    if (!exec_script(db, after_migrating, pragma_err, sizeof pragma_err)) {
        snprintf(err, err_size, "cannot use database %s: %s", path, pragma_err);
        sqlite3_close(db);
        return NULL;
    }
    ht_store *store = calloc(1, sizeof *store);
    if (!store) {
        sqlite3_close(db);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    store->db = db;
    if (!ht_db_watch_events_setup(store) || !ht_db_token_cache_setup(store)) {
        snprintf(err, err_size, "cannot watch events and tokens in %s: %s", path, sqlite3_errmsg(db));
        ht_store_close(store);
        return NULL;
    }
    sqlite3_rollback_hook(db, transaction_rolled_back, store);
    if (wal) sqlite3_wal_hook(db, ht_store_wal_hook, store);
    for (int i = 0; i < HT_TXN_COUNT; i++) {
        if (sqlite3_prepare_v3(db, txn_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &store->txn[i], NULL) != SQLITE_OK) {
            snprintf(err, err_size, "%s does not prepare: %s", txn_sql[i], sqlite3_errmsg(db));
            ht_store_close(store);
            return NULL;
        }
    }
    for (int i = 0; i < HT_STMT_COUNT; i++) {
        if (sqlite3_prepare_v3(db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &store->stmts[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, err_size, "statement %s does not prepare: %s", statement_names[i],
                     sqlite3_errmsg(db));
            ht_store_close(store);
            return NULL;
        }
    }
    return store;
}

void ht_store_close(ht_store *store) {
    if (!store) return;
    for (int i = 0; i < HT_STMT_COUNT; i++) sqlite3_finalize(store->stmts[i]);
    for (int i = 0; i < HT_TXN_COUNT; i++) sqlite3_finalize(store->txn[i]);
    sqlite3_close(store->db);
    ht_db_token_cache_free(store);
    free(store);
}

/* ---- fault injection (tests) -------------------------------------------
 * SQLite's own way of proving its error paths: make the n-th operation
 * fail, for every n, and check each time that nothing was lost. Here the
 * operation is a statement step (BEGIN and COMMIT included), and it fails
 * as a full disk would. The countdown is process-wide, so that a test can
 * arm it from outside the core (the wasm build's tests, through an
 * export); production never arms it and pays one comparison a step. */
static int fault_countdown;
static bool fault_fired;

void ht_store_inject_fault(int nth) {
    fault_countdown = nth > 0 ? nth : 0;
    fault_fired = false;
}

bool ht_store_fault_fired(void) { return fault_fired; }

static bool fault_now(void) {
    if (fault_countdown <= 0 || --fault_countdown > 0) return false;
    fault_fired = true;
    return true;
}

/* ---- transactions -------------------------------------------------------
 * A request's transaction is a BEGIN ... COMMIT of its own, or, inside a
 * group (group commit: several requests, one COMMIT), a savepoint of the
 * group's transaction: RELEASE keeps its writes for the group's COMMIT,
 * ROLLBACK TO undoes them alone. Some errors (a full disk, I/O) make SQLite
 * roll back the whole transaction by itself; inside a group that takes the
 * writes of the requests before with it, so the group is then lost: no
 * further request may run in it (a savepoint there would open a new
 * transaction of its own) and its COMMIT reports failure. */

static bool txn_run(ht_store *store, ht_txn_id id) {
    sqlite3_stmt *s = store->txn[id];
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE;
}

/* The steps a test may make fail (fault injection); rollbacks never do. */
static bool exec_step(ht_store *store, ht_txn_id id) { return !fault_now() && txn_run(store, id); }

/* SQLite has ended the group's transaction by itself. */
static bool group_gone(ht_store *store) {
    if (store->in_group && !store->group_lost && sqlite3_get_autocommit(store->db)) store->group_lost = true;
    return store->group_lost;
}

bool ht_store_begin(ht_store *store) {
    store->failed = false;
    if (store->in_group) {
        if (group_gone(store) || !exec_step(store, HT_TXN_SAVEPOINT)) return false;
    } else if (!exec_step(store, HT_TXN_BEGIN)) {
        return false;
    }
    store->in_transaction = true;
    return true;
}

bool ht_store_commit(ht_store *store) {
    if (!store->in_transaction) return true;
    if (store->in_group) {
        if (!group_gone(store) && exec_step(store, HT_TXN_RELEASE)) {
            store->in_transaction = false;
            return true;
        }
        ht_store_rollback(store);
        return false;
    }
    store->in_transaction = false;
    if (exec_step(store, HT_TXN_COMMIT)) return true;
    fprintf(stderr, "hometab: commit failed: %s\n", sqlite3_errmsg(store->db));
    if (!sqlite3_get_autocommit(store->db)) txn_run(store, HT_TXN_ROLLBACK);
    return false;
}

void ht_store_rollback(ht_store *store) {
    if (!store->in_transaction) return;
    store->in_transaction = false;
    if (!store->in_group) {
        if (!sqlite3_get_autocommit(store->db)) txn_run(store, HT_TXN_ROLLBACK);
        return;
    }
    /* ROLLBACK TO keeps the savepoint open: RELEASE ends it. */
    if (group_gone(store)) return;
    if (!txn_run(store, HT_TXN_ROLLBACK_TO) || !txn_run(store, HT_TXN_RELEASE)) group_gone(store);
    rolled_back(store);
}

bool ht_store_group_begin(ht_store *store) {
    if (store->in_group || store->in_transaction) return false;
    store->failed = false;
    if (!exec_step(store, HT_TXN_BEGIN)) return false;
    store->in_group = true;
    store->group_lost = false;
    return true;
}

bool ht_store_group_commit(ht_store *store) {
    if (!store->in_group) return false;
    store->in_group = false;
    if (store->in_transaction) ht_store_rollback(store); /* a request left open: not the group's */
    if (!store->group_lost && !sqlite3_get_autocommit(store->db) && exec_step(store, HT_TXN_COMMIT)) return true;
    fprintf(stderr, "hometab: commit of a group failed: %s\n",
            store->group_lost ? "the transaction was rolled back by an earlier error" : sqlite3_errmsg(store->db));
    if (!sqlite3_get_autocommit(store->db)) txn_run(store, HT_TXN_ROLLBACK);
    store->group_lost = false;
    return false;
}

bool ht_store_failed(const ht_store *store) { return store->failed; }

int64_t ht_store_change_count(ht_store *store) { return sqlite3_total_changes64(store->db); }

uint64_t ht_store_commits(const ht_store *store) { return store->commits; }

bool ht_store_leave_syncs_to_host(ht_store *store) { return ht_wal_writes_leave_syncs_to_host(store->db); }

int ht_store_schema_version_supported(void) { return ht_schema_version_count(); }

int ht_store_schema_version(ht_store *store) { return read_user_version(store->db); }

const char *ht_store_last_error(ht_store *store) { return sqlite3_errmsg(store->db); }

/* ---- running statements ------------------------------------------------ */

sqlite3_stmt *ht_db_stmt(ht_store *store, ht_stmt_id id) {
    sqlite3_stmt *s = store->stmts[id];
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

void ht_db_bind_text(sqlite3_stmt *s, int i, const char *text) {
    if (text) sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
    else sqlite3_bind_null(s, i);
}

void ht_db_bind_int(sqlite3_stmt *s, int i, int64_t v) { sqlite3_bind_int64(s, i, v); }

void ht_db_bind_blob(sqlite3_stmt *s, int i, const void *data, size_t len) {
    sqlite3_bind_blob64(s, i, data, len, SQLITE_STATIC);
}

static void note_error(ht_store *store, sqlite3_stmt *s, int rc) {
    store->last_rc = rc;
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return; /* the caller decides what that means */
    if (store->failed) return;                    /* told once per request */
    store->failed = true;
    fprintf(stderr, "hometab: SQL error %d (%s) in: %s\n", rc, sqlite3_errmsg(store->db),
            sqlite3_sql(s));
}

/* Once a statement has failed, the request runs no more SQL. After some
 * errors (a full disk, I/O) SQLite rolls the whole transaction back by
 * itself, and any later statement would then run, and commit, on its own:
 * half a request written while the client is told 500. */
static int step(ht_store *store, sqlite3_stmt *s) {
    if (store->failed) return SQLITE_ABORT;
    return fault_now() ? SQLITE_FULL : sqlite3_step(s);
}

bool ht_db_row(ht_store *store, sqlite3_stmt *s) {
    int rc = step(store, s);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) note_error(store, s, rc);
    return false;
}

bool ht_db_exec(ht_store *store, sqlite3_stmt *s) {
    store->last_rc = SQLITE_OK;
    int rc = step(store, s);
    while (rc == SQLITE_ROW) rc = step(store, s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) return true;
    note_error(store, s, rc);
    return false;
}

bool ht_db_was_constraint(ht_store *store) { return (store->last_rc & 0xff) == SQLITE_CONSTRAINT; }

const char *ht_db_col_text(sqlite3_stmt *s, int col) {
    return (const char *)sqlite3_column_text(s, col);
}

int64_t ht_db_col_int(sqlite3_stmt *s, int col) { return sqlite3_column_int64(s, col); }

const char *ht_db_col_dup(ht_arena *arena, sqlite3_stmt *s, int col) {
    const char *t = ht_db_col_text(s, col);
    return t ? ht_arena_strndup(arena, t, (size_t)sqlite3_column_bytes(s, col)) : NULL;
}

int64_t ht_db_single_int(ht_store *store, sqlite3_stmt *s) {
    int64_t v = ht_db_row(store, s) ? ht_db_col_int(s, 0) : 0;
    sqlite3_reset(s);
    return v;
}

size_t ht_db_int_list(ht_store *store, ht_arena *arena, sqlite3_stmt *s, int64_t **out) {
    size_t n = 0, cap = 0;
    int64_t *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = ht_db_col_int(s, 0);
    }
    *out = list;
    return n;
}

size_t ht_db_text_list(ht_store *store, ht_arena *arena, sqlite3_stmt *s, const char ***out) {
    size_t n = 0, cap = 0;
    const char **list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = ht_db_col_dup(arena, s, 0);
    }
    *out = list;
    return n;
}
