/* arena.h -- memory that lives exactly as long as one request.
 *
 * Everything a handler allocates while answering a request comes from the
 * request's arena and is released by one ht_arena_reset() after the answer
 * is written. Nothing is freed piecemeal, so handlers cannot leak, and in
 * wasm (whose memory never shrinks) the heap stays flat between requests. */
#ifndef HT_ARENA_H
#define HT_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct ht_arena_block ht_arena_block;

typedef struct ht_arena_cleanup ht_arena_cleanup;

typedef struct ht_arena {
    ht_arena_block *head;  /* block being filled; older blocks follow */
    size_t block_size;     /* size of an ordinary block */
    ht_arena_cleanup *cleanups; /* run, newest first, on reset and free */
} ht_arena;

void ht_arena_init(ht_arena *arena, size_t block_size);
void *ht_arena_alloc(ht_arena *arena, size_t size);
void *ht_arena_calloc(ht_arena *arena, size_t count, size_t size);
char *ht_arena_strndup(ht_arena *arena, const char *s, size_t len);
char *ht_arena_strdup(ht_arena *arena, const char *s);
char *ht_arena_printf(ht_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *ht_arena_vprintf(ht_arena *arena, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Makes room for one more element in an arena array of *count elements with
 * capacity *cap (0 at first), doubling as needed; returns the array. */
void *ht_arena_push(ht_arena *arena, void *array, size_t elem_size, size_t count, size_t *cap);
/* Runs fn(data) when the arena is reset or freed: how objects from other
 * allocators (jansson values, malloc'd text) are tied to a request. */
void ht_arena_on_reset(ht_arena *arena, void (*fn)(void *), void *data);
/* Frees every block but the first, which is kept for the next request. */
void ht_arena_reset(ht_arena *arena);
void ht_arena_free(ht_arena *arena);

#endif
