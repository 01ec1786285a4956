/* hash.h -- FNV-1a over strings, for the core's small in-memory hash tables
 * (rate-limit buckets, kept unread counts). Not for anything a client could
 * aim collisions at to do harm: the tables compare keys in full and are
 * bounded. */
#ifndef HT_UTIL_HASH_H
#define HT_UTIL_HASH_H

#include <stdint.h>

enum { HT_HASH_START = 2166136261u };

/* Continues hash h over the bytes of s; start with HT_HASH_START. */
static inline uint32_t ht_hash_string(uint32_t h, const char *s) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

#endif
