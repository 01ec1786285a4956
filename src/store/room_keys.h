/* room_keys.h -- server-side room key backups: versions, each with the
 * client-encrypted session keys it holds. The server compares only the
 * clear metadata (is_verified, first_message_index, forwarded_count) to
 * keep the better copy of a key; session_data stays opaque. */
#ifndef HT_STORE_ROOM_KEYS_H
#define HT_STORE_ROOM_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

typedef struct ht_backup_version_row {
    int64_t version;
    const char *algorithm;
    const char *auth_data; /* JSON text */
    int64_t etag;
} ht_backup_version_row;

typedef struct ht_backup_key_meta {
    int64_t first_message_index;
    int64_t forwarded_count;
    bool is_verified;
} ht_backup_key_meta;

/* Returns the new version number, or 0. */
int64_t ht_store_backup_version_create(ht_store *store, const char *user_id, const char *algorithm,
                                       const char *auth_data);
/* version 0: the current (newest, not deleted) one. */
bool ht_store_backup_version_get(ht_store *store, ht_arena *arena, const char *user_id, int64_t version,
                                 ht_backup_version_row *out);
bool ht_store_backup_version_update(ht_store *store, const char *user_id, int64_t version,
                                    const char *auth_data);
/* Marks the version deleted and drops its keys. */
bool ht_store_backup_version_delete(ht_store *store, const char *user_id, int64_t version);
bool ht_store_backup_etag_bump(ht_store *store, const char *user_id, int64_t version);
int64_t ht_store_backup_count(ht_store *store, const char *user_id, int64_t version);

bool ht_store_backup_key_get(ht_store *store, const char *user_id, int64_t version, const char *room_id,
                             const char *session_id, ht_backup_key_meta *out);
bool ht_store_backup_key_put(ht_store *store, const char *user_id, int64_t version, const char *room_id,
                             const char *session_id, const ht_backup_key_meta *meta, const char *json);
typedef struct ht_backup_key_row {
    const char *room_id;
    const char *session_id;
    const char *json; /* the session data as uploaded */
} ht_backup_key_row;
/* The keys of a backup version, limited to room_id and session_id when
 * they are not NULL, by room and session; returns how many. */
size_t ht_store_backup_keys(ht_store *store, ht_arena *arena, const char *user_id, int64_t version,
                            const char *room_id, const char *session_id, ht_backup_key_row **out);
/* Deletes keys (all, a room's, or one); returns how many. */
int64_t ht_store_backup_keys_delete(ht_store *store, const char *user_id, int64_t version,
                                    const char *room_id, const char *session_id);

#endif
