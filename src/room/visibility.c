/* visibility.c -- history visibility: may a user see an event?
 *
 * Follows the spec's rules: the room's m.room.history_visibility in force
 * before the event, and the user's membership at the event. "shared" lets a
 * member see everything from before they joined; "invited" from their
 * invite on; "joined" only while joined; "world_readable" everyone. */
#include <string.h>

#include "room/room.h"
#include "util/json.h"

static bool is(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

bool ht_room_event_visible(ht_core *core, ht_arena *arena, const char *user_id,
                           const ht_event_row *ev) {
    json_t *member = ht_room_state_content_at(core, arena, ev->room_id, "m.room.member", user_id,
                                              ev->stream);
    const char *membership = ht_json_str(member, "membership");
    if (is(membership, "join")) return true;

    json_t *hv = ht_room_state_content_at(core, arena, ev->room_id, "m.room.history_visibility", "",
                                          ev->stream - 1);
    const char *visibility = ht_json_str(hv, "history_visibility");
    if (!visibility) visibility = "shared";
    if (is(visibility, "world_readable")) return true;
    if (is(visibility, "invited") && is(membership, "invite")) return true;
    if (is(visibility, "shared") || is(visibility, "invited")) {
        /* Members see the history from before they joined. */
        const char *now = ht_store_membership_get(core->store, arena, ev->room_id, user_id, NULL, NULL);
        if (is(visibility, "shared") && is(now, "join")) return true;
        if (!is(membership, "leave") && !is(membership, "ban") &&
            ht_store_member_joined_after(core->store, ev->room_id, user_id, ev->stream))
            return is(visibility, "shared");
    }
    return false;
}
