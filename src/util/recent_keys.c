/* recent_keys.c -- see recent_keys.h. A table searched from end to end:
 * its callers keep a few hundred keys and ask on requests that wait on
 * another server anyway. */
#include "util/recent_keys.h"

#include <stdlib.h>
#include <string.h>

#include "util/oom.h"

typedef struct recent_key {
    char *key; /* NULL: a free place */
    int64_t until_ms;
} recent_key;

struct ht_recent_keys {
    size_t capacity;
    recent_key keys[];
};

ht_recent_keys *ht_recent_keys_new(size_t capacity) {
    ht_recent_keys *r = ht_xmalloc(sizeof *r + capacity * sizeof r->keys[0]);
    r->capacity = capacity;
    memset(r->keys, 0, capacity * sizeof r->keys[0]);
    return r;
}

void ht_recent_keys_free(ht_recent_keys *r) {
    if (!r) return;
    for (size_t i = 0; i < r->capacity; i++) free(r->keys[i].key);
    free(r);
}

static recent_key *find(const ht_recent_keys *r, const char *key) {
    for (size_t i = 0; i < r->capacity; i++)
        if (r->keys[i].key && strcmp(r->keys[i].key, key) == 0) return (recent_key *)&r->keys[i];
    return NULL;
}

bool ht_recent_keys_has(const ht_recent_keys *r, const char *key, int64_t now_ms) {
    const recent_key *k = find(r, key);
    return k && k->until_ms > now_ms;
}

void ht_recent_keys_put(ht_recent_keys *r, const char *key, int64_t until_ms) {
    if (!r->capacity) return;
    recent_key *k = find(r, key);
    if (!k) {
        /* The place whose time ends soonest; a free one ends at 0. */
        k = &r->keys[0];
        for (size_t i = 1; i < r->capacity && k->key; i++)
            if (!r->keys[i].key || r->keys[i].until_ms < k->until_ms) k = &r->keys[i];
        free(k->key);
        k->key = ht_xstrdup(key);
    }
    k->until_ms = until_ms;
}
