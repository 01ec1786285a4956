/* store.h -- the database, seen from the rest of the core.
 *
 * Nothing outside src/store sees SQL or sqlite3. Each area of the API has a
 * header here (users.h, rooms.h, ...) with plain C functions; they all run
 * statements that were prepared once, when the store was opened. */
#ifndef HT_STORE_H
#define HT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ht_store ht_store;

/* Opens (creating if needed) and migrates the database. On failure returns
 * NULL with a sentence in err. */
ht_store *ht_store_open(const char *path, bool wal, char *err, size_t err_size);
void ht_store_close(ht_store *store);

/* One transaction per request: begin, then commit or roll back. Inside a
 * group these are a savepoint of the group's transaction, released or
 * rolled back to: the request is still all or nothing, and durable only
 * once the group commits. */
bool ht_store_begin(ht_store *store);
bool ht_store_commit(ht_store *store);
void ht_store_rollback(ht_store *store);
/* Group commit: one transaction, and one COMMIT (one fsync), around the
 * requests run between these two. ht_store_group_commit returns false when
 * nothing of the group was kept: its COMMIT failed, or an error made SQLite
 * roll the transaction back earlier (a request begun after that fails at
 * ht_store_begin). */
bool ht_store_group_begin(ht_store *store);
bool ht_store_group_commit(ht_store *store);
/* True if any statement failed since ht_store_begin: the request must not
 * be acknowledged. */
bool ht_store_failed(const ht_store *store);
/* Rows changed since the store was opened; a request wrote if it moved. */
int64_t ht_store_change_count(ht_store *store);
/* COMMITs since the store was opened (a WAL database's; 0 otherwise). */
uint64_t ht_store_commits(const ht_store *store);
/* A WAL database's commits are no longer synced (checkpoints still are):
 * whoever acknowledges them first syncs the WAL file (the path plus
 * "-wal") once ht_store_commits has moved. Each commit's frames are in that
 * file before it ends (wal_writes.h). */
bool ht_store_leave_syncs_to_host(ht_store *store);

/* Whoever keeps events read from the store beyond a request is told of
 * every change to a stored event (its JSON, status or position, or its
 * removal) with the event's old position and id, and of every rollback
 * with (0, NULL): forget everything, the store is as it was. Called from
 * inside the statement or rollback that made the change. */
typedef void (*ht_event_watch)(void *data, int64_t stream, const char *event_id);
void ht_store_watch_events(ht_store *store, ht_event_watch watch, void *data);

/* The schema version this build writes, and the one the file holds. */
int ht_store_schema_version_supported(void);
int ht_store_schema_version(ht_store *store);

/* Fault injection, for tests: the nth statement stepped from now on (in
 * any store; BEGIN and COMMIT count) fails as on a full disk; 0 disarms.
 * ht_store_fault_fired() says whether it has fired since it was armed. */
void ht_store_inject_fault(int nth);
bool ht_store_fault_fired(void);

/* The last error SQLite reported, for logs. */
const char *ht_store_last_error(ht_store *store);

#endif
