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

/* From now on a commit's sync of db's WAL (open, and this VFS's) only
 * writes its frames to the file: the host syncs the file itself. A
 * checkpoint's syncs stay real. False if db's WAL is not this VFS's. */
bool ht_wal_writes_leave_syncs_to_host(sqlite3 *db);

#endif
