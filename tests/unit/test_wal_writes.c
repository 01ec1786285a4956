/* test_wal_writes.c -- the VFS that writes a commit's WAL frames at once
 * (store/wal_writes.h) must never hold back a committed byte: once COMMIT
 * returns, another connection, and a process started after this one died
 * without closing anything, read every row. */
#include "unit.h"
#include "sql_int.h"
#include "temp_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/wal_writes.h"

static sqlite3 *open_writer(const char *path) {
    assert_true(ht_wal_writes_register());
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, HT_WAL_WRITES_VFS),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                  "CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY, b TEXT NOT NULL);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return db;
}

/* Transaction k adds rows k*10 .. k*10+9, each `len` characters of 'k%10'. */
static void transaction_sql(char *sql, size_t size, int k, int len) {
    snprintf(sql, size,
             "BEGIN; WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x < 9) "
             "INSERT INTO t(n, b) SELECT %d * 10 + x, replace(hex(zeroblob(%d)), '00', '%d%d') FROM i; COMMIT;",
             k, len / 2, k % 10, k % 10);
}

static void write_transaction(sqlite3 *db, int k, int len) {
    char sql[256];
    transaction_sql(sql, sizeof sql, k, len);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* The rows of transactions 0 .. count-1 are all there, each byte right. */
static void assert_rows(sqlite3 *db, int count, int len) {
    char sql[256];
    assert_int_equal(sql_int(db, "SELECT count(*) FROM t"), count * 10);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM t WHERE length(b) = %d AND b = replace(hex(zeroblob(%d)), '00', "
             "((n / 10) %% 10) || ((n / 10) %% 10))",
             len, len / 2);
    assert_int_equal(sql_int(db, sql), count * 10);
}

static void test_another_connection_reads_each_commit_as_it_returns(void **state) {
    temp_dir *f = *state;
    sqlite3 *writer = open_writer(f->path);
    sqlite3 *reader;
    assert_int_equal(sqlite3_open_v2(f->path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    for (int k = 0; k < 40; k++) {
        write_transaction(writer, k, 3000); /* ten rows of most of a page each */
        assert_rows(reader, k + 1, 3000);
    }
    sqlite3_close(reader);
    sqlite3_close(writer);
}

static void test_a_commit_larger_than_the_buffer_is_whole(void **state) {
    temp_dir *f = *state;
    sqlite3 *writer = open_writer(f->path);
    write_transaction(writer, 0, 600000); /* 6 MB in one commit: past the 4 MiB buffer */
    write_transaction(writer, 1, 100);
    sqlite3 *reader;
    assert_int_equal(sqlite3_open_v2(f->path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sql_int(reader, "SELECT count(*) FROM t WHERE n < 10 AND b = "
                                    "replace(hex(zeroblob(300000)), '00', '00')"),
                     10);
    assert_int_equal(sql_int(reader, "SELECT count(*) FROM t WHERE n >= 10 AND b = "
                                    "replace(hex(zeroblob(50)), '00', '11')"),
                     10);
    sqlite3_close(reader);
    sqlite3_close(writer);
}

static void test_commits_survive_a_process_that_dies_without_closing(void **state) {
    temp_dir *f = *state;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* No cmocka here: a failed assertion would go on running the suite
         * in this process. */
        sqlite3 *db;
        if (!ht_wal_writes_register() ||
            sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, HT_WAL_WRITES_VFS) ||
            sqlite3_exec(db,
                         "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         "CREATE TABLE t (n INTEGER PRIMARY KEY, b TEXT NOT NULL);",
                         NULL, NULL, NULL))
            _exit(1);
        for (int k = 0; k < 25; k++) {
            char sql[256];
            transaction_sql(sql, sizeof sql, k, 2000);
            if (sqlite3_exec(db, sql, NULL, NULL, NULL)) _exit(1);
        }
        _exit(0); /* no close: what is not in the file by now is lost */
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_rows(db, 25, 2000);
    sqlite3_close(db);
}

int run_wal_writes_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_another_connection_reads_each_commit_as_it_returns, temp_dir_make,
                                        temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_a_commit_larger_than_the_buffer_is_whole, temp_dir_make, temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_commits_survive_a_process_that_dies_without_closing, temp_dir_make,
                                        temp_dir_remove),
    };
    return cmocka_run_group_tests_name("wal_writes", tests, NULL, NULL);
}
