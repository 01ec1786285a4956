/* device_keys.h -- this server's users' end-to-end keys as the spec's JSON,
 * for our own clients (api/keys.c) and for other servers asking about our
 * users (federation/user_keys.c): one way to build them for both.
 *
 * `viewer` decides which uploaded signatures show: the key owner's own, and
 * the viewer's (a signature made with a user-signing key is seen only by
 * its maker). Other servers see the owner's signatures only (viewer NULL). */
#ifndef HT_MATRIX_DEVICE_KEYS_H
#define HT_MATRIX_DEVICE_KEYS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "matrix/handler.h"

/* {device_id: DeviceKeys with unsigned.device_display_name} of a local
 * user (no display name for other servers: viewer NULL); only the devices
 * named in `wanted` (an array of ids) when it is a non-empty array. New
 * reference. */
json_t *ht_device_keys_of(ht_ctx *ctx, const char *user_id, json_t *wanted, const char *viewer);
/* The user's cross-signing key of type master, self_signing or
 * user_signing, with the signatures the viewer may see; NULL if none. New
 * reference. */
json_t *ht_cross_signing_key_of(ht_ctx *ctx, const char *user_id, const char *type, const char *viewer);
/* Claims one key of `algorithm` of a local device (a one-time key, else the
 * fallback key) into result[user_id][device_id] = {key_id: key}. *stream:
 * the position marking whose keys were taken, advanced once per request
 * (0 before the first claim). False when the device has none. */
bool ht_one_time_key_claim(ht_ctx *ctx, const char *user_id, const char *device_id, const char *algorithm,
                           json_t *result, int64_t *stream);

#endif
