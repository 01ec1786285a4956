/* arena.c -- a bump allocator made of a chain of blocks.
 *
 * Allocations larger than a block get a block of their own, so a 50 MB media
 * upload does not force every later block to be 50 MB. */
#include "util/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/oom.h"

struct ht_arena_block {
    ht_arena_block *next;
    size_t size; /* usable bytes in data[] */
    size_t used;
    _Alignas(max_align_t) unsigned char data[];
};

static ht_arena_block *block_new(size_t size, ht_arena_block *next) {
    ht_arena_block *b = malloc(sizeof *b + size);
    if (!b) ht_out_of_memory(sizeof *b + size);
    b->next = next;
    b->size = size;
    b->used = 0;
    return b;
}

struct ht_arena_cleanup {
    ht_arena_cleanup *next;
    void (*fn)(void *);
    void *data;
};

void ht_arena_init(ht_arena *arena, size_t block_size) {
    arena->block_size = block_size;
    arena->cleanups = NULL;
    arena->head = block_new(block_size, NULL);
}

void *ht_arena_alloc(ht_arena *arena, size_t size) {
    const size_t align = _Alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (size == 0) size = align;
    ht_arena_block *b = arena->head;
    if (b->size - b->used < size) {
        if (size > arena->block_size / 4) {
            /* A big allocation: give it its own block behind the head so the
             * head's free space stays in use. */
            ht_arena_block *big = block_new(size, b->next);
            b->next = big;
            big->used = size;
            return big->data;
        }
        b = arena->head = block_new(arena->block_size, b);
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

void *ht_arena_calloc(ht_arena *arena, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) ht_out_of_memory(SIZE_MAX);
    void *p = ht_arena_alloc(arena, count * size);
    memset(p, 0, count * size);
    return p;
}

char *ht_arena_strndup(ht_arena *arena, const char *s, size_t len) {
    char *p = ht_arena_alloc(arena, len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *ht_arena_strdup(ht_arena *arena, const char *s) {
    return ht_arena_strndup(arena, s, strlen(s));
}

char *ht_arena_vprintf(ht_arena *arena, const char *fmt, va_list ap) {
    va_list count;
    va_copy(count, ap);
    int n = vsnprintf(NULL, 0, fmt, count);
    va_end(count);
    if (n < 0) n = 0;
    char *p = ht_arena_alloc(arena, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *ht_arena_printf(ht_arena *arena, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *p = ht_arena_vprintf(arena, fmt, ap);
    va_end(ap);
    return p;
}

void *ht_arena_push(ht_arena *arena, void *array, size_t elem_size, size_t count, size_t *cap) {
    if (count < *cap) return array;
    size_t new_cap = *cap ? *cap * 2 : 16;
    void *grown = ht_arena_alloc(arena, new_cap * elem_size);
    if (count) memcpy(grown, array, count * elem_size);
    *cap = new_cap;
    return grown;
}

void ht_arena_on_reset(ht_arena *arena, void (*fn)(void *), void *data) {
    ht_arena_cleanup *c = ht_arena_alloc(arena, sizeof *c);
    c->fn = fn;
    c->data = data;
    c->next = arena->cleanups;
    arena->cleanups = c;
}

static void run_cleanups(ht_arena *arena) {
    /* A cleanup may not allocate from the arena; take the list first. */
    ht_arena_cleanup *c = arena->cleanups;
    arena->cleanups = NULL;
    for (; c; c = c->next) c->fn(c->data);
}

void ht_arena_reset(ht_arena *arena) {
    run_cleanups(arena);
    /* Keep one ordinary block; the oldest is at the tail of the chain. */
    ht_arena_block *b = arena->head;
    ht_arena_block *keep = NULL;
    while (b) {
        ht_arena_block *next = b->next;
        if (!keep && !next && b->size == arena->block_size) {
            keep = b;
        } else {
            free(b);
        }
        b = next;
    }
    if (!keep) keep = block_new(arena->block_size, NULL);
    keep->next = NULL;
    keep->used = 0;
    arena->head = keep;
}

void ht_arena_free(ht_arena *arena) {
    run_cleanups(arena);
    ht_arena_block *b = arena->head;
    while (b) {
        ht_arena_block *next = b->next;
        free(b);
        b = next;
    }
    arena->head = NULL;
}
