/* to_device.h -- send-to-device messages, waiting for their device.
 *
 * A message is stored with the stream position of the request that sent
 * it, and deleted when the device's next /sync presents a since token at or
 * past that position: the device has then acknowledged receiving it. */
#ifndef HT_STORE_TO_DEVICE_H
#define HT_STORE_TO_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

bool ht_store_to_device_insert(ht_store *store, const char *user_id, const char *device_id,
                               const char *sender, const char *type, const char *content,
                               int64_t stream);
/* Deletes the device's messages at or below `acked`. */
bool ht_store_to_device_ack(ht_store *store, const char *user_id, const char *device_id, int64_t acked);
/* The stream position of the device's (n+1)-th message in (after, upto],
 * or 0 if it has no more than n there. */
int64_t ht_store_to_device_nth_stream(ht_store *store, const char *user_id, const char *device_id,
                                      int64_t after, int64_t upto, int64_t n);
typedef struct ht_to_device_row {
    const char *sender;
    const char *type;
    const char *content; /* JSON text */
} ht_to_device_row;
/* The device's messages in (after, upto], oldest first; returns how many. */
size_t ht_store_to_device_list(ht_store *store, ht_arena *arena, const char *user_id, const char *device_id,
                               int64_t after, int64_t upto, ht_to_device_row **out);
/* Records a transaction id; false if this device used it before. */
bool ht_store_to_device_txn_new(ht_store *store, const char *user_id, const char *device_id,
                                const char *txn_id);
/* The user's device ids; returns how many. */
size_t ht_store_device_ids(ht_store *store, ht_arena *arena, const char *user_id, const char ***ids);
bool ht_store_device_exists(ht_store *store, const char *user_id, const char *device_id);

#endif
