/* event_auth.c -- may this event be in the room, given this state?
 *
 * The rules of room versions 10 and 11 in the spec's order (comments give
 * the rule numbers of content/rooms/v11.md); the two versions differ only in
 * who the creator is (v10: content.creator of m.room.create; v11: its
 * sender), which room_version.h calls create_has_creator. State is read through lookups, never copied, so judging an event
 * costs a handful of reads whatever the size of the room.
 *
 * Where the spec, Synapse and ruma read a rule differently, this file says
 * which reading it takes and why, next to the rule. Third-party invites are
 * not supported by hometab: a membership invite carrying one is refused
 * with that reason rather than half-checked. */
#include "room/event_auth.h"

#include <string.h>

#include "matrix/ids.h"
#include "room/power_levels.h"
#include "room/state_map.h"
#include "util/json.h"

static bool is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
static ht_error forbid(const char *message) { return (ht_error){HT_M_FORBIDDEN, 0, message}; }
static ht_error bad(const char *message) { return (ht_error){HT_M_BAD_JSON, 0, message}; }
static const ht_error allow = {0};
static const ht_error unknown_version = {HT_M_UNSUPPORTED_ROOM_VERSION, 0,
                                         "This server does not know the room's version."};

static bool same_server(const char *a, const char *b) {
    const char *x = ht_id_server(a), *y = ht_id_server(b);
    return x && y && strcmp(x, y) == 0;
}

/* ---- auth events selection and rule 2 ---------------------------------- */

typedef struct key_list {
    ht_state_key keys[7];
    size_t count;
} key_list;

static void add_key(key_list *list, const char *type, const char *state_key) {
    for (size_t i = 0; i < list->count; i++)
        if (is(list->keys[i].type, type) && is(list->keys[i].state_key, state_key)) return;
    list->keys[list->count++] = (ht_state_key){type, state_key};
}

/* spec: server-server "Auth events selection" (v10 and v11 select the create event) */
static void select_keys(const ht_pdu *ev, key_list *list) {
    list->count = 0;
    if (is(ev->type, "m.room.create")) return;
    add_key(list, "m.room.create", "");
    add_key(list, "m.room.power_levels", "");
    add_key(list, "m.room.member", ev->sender);
    if (!is(ev->type, "m.room.member") || !ev->state_key) return;
    add_key(list, "m.room.member", ev->state_key);
    const char *membership = ht_json_str(ev->content, "membership");
    if (is(membership, "join") || is(membership, "invite") || is(membership, "knock"))
        add_key(list, "m.room.join_rules", "");
    /* Selected although such invites are refused below: an event citing it
     * should hear "not supported", not "unexpected auth event". */
    json_t *signed_ = json_object_get(json_object_get(ev->content, "third_party_invite"), "signed");
    const char *token = ht_json_str(signed_, "token");
    if (is(membership, "invite") && token) add_key(list, "m.room.third_party_invite", token);
    const char *authoriser = ht_json_str(ev->content, "join_authorised_via_users_server");
    if (is(membership, "join") && authoriser) add_key(list, "m.room.member", authoriser);
}

size_t ht_auth_selection(ht_arena *arena, const ht_pdu *ev, const char *room_version, ht_state_key **out) {
    (void)room_version; /* v10 and v11 select alike */
    key_list list;
    select_keys(ev, &list);
    *out = ht_arena_alloc(arena, (list.count ? list.count : 1) * sizeof **out);
    memcpy(*out, list.keys, list.count * sizeof **out);
    return list.count;
}

