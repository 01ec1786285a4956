/* sync_write.h -- the text of a /sync response, written straight into a
 * buffer rather than built as one jansson tree and dumped.
 *
 * An initial sync of a user in hundreds of rooms is mostly events, and an
 * event is mostly its stored content: those are copied as stored text
 * (sync_write.c says when that is safe), and only the small parts around
 * them (summaries, counts, receipts) stay jansson values, dumped in place. */
#ifndef HT_API_SYNC_WRITE_H
#define HT_API_SYNC_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "matrix/handler.h"
#include "store/rooms.h"
#include "util/buf.h"

/* One room's entry under rooms.join or rooms.leave. */
typedef struct ht_sync_room {
    const char *room_id;
    const ht_event_row *timeline; /* oldest first */
    size_t timeline_count;
    const ht_event_row *state;
    size_t state_count;
    bool limited;
    const char *prev_batch;
    json_t *rest; /* owned: the entry's other fields (summary, ephemeral,
                   * account_data, unread counts); released by the writer */
} ht_sync_room;

/* Appends the event as clients see it (room/format.c's client format,
 * with room_id or, as a sync gives it, without), as the caller sees it.
 * room_has_threads: false when the store says the event's room has no
 * thread, so that no event of it needs asking whether it is a thread
 * root. */
void ht_sync_write_event(ht_ctx *ctx, ht_buf *out, const ht_event_row *ev, bool room_has_threads,
                         bool with_room_id);

/* Appends `"room_id":{...}` for each room, comma-separated. */
void ht_sync_write_rooms(ht_ctx *ctx, ht_buf *out, const ht_sync_room *rooms, size_t count);

/* The text of the top-level "content" of a stored event's JSON, found
 * without parsing: *start and *len. False when the general path must write
 * the event: the text is not an object the scan understands, a key is
 * escaped (it could spell "content"), "content" is missing or repeated,
 * or the event has a top-level "redacts". The text is trusted to be JSON
 * (the store holds only JSON it wrote or checked); on text that is not,
 * the scan still never reads past its end. */
bool ht_sync_stored_content(const char *json, const char **start, size_t *len);

/* Appends s as a JSON string. */
void ht_sync_write_string(ht_buf *out, const char *s);

/* Appends `"key":value` for each member of the object, comma-separated,
 * and releases the object. */
void ht_sync_write_members(ht_buf *out, json_t *object);

#endif
