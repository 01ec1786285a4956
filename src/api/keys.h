/* keys.h -- end-to-end encryption: keys, to-device messages, room key
 * backups. The server stores and forwards; it never decrypts. */
#ifndef HT_API_KEYS_H
#define HT_API_KEYS_H

#include "matrix/handler.h"

/* keys.c */
ht_reply ht_api_keys_upload(ht_ctx *ctx);
ht_reply ht_api_keys_query(ht_ctx *ctx);
ht_reply ht_api_keys_claim(ht_ctx *ctx);
ht_reply ht_api_keys_changes(ht_ctx *ctx);
ht_reply ht_api_keys_device_signing_upload(ht_ctx *ctx);
ht_reply ht_api_keys_signatures_upload(ht_ctx *ctx);
/* {algorithm: count} of a device's unclaimed one-time keys, with
 * signed_curve25519 always present (clients top up from it). New reference. */
json_t *ht_keys_otk_counts(ht_ctx *ctx, const char *user_id, const char *device_id);
/* {changed: [user ids], left: [user ids]}: whose device lists the caller
 * must refetch or forget for the stream interval (from, to]. New reference. */
json_t *ht_keys_device_lists(ht_ctx *ctx, int64_t from, int64_t to);

/* to_device.c */
ht_reply ht_api_send_to_device(ht_ctx *ctx);

/* room_keys.c */
ht_reply ht_api_room_keys_version_create(ht_ctx *ctx);
ht_reply ht_api_room_keys_version_get(ht_ctx *ctx);
ht_reply ht_api_room_keys_version_put(ht_ctx *ctx);
ht_reply ht_api_room_keys_version_delete(ht_ctx *ctx);
ht_reply ht_api_room_keys_put(ht_ctx *ctx);
ht_reply ht_api_room_keys_get(ht_ctx *ctx);
ht_reply ht_api_room_keys_delete(ht_ctx *ctx);

#endif
