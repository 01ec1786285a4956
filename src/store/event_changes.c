/* event_changes.c -- telling a watcher which stored events changed.
 *
 * An event's JSON, status and position are fixed once written, except when
 * a redaction rewrites it, federation moves or re-judges it, a room is
 * purged, or a transaction that wrote it rolls back. A cache of parsed
 * events that lives across requests (room/event_cache.c) needs to hear of
 * each of those. Temporary triggers on the events table report every
 * UPDATE and DELETE, whichever statement makes it (so a new statement
 * cannot forget to), and the rollbacks are reported where they happen
 * (store.c: SQLite's rollback hook for whole transactions,
 * ht_store_rollback for a request's savepoint in a group). */
#include "store/db.h"

/* events_changed(stream, event_id), called by the triggers. */
static void changed_function(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    ht_store *store = sqlite3_user_data(ctx);
    if (store->watch) {
        const unsigned char *id = sqlite3_value_text(argv[1]);
        store->watch(store->watch_data, sqlite3_value_int64(argv[0]), (const char *)id);
    }
    sqlite3_result_null(ctx);
}

void ht_db_events_rolled_back(ht_store *store) {
    if (store->watch) store->watch(store->watch_data, 0, NULL);
}

bool ht_db_watch_events_setup(ht_store *store) {
    static const char triggers[] =
        "CREATE TEMP TRIGGER events_updated AFTER UPDATE ON main.events "
        "BEGIN SELECT events_changed(OLD.stream, OLD.event_id); END;"
        "CREATE TEMP TRIGGER events_deleted AFTER DELETE ON main.events "
        "BEGIN SELECT events_changed(OLD.stream, OLD.event_id); END;";
    return sqlite3_create_function(store->db, "events_changed", 2, SQLITE_UTF8 | SQLITE_DIRECTONLY, store,
                                   changed_function, NULL, NULL) == SQLITE_OK &&
           sqlite3_exec(store->db, triggers, NULL, NULL, NULL) == SQLITE_OK;
}

void ht_store_watch_events(ht_store *store, ht_event_watch watch, void *data) {
    store->watch = watch;
    store->watch_data = data;
}
