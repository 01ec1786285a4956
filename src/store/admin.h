/* admin.h -- what the admin API reads and changes beyond the ordinary
 * stores: the admin flag, listings across every user, room or file, and
 * purging a room. Strings are copied into the caller's arena. */
#ifndef HT_STORE_ADMIN_H
#define HT_STORE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

typedef struct ht_admin_user_row {
    const char *user_id;
    const char *displayname; /* NULL: none */
    const char *avatar_url;  /* NULL: none */
    bool admin;
    bool deactivated;
    int64_t created_ms;
    bool has_password;
} ht_admin_user_row;

/* Which users a listing takes (see HT_OP_USER_FILTER). */
typedef struct ht_admin_user_filter {
    const char *user_id_part; /* NULL: any */
    const char *name_part;    /* localpart or display name; NULL: any */
    bool with_deactivated;
    int admins;               /* -1: anyone, 1: admins only, 0: non-admins */
} ht_admin_user_filter;

bool ht_store_admin_user_get(ht_store *store, ht_arena *arena, const char *user_id, ht_admin_user_row *out);
bool ht_store_admin_set(ht_store *store, const char *user_id, bool admin);
bool ht_store_user_reactivate(ht_store *store, const char *user_id);
/* order_by: name, displayname, avatar_url, admin, deactivated, creation_ts. */
size_t ht_store_admin_users(ht_store *store, ht_arena *arena, const ht_admin_user_filter *filter,
                            const char *order_by, bool descending, int64_t limit, int64_t offset,
                            ht_admin_user_row **out);
int64_t ht_store_admin_users_count(ht_store *store, const ht_admin_user_filter *filter);

/* Active users, admins among them, rooms. */
void ht_store_server_counts(ht_store *store, int64_t *users, int64_t *admins, int64_t *rooms);

/* Every room id, sorted, at most limit. */
size_t ht_store_rooms_all(ht_store *store, ht_arena *arena, int64_t limit, const char ***out);
int64_t ht_store_room_state_count(ht_store *store, const char *room_id);
/* How many memberships of the room have not been forgotten. */
int64_t ht_store_room_remembered(ht_store *store, const char *room_id);
/* Deletes every trace of the room: events and their graph (edges,
 * extremities, the state log and state groups), state, memberships,
 * aliases, receipts, typing, room account data, relations, search index,
 * reports. A table a later migration adds about rooms belongs here too.
 * False if a statement failed. */
bool ht_store_room_purge(ht_store *store, const char *room_id);

/* Room deletions (the admin API's delete status): each has an id and its
 * result as JSON text. Recording one forgets those older than expire_before_ms. */
typedef struct ht_room_deletion_row {
    const char *delete_id;
    const char *result;
} ht_room_deletion_row;

bool ht_store_room_deletion_record(ht_store *store, const char *delete_id, const char *room_id,
                                   const char *result, int64_t now_ms, int64_t expire_before_ms);
bool ht_store_room_deletion_get(ht_store *store, ht_arena *arena, const char *delete_id,
                                ht_room_deletion_row *out);
size_t ht_store_room_deletions(ht_store *store, ht_arena *arena, const char *room_id,
                               ht_room_deletion_row **out);

typedef struct ht_admin_media_row {
    const char *media_id;
    int64_t created_ms;
    const char *content_type;
    const char *filename; /* NULL: none */
    int64_t size;
} ht_admin_media_row;

/* A user's uploaded files (pending ids left out). order_by: media_id,
 * upload_name, created_ts, media_length, media_type. */
size_t ht_store_admin_media_of_user(ht_store *store, ht_arena *arena, const char *user_id,
                                    const char *order_by, bool descending, int64_t limit,
                                    int64_t offset, ht_admin_media_row **out);
int64_t ht_store_admin_media_count(ht_store *store, const char *user_id);
bool ht_store_media_delete(ht_store *store, const char *media_id);

#endif
