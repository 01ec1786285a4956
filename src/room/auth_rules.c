/* auth_rules.c -- may this sender send this event into this room?
 *
 * The room version 10 authorization rules, for events made on this server:
 * membership transitions (knocking included), power levels for each kind of
 * event and action, and the rules for changing power levels themselves.
 * Restricted joins (join rules "restricted" and "knock_restricted") follow
 * the rule: a join by someone not invited names, in
 * join_authorised_via_users_server, a joined member who may invite; whether
 * the joiner belongs in the room is judged before, in restricted.c.
 * Third-party invites are not offered by hometab, so their rules reduce to
 * "invite only". */
#include "room/auth_rules.h"

#include <string.h>

#include "matrix/ids.h"
#include "util/json.h"

static ht_error forbid(const char *message) { return (ht_error){HT_M_FORBIDDEN, 0, message}; }

static bool is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static int64_t int_or(json_t *obj, const char *key, int64_t fallback) {
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : fallback;
}

int64_t ht_power_user(json_t *pl, const char *user_id, const char *creator) {
    if (!pl) return is(user_id, creator) ? 100 : 0;
    json_t *v = json_object_get(json_object_get(pl, "users"), user_id);
    if (json_is_integer(v)) return json_integer_value(v);
    return int_or(pl, "users_default", 0);
}

int64_t ht_power_for_event(json_t *pl, const char *type, bool is_state) {
    json_t *v = json_object_get(json_object_get(pl, "events"), type);
    if (json_is_integer(v)) return json_integer_value(v);
    if (is_state) return int_or(pl, "state_default", pl ? 50 : 0);
    return int_or(pl, "events_default", 0);
}

int64_t ht_power_for_action(json_t *pl, const char *action) {
    return int_or(pl, action, strcmp(action, "invite") == 0 ? 0 : 50);
}

/* A join into a restricted room by someone neither invited nor joined must
 * name a member who is in the room and may invite. */
static ht_error check_authoriser(const ht_new_event *ev, const ht_auth_state *st) {
    json_t *via = json_object_get(ev->content, "join_authorised_via_users_server");
    if (!via) return forbid("Joining this restricted room needs join_authorised_via_users_server.");
    if (!json_is_string(via) || !ht_user_id_valid(json_string_value(via)))
        return (ht_error){HT_M_BAD_JSON, 0, "join_authorised_via_users_server must be a user id."};
    if (!is(st->authoriser_membership, "join"))
        return forbid("The user named in join_authorised_via_users_server is not in the room.");
    if (ht_power_user(st->power_levels, json_string_value(via), st->creator) <
        ht_power_for_action(st->power_levels, "invite"))
        return forbid("The user named in join_authorised_via_users_server may not invite people here.");
    return (ht_error){0};
}

/* The room's join rule; a room without one is invite-only. */
static const char *join_rule(const ht_auth_state *st) {
    const char *rule = ht_json_str(st->join_rules, "join_rule");
    return rule ? rule : "invite";
}

/* A knock asks the room's members for an invite: only where the join rule
 * invites knocks, only for oneself, and only by someone who is neither in
 * the room, nor already invited, nor banned. Knocking again while a knock is
 * pending is allowed (it can update the reason). */
static ht_error check_knock(const ht_new_event *ev, const ht_auth_state *st) {
    const char *rule = join_rule(st);
    if (!is(rule, "knock") && !is(rule, "knock_restricted"))
        return forbid("This room does not accept knocks: its join rule is not knock or knock_restricted.");
    if (!is(ev->sender, ev->state_key)) return forbid("You can only knock as yourself.");
    if (is(st->target_membership, "ban")) return forbid("You are banned from this room.");
    if (is(st->target_membership, "join")) return forbid("You are already in this room.");
    if (is(st->target_membership, "invite"))
        return forbid("You have already been invited to this room: join it instead of knocking.");
    return (ht_error){0};
}

