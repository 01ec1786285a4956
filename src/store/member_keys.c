/* member_keys.c -- the SQL functions that give a member the words a
 * message must say to name them (util/glob.h's keys): name_key(display
 * name) and user_key(user id), kept in memberships (migration 16) and
 * looked up by a send's words (store/unread.h, MEMBERS_APART).
 *
 * The design decision: the key is computed in C by the same word rule the
 * push matcher uses, and reached from SQL, so that the live write
 * (MEMBERSHIP_SET) and the migration that keys the members stored before
 * it key alike. NULL: nothing to look for (no name); '': the name has no
 * word, so every message may name it and it is always looked at. */
#include <string.h>

#include "store/db.h"
#include "util/glob.h"

static void result_key(sqlite3_context *context, const char *text) {
    char word[HT_PUSH_WORD_MAX + 1];
    size_t n = ht_push_name_key(text, word);
    sqlite3_result_text(context, word, (int)n, SQLITE_TRANSIENT);
}

/* name_key(display_name): NULL for no name or an empty one, which the
 * rules never match. */
static void name_key_function(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *name = sqlite3_value_type(argv[0]) == SQLITE_TEXT ? (const char *)sqlite3_value_text(argv[0]) : NULL;
    if (!name || !*name) {
        sqlite3_result_null(context);
        return;
    }
    result_key(context, name);
}

/* user_key(user_id): the key of the localpart (up to the first ':', as
 * push_actions.c reads it). An id with a glob's wildcard matches as a
 * pattern, beyond its words: '' (always looked at). */
static void user_key_function(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *id = sqlite3_value_type(argv[0]) == SQLITE_TEXT ? (const char *)sqlite3_value_text(argv[0]) : NULL;
    if (!id || !*id) {
        sqlite3_result_null(context);
        return;
    }
    if (strpbrk(id, "*?")) {
        sqlite3_result_text(context, "", 0, SQLITE_STATIC);
        return;
    }
    size_t len = strcspn(id + 1, ":");
    char *localpart = sqlite3_malloc64(len + 1);
    if (!localpart) {
        sqlite3_result_error_nomem(context);
        return;
    }
    memcpy(localpart, id + 1, len);
    localpart[len] = '\0';
    result_key(context, localpart);
    sqlite3_free(localpart);
}

bool ht_db_register_member_keys(sqlite3 *db) {
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    return sqlite3_create_function(db, "name_key", 1, flags, NULL, name_key_function, NULL, NULL) == SQLITE_OK &&
           sqlite3_create_function(db, "user_key", 1, flags, NULL, user_key_function, NULL, NULL) == SQLITE_OK;
}
