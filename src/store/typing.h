/* typing.h -- who is typing in which room, until when.
 *
 * Typing is ephemeral, yet it lives here rather than in memory so that it
 * obeys the request's transaction like everything else: a /sync that
 * expires a notice and then parks rolls the expiry back, and the next
 * /sync does it again. typing_changes remembers, per room, the stream
 * position of the last change to the set of typing users. */
#ifndef HT_STORE_TYPING_H
#define HT_STORE_TYPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

/* True if the user has a typing row (expired or not); *expires_ms set. */
bool ht_store_typing_get(ht_store *store, const char *room_id, const char *user_id, int64_t *expires_ms);
bool ht_store_typing_set(ht_store *store, const char *room_id, const char *user_id, int64_t expires_ms);
bool ht_store_typing_delete(ht_store *store, const char *room_id, const char *user_id);
/* Records that the room's typing set changed at stream position `stream`. */
bool ht_store_typing_mark(ht_store *store, const char *room_id, int64_t stream);
/* Position of the room's last typing change, or 0. */
int64_t ht_store_typing_changed(ht_store *store, const char *room_id);
/* Rooms with a notice that expired at or before now_ms. */
size_t ht_store_typing_expired_rooms(ht_store *store, ht_arena *arena, int64_t now_ms, const char ***out);
bool ht_store_typing_delete_expired(ht_store *store, int64_t now_ms);
/* Joined users typing in the room at now_ms, by user id. */
size_t ht_store_typing_users(ht_store *store, ht_arena *arena, const char *room_id, int64_t now_ms,
                             const char ***out);
/* The earliest expiry among the rooms the user is joined to, or 0. */
int64_t ht_store_typing_next_expiry(ht_store *store, const char *user_id);

#endif
