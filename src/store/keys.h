/* keys.h -- end-to-end encryption keys, stored and handed on, never used.
 *
 * Device identity keys, one-time and fallback keys, cross-signing keys and
 * the signatures users upload about each other's keys. Everything is kept
 * as the JSON the client signed. A device's rows go with the device (the
 * schema cascades and a trigger records the device-list change). */
#ifndef HT_STORE_KEYS_H
#define HT_STORE_KEYS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

typedef struct ht_device_keys_row {
    const char *device_id;
    const char *json;
    const char *display_name; /* NULL: none */
} ht_device_keys_row;

/* The device's keys as uploaded, or NULL. */
const char *ht_store_device_keys_get(ht_store *store, ht_arena *arena, const char *user_id,
                                     const char *device_id);
bool ht_store_device_keys_put(ht_store *store, const char *user_id, const char *device_id,
                              const char *json);
size_t ht_store_device_keys_of_user(ht_store *store, ht_arena *arena, const char *user_id,
                                    ht_device_keys_row **out);

/* One-time keys. get: the stored JSON for key_id, or NULL. */
const char *ht_store_otk_get(ht_store *store, ht_arena *arena, const char *user_id,
                             const char *device_id, const char *key_id);
bool ht_store_otk_insert(ht_store *store, const char *user_id, const char *device_id,
                         const char *algorithm, const char *key_id, const char *json);
/* How many unclaimed keys the device has, per algorithm (rows in the arena). */
typedef struct ht_key_count_row {
    const char *algorithm;
    int64_t count;
} ht_key_count_row;
size_t ht_store_otk_counts(ht_store *store, ht_arena *arena, const char *user_id, const char *device_id,
                           ht_key_count_row **out);
/* Takes (deletes) the device's oldest key of that algorithm. */
bool ht_store_otk_claim(ht_store *store, ht_arena *arena, const char *user_id, const char *device_id,
                        const char *algorithm, const char **key_id, const char **json);
/* Records that someone took the device's keys at this stream position. */
bool ht_store_otk_taken_mark(ht_store *store, const char *user_id, const char *device_id, int64_t stream);
int64_t ht_store_otk_taken_stream(ht_store *store, const char *user_id, const char *device_id);

/* Fallback keys: one per algorithm; a new key (not the same one again)
 * resets "used". claim hands it out and marks it used, without removing. */
bool ht_store_fallback_put(ht_store *store, const char *user_id, const char *device_id,
                           const char *algorithm, const char *key_id, const char *json);
bool ht_store_fallback_claim(ht_store *store, ht_arena *arena, const char *user_id,
                             const char *device_id, const char *algorithm, const char **key_id,
                             const char **json);
/* How many fallback keys (one per algorithm) the device holds, used or not. */
int64_t ht_store_fallback_count(ht_store *store, const char *user_id, const char *device_id);
/* The algorithms of the device's unused fallback keys; returns how many. */
size_t ht_store_fallback_unused(ht_store *store, ht_arena *arena, const char *user_id, const char *device_id,
                                const char ***algorithms);

/* Cross-signing keys: key_type "master", "self_signing" or "user_signing". */
const char *ht_store_cross_signing_get(ht_store *store, ht_arena *arena, const char *user_id,
                                       const char *key_type, const char **public_key);
bool ht_store_cross_signing_put(ht_store *store, const char *user_id, const char *key_type,
                                const char *public_key, const char *json);
/* The cross-signing key of user_id with this public key: its type, or NULL. */
const char *ht_store_cross_signing_by_public_key(ht_store *store, ht_arena *arena, const char *user_id,
                                                 const char *public_key, const char **json);

/* Signatures uploaded about a key (a device id or a cross-signing public
 * key). signatures_of: those by the key's own user or by viewer. */
typedef struct ht_signature_row {
    const char *signer_user;
    const char *signer_key_id;
    const char *signature;
} ht_signature_row;
bool ht_store_signature_put(ht_store *store, const char *target_user, const char *target_key,
                            const char *signer_user, const char *signer_key_id, const char *signature);
size_t ht_store_signatures_of(ht_store *store, ht_arena *arena, const char *target_user,
                              const char *target_key, const char *viewer, ht_signature_row **out);

/* The user's device list changed: moves the stream and records it, for
 * everyone sharing a room with the user (only_for NULL) or for one user.
 * device_id: the device that changed, NULL for a cross-signing key. */
bool ht_store_device_list_changed(ht_store *store, const char *user_id, const char *device_id,
                                  const char *only_for);
/* Users whose device lists `viewer` should refetch / forget, for the
 * stream interval (from, to]; returns how many (user ids in the arena). */
size_t ht_store_device_lists_changed(ht_store *store, ht_arena *arena, const char *viewer, int64_t from,
                                     int64_t to, const char ***users);
size_t ht_store_device_lists_left(ht_store *store, ht_arena *arena, const char *viewer, int64_t from,
                                  int64_t to, const char ***users);

/* ---- device lists across servers ---- */

/* The position of the user's last device change told to everyone, before
 * `before` (INT64_MAX: the last); 0 if none: the m.device_list_update
 * stream_id and prev_id. */
int64_t ht_store_device_list_stream(ht_store *store, const char *user_id, int64_t before);
typedef struct ht_device_list_change {
    const char *user_id;
    const char *device_id; /* NULL: a cross-signing key changed */
    int64_t stream;
} ht_device_list_change;
/* Our users' changes (for everyone) not yet queued for other servers, the
 * oldest first, at most limit; ht_store_device_list_sent records that
 * those up to `through` were. */
size_t ht_store_device_list_unsent(ht_store *store, ht_arena *arena, const char *server_name, int64_t limit,
                                   ht_device_list_change **out);
bool ht_store_device_list_sent(ht_store *store, int64_t through);
/* The servers (but `except`) with members joined to a room the user is
 * joined to, at most limit. */
size_t ht_store_user_servers(ht_store *store, ht_arena *arena, const char *user_id, const char *except,
                             int64_t limit, const char ***out);
/* Whether the user is joined to a room where server_name has members. */
bool ht_store_shares_room_with(ht_store *store, const char *user_id, const char *server_name);
/* Another server's user's keys, as cached (the JSON text), or NULL; also
 * NULL once one of the user's memberships changed after they were kept (a
 * leave and a join again may hide updates never sent to us). */
const char *ht_store_remote_keys_get(ht_store *store, ht_arena *arena, const char *user_id);
bool ht_store_remote_keys_put(ht_store *store, const char *user_id, const char *json);
bool ht_store_remote_keys_forget(ht_store *store, const char *user_id);

#endif
