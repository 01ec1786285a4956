/* account_data.h -- a user's account data, global (room_id "") or per
 * room, stored as the JSON text the client sent. */
#ifndef HT_STORE_ACCOUNT_DATA_H
#define HT_STORE_ACCOUNT_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

bool ht_store_account_data_put(ht_store *store, const char *user_id, const char *room_id,
                               const char *type, const char *content, int64_t stream);
/* The content as JSON text, or NULL. */
const char *ht_store_account_data_get(ht_store *store, ht_arena *arena, const char *user_id,
                                      const char *room_id, const char *type);

/* How many entries the user keeps, and their bytes, besides the read
 * markers the server keeps for every room (m.fully_read). */
void ht_store_account_data_usage(ht_store *store, const char *user_id, int64_t *entries, int64_t *bytes);
/* Removes every entry of the user, global and per room (account erasure). */
bool ht_store_account_data_delete_user(ht_store *store, const char *user_id);

typedef struct ht_account_data_row {
    const char *type;
    const char *content;
    int64_t stream;
} ht_account_data_row;

/* Entries of one scope (room_id "" for global) changed in (since, upto]. */
size_t ht_store_account_data_since(ht_store *store, ht_arena *arena, const char *user_id,
                                   const char *room_id, int64_t since, int64_t upto,
                                   ht_account_data_row **out);

#endif
