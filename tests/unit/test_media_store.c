/* test_media_store.c -- a media file's bytes in parts (store/media.c): read
 * back exactly at any offset and length, and files stored whole by an older
 * schema cut into parts by the migration. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/media.h"
#include "store/schema.h"
#include "store/store.h"

static unsigned char *pattern(size_t len, unsigned seed) {
    unsigned char *p = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) p[i] = (unsigned char)((i * 31 + seed * 7 + (i >> 11)) & 0xff);
    return p;
}

static void test_bytes_read_back_at_any_offset(void **state) {
    (void)state;
    char err[256];
    ht_store *store = ht_store_open(":memory:", false, err, sizeof err);
    assert_non_null(store);
    size_t len = 3 * HT_MEDIA_PART_BYTES + 123;
    unsigned char *file = pattern(len, 1);
    assert_true(ht_store_begin(store));
    assert_true(ht_store_media_insert(store, "m1", "@a:x", 1, "application/octet-stream", NULL, file, len));
    assert_true(ht_store_media_insert(store, "empty", "@a:x", 1, "text/plain", NULL, NULL, 0));
    assert_true(ht_store_commit(store));

    unsigned char *got = malloc(len);
    assert_true(ht_store_media_read(store, "m1", 0, got, len));
    assert_memory_equal(got, file, len);
    /* Across part boundaries, in odd pieces. */
    size_t offsets[] = {1, HT_MEDIA_PART_BYTES - 1, HT_MEDIA_PART_BYTES, 2 * HT_MEDIA_PART_BYTES + 5, len - 1};
    for (size_t i = 0; i < sizeof offsets / sizeof *offsets; i++) {
        size_t n = len - offsets[i] < 70000 ? len - offsets[i] : 70000;
        assert_true(ht_store_media_read(store, "m1", offsets[i], got, n));
        assert_memory_equal(got, file + offsets[i], n);
    }
    /* Past its end, and a file that is not there: false. */
    assert_false(ht_store_media_read(store, "m1", len - 10, got, 11));
    assert_false(ht_store_media_read(store, "nope", 0, got, 1));
    assert_true(ht_store_media_read(store, "empty", 0, got, 0));
    free(got);
    free(file);
    ht_store_close(store);
}

static void test_files_stored_whole_are_cut_into_parts_by_the_migration(void **state) {
    (void)state;
    char path[] = "/tmp/hometab-media-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    /* A database at schema 7, as an older hometab left it: a file of two
     * and a half parts, one of exactly one part, and an empty one. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (int v = 0; v < 7; v++) assert_int_equal(sqlite3_exec(db, ht_schema_migration(v), NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
    size_t sizes[] = {2 * HT_MEDIA_PART_BYTES + HT_MEDIA_PART_BYTES / 2, HT_MEDIA_PART_BYTES, 0};
    const char *ids[] = {"big", "one", "none"};
    unsigned char *files[3];
    for (int i = 0; i < 3; i++) {
        files[i] = pattern(sizes[i], (unsigned)i + 2);
        sqlite3_stmt *s;
        assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO media(media_id, uploader, created_ms, content_type, "
                                                "size, uploaded_ms, data) VALUES (?1, '@a:x', 1, 'x/y', ?2, 1, ?3)",
                                            -1, &s, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(s, 1, ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)sizes[i]);
        sqlite3_bind_blob(s, 3, files[i], (int)sizes[i], SQLITE_STATIC);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);

    char err[256];
    ht_store *store = ht_store_open(path, true, err, sizeof err);
    assert_non_null(store);
    assert_int_equal(ht_store_schema_version(store), ht_store_schema_version_supported());
    for (int i = 0; i < 3; i++) {
        unsigned char *got = malloc(sizes[i] + 1);
        assert_true(ht_store_media_read(store, ids[i], 0, got, sizes[i]));
        assert_memory_equal(got, files[i], sizes[i]);
        free(got);
        free(files[i]);
    }
    ht_store_close(store);
    unlink(path);
    char side[sizeof path + 8];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int run_media_store_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_read_back_at_any_offset),
        cmocka_unit_test(test_files_stored_whole_are_cut_into_parts_by_the_migration),
    };
    return cmocka_run_group_tests_name("media store", tests, NULL, NULL);
}
