/* gap.h -- bridging a gap that get_missing_events could not fill. */
#ifndef HT_FEDERATION_GAP_H
#define HT_FEDERATION_GAP_H

#include <jansson.h>
#include <stdbool.h>

#include "matrix/handler.h"
#include "room/room.h"

/* A PDU of a room we are in that still misses events (*r is what
 * ht_room_receive said of it, HT_RECEIVED_MISSING): its auth chain and the
 * state at its missing prev events are asked of the sending server
 * (ctx->origin), kept as outliers, and the PDU taken against that state;
 * *r becomes the outcome. Any other *r is left alone. False while it
 * waits for the other server. */
bool ht_fed_bridge_gap(ht_ctx *ctx, const char *room_id, const char *room_version, json_t *pdu, ht_received *r);

#endif
