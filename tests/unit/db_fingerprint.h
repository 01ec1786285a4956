/* db_fingerprint.h -- a digest of every row of every table of a SQLite
 * database: equal digests, same database. The fault and group-commit tests
 * prove with it that a failed request changed nothing. */
#ifndef HT_TESTS_DB_FINGERPRINT_H
#define HT_TESTS_DB_FINGERPRINT_H

#include <sodium.h>
#include <sqlite3.h>

void db_fingerprint(sqlite3 *db, unsigned char out[crypto_generichash_BYTES]);

#endif
