/* presence.h -- who is online. One row per user who ever set a presence
 * (ours, and other servers' users they told us of); a user without a row
 * is "offline". */
#ifndef HT_STORE_PRESENCE_H
#define HT_STORE_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

typedef struct ht_presence_row {
    const char *user_id;
    const char *presence;   /* "online", "unavailable", "offline" */
    const char *status_msg; /* NULL if none */
    int64_t last_active_ms;
    int64_t stream;         /* position of the last change */
} ht_presence_row;

bool ht_store_presence_get(ht_store *store, ht_arena *arena, const char *user_id, ht_presence_row *out);
bool ht_store_presence_set(ht_store *store, const ht_presence_row *row);
/* Records activity without a change anyone is told about. */
bool ht_store_presence_touch(ht_store *store, const char *user_id, int64_t last_active_ms);
/* Users shown as online or unavailable with no activity since
 * local_before_ms (users of server_name) or remote_before_ms (others, whose
 * servers tell us less often), the longest silent first, at most limit. */
size_t ht_store_presence_stale(ht_store *store, ht_arena *arena, const char *server_name, int64_t local_before_ms,
                               int64_t remote_before_ms, int64_t limit, const char ***out);
/* Presence changes after stream position `since`, the oldest first, at
 * most limit. */
size_t ht_store_presence_changed_since(ht_store *store, ht_arena *arena, int64_t since, int64_t limit,
                                       ht_presence_row **out);
/* Shows the user offline from stream position `stream` on; the last
 * activity and status message stay. */
bool ht_store_presence_go_offline(ht_store *store, const char *user_id, int64_t stream);
/* Presence changed in (since, upto] of the viewer and of everyone sharing
 * a joined room with them: the newest `limit` changes, newest first. */
size_t ht_store_presence_visible_since(ht_store *store, ht_arena *arena, const char *viewer,
                                       int64_t since, int64_t upto, int64_t limit, ht_presence_row **out);
/* Are both users joined to at least one common room? */
bool ht_store_users_share_room(ht_store *store, const char *a, const char *b);

#endif
