/* auth_rules.h -- private to src/room: room version 10 authorization. */
#ifndef HT_ROOM_AUTH_RULES_H
#define HT_ROOM_AUTH_RULES_H

#include "room/room.h"

/* The state an event is checked against: the room's current state. */
typedef struct ht_auth_state {
    const char *creator;
    json_t *power_levels;   /* content or NULL */
    json_t *join_rules;     /* content or NULL */
    const char *sender_membership; /* NULL: never a member */
    const char *target_membership; /* for m.room.member events */
    const char *authoriser_membership; /* of a join's join_authorised_via_users_server */
    bool has_create;
    bool room_empty;        /* nothing but the create event yet */
} ht_auth_state;

/* Checks ev (content already validated to be an object); returns HT_OK or a
 * 403 M_FORBIDDEN / 400 error saying why. Messages are in the arena. */
ht_error ht_auth_check_event(ht_arena *arena, const ht_new_event *ev, const ht_auth_state *st);

/* A local join into a restricted room by someone neither invited nor
 * joined: 403 unless the sender is in a room the allow list names; when the
 * content names no authoriser, *content becomes a copy (arena) naming one,
 * else stays NULL. See restricted.c. */
ht_error ht_room_vouch_join(ht_env *env, const ht_new_event *ev,
                            const ht_auth_state *st, json_t **content);

#endif
