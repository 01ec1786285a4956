/* db_lock.h -- one hometab per database file.
 *
 * A server keeps an exclusive lock on PATH.lock for as long as it runs;
 * a second server on the same database, or `hometab restore` while one
 * runs, finds it taken and stops with a sentence instead of two processes
 * working on the same data. The lock is flock(2) on a file of its own: it
 * goes when the process does, however it ends, and it never meets SQLite's
 * own locks on the database file. */
#ifndef HT_NATIVE_DB_LOCK_H
#define HT_NATIVE_DB_LOCK_H

#include <stdbool.h>
#include <stddef.h>

/* Takes the lock: returns its descriptor (keep it open), or -1 with why
 * in err. ":memory:" needs none (returns -2). */
int ht_db_lock(const char *db_path, char *err, size_t err_size);
void ht_db_unlock(int fd);

#endif
