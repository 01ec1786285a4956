/* wal_writes.h -- a VFS that hands the WAL a commit's frames in a few large
 * writes (wal_writes.c), for the native build's file database. */
#ifndef HT_STORE_WAL_WRITES_H
#define HT_STORE_WAL_WRITES_H

#include <sqlite3.h>
#include <stdbool.h>

#define HT_WAL_WRITES_VFS "hometab-wal-writes"

/* Registers the VFS (once; not as the default). False if the default VFS
 * cannot be wrapped. */
bool ht_wal_writes_register(void);

/* Writes db's pending WAL frames to the file now (SQLITE_OK if none were
 * pending, or db's WAL is not this VFS's). With synchronous=NORMAL no sync
 * flushes a commit's frames, and the host syncs the WAL file itself: so
 * they go to the file as each commit ends (store.c's WAL hook). */
int ht_wal_writes_flush(sqlite3 *db);

#endif
