/* state_map.c -- a sorted array of (type, state_key, event id).
 *
 * A room's state changes a few keys at a time and is read far more than it
 * is built, so a flat sorted array beats a tree here: no per-entry
 * allocation, copies are one memcpy, and merging several states is a linear
 * walk. Growth doubles the array inside the arena. */
#include "room/state_map.h"

#include <string.h>

void ht_state_map_init(ht_state_map *map, ht_arena *arena) { *map = (ht_state_map){.arena = arena}; }

int ht_state_key_compare(const char *type_a, const char *key_a, const char *type_b, const char *key_b) {
    int c = strcmp(type_a, type_b);
    return c ? c : strcmp(key_a, key_b);
}

/* The index of the key, or of where it would go (*found false). */
static size_t search(const ht_state_map *map, const char *type, const char *state_key, bool *found) {
    size_t lo = 0, hi = map->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ht_state_entry *e = &map->entries[mid];
        int c = ht_state_key_compare(e->type, e->state_key, type, state_key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

const char *ht_state_map_get(const ht_state_map *map, const char *type, const char *state_key) {
    bool found;
    size_t i = search(map, type, state_key, &found);
    return found ? map->entries[i].event_id : NULL;
}

void ht_state_map_set(ht_state_map *map, const char *type, const char *state_key, const char *event_id) {
    size_t i;
    bool found = false;
    /* Building a map from sorted input appends. */
    if (map->count == 0 || ht_state_key_compare(map->entries[map->count - 1].type,
                                                map->entries[map->count - 1].state_key, type, state_key) < 0)
        i = map->count;
    else
        i = search(map, type, state_key, &found);
    if (found) {
        map->entries[i].event_id = event_id;
        return;
    }
    map->entries = ht_arena_push(map->arena, map->entries, sizeof *map->entries, map->count, &map->capacity);
    memmove(&map->entries[i + 1], &map->entries[i], (map->count - i) * sizeof *map->entries);
    map->entries[i] = (ht_state_entry){type, state_key, event_id};
    map->count++;
}

bool ht_state_map_remove(ht_state_map *map, const char *type, const char *state_key) {
    bool found;
    size_t i = search(map, type, state_key, &found);
    if (!found) return false;
    memmove(&map->entries[i], &map->entries[i + 1], (map->count - i - 1) * sizeof *map->entries);
    map->count--;
    return true;
}

void ht_state_map_copy(ht_state_map *dst, const ht_state_map *src) {
    dst->count = src->count;
    dst->capacity = src->count;
    dst->entries = NULL;
    if (src->count) {
        dst->entries = ht_arena_alloc(dst->arena, src->count * sizeof *dst->entries);
        memcpy(dst->entries, src->entries, src->count * sizeof *dst->entries);
    }
}

bool ht_state_map_equal(const ht_state_map *a, const ht_state_map *b) {
    if (a->count != b->count) return false;
    for (size_t i = 0; i < a->count; i++) {
        const ht_state_entry *x = &a->entries[i], *y = &b->entries[i];
        if (ht_state_key_compare(x->type, x->state_key, y->type, y->state_key) != 0 ||
            strcmp(x->event_id, y->event_id) != 0)
            return false;
    }
    return true;
}

static const char *view_get(void *self, const char *type, const char *state_key) {
    return ht_state_map_get(self, type, state_key);
}

ht_state_view ht_state_map_view(const ht_state_map *map) { return (ht_state_view){view_get, (void *)map}; }
