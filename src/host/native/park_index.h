/* park_index.h -- which parked requests a write may concern.
 *
 * A parked request is filed under the keys it waits on (hometab.h:
 * park_keys), or under "any write" when it names none. A write's wake keys
 * then find exactly the requests filed under one of them, plus every "any"
 * request, without looking at the others: the cost of a write does not grow
 * with the number of people waiting. */
#ifndef HT_NATIVE_PARK_INDEX_H
#define HT_NATIVE_PARK_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct park_link park_link;

/* Embedded in whatever is parked; zeroed before the first use. */
typedef struct park_entry {
    void *owner;
    park_link *links;    /* one per key, in the index's buckets */
    size_t key_count;    /* 0: filed under "any write" */
    struct park_entry *prev, *next; /* every filed entry */
    struct park_entry *any_prev, *any_next; /* the "any write" ones */
    unsigned mark;       /* the match that last found it */
    bool filed;
} park_entry;

typedef struct park_index park_index;

park_index *park_index_new(void);
void park_index_free(park_index *ix);

/* Files e (for owner) under keys; no keys: under "any write". Copies keys. */
void park_index_add(park_index *ix, park_entry *e, void *owner, const uint64_t *keys, size_t key_count);
/* Takes e out; nothing if it is not filed. */
void park_index_remove(park_index *ix, park_entry *e);

/* The owners a write may concern, each once, into *out (grown as needed;
 * the caller frees it): every filed entry if `all`, else those filed under
 * one of keys and those filed under "any write". Returns how many. */
size_t park_index_match(park_index *ix, const uint64_t *keys, size_t key_count, bool all, void ***out,
                        size_t *cap);

/* How many entries are filed. */
size_t park_index_count(const park_index *ix);
/* The first filed entry (to walk them all with ->next), or NULL. */
park_entry *park_index_first(const park_index *ix);

#endif
