/* unread.h -- unread notification counts for /sync, per room and thread. */
#ifndef HT_API_UNREAD_H
#define HT_API_UNREAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "matrix/handler.h"

typedef struct ht_thread_unread {
    const char *thread_id; /* "main" for the main timeline */
    int64_t notifications;
    int64_t highlights;
} ht_thread_unread;

/* The caller's counts in room_id up to stream `upto`, per thread, into
 * *out (in the arena; "main" always among them). *ruleset holds the
 * caller's push rules, loaded here on first use. Returns how many threads. */
size_t ht_unread_count(ht_ctx *ctx, json_t **ruleset, int64_t upto, const char *room_id, ht_thread_unread **out);

/* Frees the counts kept between syncs (at close). */
void ht_unread_cache_free(ht_env *env);

#endif
