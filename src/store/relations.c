/* relations.c -- the relations index, and the one indexing step every new
 * event goes through (see relations.h). */
#include "store/relations.h"

#include <string.h>

#include "store/db.h"
#include "store/search.h"

static const char *str(json_t *obj, const char *key) { return json_string_value(json_object_get(obj, key)); }

/* What of an event the full-text index holds: {type, content key}. */
static const char *const searchable[][2] = {
    {"m.room.message", "body"},
    {"m.room.name", "name"},
    {"m.room.topic", "topic"},
};

bool ht_store_event_index(ht_store *store, const ht_event_row *ev, json_t *content, const char *redacts) {
    bool ok = true;
    if (redacts) {
        sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_RELATION_FORGET);
        ht_db_bind_text(s, 1, redacts);
        ok &= ht_db_exec(store, s);
    }
    json_t *rel = json_object_get(content, "m.relates_to");
    const char *parent = str(rel, "event_id"), *rel_type = str(rel, "rel_type");
    if (parent && rel_type) {
        sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_RELATION_INSERT);
        ht_db_bind_int(s, 1, ev->stream);
        ht_db_bind_text(s, 2, ev->room_id);
        ht_db_bind_text(s, 3, parent);
        ht_db_bind_text(s, 4, rel_type);
        ht_db_bind_text(s, 5, ev->type);
        ok &= ht_db_exec(store, s);
    }
    for (size_t i = 0; i < sizeof searchable / sizeof *searchable; i++) {
        if (strcmp(ev->type, searchable[i][0]) != 0) continue;
        const char *text = str(content, searchable[i][1]);
        if (text && *text)
            ok &= ht_store_search_add(store, ev->stream, text);
    }
    return ok;
}

size_t ht_store_relations(ht_store *store, ht_arena *arena, const char *room_id, const char *parents_json,
                          const char *rel_type, const char *type, bool back, int64_t from, int64_t end,
                          int64_t limit, int64_t **out) {
    sqlite3_stmt *s = ht_db_stmt(store, back ? HT_STMT_RELATIONS_BACK : HT_STMT_RELATIONS_FORWARD);
    ht_db_bind_text(s, 1, parents_json);
    ht_db_bind_text(s, 2, room_id);
    ht_db_bind_text(s, 3, rel_type);
    ht_db_bind_text(s, 4, type);
    ht_db_bind_int(s, 5, from);
    ht_db_bind_int(s, 6, end);
    ht_db_bind_int(s, 7, limit);
    return ht_db_int_list(store, arena, s, out);
}

bool ht_store_thread_summary(ht_store *store, const char *room_id, const char *root_id, const char *user_id,
                             ht_thread_summary *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_THREAD_SUMMARY);
    ht_db_bind_text(s, 1, root_id);
    ht_db_bind_text(s, 2, room_id);
    ht_db_bind_text(s, 3, user_id);
    *out = (ht_thread_summary){0};
    if (ht_db_row(store, s))
        *out = (ht_thread_summary){ht_db_col_int(s, 0), ht_db_col_int(s, 1), ht_db_col_int(s, 2) != 0};
    sqlite3_reset(s);
    return out->count > 0;
}

bool ht_store_room_has_threads(ht_store *store, const char *room_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ROOM_HAS_THREADS);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_single_int(store, s) != 0;
}

size_t ht_store_thread_roots(ht_store *store, ht_arena *arena, const char *room_id, int64_t before,
                             int64_t ceiling, const char *participant, int64_t limit, ht_thread_root **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_THREAD_ROOTS);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, before);
    ht_db_bind_int(s, 3, ceiling);
    ht_db_bind_text(s, 4, participant);
    ht_db_bind_int(s, 5, limit);
    size_t n = 0, cap = 0;
    ht_thread_root *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_thread_root){ht_db_col_int(s, 0), ht_db_col_int(s, 1)};
    }
    *out = list;
    return n;
}
