/* keys.h -- end-to-end encryption: keys, to-device messages, room key
 * backups. The server stores and forwards; it never decrypts. */
#ifndef HT_API_KEYS_H
#define HT_API_KEYS_H

#include "api/handler.h"

/* keys.c */
ht_reply ht_api_keys_upload(ht_ctx *ctx);
ht_reply ht_api_keys_query(ht_ctx *ctx);
ht_reply ht_api_keys_claim(ht_ctx *ctx);
ht_reply ht_api_keys_changes(ht_ctx *ctx);
ht_reply ht_api_keys_device_signing_upload(ht_ctx *ctx);
ht_reply ht_api_keys_signatures_upload(ht_ctx *ctx);

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
