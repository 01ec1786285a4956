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

/* The spec's rules, given the user's membership and the visibility "at" the event. */
static bool allowed(ht_env *env, const char *user_id, const ht_event_row *ev,
                    const char *membership, const char *visibility) {
    if (!visibility) visibility = "shared";
    if (is(visibility, "world_readable")) return true;
    if (is(membership, "join")) return true;
    /* Members see the history from before they joined. */
    if (is(visibility, "shared") &&
        ht_store_member_joined_after(env->store, ev->room_id, user_id, ev->stream))
        return true;
    return is(visibility, "invited") && is(membership, "invite");
}

/* The membership and the visibility at a stream position; before the
 * server's first event (at 0, which the store reads as "now") there is none. */
static const char *membership_at(ht_env *env, const char *user_id,
                                 const ht_event_row *ev, int64_t at) {
    if (at <= 0) return NULL;
    json_t *member = ht_room_state_content_at(env, ev->room_id, "m.room.member", user_id, at);
    return ht_json_str(member, "membership");
}

static const char *visibility_at(ht_env *env, const ht_event_row *ev, int64_t at) {
    if (at <= 0) return NULL;
    json_t *hv = ht_room_state_content_at(env, ev->room_id, "m.room.history_visibility", "", at);
    return ht_json_str(hv, "history_visibility");
}

bool ht_room_event_visible(ht_env *env, const char *user_id,
                           const ht_event_row *ev) {
    /* An event that failed the authorization rules, or failed them against
     * the current state (soft failure), is kept only for the graph's sake:
     * no client sees it, whatever endpoint names its id. */
    if (ev->status == HT_EVENT_REJECTED || ev->status == HT_EVENT_SOFT_FAILED) return false;
    /* History backfilled from another server (stored below position 1) has
     * no state here to read the rules at: the room's visibility now stands
     * in, and this server's users were not members then (else the server
     * would have the events), so "shared" and "world_readable" show it to
     * those who may read the room, "invited" and "joined" to no one. The
     * other server already sent redacted what this server may not see. */
    if (ev->stream < 1) {
        const char *now =
            ht_json_str(ht_room_state_content(env, ev->room_id, "m.room.history_visibility", ""), "history_visibility");
        if (!now || is(now, "shared"))
            return ht_store_member_joined_after(env->store, ev->room_id, user_id, ev->stream);
        return is(now, "world_readable");
    }
    /* The membership at the event includes the event itself; the visibility
     * is the one in force before it. The spec then makes two exceptions:
     * the user's own membership events are visible if the membership before
     * OR after them allows it (so a user sees their own leave or kick), and
     * a history_visibility change if the visibility before OR after does. */
    const char *membership[2], *visibility[2];
    membership[0] = membership[1] = membership_at(env, user_id, ev, ev->stream);
    visibility[0] = visibility[1] = visibility_at(env, ev, ev->stream - 1);
    if (is(ev->type, "m.room.member") && is(ev->state_key, user_id))
        membership[1] = membership_at(env, user_id, ev, ev->stream - 1);
    if (is(ev->type, "m.room.history_visibility") && is(ev->state_key, ""))
        visibility[1] = visibility_at(env, ev, ev->stream);
    for (int m = 0; m < 2; m++) {
        if (m && membership[1] == membership[0]) continue; /* no exception: same check */
        for (int v = 0; v < 2; v++) {
            if (v && visibility[1] == visibility[0]) continue;
            if (allowed(env, user_id, ev, membership[m], visibility[v])) return true;
        }
    }
    return false;
}
