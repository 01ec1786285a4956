/* room_news.h -- which of a user's rooms have anything an incremental
 * /sync reports after a position: a timeline event, a state change, a
 * receipt, a typing change, or the user's account data in the room.
 *
 * An incremental sync asks this once, then does its per-room work only for
 * the rooms named, so that a user in hundreds of quiet rooms pays for the
 * few that moved. The answer may name more rooms than have news for the
 * caller (another user's private receipt, a room the user is not in), never
 * fewer: the per-room work still decides what each room shows. */
#ifndef HT_STORE_ROOM_NEWS_H
#define HT_STORE_ROOM_NEWS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

/* The rooms (sorted by strcmp, without repeats) with news in (since, upto]
 * for user_id, who is joined to joined_count rooms; the count returned. */
size_t ht_store_room_news(ht_store *store, ht_arena *arena, const char *user_id, int64_t since, int64_t upto,
                          size_t joined_count, const char ***out);

#endif