/* spec: rooms v10, v11 "Authorisation rules" 2 */
ht_error ht_auth_check_auth_events(ht_arena *arena, const ht_pdu *ev, const ht_event_source *src,
                                   const char *room_version) {
    (void)arena;
    if (!ht_room_version_get(room_version)) return unknown_version;
    if (is(ev->type, "m.room.create")) return allow;
    key_list expected, seen = {.count = 0};
    select_keys(ev, &expected);
    bool has_create = false;
    for (size_t i = 0; i < ev->auth_count; i++) {
        const ht_pdu *a = src->get(src->self, ev->auth_events[i]);
        if (!a) return forbid("One of the event's auth events is unknown.");
        /* 2.5 */
        if (!is(a->room_id, ev->room_id)) return forbid("One of the event's auth events is in another room.");
        if (!a->state_key) return forbid("One of the event's auth events is not a state event.");
        /* 2.1 */
        size_t before = seen.count;
        bool in_selection = false;
        for (size_t k = 0; k < expected.count; k++)
            in_selection |= is(expected.keys[k].type, a->type) && is(expected.keys[k].state_key, a->state_key);
        /* 2.2 (checked first: a key outside the selection would overflow `seen`) */
        if (!in_selection) return forbid("The event cites an auth event the auth events selection does not name.");
        add_key(&seen, a->type, a->state_key);
        if (seen.count == before) return forbid("The event cites two auth events for the same state key.");
        /* 2.3 */
        if (a->rejected) return forbid("One of the event's auth events was rejected.");
        has_create |= is(a->type, "m.room.create");
    }
    /* 2.4 */
    if (!has_create) return forbid("The event's auth events do not include the room's m.room.create event.");
    return allow;
}

/* ---- the rules against a state ------------------------------------------ */

typedef struct judge {
    const ht_pdu *ev;
    const ht_state_view *state;
    const ht_event_source *src;
    const ht_room_version *version;
    const ht_pdu *create;
    ht_levels levels;
    ht_error broken; /* the state named an event that cannot be used */
} judge;

/* The state event at the key, NULL if none or rejected. */
static const ht_pdu *state_event(judge *j, const char *type, const char *state_key) {
    if (j->broken.code) return NULL;
    const char *id = j->state->get(j->state->self, type, state_key);
    if (!id) return NULL;
    const ht_pdu *e = j->src->get(j->src->self, id);
    if (!e) {
        j->broken = forbid("The state names an event this server does not have.");
        return NULL;
    }
    if (!is(e->type, type) || !is(e->state_key, state_key) || !is(e->room_id, j->ev->room_id)) {
        j->broken = forbid("The state names an event that does not belong where it is.");
        return NULL;
    }
    return e->rejected ? NULL : e;
}

static const char *membership(judge *j, const char *user_id) {
    const ht_pdu *m = state_event(j, "m.room.member", user_id);
    return m ? ht_json_str(m->content, "membership") : NULL;
}

/* The room's creator: named in the create event's content up to version 10,
 * its sender from version 11. */
static const char *creator_of(judge *j) {
    return j->version->create_has_creator ? ht_json_str(j->create->content, "creator") : j->create->sender;
}

static int64_t level_of(judge *j, const char *user_id) { return ht_levels_user(&j->levels, user_id); }
static int64_t action_level(judge *j, const char *action) { return ht_levels_action(&j->levels, action); }

/* No join rules event means invite-only. A join_rules event without a
 * join_rule is invite-only too (Synapse's reading; ruma refuses to parse
 * it); one whose join_rule is not a string names no rule anybody meets. */
static const char *join_rule(judge *j) {
    const ht_pdu *rules = state_event(j, "m.room.join_rules", "");
    json_t *rule = rules ? json_object_get(rules->content, "join_rule") : NULL;
    if (!rule) return "invite";
    return json_is_string(rule) ? json_string_value(rule) : "";
}

/* 1 */
static ht_error check_create(judge *j) {
    const ht_pdu *ev = j->ev;
    if (ev->prev_count) return forbid("A room's m.room.create event cannot have previous events.");
    if (!same_server(ev->room_id, ev->sender)) return forbid("The room id's server must be the creator's server.");
    json_t *version = json_object_get(ev->content, "room_version");
    if (version && !ht_room_version_get(json_string_value(version)))
        return forbid("The m.room.create event names a room version this server does not know.");
    if (j->version->create_has_creator && !json_object_get(ev->content, "creator"))
        return forbid("In room version 10 the m.room.create event must name its creator.");
    return allow;
}

/* 4.3.5: a join into a restricted room by someone neither invited nor
 * joined names a joined member who may invite. */
static ht_error check_authoriser(judge *j) {
    json_t *via = json_object_get(j->ev->content, "join_authorised_via_users_server");
    if (!via) return forbid("Joining this restricted room needs join_authorised_via_users_server.");
    const char *user = json_string_value(via);
    if (!user || !ht_user_id_valid(user)) return bad("join_authorised_via_users_server must be a user id.");
    if (!is(membership(j, user), "join"))
        return forbid("The user named in join_authorised_via_users_server is not in the room.");
    if (level_of(j, user) < action_level(j, "invite"))
        return forbid("The user named in join_authorised_via_users_server may not invite people here.");
    return allow;
}

