/* search.h -- full-text search over message bodies, room names and topics:
 * a plain table of word -> event (event_words), not SQLite's FTS5, which
 * would weigh 51 KB of the gzipped wasm build. Words are cut by
 * util/words.h, the same rule for what is stored and what is asked. */
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
    double rank; /* higher is better: how often the event says the words */
} ht_search_hit;

/* Indexes the words of value (an event's body, name or topic). */
bool ht_store_search_add(ht_store *store, int64_t stream, const char *value);
/* Forgets the words of the event at `stream`, read from its stored JSON:
 * call it before that JSON loses its content (a redaction). */
bool ht_store_search_forget(ht_store *store, int64_t stream);

/* words_json: a JSON array of words (util/words.h), each the prefix of a
 * word an event must hold, all of them; rooms_json: a JSON array of the
 * room ids to look in; keys: ht_search_keys bits. Hits in order (by rank,
 * then newest first; or newest first), skipping `offset`. */
size_t ht_store_search(ht_store *store, ht_arena *arena, const char *words_json, const char *rooms_json,
                       unsigned keys, bool by_rank, int64_t offset, int64_t limit, ht_search_hit **out);

#endif
