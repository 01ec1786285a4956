#include "store/rooms.h"

#include "store/db.h"
#include "store/search.h"
#include "util/wake.h"

bool ht_store_room_insert(ht_store *store, const char *room_id, const char *version,
                          const char *creator, int64_t now_ms, bool published) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ROOM_INSERT);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, version);
    ht_db_bind_text(s, 3, creator);
    ht_db_bind_int(s, 4, now_ms);
    ht_db_bind_int(s, 5, published);
    return ht_db_exec(store, s);
}

bool ht_store_room_get(ht_store *store, ht_arena *arena, const char *room_id, ht_room_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ROOM_GET);
    ht_db_bind_text(s, 1, room_id);
    bool found = ht_db_row(store, s);
    if (found) {
        out->version = ht_db_col_dup(arena, s, 0);
        out->creator = ht_db_col_dup(arena, s, 1);
        out->published = ht_db_col_int(s, 2) != 0;
    }
    sqlite3_reset(s);
    return found;
}

bool ht_store_room_set_published(ht_store *store, const char *room_id, bool published) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ROOM_SET_PUBLISHED);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, published);
    return ht_db_exec(store, s);
}

bool ht_store_alias_insert(ht_store *store, const char *alias, const char *room_id,
                           const char *creator) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ALIAS_INSERT);
    ht_db_bind_text(s, 1, alias);
    ht_db_bind_text(s, 2, room_id);
    ht_db_bind_text(s, 3, creator);
    return ht_db_exec(store, s);
}

const char *ht_store_alias_get(ht_store *store, ht_arena *arena, const char *alias,
                               const char **creator) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ALIAS_GET);
    ht_db_bind_text(s, 1, alias);
    const char *room_id = NULL;
    if (ht_db_row(store, s)) {
        room_id = ht_db_col_dup(arena, s, 0);
        if (creator) *creator = ht_db_col_dup(arena, s, 1);
    }
    sqlite3_reset(s);
    return room_id;
}

bool ht_store_alias_delete(ht_store *store, const char *alias) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ALIAS_DELETE);
    ht_db_bind_text(s, 1, alias);
    return ht_db_exec(store, s);
}

size_t ht_store_alias_list(ht_store *store, ht_arena *arena, const char *room_id,
                           const char ***out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ALIAS_LIST);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_text_list(store, arena, s, out);
}

bool ht_store_membership_set(ht_store *store, const char *room_id, const char *user_id,
                             const char *membership, const char *display_name, int64_t stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERSHIP_SET);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    ht_db_bind_text(s, 3, membership);
    ht_db_bind_int(s, 4, stream);
    ht_db_bind_text(s, 5, display_name);
    ht_db_touch(store, (uint64_t)stream, ht_wake_key(HT_WAKE_USER, user_id));
    return ht_db_exec(store, s);
}

const char *ht_store_membership_get(ht_store *store, ht_arena *arena, const char *room_id,
                                    const char *user_id, int64_t *stream, bool *forgotten) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERSHIP_GET);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    const char *membership = NULL;
    if (ht_db_row(store, s)) {
        membership = ht_db_col_dup(arena, s, 0);
        if (stream) *stream = ht_db_col_int(s, 1);
        if (forgotten) *forgotten = ht_db_col_int(s, 2) != 0;
    }
    sqlite3_reset(s);
    return membership;
}

bool ht_store_membership_forget(ht_store *store, const char *room_id, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERSHIP_FORGET);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    return ht_db_exec(store, s);
}

static size_t membership_list(ht_store *store, ht_arena *arena, sqlite3_stmt *s, bool per_user,
                              ht_membership_row **out) {
    size_t n = 0, cap = 0;
    ht_membership_row *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        ht_membership_row *m = &list[n++];
        *m = (ht_membership_row){0};
        if (per_user) m->room_id = ht_db_col_dup(arena, s, 0);
        else m->user_id = ht_db_col_dup(arena, s, 0);
        m->membership = ht_db_col_dup(arena, s, 1);
        m->stream = ht_db_col_int(s, 2);
    }
    *out = list;
    return n;
}