/* 4.3 */
static ht_error check_join(judge *j) {
    const ht_pdu *ev = j->ev;
    const char *target = ev->state_key;
    /* 4.3.1: the creator's own first join, right after the create event. */
    const char *creator = creator_of(j);
    if (ev->prev_count == 1 && is(ev->prev_events[0], j->create->event_id) && is(target, creator)) return allow;
    if (!is(ev->sender, target)) return forbid("You can only join a room as yourself.");
    const char *current = membership(j, target);
    if (is(current, "ban")) return forbid("You are banned from this room.");
    bool invited_or_joined = is(current, "invite") || is(current, "join");
    const char *rule = join_rule(j);
    if (is(rule, "public")) return allow;
    if (is(rule, "invite") || is(rule, "knock")) {
        if (invited_or_joined) return allow;
        return is(rule, "knock") ? forbid("You need an invite to join this room: knock to ask for one.")
                                 : forbid("This room is invite-only and you have not been invited.");
    }
    if (is(rule, "restricted") || is(rule, "knock_restricted"))
        return invited_or_joined ? allow : check_authoriser(j);
    return forbid("This room's join rule lets nobody join.");
}

/* 4.4 */
static ht_error check_invite(judge *j) {
    const ht_pdu *ev = j->ev;
    if (json_object_get(ev->content, "third_party_invite"))
        return forbid("Third-party invites are not supported by this server.");
    if (!is(membership(j, ev->sender), "join")) return forbid("You must be in the room to invite someone.");
    const char *current = membership(j, ev->state_key);
    if (is(current, "ban")) return forbid("That user is banned from this room.");
    if (is(current, "join")) return forbid("That user is already in the room.");
    if (level_of(j, ev->sender) < action_level(j, "invite"))
        return forbid("You do not have permission to invite people to this room.");
    return allow;
}

/* 4.5 */
static ht_error check_leave(judge *j) {
    const ht_pdu *ev = j->ev;
    const char *current = membership(j, ev->state_key);
    if (is(ev->sender, ev->state_key)) {
        if (is(current, "invite") || is(current, "join") || is(current, "knock")) return allow;
        return forbid("You are not in this room.");
    }
    if (!is(membership(j, ev->sender), "join")) return forbid("You must be in the room to remove someone.");
    int64_t mine = level_of(j, ev->sender);
    if (is(current, "ban") && mine < action_level(j, "ban"))
        return forbid("You do not have permission to unban people in this room.");
    if (mine < action_level(j, "kick")) return forbid("You do not have permission to kick people from this room.");
    if (level_of(j, ev->state_key) >= mine)
        return forbid("You can only kick people whose power level is below yours.");
    return allow;
}

/* 4.6 */
static ht_error check_ban(judge *j) {
    const ht_pdu *ev = j->ev;
    if (!is(membership(j, ev->sender), "join")) return forbid("You must be in the room to ban someone.");
    int64_t mine = level_of(j, ev->sender);
    if (mine < action_level(j, "ban")) return forbid("You do not have permission to ban people from this room.");
    if (level_of(j, ev->state_key) >= mine)
        return forbid("You can only ban people whose power level is below yours.");
    return allow;
}

/* 4.7: a knock asks for an invite: only where the join rule invites knocks,
 * only for oneself, only by someone neither in the room, invited nor
 * banned. Knocking again while a knock is pending is allowed. */
static ht_error check_knock(judge *j) {
    const ht_pdu *ev = j->ev;
    const char *rule = join_rule(j);
    if (!is(rule, "knock") && !is(rule, "knock_restricted"))
        return forbid("This room does not accept knocks: its join rule is not knock or knock_restricted.");
    if (!is(ev->sender, ev->state_key)) return forbid("You can only knock as yourself.");
    const char *current = membership(j, ev->sender);
    if (is(current, "ban")) return forbid("You are banned from this room.");
    if (is(current, "join")) return forbid("You are already in this room.");
    if (is(current, "invite"))
        return forbid("You have already been invited to this room: join it instead of knocking.");
    return allow;
}

