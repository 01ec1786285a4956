/* auth_rules.c -- power levels as the rest of the server reads them.
 *
 * The authorization rules live in event_auth.c and judge every event, ours
 * and other servers', against a state (ht_room_send and ht_room_receive
 * call them). What remains here is the reading of power levels for the
 * decisions a server makes around the rules: who may redact whose events,
 * which member vouches for a restricted join (restricted.c), the unread
 * counts' and the API's checks. */
#include "room/auth_rules.h"

#include "room/power_levels.h"

int64_t ht_power_user(json_t *pl, const char *user_id, const char *creator) {
    ht_levels levels = {pl, creator};
    return ht_levels_user(&levels, user_id);
}

int64_t ht_power_for_event(json_t *pl, const char *type, bool is_state) {
    ht_levels levels = {pl, NULL};
    return ht_levels_event(&levels, type, is_state);
}

int64_t ht_power_for_action(json_t *pl, const char *action) {
    ht_levels levels = {pl, NULL};
    return ht_levels_action(&levels, action);
}
