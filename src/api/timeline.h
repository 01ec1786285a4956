/* timeline.h -- walking a room's events the way /messages and /sync need:
 * in either direction, only what the user may see and the filter allows. */
#ifndef HT_API_TIMELINE_H
#define HT_API_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "matrix/handler.h"
#include "store/rooms.h"

typedef struct ht_timeline_page {
    ht_event_row *events; /* in the walking order */
    size_t count;
    int64_t next;         /* where the next page starts */
    bool more;            /* the room has more events that way */
} ht_timeline_page;

/* Newest first: events with down_to < stream <= from. */
void ht_timeline_back(ht_ctx *ctx, const char *room_id, int64_t from, int64_t down_to,
                      int64_t limit, json_t *filter, ht_timeline_page *page);
/* Oldest first: events with after < stream <= upto. */
void ht_timeline_forward(ht_ctx *ctx, const char *room_id, int64_t after, int64_t upto,
                         int64_t limit, json_t *filter, ht_timeline_page *page);

/* Client events of a page, in the order given; new reference. */
json_t *ht_timeline_json(ht_ctx *ctx, const ht_event_row *events, size_t count, bool reverse,
                         bool with_room_id);
/* The m.room.member events (at position `at`, 0 = now) of the page's
 * senders and of the caller, for lazy-loading members; new reference. */
json_t *ht_timeline_members(ht_ctx *ctx, const char *room_id, const ht_event_row *events,
                            size_t count, int64_t at, bool with_room_id);

#endif