/* 4 */
static ht_error check_member(judge *j) {
    if (!j->ev->state_key) return bad("A membership event needs a state key.");
    const char *m = ht_json_str(j->ev->content, "membership");
    if (!m) return bad("A membership event needs content.membership.");
    if (is(m, "join")) return check_join(j);
    if (is(m, "invite")) return check_invite(j);
    if (is(m, "leave")) return check_leave(j);
    if (is(m, "ban")) return check_ban(j);
    if (is(m, "knock")) return check_knock(j);
    return bad("Unknown membership value.");
}

static ht_error judge_event(judge *j) {
    const ht_pdu *ev = j->ev;
    if (is(ev->type, "m.room.create")) return check_create(j);
    j->create = state_event(j, "m.room.create", "");
    if (!j->create) return forbid("The room has not been created.");
    /* 3. Synapse blocks other servers unless m.federate is exactly true, the
     * spec says "set to false": a value of another type blocks them here too,
     * the reading that keeps a room private when its creator meant it so. */
    json_t *federate = json_object_get(j->create->content, "m.federate");
    if (federate && !json_is_true(federate) && !same_server(ev->sender, j->create->sender))
        return forbid("This room does not federate: only users of its creator's server may take part.");
    const ht_pdu *pl = state_event(j, "m.room.power_levels", "");
    j->levels = (ht_levels){pl ? pl->content : NULL, creator_of(j)};
    if (is(ev->type, "m.room.member")) return check_member(j);

    /* 5 */
    if (!is(membership(j, ev->sender), "join")) return forbid("You are not joined to this room.");
    int64_t mine = level_of(j, ev->sender);
    /* 6 */
    if (is(ev->type, "m.room.third_party_invite"))
        return mine >= action_level(j, "invite")
                   ? allow
                   : forbid("You do not have permission to invite people to this room.");
    /* 7 */
    bool is_state = ev->state_key != NULL;
    if (mine < ht_levels_event(&j->levels, ev->type, is_state))
        return is_state ? forbid("You do not have permission to change this room's state.")
                        : forbid("You do not have permission to send that kind of event here.");
    /* 8 */
    if (is_state && ev->state_key[0] == '@' && !is(ev->state_key, ev->sender))
        return forbid("A state key that is a user id must be your own.");
    /* 9. "The previous m.room.power_levels event in the room" is the one the
     * rules use (key ""), as ruma reads it; Synapse compares with the event at
     * the same state key, which differs only for a power levels event with
     * another state key, which grants nobody anything. */
    if (is(ev->type, "m.room.power_levels")) {
        ht_error err = ht_levels_check_content(ev->content);
        if (err.code || !j->levels.content) return err;
        return ht_levels_check_change(j->levels.content, ev->content, ev->sender, mine);
    }
    /* 10 */
    return allow;
}

/* spec: rooms v10, v11 "Authorisation rules" 1 and 3 to 10 */
ht_error ht_auth_check_pdu(ht_arena *arena, const ht_pdu *ev, const ht_state_view *state,
                           const ht_event_source *src, const char *room_version) {
    (void)arena;
    judge j = {.ev = ev, .state = state, .src = src, .version = ht_room_version_get(room_version)};
    if (!j.version) return unknown_version;
    ht_error verdict = judge_event(&j);
    /* A broken state refuses the event even where a later rule allowed it. */
    return j.broken.code ? j.broken : verdict;
}

/* spec: server-server "Checks performed on receipt of a PDU" 4 */
ht_error ht_auth_check_by_auth_events(ht_arena *arena, const ht_pdu *ev, const ht_event_source *src,
                                      const char *room_version) {
    ht_error err = ht_auth_check_auth_events(arena, ev, src, room_version);
    if (err.code) return err;
    ht_state_map auth_state;
    ht_state_map_init(&auth_state, arena);
    for (size_t i = 0; i < ev->auth_count; i++) {
        const ht_pdu *a = src->get(src->self, ev->auth_events[i]);
        ht_state_map_set(&auth_state, a->type, a->state_key, a->event_id);
    }
    ht_state_view view = ht_state_map_view(&auth_state);
    return ht_auth_check_pdu(arena, ev, &view, src, room_version);
}
