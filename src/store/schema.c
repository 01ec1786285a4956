/* schema.c -- the database schema, as an ordered list of migrations.
 *
 * migrations[i] takes a database from user_version i to i + 1. A migration is
 * never edited once released: a change to the schema is a new entry at the
 * end. A file whose user_version is larger than this build knows was written
 * by a newer hometab; we refuse to open it rather than guess. */
#include "store/schema.h"

static const char *const migrations[] = {
    /* 1: the foundation. */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
    /* One monotonic position orders everything a /sync reports. */
    "CREATE TABLE stream (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL) STRICT;"
    "INSERT INTO stream(id, position) VALUES (1, 0);",
};

int ht_schema_version_count(void) { return (int)(sizeof migrations / sizeof *migrations); }

const char *ht_schema_migration(int from_version) {
    if (from_version < 0 || from_version >= ht_schema_version_count()) return 0;
    return migrations[from_version];
}