static ht_error check_member(ht_arena *arena, const ht_new_event *ev, const ht_auth_state *st) {
    const char *membership = ht_json_str(ev->content, "membership");
    const char *target = ev->state_key;
    int64_t sender_level = ht_power_user(st->power_levels, ev->sender, st->creator);
    int64_t target_level = ht_power_user(st->power_levels, target, st->creator);
    bool sender_joined = is(st->sender_membership, "join");

    if (!membership) return (ht_error){HT_M_BAD_JSON, 0, "A membership event needs content.membership."};
    if (is(membership, "join")) {
        if (st->room_empty && is(target, st->creator) && is(ev->sender, target)) return (ht_error){0};
        if (!is(ev->sender, target)) return forbid("You can only join a room as yourself.");
        if (is(st->target_membership, "ban")) return forbid("You are banned from this room.");
        const char *rule = join_rule(st);
        if (is(rule, "public")) return (ht_error){0};
        /* invite, knock, restricted, knock_restricted: an invite lets you in. */
        if (is(st->target_membership, "join") || is(st->target_membership, "invite"))
            return (ht_error){0};
        if (ht_room_rule_restricted(rule)) return check_authoriser(ev, st);
        if (is(rule, "knock"))
            return forbid("You need an invite to join this room: knock to ask for one.");
        return forbid("This room is invite-only and you have not been invited.");
    }
    if (is(membership, "invite")) {
        if (!sender_joined) return forbid("You must be in the room to invite someone.");
        if (is(st->target_membership, "ban")) return forbid("That user is banned from this room.");
        if (is(st->target_membership, "join")) return forbid("That user is already in the room.");
        if (sender_level < ht_power_for_action(st->power_levels, "invite"))
            return forbid("You do not have permission to invite people to this room.");
        return (ht_error){0};
    }
    if (is(membership, "leave")) {
        if (is(ev->sender, target)) {
            if (is(st->target_membership, "join") || is(st->target_membership, "invite") ||
                is(st->target_membership, "knock"))
                return (ht_error){0};
            return forbid("You are not in this room.");
        }
        if (!sender_joined) return forbid("You must be in the room to remove someone.");
        if (is(st->target_membership, "ban") &&
            sender_level < ht_power_for_action(st->power_levels, "ban"))
            return forbid("You do not have permission to unban people in this room.");
        if (sender_level < ht_power_for_action(st->power_levels, "kick"))
            return forbid("You do not have permission to kick people from this room.");
        if (target_level >= sender_level)
            return forbid("You can only kick people whose power level is below yours.");
        return (ht_error){0};
    }
    if (is(membership, "ban")) {
        if (!sender_joined) return forbid("You must be in the room to ban someone.");
        if (sender_level < ht_power_for_action(st->power_levels, "ban"))
            return forbid("You do not have permission to ban people from this room.");
        if (target_level >= sender_level)
            return forbid("You can only ban people whose power level is below yours.");
        return (ht_error){0};
    }
    (void)arena;
    if (is(membership, "knock")) return check_knock(ev, st);
    return (ht_error){HT_M_BAD_JSON, 0, "Unknown membership value."};
}

/* Every value an integer; every change within the sender's own level. */
static ht_error check_power_levels(const ht_new_event *ev, const ht_auth_state *st) {
    json_t *next = ev->content;
    static const char *const levels[] = {"users_default", "events_default", "state_default",
                                         "ban", "redact", "kick", "invite"};
    const char *key;
    json_t *v;
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        v = json_object_get(next, levels[i]);
        if (v && !json_is_integer(v)) return (ht_error){HT_M_BAD_JSON, 0, "Power levels must be integers."};
    }
    /* users, events and notifications, when present, must be objects of
     * integers, and the keys of users valid user ids. */
    static const char *const maps[] = {"users", "events", "notifications"};
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) {
        json_t *map = json_object_get(next, maps[i]);
        if (map && !json_is_object(map))
            return (ht_error){HT_M_BAD_JSON, 0, "users, events and notifications must be objects."};
        json_object_foreach(map, key, v) {
            if (!json_is_integer(v)) return (ht_error){HT_M_BAD_JSON, 0, "Power levels must be integers."};
            if (i == 0 && !ht_user_id_valid(key))
                return (ht_error){HT_M_BAD_JSON, 0, "The keys of users must be user ids."};
        }
    }
    json_t *prev = st->power_levels;
    if (!prev) return (ht_error){0};
    int64_t mine = ht_power_user(prev, ev->sender, st->creator);
    const ht_error too_high = forbid("You cannot change a power level above your own.");

    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        json_t *a = json_object_get(prev, levels[i]), *b = json_object_get(next, levels[i]);
        if (json_equal(a, b) || (!a && !b)) continue;
        if ((a && json_integer_value(a) > mine) || (b && json_integer_value(b) > mine)) return too_high;
    }
    for (int pass = 0; pass < 2; pass++) {
        const char *map = pass ? "users" : "events";
        json_t *pa = json_object_get(prev, map), *pb = json_object_get(next, map);
        /* Keys in either map: walk both. */
        for (int side = 0; side < 2; side++) {
            json_object_foreach(side ? pb : pa, key, v) {
                json_t *a = json_object_get(pa, key), *b = json_object_get(pb, key);
                if (json_equal(a, b)) continue;
                if (pass && a && !is(key, ev->sender) && json_integer_value(a) >= mine)
                    return forbid("You cannot change the power level of someone at or above yours.");
                if ((a && json_integer_value(a) > mine) || (b && json_integer_value(b) > mine))
                    return too_high;
            }
        }
    }
    return (ht_error){0};
}

ht_error ht_auth_check_event(ht_arena *arena, const ht_new_event *ev, const ht_auth_state *st) {
    bool is_state = ev->state_key != NULL;
    if (is(ev->type, "m.room.create")) {
        if (st->has_create) return forbid("A room has only one m.room.create event.");
        return (ht_error){0};
    }
    if (!st->has_create) return forbid("The room has not been created.");
    if (is(ev->type, "m.room.member") && is_state) return check_member(arena, ev, st);

    if (!is(st->sender_membership, "join")) return forbid("You are not joined to this room.");
    int64_t mine = ht_power_user(st->power_levels, ev->sender, st->creator);
    if (mine < ht_power_for_event(st->power_levels, ev->type, is_state))
        return is_state ? forbid("You do not have permission to change this room's state.")
                        : forbid("You do not have permission to send that kind of event here.");
    if (is_state && ev->state_key[0] == '@' && !is(ev->state_key, ev->sender))
        return forbid("A state key that is a user id must be your own.");
    if (is(ev->type, "m.room.power_levels") && is_state) return check_power_levels(ev, st);
    return (ht_error){0};
}
