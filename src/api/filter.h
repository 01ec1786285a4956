/* filter.h -- stored and inline event filters (spec "Filtering"), and
 * stream tokens. */
#ifndef HT_API_FILTER_H
#define HT_API_FILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "matrix/handler.h"
#include "store/rooms.h"

ht_reply ht_api_filter_create(ht_ctx *ctx);
ht_reply ht_api_filter_get(ht_ctx *ctx);

/* A filter from a query parameter: a filter id or inline JSON. Returns
 * false with *err on a bad or unknown filter; *filter is NULL when absent
 * (borrowed, lives as long as the request). */
bool ht_filter_param(ht_ctx *ctx, const char *param, json_t **filter, ht_reply *err);

/* Does something of this type and sender pass an EventFilter? Globs in
 * types and not_types are paid for from env's matching budget. */
bool ht_filter_allows(ht_env *env, json_t *filter, const char *type, const char *sender);
/* Does a room event pass a RoomEventFilter: types and senders as above,
 * and contains_url against its content? */
bool ht_filter_allows_event(ht_env *env, json_t *filter, const ht_event_row *ev);
/* Does the room pass the rooms / not_rooms of a RoomFilter? */
bool ht_filter_allows_room(json_t *room_filter, const char *room_id);
/* The filter's limit, bounded to [1, max], or fallback. */
int64_t ht_filter_limit(json_t *filter, int64_t fallback, int64_t max);

/* Stream tokens ("s42") as given to clients: opaque to them. */
char *ht_stream_token(ht_arena *arena, int64_t position);
bool ht_stream_token_parse(const char *token, int64_t *position);
/* A token query parameter ("from", "to"): *present says whether it was
 * given; false with a 400 M_INVALID_PARAM reply if it is not a token. */
bool ht_query_token(ht_ctx *ctx, const char *name, int64_t *out, bool *present, ht_reply *err);

#endif
