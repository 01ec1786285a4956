/* rooms.h -- rooms, aliases, memberships, events and room state.
 *
 * Events are addressed by their stream position (the events table's primary
 * key), which also orders them for /sync and /messages. Lists are returned as
 * arena arrays. */
#ifndef HT_STORE_ROOMS_H
#define HT_STORE_ROOMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

typedef struct ht_room_row {
    const char *version;
    const char *creator;
    bool published;
} ht_room_row;

/* Where an event stands in its room's graph (schema migration 8). */
typedef enum ht_event_status {
    HT_EVENT_TIMELINE = 0,    /* accepted and shown */
    HT_EVENT_OUTLIER = 1,     /* known (to check others, or state given at a join), not shown; its state is unknown */
    HT_EVENT_SOFT_FAILED = 2, /* in the graph, never shown nor referenced by our events */
    HT_EVENT_REJECTED = 3,    /* failed the authorization rules: kept so it is not fetched again */
} ht_event_status;

typedef struct ht_event_row {
    int64_t stream;
    const char *event_id;
    const char *room_id;
    const char *type;
    const char *state_key; /* NULL for non-state events */
    const char *sender;
    int64_t origin_ts;
    int64_t depth;
    const char *json;
    const char *redacted_by;
    const char *txn_id;
    const char *device_id;
    int64_t prev_state;    /* 0: none */
    ht_event_status status;
    int64_t state_group;   /* the state after it: 0 = the room's state log at its stream */
} ht_event_row;

typedef struct ht_membership_row {
    const char *room_id;   /* set by the per-user list */
    const char *user_id;   /* set by the per-room list */
    const char *membership;
    int64_t stream;
} ht_membership_row;

bool ht_store_room_insert(ht_store *store, const char *room_id, const char *version,
                          const char *creator, int64_t now_ms, bool published);
bool ht_store_room_get(ht_store *store, ht_arena *arena, const char *room_id, ht_room_row *out);
bool ht_store_room_set_published(ht_store *store, const char *room_id, bool published);

/* False if the alias exists already (ht_store_failed tells errors apart). */
bool ht_store_alias_insert(ht_store *store, const char *alias, const char *room_id,
                           const char *creator);
/* The room the alias points to, or NULL; *creator may be NULL. */
const char *ht_store_alias_get(ht_store *store, ht_arena *arena, const char *alias,
                               const char **creator);
bool ht_store_alias_delete(ht_store *store, const char *alias);
size_t ht_store_alias_list(ht_store *store, ht_arena *arena, const char *room_id,
                           const char ***out);

/* The user's membership in the room is now that of their member event at
 * `stream`, whose string displayname (NULL: none) is kept beside it. */
bool ht_store_membership_set(ht_store *store, const char *room_id, const char *user_id,
                             const char *membership, const char *display_name, int64_t stream);
/* The user's current membership ("join", "invite", "leave", "ban", "knock")
 * or NULL if none; *stream is its event. */
const char *ht_store_membership_get(ht_store *store, ht_arena *arena, const char *room_id,
                                    const char *user_id, int64_t *stream, bool *forgotten);
bool ht_store_membership_forget(ht_store *store, const char *room_id, const char *user_id);
size_t ht_store_memberships_of_user(ht_store *store, ht_arena *arena, const char *user_id,
                                    ht_membership_row **out);
size_t ht_store_members_of_room(ht_store *store, ht_arena *arena, const char *room_id,
                                ht_membership_row **out);
/* How many members are joined to the room (kept per server by triggers:
 * room_servers), and invited (a partial index): neither reads the room's
 * whole member list. */
int64_t ht_store_members_joined_count(ht_store *store, const char *room_id);
int64_t ht_store_members_invited_count(ht_store *store, const char *room_id);
/* The first `limit` members joined or invited, by user id, but `except`:
 * a room summary's heroes, without reading the other members. */
size_t ht_store_member_heroes(ht_store *store, ht_arena *arena, const char *room_id, const char *except,
                              int64_t limit, const char ***out);
/* Did the user join the room at or after this stream position? */
bool ht_store_member_joined_after(ht_store *store, const char *room_id, const char *user_id,
                                  int64_t stream);

bool ht_store_event_insert(ht_store *store, const ht_event_row *ev);
bool ht_store_event_by_id(ht_store *store, ht_arena *arena, const char *event_id, ht_event_row *out);
/* Only a stored event's room, type and state key (NULL: not a state
 * event), in the arena: what a long list of state events needs of each,
 * without reading its text. */
