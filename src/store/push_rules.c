/* push_rules.c -- push rules, changes to default rules, and pushers. */
#include "store/push_rules.h"

#include "store/db.h"
#include "store/unread.h"

size_t ht_store_push_rules_list(ht_store *store, ht_arena *arena, const char *user_id,
                                ht_push_rule_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PUSH_RULES_LIST);
    ht_db_bind_text(s, 1, user_id);
    size_t n = 0, cap = 0;
    ht_push_rule_row *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_push_rule_row){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                       ht_db_col_int(s, 2),        ht_db_col_int(s, 3) != 0,
                                       ht_db_col_dup(arena, s, 4), ht_db_col_dup(arena, s, 5),
                                       ht_db_col_dup(arena, s, 6)};
    }
    *out = list;
    return n;
}

/* Every change of a user's rules leaves their kept unread counts judged
 * by the old ones: stale, to be judged again when next read. */
static bool rules_changed(ht_store *store, sqlite3_stmt *s, const char *user_id) {
    return ht_db_exec(store, s) && ht_store_unread_stale_user(store, user_id);
}

bool ht_store_push_rule_put(ht_store *store, const char *user_id, const ht_push_rule_row *rule) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PUSH_RULE_PUT);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, rule->kind);
    ht_db_bind_text(s, 3, rule->rule_id);
    ht_db_bind_int(s, 4, rule->priority);
    ht_db_bind_int(s, 5, rule->enabled);
    ht_db_bind_text(s, 6, rule->actions);
    ht_db_bind_text(s, 7, rule->conditions);
    ht_db_bind_text(s, 8, rule->pattern);
    return rules_changed(store, s, user_id);
}

bool ht_store_push_rule_delete(ht_store *store, const char *user_id, const char *kind,
                               const char *rule_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PUSH_RULE_DELETE);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, kind);
    ht_db_bind_text(s, 3, rule_id);
    return rules_changed(store, s, user_id);
}

size_t ht_store_push_defaults_list(ht_store *store, ht_arena *arena, const char *user_id,
                                   ht_push_default_row **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PUSH_DEFAULTS_LIST);
    ht_db_bind_text(s, 1, user_id);
    size_t n = 0, cap = 0;
    ht_push_default_row *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        int enabled = sqlite3_column_type(s, 2) == SQLITE_NULL ? -1 : ht_db_col_int(s, 2) != 0;
        list[n++] = (ht_push_default_row){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                          enabled, ht_db_col_dup(arena, s, 3)};
    }
    *out = list;
    return n;
}

bool ht_store_push_default_set_enabled(ht_store *store, const char *user_id, const char *kind,
                                       const char *rule_id, bool enabled) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PUSH_DEFAULT_SET_ENABLED);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, kind);
    ht_db_bind_text(s, 3, rule_id);
    ht_db_bind_int(s, 4, enabled);
    return rules_changed(store, s, user_id);
}

bool ht_store_push_default_set_actions(ht_store *store, const char *user_id, const char *kind,
                                       const char *rule_id, const char *actions) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PUSH_DEFAULT_SET_ACTIONS);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, kind);
    ht_db_bind_text(s, 3, rule_id);
    ht_db_bind_text(s, 4, actions);
    return rules_changed(store, s, user_id);
}

bool ht_store_pusher_put(ht_store *store, const char *app_id, const char *pushkey,
                         const char *user_id, const char *json, int64_t now_ms) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PUSHER_PUT);
    ht_db_bind_text(s, 1, app_id);
    ht_db_bind_text(s, 2, pushkey);
    ht_db_bind_text(s, 3, user_id);
    ht_db_bind_text(s, 4, json);
    ht_db_bind_int(s, 5, now_ms);
    return ht_db_exec(store, s);
}

static bool pusher_delete(ht_store *store, ht_stmt_id id, const char *app_id, const char *pushkey,
                          const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, id);
    ht_db_bind_text(s, 1, app_id);
    ht_db_bind_text(s, 2, pushkey);
    ht_db_bind_text(s, 3, user_id);
    return ht_db_exec(store, s);
}

bool ht_store_pusher_delete(ht_store *store, const char *app_id, const char *pushkey,
                            const char *user_id) {
    return pusher_delete(store, HT_STMT_PUSHER_DELETE, app_id, pushkey, user_id);
}

bool ht_store_pusher_delete_others(ht_store *store, const char *app_id, const char *pushkey,
                                   const char *user_id) {
    return pusher_delete(store, HT_STMT_PUSHER_DELETE_OTHERS, app_id, pushkey, user_id);
}

size_t ht_store_pushers_list(ht_store *store, ht_arena *arena, const char *user_id, const char ***json) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PUSHERS_OF_USER);
    ht_db_bind_text(s, 1, user_id);
    return ht_db_text_list(store, arena, s, json);
}

int64_t ht_store_pushers_count(ht_store *store, const char *user_id) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PUSHERS_COUNT);
    ht_db_bind_text(s, 1, user_id);
    return ht_db_single_int(store, s);
}