size_t ht_store_memberships_of_user(ht_store *store, ht_arena *arena, const char *user_id,
                                    ht_membership_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERSHIPS_OF_USER);
    ht_db_bind_text(s, 1, user_id);
    return membership_list(store, arena, s, true, out);
}

size_t ht_store_members_of_room(ht_store *store, ht_arena *arena, const char *room_id,
                                ht_membership_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERS_OF_ROOM);
    ht_db_bind_text(s, 1, room_id);
    return membership_list(store, arena, s, false, out);
}

int64_t ht_store_members_joined_count(ht_store *store, const char *room_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERS_JOINED_COUNT);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_single_int(store, s);
}

int64_t ht_store_members_invited_count(ht_store *store, const char *room_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERS_INVITED_COUNT);
    ht_db_bind_text(s, 1, room_id);
    return ht_db_single_int(store, s);
}

size_t ht_store_member_heroes(ht_store *store, ht_arena *arena, const char *room_id, const char *except,
                              int64_t limit, const char ***out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBERS_HEROES);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, except);
    ht_db_bind_int(s, 3, limit);
    return ht_db_text_list(store, arena, s, out);
}

bool ht_store_member_joined_after(ht_store *store, const char *room_id, const char *user_id,
                                  int64_t stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_MEMBER_JOINED_AFTER);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, user_id);
    ht_db_bind_int(s, 3, stream);
    bool found = ht_db_row(store, s);
    sqlite3_reset(s);
    return found;
}

bool ht_store_event_insert(ht_store *store, const ht_event_row *ev) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_EVENT_INSERT);
    ht_db_bind_int(s, 1, ev->stream);
    ht_db_bind_text(s, 2, ev->event_id);
    ht_db_bind_text(s, 3, ev->room_id);
    ht_db_bind_text(s, 4, ev->type);
    ht_db_bind_text(s, 5, ev->state_key);
    ht_db_bind_text(s, 6, ev->sender);
    ht_db_bind_int(s, 7, ev->origin_ts);
    ht_db_bind_int(s, 8, ev->depth);
    ht_db_bind_text(s, 9, ev->json);
    ht_db_bind_text(s, 10, ev->txn_id);
    ht_db_bind_text(s, 11, ev->device_id);
    if (ev->prev_state) ht_db_bind_int(s, 12, ev->prev_state);
    ht_db_bind_int(s, 13, ev->status);
    if (ev->state_group) ht_db_bind_int(s, 14, ev->state_group);
    /* An event concerns everyone in its room; a member event also its
     * subject (ht_store_membership_set), who may not be in it yet. */
    ht_db_touch(store, (uint64_t)ev->stream, ht_wake_key(HT_WAKE_ROOM, ev->room_id));
    return ht_db_exec(store, s);
}

/* Decodes a row of HT_EVENT_COLUMNS. */
static void event_read(ht_arena *arena, sqlite3_stmt *s, ht_event_row *ev) {
    ev->stream = ht_db_col_int(s, 0);
    ev->event_id = ht_db_col_dup(arena, s, 1);
    ev->room_id = ht_db_col_dup(arena, s, 2);
    ev->type = ht_db_col_dup(arena, s, 3);
    ev->state_key = ht_db_col_dup(arena, s, 4);
    ev->sender = ht_db_col_dup(arena, s, 5);
    ev->origin_ts = ht_db_col_int(s, 6);
    ev->depth = ht_db_col_int(s, 7);
    ev->json = ht_db_col_dup(arena, s, 8);
    ev->redacted_by = ht_db_col_dup(arena, s, 9);
    ev->txn_id = ht_db_col_dup(arena, s, 10);
    ev->device_id = ht_db_col_dup(arena, s, 11);
    ev->prev_state = ht_db_col_int(s, 12);
    ev->status = (ht_event_status)ht_db_col_int(s, 13);
    ev->state_group = ht_db_col_int(s, 14);
}

