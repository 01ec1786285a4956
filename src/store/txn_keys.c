/* txn_keys.c -- the SQL function txn_key(user_id, device_id, txn): the key a
 * client's transaction is remembered by in txn_keys (migration 19).
 *
 * The design decision: the key is the first 16 bytes of SHA-256 over the
 * three parts, each NUL-terminated (none can hold a NUL), not the parts
 * themselves. A row is then about 25 bytes, not 170 (a txn "id" is the
 * request's whole path), so a leaf holds six times as many and a group of
 * sends splits a leaf far less often: the old table's rows were a quarter
 * of the pages a commit wrote. 128 bits make a collision, which would
 * answer a new request with another's event, as unlikely as a guessed
 * access token. Computed in C and reached from SQL, so the live path
 * (TXN_GET, TXN_PUT) and the migration that converts the rows key alike. */
#include <string.h>

#include "store/db.h"
#include "util/buf.h"
#include "util/crypto.h"

enum { TXN_KEY_BYTES = 16 };

static void txn_key_function(sqlite3_context *context, int argc, sqlite3_value **argv) {
    ht_buf parts = {0};
    for (int i = 0; i < argc; i++) {
        const char *part = (const char *)sqlite3_value_text(argv[i]);
        if (part) ht_buf_append(&parts, part, strlen(part));
        ht_buf_append(&parts, "", 1);
    }
    unsigned char digest[HT_SHA256_BYTES];
    ht_sha256(parts.data, parts.len, digest);
    ht_buf_free(&parts);
    sqlite3_result_blob(context, digest, TXN_KEY_BYTES, SQLITE_TRANSIENT);
}

bool ht_db_register_txn_keys(sqlite3 *db) {
    return sqlite3_create_function(db, "txn_key", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   txn_key_function, NULL, NULL) == SQLITE_OK;
}
