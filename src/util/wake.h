/* wake.h -- the keys that long-polls wait on and that writes touch.
 *
 * A parked long-poll is woken only by a write that may concern it. What a
 * change can concern is named by a key: a room (everyone joined to it sees
 * its events, receipts, typing), a user (their account data, to-device
 * messages, invites, and every device they sync from), a media file (the
 * downloads waiting for its bytes). A key is a 64-bit hash of the kind and
 * the id. Two names may share a key: that only wakes a long-poll that finds
 * nothing new and waits again, never misses one. */
#ifndef HT_UTIL_WAKE_H
#define HT_UTIL_WAKE_H

#include <stdint.h>

typedef enum ht_wake_kind {
    HT_WAKE_ROOM = 'r',
    HT_WAKE_USER = 'u',
    HT_WAKE_MEDIA = 'm',
} ht_wake_kind;

/* FNV-1a, 64 bits, over the kind, a separator and the id. */
static inline uint64_t ht_wake_key(ht_wake_kind kind, const char *id) {
    uint64_t h = 14695981039346656037u;
    h = (h ^ (unsigned char)kind) * 1099511628211u;
    h = (h ^ (unsigned char)':') * 1099511628211u;
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 1099511628211u;
    return h;
}

#endif