static bool event_one(ht_store *store, ht_arena *arena, sqlite3_stmt *s, ht_event_row *out) {
    bool found = ht_db_row(store, s);
    if (found) event_read(arena, s, out);
    sqlite3_reset(s);
    return found;
}

bool ht_store_event_by_id(ht_store *store, ht_arena *arena, const char *event_id, ht_event_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_EVENT_BY_ID);
    ht_db_bind_text(s, 1, event_id);
    return event_one(store, arena, s, out);
}

bool ht_store_event_key(ht_store *store, ht_arena *arena, const char *event_id, const char **room_id,
                        const char **type, const char **state_key) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_EVENT_KEY_BY_ID);
    ht_db_bind_text(s, 1, event_id);
    bool found = ht_db_row(store, s);
    if (found) {
        *room_id = ht_db_col_dup(arena, s, 0);
        *type = ht_db_col_dup(arena, s, 1);
        *state_key = ht_db_col_dup(arena, s, 2);
    }
    sqlite3_reset(s);
    return found;
}

bool ht_store_event_by_stream(ht_store *store, ht_arena *arena, int64_t stream, ht_event_row *out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_EVENT_BY_STREAM);
    ht_db_bind_int(s, 1, stream);
    return event_one(store, arena, s, out);
}

bool ht_store_event_redact(ht_store *store, int64_t stream, const char *json, const char *redacted_by) {
    /* Its words are found by the text they came from: before it goes. */
    if (!ht_store_search_forget(store, stream)) return false;
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_EVENT_REDACT);
    ht_db_bind_int(s, 1, stream);
    ht_db_bind_text(s, 2, json);
    ht_db_bind_text(s, 3, redacted_by);
    return ht_db_exec(store, s);
}

bool ht_store_event_signed(ht_store *store, int64_t stream, const char *json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_EVENT_SIGNED);
    ht_db_bind_int(s, 1, stream);
    ht_db_bind_text(s, 2, json);
    return ht_db_exec(store, s);
}

bool ht_store_redaction_wait(ht_store *store, const char *target, const char *room_id, int64_t stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_REDACTION_WAIT);
    ht_db_bind_text(s, 1, target);
    ht_db_bind_text(s, 2, room_id);
    ht_db_bind_int(s, 3, stream);
    return ht_db_exec(store, s);
}

bool ht_store_redaction_waiting(ht_store *store, const char *target, int64_t *stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_REDACTION_WAITING);
    ht_db_bind_text(s, 1, target);
    if (!ht_db_row(store, s)) return false;
    *stream = ht_db_col_int(s, 0); /* history's positions go below 1 */
    return true;
}

bool ht_store_redaction_waited(ht_store *store, const char *target) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_REDACTION_WAITED);
    ht_db_bind_text(s, 1, target);
    return ht_db_exec(store, s);
}

static size_t event_list(ht_store *store, ht_arena *arena, sqlite3_stmt *s, ht_event_row **out) {
    size_t n = 0, cap = 0;
    ht_event_row *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        event_read(arena, s, &list[n++]);
    }
    *out = list;
    return n;
}

size_t ht_store_events_after(ht_store *store, ht_arena *arena, const char *room_id, int64_t after,
                             int64_t upto, int64_t limit, ht_event_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_EVENTS_AFTER);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, after);
    ht_db_bind_int(s, 3, upto);
    ht_db_bind_int(s, 4, limit);
    return event_list(store, arena, s, out);
}

size_t ht_store_events_before(ht_store *store, ht_arena *arena, const char *room_id, int64_t from,
                              int64_t down_to, int64_t limit, ht_event_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_EVENTS_BEFORE);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, from);
    ht_db_bind_int(s, 3, down_to);
    ht_db_bind_int(s, 4, limit);
    return event_list(store, arena, s, out);
}

size_t ht_store_events_of_joined_rooms(ht_store *store, ht_arena *arena, const char *user_id, int64_t before,
                                       int64_t limit, ht_event_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_EVENTS_OF_JOINED_ROOMS);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, before);
    ht_db_bind_int(s, 3, limit);
    return event_list(store, arena, s, out);
}

