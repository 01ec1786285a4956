/* graph.h -- a room's event graph: edges, forward extremities, and the
 * state after events that the state log alone does not give.
 *
 * Edges point at event ids, not rows: the event at the other end may not
 * have arrived. State is handled as (type, state_key, event stream)
 * entries; the rooms engine decides what they mean (schema migration 8
 * explains the tables). */
#ifndef HT_STORE_GRAPH_H
#define HT_STORE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

typedef struct ht_extremity_row {
    const char *event_id;
    int64_t depth;
    int64_t stream;
} ht_extremity_row;

/* One key of a room's state. event_stream 0 (event_id NULL): absent. */
typedef struct ht_state_entry_row {
    const char *type;
    const char *state_key;
    int64_t event_stream;
    const char *event_id;  /* filled when read; not needed to write */
} ht_state_entry_row;

bool ht_store_event_edges_put(ht_store *store, int64_t stream, const char *const *prev_ids, size_t n);
/* Moves a stored event to a new stream position, with every reference to
 * it (an outlier joining the timeline is shown where it joined). */
bool ht_store_event_move(ht_store *store, int64_t from, int64_t to);
/* The lowest stream position any event holds (1 when there is none):
 * history backfilled from other servers is stored below it (room/graph.h). */
int64_t ht_store_events_lowest_stream(ht_store *store);
/* An outlier joins the graph, or an event's standing changes. */
bool ht_store_event_set_status(ht_store *store, int64_t stream, int status, int64_t state_group);

/* The room's forward extremities, deepest first, at most limit. */
size_t ht_store_extremities(ht_store *store, ht_arena *arena, const char *room_id, int64_t limit,
                            ht_extremity_row **out);
bool ht_store_extremity_add(ht_store *store, const char *room_id, const char *event_id);
bool ht_store_extremity_remove(ht_store *store, const char *room_id, const char *event_id);

/* The room's whole state at a stream position, from the state log (at 0:
 * its current state), ordered by type and state key. */
size_t ht_store_state_keys_at(ht_store *store, ht_arena *arena, const char *room_id, int64_t at,
                              ht_state_entry_row **out);
/* The event id of the current state at (type, state_key), or NULL. */
const char *ht_store_state_event_id(ht_store *store, ht_arena *arena, const char *room_id, const char *type,
                                    const char *state_key);

/* A stored state: the log at base_stream overridden by entries. Returns
 * its id, 0 on failure. */
int64_t ht_store_state_group_put(ht_store *store, const char *room_id, int64_t base_stream,
                                 const ht_state_entry_row *entries, size_t n);
/* The group's base position and its overriding entries. */
bool ht_store_state_group_get(ht_store *store, ht_arena *arena, int64_t group, int64_t *base_stream,
                              ht_state_entry_row **entries, size_t *n);
/* One key of a group: true if the group itself says (then *event_stream,
 * 0 for absent); false if the base decides. */
bool ht_store_state_group_entry(ht_store *store, int64_t group, const char *type, const char *state_key,
                                int64_t *event_stream);

#endif
