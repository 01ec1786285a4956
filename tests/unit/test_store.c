/* test_store.c -- opening, pragmas and migrations of the SQLite store.
 *
 * Files live in a fresh temporary folder per test, removed afterwards. The
 * refusals matter most: a file written by a newer hometab, or one that is
 * not a database at all, must be refused with a sentence saying why and
 * left exactly as it was. */
#include "unit.h"
#include "temp_dir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/accounts.h"
#include "store/checkpoint.h"
#include "store/db.h"
#include "store/graph.h"
#include "store/meta.h"
#include "store/rooms.h"
#include "util/crypto.h"

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)n + 1);
    *len = fread(data, 1, (size_t)n, fp);
    fclose(fp);
    return data;
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static char *pragma_text(ht_store *store, const char *pragma) {
    static char value[64];
    sqlite3_stmt *s;
    value[0] = '\0';
    if (sqlite3_prepare_v2(store->db, pragma, -1, &s, NULL) != SQLITE_OK) return value;
    if (sqlite3_step(s) == SQLITE_ROW) snprintf(value, sizeof value, "%s", sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return value;
}

/* Writes a real SQLite file whose user_version is `version`. */
static void write_database_with_version(const char *path, int version) {
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE TABLE t(x); INSERT INTO t VALUES (42); PRAGMA user_version=%d;",
             version);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_store_opens_in_memory(void **state) {
    (void)state;
    char err[256] = "";
    ht_store *store = ht_store_open(":memory:", false, err, sizeof err);
    assert_non_null(store);
    assert_string_equal(err, "");
    assert_int_equal(ht_store_schema_version(store), ht_store_schema_version_supported());
    assert_string_equal(pragma_text(store, "PRAGMA foreign_keys"), "1");
    ht_store_close(store);
}

static void test_store_opens_a_file_in_wal_mode(void **state) {
    temp_dir *f = *state;
    char err[256] = "";
    ht_store *store = ht_store_open(f->path, true, err, sizeof err);
    assert_non_null(store);
    assert_true(exists(f->path));
    assert_string_equal(pragma_text(store, "PRAGMA journal_mode"), "wal");
    assert_string_equal(pragma_text(store, "PRAGMA synchronous"), "2"); /* FULL */
    ht_store_close(store);
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The WAL hook (store.c, on_commit) counts every commit, a statement's own
 * included, and checkpoints as wal_autocheckpoint would: the WAL of 40 MiB
 * of commits stays near the 16 MiB of its 4,000 pages. Left to the host, a
 * commit's frames are in the file when it ends (what the host syncs), and
 * checkpoints sync as SQLITE_SYNC_FULL, which wal_writes.c still honours. */
static void test_store_counts_commits_checkpoints_and_leaves_syncs_to_the_host(void **state) {
    temp_dir *f = *state;
    char err[256] = "";
    ht_store *store = ht_store_open(f->path, true, err, sizeof err);
    assert_non_null(store);
    assert_true(ht_store_leave_syncs_to_host(store));
    assert_string_equal(pragma_text(store, "PRAGMA checkpoint_fullfsync"), "1");
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", f->path);

    uint64_t before = ht_store_commits(store);
    assert_int_equal(sqlite3_exec(store->db, "CREATE TABLE filler(b BLOB)", NULL, NULL, NULL), SQLITE_OK);
    assert_true(ht_store_commits(store) == before + 1);
    long wal_before = file_size(wal);
    assert_int_equal(sqlite3_exec(store->db, "INSERT INTO filler VALUES (zeroblob(100000))", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_true(ht_store_commits(store) == before + 2);
    assert_true(file_size(wal) >= wal_before + 100000); /* the frames are in the file, unsynced */

    for (int i = 0; i < 40; i++) {
        assert_true(ht_store_begin(store));
        assert_int_equal(sqlite3_exec(store->db, "INSERT INTO filler VALUES (randomblob(1048576))", NULL, NULL,
                                      NULL),
                         SQLITE_OK);
        assert_true(ht_store_commit(store));
    }
    assert_true(ht_store_commits(store) == before + 42);
    long grown = file_size(wal);
    assert_true(grown > 0 && grown < 24L * 1024 * 1024);
    ht_store_close(store);
}

/* A store whose host checkpoints (store/checkpoint.h) does not checkpoint
 * by itself at 16 MiB: the WAL of 40 MiB of commits stays whole. Another
 * connection's checkpoint copies it all; told so, the store asks for no
 * checkpoint, and its next commit starts the WAL over (the file does not
 * grow). */
static void test_store_left_to_a_host_checkpoints_only_what_the_host_copies(void **state) {
    temp_dir *f = *state;
    char err[256] = "";
    ht_store *store = ht_store_open(f->path, true, err, sizeof err);
    assert_non_null(store);
    assert_true(ht_store_leave_syncs_to_host(store));
    ht_store_host_checkpoints(store);
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_equal(sqlite3_exec(store->db, "CREATE TABLE filler(b BLOB)", NULL, NULL, NULL), SQLITE_OK);
    for (int i = 0; i < 40; i++)
        assert_int_equal(sqlite3_exec(store->db, "INSERT INTO filler VALUES (randomblob(1048576))", NULL, NULL, NULL),
                         SQLITE_OK);
    long grown = file_size(wal);
    assert_true(grown > 40L * 1024 * 1024);
    ht_wal_frames before = ht_store_wal_frames(store);
    assert_true(before.frames > HT_CHECKPOINT_FRAMES && before.copied == 0);

    ht_store_checkpointer *other = ht_store_checkpointer_open(f->path, err, sizeof err);
    assert_non_null(other);
    ht_wal_frames copied;
    assert_true(ht_store_checkpointer_run(other, &copied));
    assert_int_equal(copied.frames, before.frames);
    assert_int_equal(copied.copied, before.frames);
    ht_store_wal_copied(store, copied);
    assert_int_equal(ht_store_wal_frames(store).copied, before.frames);

    assert_int_equal(sqlite3_exec(store->db, "INSERT INTO filler VALUES (zeroblob(10))", NULL, NULL, NULL), SQLITE_OK);
    ht_wal_frames after = ht_store_wal_frames(store);
    assert_true(after.frames < 10 && after.copied == 0);
    assert_int_equal(file_size(wal), grown);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(store->db, "SELECT count(*) FROM filler", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 41);
    sqlite3_finalize(s);
    ht_store_checkpointer_close(other);
    ht_store_close(store);
}

static void test_user_version_equals_supported_version(void **state) {
    temp_dir *f = *state;
    char err[256];
    assert_true(ht_store_schema_version_supported() >= 1);
    ht_store *store = ht_store_open(f->path, true, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(ht_store_schema_version(store), ht_store_schema_version_supported());
    ht_store_close(store);

    sqlite3 *db;
    sqlite3_open(f->path, &db);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), ht_store_schema_version_supported());
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void test_reopening_keeps_data_and_does_not_migrate_again(void **state) {
    temp_dir *f = *state;
    char err[256];
    ht_store *store = ht_store_open(f->path, true, err, sizeof err);
    assert_non_null(store);
    assert_true(ht_store_begin(store));
    assert_int_equal(ht_store_stream_advance(store), 1);
    assert_true(ht_store_commit(store));
    ht_store_close(store);

    store = ht_store_open(f->path, true, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(ht_store_stream_position(store), 1);
    assert_int_equal(ht_store_schema_version(store), ht_store_schema_version_supported());
    ht_store_close(store);
}

static void test_newer_schema_is_refused_and_left_unchanged(void **state) {
    temp_dir *f = *state;
    write_database_with_version(f->path, 999);
    size_t before_len, after_len;
    unsigned char *before = read_file(f->path, &before_len);

    char err[512] = "";
    ht_store *store = ht_store_open(f->path, true, err, sizeof err);
    assert_null(store);
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "999"));
    assert_non_null(strstr(err, "newer"));

    unsigned char *after = read_file(f->path, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_false(exists(wal));
    free(before);
    free(after);
}

static void test_non_database_file_is_refused_and_left_unchanged(void **state) {
    temp_dir *f = *state;
    static const char text[] = "this is a text file, not a database; it is long enough to have a header."
                               "................................................................";
    FILE *fp = fopen(f->path, "wb");
    fwrite(text, 1, sizeof text - 1, fp);
    fclose(fp);

    char err[512] = "";
    ht_store *store = ht_store_open(f->path, true, err, sizeof err);
    assert_null(store);
    assert_non_null(strstr(err, f->path));
    assert_non_null(strstr(err, "not a database"));

    size_t len;
    unsigned char *after = read_file(f->path, &len);
    assert_int_equal(len, sizeof text - 1);
    assert_memory_equal(after, text, len);
    free(after);
}

static void test_missing_folder_is_refused_with_reason(void **state) {
    temp_dir *f = *state;
    char path[256], err[512] = "";
    snprintf(path, sizeof path, "%s/no/such/folder/db.sqlite", f->dir);
    assert_null(ht_store_open(path, true, err, sizeof err));
    assert_non_null(strstr(err, path));
    assert_false(exists(path));
}

static void test_older_schema_is_migrated(void **state) {
    temp_dir *f = *state;
    /* An empty SQLite file has user_version 0: every migration runs. */
    sqlite3 *db;
    sqlite3_open(f->path, &db);
    sqlite3_exec(db, "CREATE TABLE keepme(x); INSERT INTO keepme VALUES (7);", NULL, NULL, NULL);
    sqlite3_close(db);

    char err[256];
    ht_store *store = ht_store_open(f->path, true, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(ht_store_schema_version(store), ht_store_schema_version_supported());
    assert_string_equal(pragma_text(store, "SELECT x FROM keepme"), "7");
    /* Migration 8 made it, 18 drops it: the later migrations ran too. */
    assert_string_equal(pragma_text(store, "SELECT count(*) FROM sqlite_schema WHERE name = 'event_edges_prev'"),
                        "0");
    ht_store_close(store);
}

static void test_stream_position_advances_on_commit_only(void **state) {
    (void)state;
    char err[256];
    ht_store *store = ht_store_open(":memory:", false, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(ht_store_stream_position(store), 0);

    int64_t changes = ht_store_change_count(store);
    assert_true(ht_store_begin(store));
    assert_int_equal(ht_store_stream_advance(store), 1);
    assert_int_equal(ht_store_stream_advance(store), 2);
    assert_false(ht_store_failed(store));
    assert_true(ht_store_commit(store));
    assert_int_equal(ht_store_stream_position(store), 2);
    assert_true(ht_store_change_count(store) > changes);

    assert_true(ht_store_begin(store));
    assert_int_equal(ht_store_stream_advance(store), 3);
    ht_store_rollback(store);
    assert_int_equal(ht_store_stream_position(store), 2);
    ht_store_close(store);
}

/* A room's forward extremities come deepest first (the later stored first
 * at equal depth), and past a limit the deepest are the ones given. */
static void test_extremities_come_deepest_first_and_the_limit_keeps_the_deepest(void **state) {
    (void)state;
    char err[256];
    ht_store *store = ht_store_open(":memory:", false, err, sizeof err);
    assert_non_null(store);
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    assert_true(ht_store_begin(store));
    assert_true(ht_store_room_insert(store, "!r:x", "10", "@a:x", 0, false));
    static const struct { int64_t stream, depth; const char *id; } tips[] = {
        {1, 5, "$a"}, {2, 9, "$b"}, {3, 7, "$c"}, {4, 9, "$d"}, {5, 2, "$e"},
    };
    for (size_t i = 0; i < sizeof tips / sizeof *tips; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO events(stream, event_id, room_id, type, sender, origin_ts, depth, json) "
                 "VALUES (%lld, '%s', '!r:x', 'm.room.message', '@a:x', 0, %lld, '{}')",
                 (long long)tips[i].stream, tips[i].id, (long long)tips[i].depth);
        assert_int_equal(sqlite3_exec(store->db, sql, NULL, NULL, NULL), SQLITE_OK);
        assert_true(ht_store_extremity_add(store, "!r:x", tips[i].id));
    }
    ht_extremity_row *rows;
    const char *const all[] = {"$d", "$b", "$c", "$a", "$e"};
    assert_int_equal(ht_store_extremities(store, &arena, "!r:x", 5, &rows), 5);
    for (size_t i = 0; i < 5; i++) assert_string_equal(rows[i].event_id, all[i]);
    assert_int_equal(ht_store_extremities(store, &arena, "!r:x", 10, &rows), 5);
    for (size_t i = 0; i < 5; i++) assert_string_equal(rows[i].event_id, all[i]);
    assert_int_equal(ht_store_extremities(store, &arena, "!r:x", 3, &rows), 3);
    for (size_t i = 0; i < 3; i++) assert_string_equal(rows[i].event_id, all[i]);
    assert_int_equal(rows[0].depth, 9);
    assert_int_equal(rows[0].stream, 4);
    ht_store_rollback(store);
    ht_arena_free(&arena);
    ht_store_close(store);
}

/* ---- remembered access tokens (token_cache.c) ---------------------------- */

/* As requests hash a token: the cache's slots go by the hash. */
static void token_hash(const char *token, unsigned char hash[HT_SHA256_BYTES]) {
    ht_sha256(token, strlen(token), hash);
}

/* A user with a device and a token, committed. */
static void add_session(ht_store *store, const char *user_id, const char *device_id, const char *token) {
    unsigned char hash[HT_SHA256_BYTES];
    token_hash(token, hash);
    assert_true(ht_store_begin(store));
    ht_arena arena;
    ht_arena_init(&arena, 1024);
    ht_user_row user;
    if (!ht_store_user_get(store, &arena, user_id, &user)) assert_true(ht_store_user_insert(store, user_id, "x", 1));
    ht_arena_free(&arena);
    assert_true(ht_store_device_upsert(store, user_id, device_id, NULL, 1));
    assert_true(ht_store_token_insert(store, hash, sizeof hash, user_id, device_id, 1));
    assert_true(ht_store_commit(store));
}

/* Whether the token is found, as the lookup of every request finds it. */
static bool token_known(ht_store *store, const char *token, bool *deactivated) {
    unsigned char hash[HT_SHA256_BYTES];
    token_hash(token, hash);
    ht_arena arena;
    ht_arena_init(&arena, 1024);
    ht_token_row row;
    bool found = ht_store_token_lookup(store, &arena, hash, sizeof hash, &row);
    if (deactivated) *deactivated = found && row.deactivated;
    ht_arena_free(&arena);
    return found;
}

/* A token is looked up (and so remembered) just before each change that
 * ends it; the next lookup must not find it. */
static void test_a_remembered_token_is_forgotten_when_its_rows_change(void **state) {
    (void)state;
    char err[256];
    ht_store *store = ht_store_open(":memory:", false, err, sizeof err);
    assert_non_null(store);
    bool deactivated;

    /* A logout: the token's row deleted. */
    add_session(store, "@a:x", "DA", "token-a");
    assert_true(token_known(store, "token-a", NULL));
    assert_true(token_known(store, "token-a", NULL)); /* the remembered answer */
    assert_true(ht_store_begin(store));
    assert_true(ht_store_token_delete_device(store, "@a:x", "DA"));
    assert_true(ht_store_commit(store));
    assert_false(token_known(store, "token-a", NULL));

    /* A device deleted: its tokens go by the foreign key's cascade. */
    add_session(store, "@b:x", "DB", "token-b");
    assert_true(token_known(store, "token-b", NULL));
    assert_true(ht_store_begin(store));
    assert_true(ht_store_device_delete(store, "@b:x", "DB"));
    assert_true(ht_store_commit(store));
    assert_false(token_known(store, "token-b", NULL));

    /* A deactivation: the token's user row changed. */
    add_session(store, "@c:x", "DC", "token-c");
    assert_true(token_known(store, "token-c", &deactivated));
    assert_false(deactivated);
    assert_true(ht_store_begin(store));
    assert_true(ht_store_user_deactivate(store, "@c:x"));
    assert_true(ht_store_commit(store));
    assert_true(token_known(store, "token-c", &deactivated));
    assert_true(deactivated);
    ht_store_close(store);
}

/* What a rolled-back transaction or savepoint wrote is not remembered: a
 * token it added and someone looked up before the rollback is unknown
 * after it; a token it deleted is known again. */
static void test_a_rollback_forgets_the_tokens_remembered_inside_it(void **state) {
    (void)state;
    char err[256];
    ht_store *store = ht_store_open(":memory:", false, err, sizeof err);
    assert_non_null(store);
    add_session(store, "@a:x", "DA", "token-a");
    unsigned char hash[HT_SHA256_BYTES];
    token_hash("token-new", hash);

    /* A whole transaction. */
    assert_true(ht_store_begin(store));
    assert_true(ht_store_token_insert(store, hash, sizeof hash, "@a:x", "DA", 2));
    assert_true(token_known(store, "token-new", NULL));
    ht_store_rollback(store);
    assert_false(token_known(store, "token-new", NULL));

    assert_true(token_known(store, "token-a", NULL));
    assert_true(ht_store_begin(store));
    assert_true(ht_store_token_delete_device(store, "@a:x", "DA"));
    assert_false(token_known(store, "token-a", NULL));
    ht_store_rollback(store);
    assert_true(token_known(store, "token-a", NULL));

    /* A request's savepoint inside a group commit. */
    assert_true(ht_store_group_begin(store));
    assert_true(ht_store_begin(store));
    assert_true(ht_store_token_insert(store, hash, sizeof hash, "@a:x", "DA", 2));
    assert_true(token_known(store, "token-new", NULL));
    ht_store_rollback(store);
    assert_false(token_known(store, "token-new", NULL));
    assert_true(ht_store_group_commit(store));
    assert_false(token_known(store, "token-new", NULL));
    ht_store_close(store);
}

int run_store_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_opens_in_memory),
        cmocka_unit_test_setup_teardown(test_store_opens_a_file_in_wal_mode, temp_dir_make, temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_store_left_to_a_host_checkpoints_only_what_the_host_copies, temp_dir_make,
                                        temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_store_counts_commits_checkpoints_and_leaves_syncs_to_the_host,
                                        temp_dir_make, temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_user_version_equals_supported_version, temp_dir_make, temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_reopening_keeps_data_and_does_not_migrate_again, temp_dir_make,
                                        temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_newer_schema_is_refused_and_left_unchanged, temp_dir_make,
                                        temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_non_database_file_is_refused_and_left_unchanged, temp_dir_make,
                                        temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_missing_folder_is_refused_with_reason, temp_dir_make, temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_older_schema_is_migrated, temp_dir_make, temp_dir_remove),
        cmocka_unit_test(test_stream_position_advances_on_commit_only),
        cmocka_unit_test(test_extremities_come_deepest_first_and_the_limit_keeps_the_deepest),
        cmocka_unit_test(test_a_remembered_token_is_forgotten_when_its_rows_change),
        cmocka_unit_test(test_a_rollback_forgets_the_tokens_remembered_inside_it),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
