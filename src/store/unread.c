/* unread.c -- the unread counts kept from push actions (see unread.h).
 *
 * A member's count in a thread is read in two parts: their own row (what
 * they were judged apart from the others, since the row was zeroed) and
 * the room's shared count of events that notified everyone judged alike,
 * since the shared position (seq) the row -- or, where they have no row
 * for the thread, their room -- was zeroed at (migration 14). */
#include "store/unread.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"

static size_t member_push_list(ht_store *store, ht_arena *arena, sqlite3_stmt *s, ht_member_push **out) {
    size_t n = 0, cap = 0;
    ht_member_push *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_member_push){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1), ht_db_col_int(s, 2) != 0};
    }
    *out = list;
    return n;
}

size_t ht_store_members_joined(ht_store *store, ht_arena *arena, const char *room_id, ht_member_push **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERS_JOINED);
    ht_db_bind_text(s, 1, room_id);
    return member_push_list(store, arena, s, out);
}

static int by_user_id(const void *a, const void *b) {
    return strcmp(((const ht_member_push *)a)->user_id, ((const ht_member_push *)b)->user_id);
}

size_t ht_store_members_apart(ht_store *store, ht_arena *arena, const char *room_id, const char *ids_json,
                              const char *words_json, ht_member_push **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERS_APART);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, ids_json);
    ht_db_bind_text(s, 3, words_json);
    size_t n = member_push_list(store, arena, s, out);
    /* Each member once (the statement lists one per key it matched), by id. */
    if (n > 1) qsort(*out, n, sizeof **out, by_user_id);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (!kept || strcmp((*out)[kept - 1].user_id, (*out)[i].user_id) != 0) (*out)[kept++] = (*out)[i];
    return kept;
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

/* ---- the shared counts ------------------------------------------------------ */

/* How many events in the room have notified the members judged alike. */
static int64_t alike_seq(ht_store *store, const char *room_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ALIKE_SEQ);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_single_int(store, s);
}

/* The thread's shared counts once the room's seq was `seq` (0: none yet). */
static ht_unread_row alike_at(ht_store *store, const char *room_id, const char *thread_id, int64_t seq) {
    ht_unread_row at = {thread_id, 0, 0};
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ALIKE_AT);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, thread_id);
    ht_db_bind_int(s, 3, seq);
    if (ht_db_row(store, s)) at.notifications = ht_db_col_int(s, 0), at.highlights = ht_db_col_int(s, 1);
    sqlite3_reset(s);
    return at;
}

bool ht_store_unread_alike_add(ht_store *store, const char *room_id, const char *thread_id, bool highlight) {
    int64_t seq = alike_seq(store, room_id) + 1;
    ht_unread_row now = alike_at(store, room_id, thread_id, seq);
    now.notifications += 1;
    now.highlights += highlight;
    const ht_stmt_id puts[] = {HT_STMT_ALIKE_LOG_PUT, HT_STMT_ALIKE_THREAD_PUT};
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *s = ht_db_stmt(store, puts[i]);
        ht_db_bind_text(s, 1, room_id);
        ht_db_bind_text(s, 2, thread_id);
        ht_db_bind_int(s, 3, seq);
        ht_db_bind_int(s, 4, now.notifications);
        ht_db_bind_int(s, 5, now.highlights);
        if (!ht_db_exec(store, s)) return false;
    }
    return true;
}

/* ---- a member's counts ------------------------------------------------------- */

bool ht_store_unread_add(ht_store *store, const char *room_id, const char *user_id, const char *thread_id,
                         int64_t notifications, int64_t highlights) {
    if (!notifications && !highlights) return true;
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_ADD, room_id, user_id);
    ht_db_bind_text(s, 3, thread_id);
    ht_db_bind_int(s, 4, notifications);
    ht_db_bind_int(s, 5, highlights);
    return ht_db_exec(store, s);
}

bool ht_store_unread_own_event(ht_store *store, const char *room_id, const char *user_id, const char *thread_id,
                               int64_t stream) {
    int64_t seq = alike_seq(store, room_id);
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_OWN, room_id, user_id);
    ht_db_bind_text(s, 3, thread_id);
    ht_db_bind_int(s, 4, stream);
    ht_db_bind_int(s, 5, seq);
    return ht_db_exec(store, s);
}

