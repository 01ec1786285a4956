/* power_levels.h -- private to src/room: reading m.room.power_levels, with
 * the spec's defaults, and judging a change to it (room versions 10, 11).
 *
 * A room without a power levels event is not a room where everybody has
 * nothing: its creator has 100, everyone else 0, state events need 50 and
 * messages 0 (the spec's m.room.power_levels description; older text said
 * state needed 0, changed in v1.7). */
#ifndef HT_ROOM_POWER_LEVELS_H
#define HT_ROOM_POWER_LEVELS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "matrix/error.h"

typedef struct ht_levels {
    json_t *content;     /* the power levels event's content, or NULL if the room has none */
    const char *creator; /* who has 100 while there is none */
} ht_levels;

int64_t ht_levels_user(const ht_levels *pl, const char *user_id);
/* The required power level to send an event of this type. */
int64_t ht_levels_event(const ht_levels *pl, const char *type, bool is_state);
/* "invite" (default 0), "kick", "ban", "redact" (default 50). */
int64_t ht_levels_action(const ht_levels *pl, const char *action);

/* Room version 10 and 11 authorization rules 9.1 to 9.3: the named levels
 * integers; events and notifications objects of integers; users an object
 * of user ids to integers. 400 M_BAD_JSON saying what is wrong. */
ht_error ht_levels_check_content(json_t *content);
/* Rules 9.5 to 9.9: may a sender at level `mine` replace `prev` (a valid
 * content) by `next` (one that passed ht_levels_check_content)? */
ht_error ht_levels_check_change(json_t *prev, json_t *next, const char *sender, int64_t mine);

#endif
