/* unread.c -- push actions and the unread counts kept from them (see
 * unread.h). A recount reads the member's push actions after their floor
 * once and sorts them into threads by each thread's own mark: the one
 * operation that puts every count right from the kept actions, used
 * whenever a mark moves. */
#include "store/unread.h"

#include <string.h>

#include "store/db.h"

size_t ht_store_members_joined(ht_store *store, ht_arena *arena, const char *room_id, bool with_names,
                               ht_member_push **out) {
    sqlite3_stmt *s = ht_db_stmt(store, with_names ? HT_STMT_MEMBERS_JOINED : HT_STMT_MEMBERS_JOINED_NO_NAMES);
    ht_db_bind_text(s, 1, room_id);
    size_t n = 0, cap = 0;
    ht_member_push *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_member_push){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1), ht_db_col_int(s, 2) != 0};
    }
    *out = list;
    return n;
}

int64_t ht_store_read_floor(ht_store *store, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_READ_FLOOR);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    return ht_db_single_int(store, s);
}

static sqlite3_stmt *member_stmt(ht_store *store, ht_stmt_id id, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, id);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, room_id);
    return s;
}

bool ht_store_push_action_put(ht_store *store, const char *room_id, const char *user_id, int64_t stream,
                              const char *thread_id, bool highlight, const char *actions) {
    sqlite3_stmt *s = member_stmt(store, HT_STMT_PUSH_ACTION_PUT, room_id, user_id);
    ht_db_bind_int(s, 3, stream);
    ht_db_bind_text(s, 4, thread_id);
    ht_db_bind_int(s, 5, highlight);
    ht_db_bind_text(s, 6, actions);
    if (!ht_db_exec(store, s)) return false;
    s = member_stmt(store, HT_STMT_UNREAD_ADD, room_id, user_id);
    ht_db_bind_text(s, 3, thread_id);
    ht_db_bind_int(s, 4, highlight);
    return ht_db_exec(store, s);
}

bool ht_store_unread_own_event(ht_store *store, const char *room_id, const char *user_id, const char *thread_id,
                               int64_t stream) {
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_OWN, room_id, user_id);
    ht_db_bind_text(s, 3, thread_id);
    ht_db_bind_int(s, 4, stream);
    return ht_db_exec(store, s);
}

bool ht_store_push_actions_clear(ht_store *store, const char *room_id, const char *user_id, int64_t after) {
    sqlite3_stmt *s = member_stmt(store, HT_STMT_PUSH_ACTIONS_CLEAR, room_id, user_id);
    ht_db_bind_int(s, 3, after);
    return ht_db_exec(store, s);
}

bool ht_store_push_actions_redacted(ht_store *store, ht_arena *arena, const char *room_id, int64_t stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PUSH_ACTIONS_OF_EVENT);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, stream);
    size_t n = 0, cap = 0;
    const char **members = NULL;
    while (ht_db_row(store, s)) {
        members = ht_arena_push(arena, members, sizeof *members, n, &cap);
        members[n++] = ht_db_col_dup(arena, s, 0);
    }
    sqlite3_reset(s);
    if (ht_store_failed(store)) return false;
    for (size_t i = 0; i < n; i++)
        if (!ht_store_unread_recount(store, arena, room_id, members[i])) return false;
    return true;
}

/* ---- recounting ------------------------------------------------------------ */

typedef struct tally {
    const char *thread_id;
    int64_t mark; /* read up to here in this thread (besides the floor) */
    int64_t notifications, highlights;
} tally;

typedef struct tallies {
    tally *list;
    size_t count, cap;
} tallies;

static tally *tally_of(ht_arena *arena, tallies *t, const char *thread_id) {
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->list[i].thread_id, thread_id) == 0) return &t->list[i];
    t->list = ht_arena_push(arena, t->list, sizeof *t->list, t->count, &t->cap);
    t->list[t->count] = (tally){.thread_id = ht_arena_strdup(arena, thread_id)};
    return &t->list[t->count++];
}

bool ht_store_unread_recount(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id) {
    int64_t floor = ht_store_read_floor(store, room_id, user_id);
    tallies t = {0};
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_MARKS, room_id, user_id);
    while (ht_db_row(store, s)) {
        tally *one = tally_of(arena, &t, ht_db_col_text(s, 0));
        int64_t mark = ht_db_col_int(s, 1);
        if (mark > one->mark) one->mark = mark;
    }
    s = member_stmt(store, HT_STMT_PUSH_ACTIONS_AFTER, room_id, user_id);
    ht_db_bind_int(s, 3, floor);
    while (ht_db_row(store, s)) {
        tally *one = tally_of(arena, &t, ht_db_col_text(s, 0));
        if (ht_db_col_int(s, 1) <= one->mark) continue;
        one->notifications++;
        one->highlights += ht_db_col_int(s, 2) != 0;
    }
    if (ht_store_failed(store) || !ht_db_exec(store, member_stmt(store, HT_STMT_UNREAD_ZERO, room_id, user_id)))
        return false;
    for (size_t i = 0; i < t.count; i++) {
        if (!t.list[i].notifications) continue;
        s = member_stmt(store, HT_STMT_UNREAD_SET, room_id, user_id);
        ht_db_bind_text(s, 3, t.list[i].thread_id);
        ht_db_bind_int(s, 4, t.list[i].notifications);
        ht_db_bind_int(s, 5, t.list[i].highlights);
        if (!ht_db_exec(store, s)) return false;
    }
    return true;
}

size_t ht_store_unread_get(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                           ht_unread_row **out) {
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_GET, room_id, user_id);
    size_t n = 0, cap = 0;
    ht_unread_row *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_unread_row){ht_db_col_dup(arena, s, 0), ht_db_col_int(s, 1), ht_db_col_int(s, 2)};
    }
    *out = list;
    return n;
}

/* ---- judged or stale --------------------------------------------------------- */

ht_unread_state ht_store_unread_state(ht_store *store, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_ROOM_GET, room_id, user_id);
    ht_unread_state state = HT_UNREAD_UNJUDGED;
    if (ht_db_row(store, s)) state = ht_db_col_int(s, 0) ? HT_UNREAD_STALE : HT_UNREAD_JUDGED;
    sqlite3_reset(s);
    return state;
}

bool ht_store_unread_set_judged(ht_store *store, const char *room_id, const char *user_id) {
    return ht_db_exec(store, member_stmt(store, HT_STMT_UNREAD_ROOM_JUDGED, room_id, user_id));
}

bool ht_store_unread_stale_user(ht_store *store, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UNREAD_STALE_USER);
    ht_db_bind_text(s, 1, user_id);
    return ht_db_exec(store, s);
}

bool ht_store_unread_stale_room(ht_store *store, const char *room_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UNREAD_STALE_ROOM);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_exec(store, s);
}

bool ht_store_unread_stale_member(ht_store *store, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UNREAD_STALE_MEMBER);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    return ht_db_exec(store, s);
}

bool ht_store_unread_stale_count_rules(ht_store *store, const char *room_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_UNREAD_STALE_COUNT_RULES);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_exec(store, s);
}
