/* park_index.c -- parked requests by the keys they wait on (see the header).
 *
 * A chained hash table of links, one link per (entry, key), doubly linked so
 * an entry leaves in time proportional to its own keys. The table doubles
 * when it holds twice as many links as buckets; it is bounded because the
 * server bounds parked requests (--max-parked) and the core bounds the keys
 * of each (HT_MAX_PARK_KEYS). */
#include "host/native/park_index.h"

#include <stdlib.h>
#include <string.h>

#include "util/oom.h"

struct park_link {
    uint64_t key;
    park_entry *entry;
    park_link *prev, *next; /* in its bucket */
};

struct park_index {
    park_link **buckets;
    size_t bucket_count; /* a power of two */
    size_t link_count;
    size_t entry_count;
    park_entry *all;
    park_entry *any;
    unsigned mark;
};

enum { FIRST_BUCKETS = 256 };

park_index *park_index_new(void) {
    park_index *ix = ht_xmalloc(sizeof *ix);
    memset(ix, 0, sizeof *ix);
    ix->bucket_count = FIRST_BUCKETS;
    ix->buckets = ht_xmalloc(ix->bucket_count * sizeof *ix->buckets);
    memset(ix->buckets, 0, ix->bucket_count * sizeof *ix->buckets);
    return ix;
}

void park_index_free(park_index *ix) {
    if (!ix) return;
    while (ix->all) park_index_remove(ix, ix->all);
    free(ix->buckets);
    free(ix);
}

/* Keys are already hashes; mixing the high bits in spreads them anyway. */
static size_t bucket_of(const park_index *ix, uint64_t key) {
    return (size_t)((key ^ (key >> 29) ^ (key >> 47)) & (ix->bucket_count - 1));
}

static void link_in(park_index *ix, park_link *l) {
    park_link **head = &ix->buckets[bucket_of(ix, l->key)];
    l->prev = NULL;
    l->next = *head;
    if (*head) (*head)->prev = l;
    *head = l;
}

static void grow(park_index *ix) {
    park_link **old = ix->buckets;
    size_t old_count = ix->bucket_count;
    ix->bucket_count *= 2;
    ix->buckets = ht_xmalloc(ix->bucket_count * sizeof *ix->buckets);
    memset(ix->buckets, 0, ix->bucket_count * sizeof *ix->buckets);
    for (size_t i = 0; i < old_count; i++) {
        for (park_link *l = old[i], *next; l; l = next) {
            next = l->next;
            link_in(ix, l);
        }
    }
    free(old);
}

void park_index_add(park_index *ix, park_entry *e, void *owner, const uint64_t *keys, size_t key_count) {
    park_index_remove(ix, e);
    e->owner = owner;
    e->key_count = key_count;
    e->links = key_count ? ht_xmalloc(key_count * sizeof *e->links) : NULL;
    for (size_t i = 0; i < key_count; i++) {
        e->links[i] = (park_link){.key = keys[i], .entry = e};
        link_in(ix, &e->links[i]);
    }
    ix->link_count += key_count;
    while (ix->link_count > 2 * ix->bucket_count) grow(ix);
    e->prev = NULL;
    e->next = ix->all;
    if (ix->all) ix->all->prev = e;
    ix->all = e;
    if (!key_count) {
        e->any_prev = NULL;
        e->any_next = ix->any;
        if (ix->any) ix->any->any_prev = e;
        ix->any = e;
    }
    e->filed = true;
    ix->entry_count++;
}

void park_index_remove(park_index *ix, park_entry *e) {
    if (!e->filed) return;
    for (size_t i = 0; i < e->key_count; i++) {
        park_link *l = &e->links[i];
        if (l->prev) l->prev->next = l->next;
        else ix->buckets[bucket_of(ix, l->key)] = l->next;
        if (l->next) l->next->prev = l->prev;
    }
    ix->link_count -= e->key_count;
    free(e->links);
    e->links = NULL;
    if (e->prev) e->prev->next = e->next;
    else ix->all = e->next;
    if (e->next) e->next->prev = e->prev;
    if (!e->key_count) {
        if (e->any_prev) e->any_prev->any_next = e->any_next;
        else ix->any = e->any_next;
        if (e->any_next) e->any_next->any_prev = e->any_prev;
    }
    e->key_count = 0;
    e->filed = false;
    ix->entry_count--;
}

static void push(park_entry *e, unsigned mark, void ***out, size_t *n, size_t *cap) {
    if (e->mark == mark) return;
    e->mark = mark;
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *out = ht_xrealloc(*out, *cap * sizeof **out);
    }
    (*out)[(*n)++] = e->owner;
}

size_t park_index_match(park_index *ix, const uint64_t *keys, size_t key_count, bool all, void ***out,
                        size_t *cap) {
    unsigned mark = ++ix->mark;
    if (mark == 0) { /* wrapped: no entry may carry a stale mark equal to it */
        for (park_entry *e = ix->all; e; e = e->next) e->mark = 0;
        mark = ix->mark = 1;
    }
    size_t n = 0;
    if (all) {
        for (park_entry *e = ix->all; e; e = e->next) push(e, mark, out, &n, cap);
        return n;
    }
    for (size_t i = 0; i < key_count; i++)
        for (park_link *l = ix->buckets[bucket_of(ix, keys[i])]; l; l = l->next)
            if (l->key == keys[i]) push(l->entry, mark, out, &n, cap);
    for (park_entry *e = ix->any; e; e = e->any_next) push(e, mark, out, &n, cap);
    return n;
}

size_t park_index_count(const park_index *ix) { return ix->entry_count; }

park_entry *park_index_first(const park_index *ix) { return ix->all; }