bool ht_store_unread_set(ht_store *store, const char *room_id, const char *user_id, const ht_unread_row *rows,
                         size_t n) {
    /* Every row, and the room for threads without one, starts again from
     * the shared counts as they are now. */
    int64_t seq = alike_seq(store, room_id);
    const ht_stmt_id zeros[] = {HT_STMT_UNREAD_ZERO, HT_STMT_UNREAD_ROOM_ZERO};
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *s = member_stmt(store, zeros[i], room_id, user_id);
        ht_db_bind_int(s, 3, seq);
        if (!ht_db_exec(store, s)) return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].notifications) continue;
        sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_SET, room_id, user_id);
        ht_db_bind_text(s, 3, rows[i].thread_id);
        ht_db_bind_int(s, 4, rows[i].notifications);
        ht_db_bind_int(s, 5, rows[i].highlights);
        ht_db_bind_int(s, 6, seq);
        if (!ht_db_exec(store, s)) return false;
    }
    return true;
}

size_t ht_store_unread_own_marks(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                                 ht_unread_row **out) {
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_OWN_MARKS, room_id, user_id);
    size_t n = 0, cap = 0;
    ht_unread_row *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_unread_row){ht_db_col_dup(arena, s, 0), ht_db_col_int(s, 1), 0};
    }
    *out = list;
    return n;
}

/* The member's room's shared position: where threads without a row of
 * theirs count from. */
static int64_t room_alike_seq(ht_store *store, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_ROOM_GET, room_id, user_id);
    int64_t seq = ht_db_row(store, s) ? ht_db_col_int(s, 1) : 0;
    sqlite3_reset(s);
    return seq;
}

/* The shared counts of the thread since `seq`. */
static void add_alike_since(ht_store *store, const char *room_id, ht_unread_row *row, int64_t seq) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ALIKE_LATEST);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, row->thread_id);
    bool any = ht_db_row(store, s);
    int64_t latest = any ? ht_db_col_int(s, 0) : 0, n = any ? ht_db_col_int(s, 1) : 0, h = any ? ht_db_col_int(s, 2) : 0;
    sqlite3_reset(s);
    if (latest <= seq) return;
    ht_unread_row then = alike_at(store, room_id, row->thread_id, seq);
    row->notifications += n - then.notifications;
    row->highlights += h - then.highlights;
}

/* A thread's count while it is read: the member's part and where the shared part counts from. */
typedef struct counted {
    ht_unread_row row;
    int64_t since;
} counted;

static counted *count_push(ht_arena *arena, counted *list, size_t *n, size_t *cap, ht_unread_row row, int64_t since) {
    list = ht_arena_push(arena, list, sizeof *list, *n, cap);
    list[(*n)++] = (counted){row, since};
    return list;
}

size_t ht_store_unread_get(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                           ht_unread_row **out) {
    int64_t room_seq = room_alike_seq(store, room_id, user_id);
    sqlite3_stmt *s = member_stmt(store, HT_STMT_UNREAD_GET, room_id, user_id);
    size_t n = 0, cap = 0;
    counted *list = NULL;
    while (ht_db_row(store, s))
        list = count_push(arena, list, &n, &cap,
                          (ht_unread_row){ht_db_col_dup(arena, s, 0), ht_db_col_int(s, 1), ht_db_col_int(s, 2)},
                          ht_db_col_int(s, 3));
    size_t own = n;
    /* Threads the member has no row in that notified since their room's position. */
    s = ht_db_stmt(store, HT_STMT_ALIKE_THREADS_SINCE);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, room_seq);
    while (ht_db_row(store, s)) {
        const char *thread_id = (const char *)sqlite3_column_text(s, 0);
        bool listed = false;
        for (size_t i = 0; i < own && !listed; i++) listed = strcmp(list[i].row.thread_id, thread_id) == 0;
        if (!listed)
            list = count_push(arena, list, &n, &cap, (ht_unread_row){ht_db_col_dup(arena, s, 0), 0, 0}, room_seq);
    }
    ht_unread_row *rows = ht_arena_alloc(arena, (n ? n : 1) * sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        rows[i] = list[i].row;
        add_alike_since(store, room_id, &rows[i], list[i].since);
        /* Never below zero, whatever a row was left at. */
        if (rows[i].notifications < 0) rows[i].notifications = 0;
        if (rows[i].highlights < 0) rows[i].highlights = 0;
    }
    *out = rows;
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
