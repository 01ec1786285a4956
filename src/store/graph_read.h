/* graph_read.h -- the event graph as other servers ask to read it: auth
 * chains, an event's prev events, a state group's base, and which of a
 * server's users a room knows.
 *
 * Every read here takes a bound: what another server asks for (a chain, a
 * walk) is of a size it does not control. */
#ifndef HT_STORE_GRAPH_READ_H
#define HT_STORE_GRAPH_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

/* The prev event ids of the event stored at `stream`, at most limit. */
size_t ht_store_prev_event_ids(ht_store *store, ht_arena *arena, int64_t stream, int64_t limit,
                               const char ***out);
/* The log position a state group overrides (0 if there is no such group). */
int64_t ht_store_state_group_base(ht_store *store, int64_t group);
/* Users of `server` with a membership of any kind in the room, at most limit. */
size_t ht_store_room_users_of_server(ht_store *store, ht_arena *arena, const char *room_id, const char *server,
                                     int64_t limit, const char ***out);
/* Has `server` a user joined in the room now? */
bool ht_store_room_server_joined(ht_store *store, const char *room_id, const char *server);

#endif
