/* event_cache.h -- stored events, parsed once and kept across requests.
 *
 * A send judges its event against the create, power levels, join rules
 * and membership events, then works out who to notify from the power
 * levels again: the same few state events parsed from their JSON on every
 * request, a fifth of a send's time. Those events almost never change, so
 * the parsed form is kept between requests, and the store says when one
 * did change (ht_store_watch_events): a redaction, a move or new status, a
 * purge, a rollback. Small: a slot per hash of the key, a bounded size per
 * event, so its memory is bounded whatever the rooms hold. */
#ifndef HT_ROOM_EVENT_CACHE_H
#define HT_ROOM_EVENT_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "matrix/env.h"
#include "store/rooms.h"

typedef struct ht_event_cache ht_event_cache;

ht_event_cache *ht_event_cache_new(void);
void ht_event_cache_free(ht_event_cache *cache);
/* The store's watcher (store.h's ht_event_watch): forgets the event at
 * (stream, event_id), or everything when event_id is NULL. */
void ht_event_cache_forget(void *cache, int64_t stream, const char *event_id);

/* A stored event as its row and JSON say. The JSON is shared with later
 * requests: read it, never change it. It and event_id last as long as the
 * request's arena. */
typedef struct ht_parsed_event {
    int64_t stream;
    const char *event_id;
    ht_event_status status;
    json_t *json;
} ht_parsed_event;

/* False if no event is stored there (or its JSON does not parse). Without a
 * cache in env (tests that make their own), each call reads and parses. */
bool ht_room_parsed_by_id(ht_env *env, const char *event_id, ht_parsed_event *out);
bool ht_room_parsed_by_stream(ht_env *env, int64_t stream, ht_parsed_event *out);

#endif
