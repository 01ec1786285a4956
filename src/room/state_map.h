/* state_map.h -- private to src/room: a whole room state in memory,
 * (type, state_key) -> event id, kept sorted by type then state key (byte
 * order).
 *
 * Sorted so that several states can be walked side by side in one pass (how
 * state resolution splits them into agreed and conflicted keys), compared in
 * one pass, and listed in the same order on every server. Lookups are binary
 * searches. The map copies no strings: the types, keys and ids it is given
 * must outlive it (the arena, or events from an ht_event_source). */
#ifndef HT_ROOM_STATE_MAP_H
#define HT_ROOM_STATE_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "room/pdu_view.h"
#include "util/arena.h"

typedef struct ht_state_entry {
    const char *type, *state_key, *event_id;
} ht_state_entry;

typedef struct ht_state_map {
    ht_arena *arena;
    ht_state_entry *entries; /* sorted; read them, change them only through the functions */
    size_t count, capacity;
} ht_state_map;

void ht_state_map_init(ht_state_map *map, ht_arena *arena);
/* The event id at (type, state_key), or NULL. */
const char *ht_state_map_get(const ht_state_map *map, const char *type, const char *state_key);
/* Puts event_id at (type, state_key), replacing what was there. Setting keys
 * in ascending order costs O(1) each; any other new key moves the entries
 * after it. */
void ht_state_map_set(ht_state_map *map, const char *type, const char *state_key, const char *event_id);
/* Removes the key; false if it was not there. */
bool ht_state_map_remove(ht_state_map *map, const char *type, const char *state_key);
/* dst becomes a copy of src, in dst's arena (dst need not be initialised
 * beyond its arena: call ht_state_map_init first). */
void ht_state_map_copy(ht_state_map *dst, const ht_state_map *src);
/* The same keys with the same event ids. */
bool ht_state_map_equal(const ht_state_map *a, const ht_state_map *b);
/* Orders two keys as the map does: <0, 0 or >0. */
int ht_state_key_compare(const char *type_a, const char *key_a, const char *type_b, const char *key_b);
/* A view for the authorization rules; valid while the map lives and is not
 * changed. */
ht_state_view ht_state_map_view(const ht_state_map *map);

#endif
