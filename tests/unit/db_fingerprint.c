/* db_fingerprint.c -- see db_fingerprint.h. */
#include "db_fingerprint.h"

#include <string.h>

#include "unit.h"

void db_fingerprint(sqlite3 *db, unsigned char out[crypto_generichash_BYTES]) {
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, crypto_generichash_BYTES);
    sqlite3_stmt *tables;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", -1,
                                        &tables, NULL),
                     SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", name);
        sqlite3_stmt *rows;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &rows, NULL), SQLITE_OK);
        crypto_generichash_update(&h, (const unsigned char *)name, strlen(name) + 1);
        while (sqlite3_step(rows) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(rows); c++) {
                const unsigned char *v = sqlite3_column_blob(rows, c);
                int n = sqlite3_column_bytes(rows, c);
                unsigned char type = (unsigned char)sqlite3_column_type(rows, c);
                crypto_generichash_update(&h, &type, 1);
                if (v) crypto_generichash_update(&h, v, (size_t)n);
            }
        }
        sqlite3_finalize(rows);
        sqlite3_free(sql);
    }
    sqlite3_finalize(tables);
    crypto_generichash_final(&h, out, crypto_generichash_BYTES);
}
