/* accounts.h -- users, devices, access tokens and user-interactive auth
 * sessions. Strings returned are copied into the caller's arena. */
#ifndef HT_STORE_ACCOUNTS_H
#define HT_STORE_ACCOUNTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

typedef struct ht_user_row {
    const char *password_hash; /* NULL: no password login */
    bool deactivated;
    const char *displayname;
    const char *avatar_url;
} ht_user_row;

typedef struct ht_token_row {
    int64_t id;
    const char *user_id;
    const char *device_id;
    bool deactivated;
} ht_token_row;

/* False if the user id is taken (or on error: see ht_store_failed). */
bool ht_store_user_insert(ht_store *store, const char *user_id, const char *password_hash,
                          int64_t now_ms);
bool ht_store_user_get(ht_store *store, ht_arena *arena, const char *user_id, ht_user_row *out);
bool ht_store_user_set_password(ht_store *store, const char *user_id, const char *password_hash);
/* Marks the account deactivated for good. The row stays, so its name is
 * never handed out again; tokens of a deactivated user stop working. */
bool ht_store_user_deactivate(ht_store *store, const char *user_id);

/* display_name NULL keeps the existing name. */
bool ht_store_device_upsert(ht_store *store, const char *user_id, const char *device_id,
                            const char *display_name, int64_t now_ms);
typedef struct ht_device_row {
    const char *device_id;
    const char *display_name; /* NULL: none */
    bool seen;                /* last_seen_ms is known */
    int64_t last_seen_ms;
} ht_device_row;

bool ht_store_device_get(ht_store *store, ht_arena *arena, const char *user_id, const char *device_id,
                         ht_device_row *out);
/* The user's devices by id; returns how many (rows in the arena). */
size_t ht_store_device_list(ht_store *store, ht_arena *arena, const char *user_id, ht_device_row **out);
bool ht_store_device_set_name(ht_store *store, const char *user_id, const char *device_id,
                              const char *display_name);
/* Deletes the device and, with it, its access tokens. */
bool ht_store_device_delete(ht_store *store, const char *user_id, const char *device_id);
/* Deletes every device of the user except keep_device_id (NULL: all). */
bool ht_store_device_delete_all_but(ht_store *store, const char *user_id, const char *keep_device_id);

bool ht_store_token_insert(ht_store *store, const unsigned char *hash, size_t hash_len,
                           const char *user_id, const char *device_id, int64_t now_ms);
bool ht_store_token_lookup(ht_store *store, ht_arena *arena, const unsigned char *hash,
                           size_t hash_len, ht_token_row *out);
bool ht_store_token_delete_device(ht_store *store, const char *user_id, const char *device_id);
/* Deletes every token of the user except keep_token_id (0: all). */
bool ht_store_token_delete_all_but(ht_store *store, const char *user_id, int64_t keep_token_id);

bool ht_store_uia_insert(ht_store *store, const char *session, const char *user_id, int64_t now_ms);
/* True if the session exists and was created after not_before_ms; *user_id
 * is the user it belongs to (NULL for registration). */
bool ht_store_uia_get(ht_store *store, ht_arena *arena, const char *session, int64_t not_before_ms,
                      const char **user_id);
/* Deletes this session and every session older than expired_before_ms. */
bool ht_store_uia_delete(ht_store *store, const char *session, int64_t expired_before_ms);

/* Filters: returns the new id, or -1. */
int64_t ht_store_filter_insert(ht_store *store, const char *user_id, const char *json);
const char *ht_store_filter_get(ht_store *store, ht_arena *arena, const char *user_id,
                                int64_t filter_id);

#endif
