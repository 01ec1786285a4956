/* read.h -- private to the read endpoints (events.c, backfill.c): what
 * every one of them checks before it reads a room for another server.
 *
 * The spec's rule for all of them: the asking server must be in the room
 * (403 M_FORBIDDEN otherwise), except that a server may always read its own
 * events. A room this server does not know is 404 M_NOT_FOUND. */
#ifndef HT_FEDERATION_READ_H
#define HT_FEDERATION_READ_H

#include <jansson.h>
#include <stdbool.h>

#include "matrix/handler.h"
#include "room/for_servers.h"
#include "room/room_version.h"
#include "store/rooms.h"

enum {
    /* A state, an auth chain: as many events as a state resolution may
     * read (room/state_res.h), so what we serve is what we could use. */
    HT_FED_MAX_STATE_EVENTS = 50000,
    /* The PDUs of one answer, as canonical JSON: the largest answer this
     * server accepts from others (core/fetch.c). */
    HT_FED_MAX_ANSWER_BYTES = 16 * 1024 * 1024,
};

/* The room a request reads, as the asking server (ctx->origin) sees it. */
typedef struct ht_fed_room {
    const char *room_id;
    const ht_room_version *version;
    ht_server_viewer viewer;
} ht_fed_room;

/* Finds the room; false with *err (404) if this server does not know it. */
bool ht_fed_room_open(ht_ctx *ctx, const char *room_id, ht_fed_room *room, ht_reply *err);
/* The same, and the asking server must be in it (else 403). */
bool ht_fed_room_open_joined(ht_ctx *ctx, const char *room_id, ht_fed_room *room, ht_reply *err);

/* {"origin", "origin_server_ts", "pdus"}: a transaction of PDUs, the form
 * /event and /backfill answer with. Steals pdus. */
json_t *ht_fed_transaction(ht_ctx *ctx, json_t *pdus);

/* Appends the event as the asking server may see it (whole or redacted,
 * ht_server_may_see) to list; an event whose stored form cannot be read
 * is left out. */
void ht_fed_append_seen(ht_ctx *ctx, ht_fed_room *room, const ht_event_row *ev, json_t *list);

#endif