bool ht_store_event_key(ht_store *store, ht_arena *arena, const char *event_id, const char **room_id,
                        const char **type, const char **state_key);
bool ht_store_event_by_stream(ht_store *store, ht_arena *arena, int64_t stream, ht_event_row *out);
bool ht_store_event_redact(ht_store *store, int64_t stream, const char *json, const char *redacted_by);
/* A redaction (at stream) whose target is not stored waits for it; the
 * first to arrive is kept. */
bool ht_store_redaction_wait(ht_store *store, const char *target, const char *room_id, int64_t stream);
/* The stream of the redaction waiting for target (false: none waits), and
 * its end. */
bool ht_store_redaction_waiting(ht_store *store, const char *target, int64_t *stream);
bool ht_store_redaction_waited(ht_store *store, const char *target);
/* Our own event kept unsigned, now signed: its JSON with the signature. */
bool ht_store_event_signed(ht_store *store, int64_t stream, const char *json);
/* Events with after < stream <= upto, oldest first, at most limit. */
size_t ht_store_events_after(ht_store *store, ht_arena *arena, const char *room_id, int64_t after,
                             int64_t upto, int64_t limit, ht_event_row **out);
/* Events with down_to < stream <= from, newest first, at most limit. */
size_t ht_store_events_before(ht_store *store, ht_arena *arena, const char *room_id, int64_t from,
                              int64_t down_to, int64_t limit, ht_event_row **out);
/* Other users' events in the rooms user_id is joined to, sent after their
 * join and not redacted, with stream < before, newest first, at most limit. */
size_t ht_store_events_of_joined_rooms(ht_store *store, ht_arena *arena, const char *user_id, int64_t before,
                                       int64_t limit, ht_event_row **out);
/* Events at or below stream `upto` in (origin_ts, stream) order, starting
 * just past the cursor (ts, stream): forward (later first, both above the
 * cursor) or backward (earlier first, both below). At most limit. */
size_t ht_store_events_by_ts(ht_store *store, ht_arena *arena, const char *room_id, bool forward,
                             int64_t ts, int64_t stream, int64_t upto, int64_t limit,
                             ht_event_row **out);
/* The room's last news at or below upto: its newest timeline event or
 * state change; 0 if none. */
int64_t ht_store_room_max_stream(ht_store *store, const char *room_id, int64_t upto);

/* The room's current state changes at stream position `at`: (type,
 * state_key) becomes the event at event_stream, or goes away (0). Recorded
 * in the state log, which every "state at a position" read uses. */
bool ht_store_state_change(ht_store *store, const char *room_id, const char *type,
                           const char *state_key, int64_t event_stream, int64_t at);
/* Stream of the current state event, or 0. */
int64_t ht_store_state_get(ht_store *store, const char *room_id, const char *type,
                           const char *state_key);
/* Stream of the state event in force at stream position `at`, or 0. */
int64_t ht_store_state_at(ht_store *store, const char *room_id, const char *type,
                          const char *state_key, int64_t at);
/* Streams of the room's current state (at = 0) or of its state at `at`. */
size_t ht_store_state_list(ht_store *store, ht_arena *arena, const char *room_id, int64_t at,
                           int64_t **out);
/* The same at `at` (> 0) for lazy-loaded members: every key but the member
 * events, and of those only the members listed (users_json: a JSON array
 * of user ids). Looks at the listed members' keys, not at every member's:
 * a room of 5,000 costs what a room of two does. */
size_t ht_store_state_list_lazy(ht_store *store, ht_arena *arena, const char *room_id, int64_t at,
                                const char *users_json, int64_t **out);
/* Streams of the room's current state events of one type (any state key),
 * by state key, at most limit. */
size_t ht_store_state_of_type(ht_store *store, ht_arena *arena, const char *room_id, const char *type,
                              int64_t limit, int64_t **out);
/* Streams of the state at upto of the keys that changed in (after, upto]. */
size_t ht_store_state_changed(ht_store *store, ht_arena *arena, const char *room_id, int64_t after,
                              int64_t upto, int64_t **out);

const char *ht_store_txn_get(ht_store *store, ht_arena *arena, const char *user_id,
                             const char *device_id, const char *txn_id);
bool ht_store_txn_put(ht_store *store, const char *user_id, const char *device_id,
                      const char *txn_id, int64_t stream);

#endif
