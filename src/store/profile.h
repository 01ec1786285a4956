/* profile.h -- display names and avatars (the users table), and the user
 * directory that searches them. */
#ifndef HT_STORE_PROFILE_H
#define HT_STORE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

/* NULL clears the field. */
bool ht_store_profile_set_displayname(ht_store *store, const char *user_id, const char *displayname);
bool ht_store_profile_set_avatar_url(ht_store *store, const char *user_id, const char *avatar_url);

typedef struct ht_directory_user {
    const char *user_id;
    const char *displayname; /* NULL if unset */
    const char *avatar_url;  /* NULL if unset */
} ht_directory_user;

/* Users whose id or display name contains `term` (ASCII case-insensitive)
 * and whom `searcher` may find: themselves, people sharing a joined room,
 * and members of public rooms. Best matches first, at most `limit`. */
size_t ht_store_user_directory_search(ht_store *store, ht_arena *arena, const char *searcher,
                                      const char *term, int64_t limit, ht_directory_user **out);

#endif
