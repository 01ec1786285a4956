/* directory.h -- the published room directory and content reports. Room
 * aliases and the rooms.published flag themselves are in rooms.h. */
#ifndef HT_STORE_DIRECTORY_H
#define HT_STORE_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

/* Ids of published rooms, at most limit. */
size_t ht_store_published_rooms(ht_store *store, ht_arena *arena, int64_t limit, const char ***out);

/* score may be NULL (not given). */
bool ht_store_report_insert(ht_store *store, const char *room_id, const char *event_id,
                            const char *reporter, const char *reason, const int64_t *score,
                            int64_t now_ms);

#endif
