/* recent_keys.h -- keys remembered for a while, in a bounded table.
 *
 * What a request learnt that the next one need not ask again ("that server
 * gave no thumbnail of that file"), kept in memory for as long as the
 * caller says. The table holds at most `capacity` keys: a new one takes
 * the place of one whose time is up, else of the one whose time ends
 * soonest, so a caller that puts many keys forgets some early, never
 * grows. */
#ifndef HT_UTIL_RECENT_KEYS_H
#define HT_UTIL_RECENT_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ht_recent_keys ht_recent_keys;

ht_recent_keys *ht_recent_keys_new(size_t capacity);
void ht_recent_keys_free(ht_recent_keys *r);
/* Is key remembered, its time not up at now_ms? */
bool ht_recent_keys_has(const ht_recent_keys *r, const char *key, int64_t now_ms);
/* Remembers key until until_ms (again, if it was already). */
void ht_recent_keys_put(ht_recent_keys *r, const char *key, int64_t until_ms);

#endif
