/* sql_int.h -- the one integer a query answers, for tests that look into a
 * database beside the store (a failing step fails the test). */
#ifndef HT_TESTS_SQL_INT_H
#define HT_TESTS_SQL_INT_H

#include <sqlite3.h>
#include <stdint.h>

int64_t sql_int(sqlite3 *db, const char *sql);

#endif
