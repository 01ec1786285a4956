/* profile.c -- display names, avatars and the user directory. */
#include "store/profile.h"

#include "store/db.h"

static bool set_field(ht_store *store, ht_stmt_id id, const char *user_id, const char *value) {
    sqlite3_stmt *s = ht_db_stmt(store, id);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_text(s, 2, value);
    return ht_db_exec(store, s);
}

bool ht_store_profile_set_displayname(ht_store *store, const char *user_id, const char *displayname) {
    return set_field(store, HT_STMT_PROFILE_SET_DISPLAYNAME, user_id, displayname);
}

bool ht_store_profile_set_avatar_url(ht_store *store, const char *user_id, const char *avatar_url) {
    return set_field(store, HT_STMT_PROFILE_SET_AVATAR_URL, user_id, avatar_url);
}

size_t ht_store_user_directory_search(ht_store *store, ht_arena *arena, const char *searcher,
                                      const char *term, int64_t limit, ht_directory_user **out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_USER_DIRECTORY_SEARCH);
    ht_db_bind_text(s, 1, searcher);
    ht_db_bind_text(s, 2, term);
    ht_db_bind_int(s, 3, limit);
    size_t n = 0, cap = 0;
    ht_directory_user *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_directory_user){ht_db_col_dup(arena, s, 0), ht_db_col_dup(arena, s, 1),
                                        ht_db_col_dup(arena, s, 2)};
    }
    *out = list;
    return n;
}
