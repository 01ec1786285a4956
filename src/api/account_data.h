/* account_data.h -- /user/{userId}/account_data, per-room account data and
 * room tags. */
#ifndef HT_API_ACCOUNT_DATA_H
#define HT_API_ACCOUNT_DATA_H

#include "matrix/handler.h"

ht_reply ht_api_account_data_get(ht_ctx *ctx);
ht_reply ht_api_account_data_put(ht_ctx *ctx);
ht_reply ht_api_room_account_data_get(ht_ctx *ctx);
ht_reply ht_api_room_account_data_put(ht_ctx *ctx);
ht_reply ht_api_tags_get(ht_ctx *ctx);
ht_reply ht_api_tag_put(ht_ctx *ctx);
ht_reply ht_api_tag_delete(ht_ctx *ctx);

/* Stores the caller's account data (room_id "" for global) at a new stream
 * position, so the next /sync delivers it. */
bool ht_account_data_set(ht_ctx *ctx, const char *room_id, const char *type, json_t *content);

#endif