size_t ht_store_events_by_ts(ht_store *store, ht_arena *arena, const char *room_id, bool forward,
                             int64_t ts, int64_t stream, int64_t upto, int64_t limit,
                             ht_event_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, forward ? HT_STMT_EVENTS_FROM_TS : HT_STMT_EVENTS_UNTIL_TS);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, ts);
    ht_db_bind_int(s, 3, stream);
    ht_db_bind_int(s, 4, upto);
    ht_db_bind_int(s, 5, limit);
    return event_list(store, arena, s, out);
}

int64_t ht_store_room_max_stream(ht_store *store, const char *room_id, int64_t upto) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ROOM_MAX_STREAM_BELOW);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, upto);
    return ht_db_single_int(store, s);
}

bool ht_store_state_change(ht_store *store, const char *room_id, const char *type,
                           const char *state_key, int64_t event_stream, int64_t at) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STATE_LOG_INSERT);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, type);
    ht_db_bind_text(s, 3, state_key);
    ht_db_bind_int(s, 4, at);
    if (event_stream) ht_db_bind_int(s, 5, event_stream);
    if (!ht_db_exec(store, s)) return false;
    s = ht_db_stmt(store, event_stream ? HT_STMT_STATE_SET : HT_STMT_STATE_DELETE);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, type);
    ht_db_bind_text(s, 3, state_key);
    if (event_stream) ht_db_bind_int(s, 4, event_stream);
    return ht_db_exec(store, s);
}

int64_t ht_store_state_get(ht_store *store, const char *room_id, const char *type,
                           const char *state_key) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STATE_GET);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, type);
    ht_db_bind_text(s, 3, state_key);
    return ht_db_single_int(store, s);
}

int64_t ht_store_state_at(ht_store *store, const char *room_id, const char *type,
                          const char *state_key, int64_t at) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STATE_AT);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, type);
    ht_db_bind_text(s, 3, state_key);
    ht_db_bind_int(s, 4, at);
    return ht_db_single_int(store, s);
}

size_t ht_store_state_list(ht_store *store, ht_arena *arena, const char *room_id, int64_t at,
                           int64_t **out) {
    sqlite3_stmt *s = ht_db_stmt(store, at ? HT_STMT_STATE_LIST_AT : HT_STMT_STATE_LIST);
    ht_db_bind_text(s, 1, room_id);
    if (at) ht_db_bind_int(s, 2, at);
    return ht_db_int_list(store, arena, s, out);
}

size_t ht_store_state_list_lazy(ht_store *store, ht_arena *arena, const char *room_id, int64_t at,
                                const char *users_json, int64_t **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STATE_LIST_AT_LAZY);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, at);
    ht_db_bind_text(s, 3, users_json);
    return ht_db_int_list(store, arena, s, out);
}

size_t ht_store_state_of_type(ht_store *store, ht_arena *arena, const char *room_id, const char *type,
                              int64_t limit, int64_t **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STATE_OF_TYPE);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, type);
    ht_db_bind_int(s, 3, limit);
    return ht_db_int_list(store, arena, s, out);
}

size_t ht_store_state_changed(ht_store *store, ht_arena *arena, const char *room_id, int64_t after,
                              int64_t upto, int64_t **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STATE_CHANGED_BETWEEN);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_int(s, 2, after);
    ht_db_bind_int(s, 3, upto);
    return ht_db_int_list(store, arena, s, out);
}

const char *ht_store_txn_get(ht_store *store, ht_arena *arena, const char *user_id,
                             const char *device_id, const char *txn_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TXN_GET);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, txn_id);
    const char *event_id = ht_db_row(store, s) ? ht_db_col_dup(arena, s, 0) : NULL;
    sqlite3_reset(s);
    return event_id;
}

bool ht_store_txn_put(ht_store *store, const char *user_id, const char *device_id,
                      const char *txn_id, int64_t stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_TXN_PUT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, device_id);
    ht_db_bind_text(s, 3, txn_id);
    ht_db_bind_int(s, 4, stream);
    return ht_db_exec(store, s);
}
