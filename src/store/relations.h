/* relations.h -- indexes kept beside the events table: relations
 * (content.m.relates_to) for /relations, and the full-text index for
 * /search (see search.h). Both are written by ht_store_event_index, the
 * one step ht_room_send takes after storing an event. */
#ifndef HT_STORE_RELATIONS_H
#define HT_STORE_RELATIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/rooms.h"
#include "store/store.h"
#include "util/arena.h"

/* Indexes a newly stored event (its relation and its searchable text); a
 * redaction (redacts != NULL) removes its target from both indexes, as the
 * redacted content no longer relates to anything or says anything. */
bool ht_store_event_index(ht_store *store, const ht_event_row *ev, json_t *content, const char *redacts);

/* Streams of events relating to parent_id in room_id, optionally of one
 * rel_type and event type (NULL: any). back: from down to above `end`,
 * newest first; otherwise above `from` up to `end`, oldest first. */
size_t ht_store_relations(ht_store *store, ht_arena *arena, const char *room_id, const char *parent_id,
                          const char *rel_type, const char *type, bool back, int64_t from, int64_t end,
                          int64_t limit, int64_t **out);

#endif
