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

/* Streams of events relating to any of the parents (a JSON array of event
 * ids) in room_id, optionally of one rel_type and event type (NULL: any).
 * back: from down to above `end`, newest first; otherwise above `from` up
 * to `end`, oldest first. */
size_t ht_store_relations(ht_store *store, ht_arena *arena, const char *room_id, const char *parents_json,
                          const char *rel_type, const char *type, bool back, int64_t from, int64_t end,
                          int64_t limit, int64_t **out);

/* A thread as seen from its root: how many replies (events relating to the
 * root with rel_type m.thread), the stream of the latest, and whether
 * user_id wrote any of them. False if the event is no thread root. */
typedef struct ht_thread_summary {
    int64_t count;
    int64_t latest;
    bool user_replied;
} ht_thread_summary;

bool ht_store_thread_summary(ht_store *store, const char *room_id, const char *root_id, const char *user_id,
                             ht_thread_summary *out);
/* Whether any event of the room is a thread root (has an m.thread reply). */
bool ht_store_room_has_threads(ht_store *store, const char *room_id);

/* A thread root (its event's stream) and its latest reply at or below the
 * ceiling the list was asked for. */
typedef struct ht_thread_root {
    int64_t root;
    int64_t latest;
} ht_thread_root;

/* The room's thread roots whose latest reply (counting replies up to
 * `ceiling`) lies below `before`, by latest reply, newest first. With
 * participant, only threads that user started or replied in. */
size_t ht_store_thread_roots(ht_store *store, ht_arena *arena, const char *room_id, int64_t before,
                             int64_t ceiling, const char *participant, int64_t limit, ht_thread_root **out);

#endif
