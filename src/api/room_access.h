/* room_access.h -- what part of a room a user may read. */
#ifndef HT_API_ROOM_ACCESS_H
#define HT_API_ROOM_ACCESS_H

#include "matrix/handler.h"

/* Checks the room id parameter "roomId" (400 if malformed, 404 if unknown). */
bool ht_room_param(ht_ctx *ctx, const char **room_id, ht_reply *err);

/* How far the caller may read the room: *upto = 0 means "everything, live"
 * (joined, or a world-readable room); otherwise the stream position of the
 * caller's leave or ban, after which they see nothing. 403 if the caller
 * was never in the room. */
bool ht_room_read_limit(ht_ctx *ctx, const char *room_id, int64_t *upto, ht_reply *err);

/* 403 unless the caller is joined now. */
bool ht_room_require_joined(ht_ctx *ctx, const char *room_id, ht_reply *err);

#endif
