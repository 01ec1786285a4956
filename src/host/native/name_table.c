/* name_table.c -- chained hashing (FNV-1a) with a list in the order entries
 * were put, so a full table drops its oldest entry in O(1). Caches keyed by
 * names a peer can choose (server names, delegated names) must not grow
 * without bound; dropping the oldest costs at most a repeated lookup. */
#include "host/native/name_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/oom.h"

typedef struct entry {
    struct entry *chain;        /* next in the bucket */
    struct entry *older, *newer;
    uint64_t hash;
    void *value;
    char name[];
} entry;

struct ht_name_table {
    entry **buckets;
    size_t bucket_count; /* a power of two */
    size_t count, max_entries;
    entry *oldest, *newest;
    ht_name_table_free_fn *free_value;
};

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

ht_name_table *ht_name_table_new(size_t max_entries, ht_name_table_free_fn *free_value) {
    ht_name_table *t = ht_xmalloc(sizeof *t);
    *t = (ht_name_table){.bucket_count = 16, .max_entries = max_entries, .free_value = free_value};
    t->buckets = calloc(t->bucket_count, sizeof *t->buckets);
    if (!t->buckets) ht_out_of_memory(t->bucket_count * sizeof *t->buckets);
    return t;
}

static entry **slot_of(const ht_name_table *t, const char *name, uint64_t hash) {
    entry **p = &t->buckets[hash & (t->bucket_count - 1)];
    while (*p && ((*p)->hash != hash || strcmp((*p)->name, name) != 0)) p = &(*p)->chain;
    return p;
}

static void unlink_order(ht_name_table *t, entry *e) {
    if (e->older) e->older->newer = e->newer;
    else t->oldest = e->newer;
    if (e->newer) e->newer->older = e->older;
    else t->newest = e->older;
}

static void *remove_entry(ht_name_table *t, entry **slot) {
    entry *e = *slot;
    *slot = e->chain;
    unlink_order(t, e);
    t->count--;
    void *value = e->value;
    free(e);
    return value;
}

static void grow(ht_name_table *t) {
    size_t n = t->bucket_count * 2;
    entry **buckets = calloc(n, sizeof *buckets);
    if (!buckets) ht_out_of_memory(n * sizeof *buckets);
    for (size_t i = 0; i < t->bucket_count; i++) {
        for (entry *e = t->buckets[i], *next; e; e = next) {
            next = e->chain;
            e->chain = buckets[e->hash & (n - 1)];
            buckets[e->hash & (n - 1)] = e;
        }
    }
    free(t->buckets);
    t->buckets = buckets;
    t->bucket_count = n;
}

void *ht_name_table_get(const ht_name_table *t, const char *name) {
    entry *e = *slot_of(t, name, hash_name(name));
    return e ? e->value : NULL;
}

void ht_name_table_put(ht_name_table *t, const char *name, void *value) {
    uint64_t hash = hash_name(name);
    entry **slot = slot_of(t, name, hash);
    if (*slot) {
        void *old = remove_entry(t, slot);
        if (t->free_value && old != value) t->free_value(old);
    }
    if (t->max_entries && t->count >= t->max_entries) {
        entry *victim = t->oldest;
        void *old = remove_entry(t, slot_of(t, victim->name, victim->hash));
        if (t->free_value) t->free_value(old);
    }
    if (t->count >= t->bucket_count) grow(t);
    size_t len = strlen(name);
    entry *e = ht_xmalloc(sizeof *e + len + 1);
    memcpy(e->name, name, len + 1);
    e->hash = hash;
    e->value = value;
    slot = &t->buckets[hash & (t->bucket_count - 1)];
    e->chain = *slot;
    *slot = e;
    e->older = t->newest;
    e->newer = NULL;
    if (t->newest) t->newest->newer = e;
    else t->oldest = e;
    t->newest = e;
    t->count++;
}

void *ht_name_table_take(ht_name_table *t, const char *name) {
    entry **slot = slot_of(t, name, hash_name(name));
    return *slot ? remove_entry(t, slot) : NULL;
}

size_t ht_name_table_count(const ht_name_table *t) { return t->count; }

void ht_name_table_free(ht_name_table *t) {
    if (!t) return;
    while (t->oldest) {
        entry *e = t->oldest;
        void *value = remove_entry(t, slot_of(t, e->name, e->hash));
        if (t->free_value) t->free_value(value);
    }
    free(t->buckets);
    free(t);
}
