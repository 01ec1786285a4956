/* auth_rules.h -- private to src/room: what the local paths read of the
 * current state around the authorization rules (event_auth.h). */
#ifndef HT_ROOM_AUTH_RULES_H
#define HT_ROOM_AUTH_RULES_H

#include "room/room.h"

/* The room's current state as a local event's sender meets it. */
typedef struct ht_auth_state {
    const char *creator;
    json_t *power_levels;   /* content or NULL */
    json_t *join_rules;     /* content or NULL */
    const char *sender_membership; /* NULL: never a member */
    const char *target_membership; /* for m.room.member events */
} ht_auth_state;

/* A local join into a restricted room by someone neither invited nor
 * joined: 403 unless the sender is in a room the allow list names; when the
 * content names no authoriser, *content becomes a copy (arena) naming one,
 * else stays NULL. See restricted.c. */
ht_error ht_room_vouch_join(ht_env *env, const ht_new_event *ev,
                            const ht_auth_state *st, json_t **content);

#endif
