/* id_map.c -- open addressing with linear probing, grown at half full.
 *
 * Everything lives in the caller's arena: growing leaves the old bucket
 * array behind, which costs at most as much again as the final table and is
 * freed with the request. */
#include "room/id_map.h"

#include <sodium.h>
#include <stdbool.h>
#include <string.h>

typedef struct bucket {
    const char *key;
    void *value;
} bucket;

struct ht_id_map {
    ht_arena *arena;
    bucket *buckets;
    size_t capacity; /* a power of two */
    size_t count;
    unsigned char key[crypto_shorthash_KEYBYTES];
};

static size_t hash(const ht_id_map *map, const char *id) {
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)id, strlen(id), map->key);
    size_t h = 0;
    memcpy(&h, out, sizeof h < sizeof out ? sizeof h : sizeof out);
    return h;
}

/* The hash key: random, drawn once per process, so that ids another
 * server chose cannot be made to collide. Once, not per map: a map is made
 * several times a request, and drawing asked the kernel each time (a
 * getrandom call, 2% of a send). The core initialised libsodium at start;
 * sodium_init here makes the map usable on its own too (tests,
 * benchmarks). Should it ever fail, the key stays zero: lookups stay right,
 * only predictable. Maps are made on the core's one thread. */
static const unsigned char *process_key(void) {
    static unsigned char key[crypto_shorthash_KEYBYTES];
    static bool drawn;
    if (!drawn && sodium_init() >= 0) {
        randombytes_buf(key, sizeof key);
        drawn = true;
    }
    return key;
}

ht_id_map *ht_id_map_new(ht_arena *arena, size_t expected) {
    ht_id_map *map = ht_arena_calloc(arena, 1, sizeof *map);
    map->arena = arena;
    map->capacity = 16;
    while (map->capacity < expected * 2) map->capacity *= 2;
    map->buckets = ht_arena_calloc(arena, map->capacity, sizeof *map->buckets);
    memcpy(map->key, process_key(), sizeof map->key);
    return map;
}

static bucket *find(const ht_id_map *map, const char *id) {
    size_t mask = map->capacity - 1;
    for (size_t i = hash(map, id) & mask;; i = (i + 1) & mask) {
        bucket *b = &map->buckets[i];
        if (!b->key || strcmp(b->key, id) == 0) return b;
    }
}

void *ht_id_map_get(const ht_id_map *map, const char *id) {
    bucket *b = find(map, id);
    return b->key ? b->value : NULL;
}

static void grow(ht_id_map *map) {
    bucket *old = map->buckets;
    size_t old_capacity = map->capacity;
    map->capacity *= 2;
    map->buckets = ht_arena_calloc(map->arena, map->capacity, sizeof *map->buckets);
    for (size_t i = 0; i < old_capacity; i++)
        if (old[i].key) *find(map, old[i].key) = old[i];
}

void **ht_id_map_slot(ht_id_map *map, const char *id, bool *created) {
    if ((map->count + 1) * 2 > map->capacity) grow(map);
    bucket *b = find(map, id);
    if (created) *created = !b->key;
    if (!b->key) {
        b->key = id;
        b->value = NULL;
        map->count++;
    }
    return &b->value;
}

size_t ht_id_map_count(const ht_id_map *map) { return map->count; }
