/* graph.c -- edges, extremities and stored states of the event graph. */
#include "store/graph.h"

#include <stdlib.h>

#include "store/db.h"

bool ht_store_event_edges_put(ht_store *store, int64_t stream, const char *const *prev_ids, size_t n) {
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_EDGE_INSERT);
        ht_db_bind_int(s, 1, stream);
        ht_db_bind_text(s, 2, prev_ids[i]);
        if (!ht_db_exec(store, s)) return false;
    }
    return true;
}

bool ht_store_event_move(ht_store *store, int64_t from, int64_t to) {
    /* The references are moved after the row: foreign keys are checked at
     * the commit, when all agree again. */
    if (sqlite3_exec(store->db, "PRAGMA defer_foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) return false;
    static const ht_stmt_id moves[] = {HT_STMT_EVENT_MOVE,       HT_STMT_EVENT_MOVE_PREV_STATE,
                                       HT_STMT_EVENT_MOVE_EDGES, HT_STMT_EVENT_MOVE_STATE,
                                       HT_STMT_EVENT_MOVE_STATE_LOG, HT_STMT_EVENT_MOVE_GROUPS,
                                       HT_STMT_EVENT_MOVE_MEMBERSHIPS};
    for (size_t i = 0; i < sizeof moves / sizeof *moves; i++) {
        sqlite3_stmt *s = ht_db_stmt(store, moves[i]);
        ht_db_bind_int(s, 1, from);
        ht_db_bind_int(s, 2, to);
        if (!ht_db_exec(store, s)) return false;
    }
    return true;
}

int64_t ht_store_events_lowest_stream(ht_store *store) {
    return ht_db_single_int(store, ht_db_stmt(store, HT_STMT_EVENTS_LOWEST_STREAM));
}

bool ht_store_event_set_status(ht_store *store, int64_t stream, int status, int64_t state_group) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_EVENT_SET_STATUS);
    ht_db_bind_int(s, 1, stream);
    ht_db_bind_int(s, 2, status);
    if (state_group) ht_db_bind_int(s, 3, state_group);
    return ht_db_exec(store, s);
}

static size_t extremity_rows(ht_store *store, ht_arena *arena, ht_stmt_id id, const char *room_id, int64_t limit,
                             ht_extremity_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, id);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, limit);
    size_t n = 0, cap = 0;
    ht_extremity_row *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        rows[n++] = (ht_extremity_row){ht_db_col_dup(arena, s, 0), ht_db_col_int(s, 1), ht_db_col_int(s, 2)};
    }
    *out = rows;
    return n;
}

static int deepest_first(const void *a, const void *b) {
    const ht_extremity_row *x = a, *y = b;
    if (x->depth != y->depth) return x->depth > y->depth ? -1 : 1;
    return x->stream > y->stream ? -1 : x->stream < y->stream;
}

size_t ht_store_extremities(ht_store *store, ht_arena *arena, const char *room_id, int64_t limit,
                            ht_extremity_row **out) {
    /* A room has a few extremities, most often one: read them all unsorted
     * and sort them here, which skips the sorter SQLite sets up for ORDER
     * BY (2.0 us against 0.8 for one row). Only when there are more than
     * the limit does SQLite pick the deepest. */
    size_t n = extremity_rows(store, arena, HT_STMT_EXTREMITIES_ANY, room_id, limit + 1, out);
    if (n > (size_t)limit) return extremity_rows(store, arena, HT_STMT_EXTREMITIES_OF_ROOM, room_id, limit, out);
    if (n > 1) qsort(*out, n, sizeof **out, deepest_first);
    return n;
}

static bool extremity(ht_store *store, ht_stmt_id id, const char *room_id, const char *event_id) {
    sqlite3_stmt *s = ht_db_stmt(store, id);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, event_id);
    return ht_db_exec(store, s);
}

bool ht_store_extremity_add(ht_store *store, const char *room_id, const char *event_id) {
    return extremity(store, HT_STMT_EXTREMITY_INSERT, room_id, event_id);
}

bool ht_store_extremity_remove(ht_store *store, const char *room_id, const char *event_id) {
    return extremity(store, HT_STMT_EXTREMITY_DELETE, room_id, event_id);
}

static size_t entry_list(ht_store *store, ht_arena *arena, sqlite3_stmt *s, ht_state_entry_row **out) {
    size_t n = 0, cap = 0;
    ht_state_entry_row *rows = NULL;
    while (ht_db_row(store, s)) {
        rows = ht_arena_push(arena, rows, sizeof *rows, n, &cap);
        rows[n++] = (ht_state_entry_row){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                         ht_db_col_int(s, 2), ht_db_col_dup(arena, s, 3)};
    }
    *out = rows;
    return n;
}

size_t ht_store_state_keys_at(ht_store *store, ht_arena *arena, const char *room_id, int64_t at,
                              ht_state_entry_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, at ? HT_STMT_STATE_KEYS_AT : HT_STMT_STATE_KEYS_CURRENT);
    ht_db_bind_text(s, 1, room_id);
    if (at) ht_db_bind_int(s, 2, at);
    return entry_list(store, arena, s, out);
}

const char *ht_store_state_event_id(ht_store *store, ht_arena *arena, const char *room_id, const char *type,
                                    const char *state_key) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STATE_GET_EVENT_ID);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, type);
    ht_db_bind_text(s, 3, state_key);
    const char *id = ht_db_row(store, s) ? ht_db_col_dup(arena, s, 0) : NULL;
    sqlite3_reset(s);
    return id;
}

int64_t ht_store_state_group_put(ht_store *store, const char *room_id, int64_t base_stream,
                                 const ht_state_entry_row *entries, size_t n) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STATE_GROUP_INSERT);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, base_stream);
    int64_t group = ht_db_single_int(store, s);
    if (!group) return 0;
    for (size_t i = 0; i < n; i++) {
        s = ht_db_stmt(store, HT_STMT_STATE_GROUP_ENTRY_INSERT);
        ht_db_bind_int(s, 1, group);
        ht_db_bind_text(s, 2, entries[i].type);
        ht_db_bind_text(s, 3, entries[i].state_key);
        if (entries[i].event_stream) ht_db_bind_int(s, 4, entries[i].event_stream);
        if (!ht_db_exec(store, s)) return 0;
    }
    return group;
}

bool ht_store_state_group_get(ht_store *store, ht_arena *arena, int64_t group, int64_t *base_stream,
                              ht_state_entry_row **entries, size_t *n) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STATE_GROUP_BASE);
    ht_db_bind_int(s, 1, group);
    bool found = ht_db_row(store, s);
    if (found) *base_stream = ht_db_col_int(s, 0);
    sqlite3_reset(s);
    if (!found) return false;
    s = ht_db_stmt(store, HT_STMT_STATE_GROUP_ENTRIES);
    ht_db_bind_int(s, 1, group);
    *n = entry_list(store, arena, s, entries);
    return true;
}

bool ht_store_state_group_entry(ht_store *store, int64_t group, const char *type, const char *state_key,
                                int64_t *event_stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STATE_GROUP_ENTRY);
    ht_db_bind_int(s, 1, group);
    ht_db_bind_text(s, 2, type);
    ht_db_bind_text(s, 3, state_key);
    bool found = ht_db_row(store, s);
    if (found) *event_stream = ht_db_col_int(s, 0);
    sqlite3_reset(s);
    return found;
}
