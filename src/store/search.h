/* search.h -- full-text search over message bodies, room names and topics
 * (SQLite FTS5; the row id of the index is the event's stream position). */
#ifndef HT_STORE_SEARCH_H
#define HT_STORE_SEARCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

enum ht_search_keys { HT_SEARCH_BODY = 1, HT_SEARCH_NAME = 2, HT_SEARCH_TOPIC = 4 };

typedef struct ht_search_hit {
    int64_t stream;
    double rank; /* higher is better */
} ht_search_hit;

bool ht_store_search_add(ht_store *store, int64_t stream, const char *room_id, const char *key,
                         const char *value);
bool ht_store_search_forget(ht_store *store, const char *event_id);

/* match: an FTS5 query; rooms_json: a JSON array of the room ids to look
 * in; keys: ht_search_keys bits. Hits in order (by rank, or newest first),
 * skipping `offset`. */
size_t ht_store_search(ht_store *store, ht_arena *arena, const char *match, const char *rooms_json,
                       unsigned keys, bool by_rank, int64_t offset, int64_t limit, ht_search_hit **out);

#endif
