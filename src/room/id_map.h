/* id_map.h -- private to src/room: event ids to pointers, in an arena.
 *
 * State resolution keeps sets of events that other servers chose (auth
 * chains, conflicted sets), so the table hashes with SipHash under a random
 * key of its own: nobody can aim ids at one bucket. Nothing may depend on
 * the order of the buckets; callers that need an order keep an array. */
#ifndef HT_ROOM_ID_MAP_H
#define HT_ROOM_ID_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

typedef struct ht_id_map ht_id_map;

/* An empty map with room for about `expected` ids before it grows. */
ht_id_map *ht_id_map_new(ht_arena *arena, size_t expected);
/* The value at id, or NULL. */
void *ht_id_map_get(const ht_id_map *map, const char *id);
/* The slot for id, made (holding NULL) if missing. The key is borrowed: it
 * must outlive the map. The pointer is good until the next insertion. */
void **ht_id_map_slot(ht_id_map *map, const char *id, bool *created);
size_t ht_id_map_count(const ht_id_map *map);

#endif
