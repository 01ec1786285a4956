/* restricted.c -- joining a room because you are in another one (join rules
 * "restricted" and "knock_restricted", room versions 8 to 10).
 *
 * The spec splits the decision in two. The room's authorization rule only
 * asks that the join event name, in join_authorised_via_users_server, a
 * member of the room who may invite (auth_rules.c). Which rooms' members
 * may join is judged by a resident server before it vouches for the join by
 * naming one of its users there. hometab is the only server, so it is always
 * the resident one: ht_room_send() calls ht_room_vouch_join() for every
 * local join, whichever endpoint made it, and a client that names an
 * authoriser itself (PUT /state) is still judged against the allow list. */
#include "room/auth_rules.h"

#include <string.h>

#include "matrix/ids.h"
#include "util/json.h"

/* The allow list is room state a client wrote: only this many conditions
 * are looked at. */
enum { MAX_ALLOW_CONDITIONS = 100 };

static bool is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

bool ht_room_rule_restricted(const char *join_rule) {
    return is(join_rule, "restricted") || is(join_rule, "knock_restricted");
}

bool ht_room_allow_satisfied(ht_env *env, json_t *join_rules, const char *user_id) {
    json_t *allow = json_object_get(join_rules, "allow");
    size_t i;
    json_t *condition;
    json_array_foreach(allow, i, condition) {
        if (i >= MAX_ALLOW_CONDITIONS) break;
        const char *room_id = ht_json_str(condition, "room_id");
        if (!is(ht_json_str(condition, "type"), "m.room_membership") || !room_id) continue;
        const char *m = ht_store_membership_get(env->store, env->arena, room_id, user_id, NULL, NULL);
        if (is(m, "join")) return true;
    }
    return false;
}

/* The local member who vouches: joined, allowed to invite, and of those the
 * one with the most power (the least likely to lose it). NULL if nobody. */
static const char *pick_authoriser(ht_env *env, const char *room_id,
                                   const ht_auth_state *st) {
    ht_membership_row *rows;
    size_t n = ht_store_members_of_room(env->store, env->arena, room_id, &rows);
    int64_t needed = ht_power_for_action(st->power_levels, "invite");
    const char *best = NULL;
    int64_t best_level = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is(rows[i].membership, "join") || !is(ht_id_server(rows[i].user_id), env->server_name))
            continue;
        int64_t level = ht_power_user(st->power_levels, rows[i].user_id, st->creator);
        if (level >= needed && (!best || level > best_level)) {
            best = rows[i].user_id;
            best_level = level;
        }
    }
    return best;
}

ht_error ht_room_vouch_join(ht_env *env, const ht_new_event *ev,
                            const ht_auth_state *st, json_t **content) {
    *content = NULL;
    if (!is(ev->type, "m.room.member") || !is(ht_json_str(ev->content, "membership"), "join") ||
        !is(ev->sender, ev->state_key))
        return (ht_error){0};
    const char *rule = ht_json_str(st->join_rules, "join_rule");
    if (!ht_room_rule_restricted(rule)) return (ht_error){0};
    /* Invited, joined or banned: the authorization rules decide alone. */
    if (is(st->target_membership, "join") || is(st->target_membership, "invite") ||
        is(st->target_membership, "ban"))
        return (ht_error){0};
    if (!ht_room_allow_satisfied(env, st->join_rules, ev->sender))
        return (ht_error){HT_M_FORBIDDEN, 0,
                          is(rule, "knock_restricted")
                              ? "You can join this room only as a member of one of the rooms its join "
                                "rules allow, and you are in none of them; knock to ask for an invite."
                              : "You can join this room only as a member of one of the rooms its join "
                                "rules allow, and you are in none of them; ask for an invite."};
    if (json_object_get(ev->content, "join_authorised_via_users_server")) return (ht_error){0};
    const char *authoriser = pick_authoriser(env, ev->room_id, st);
    if (!authoriser)
        return (ht_error){HT_M_FORBIDDEN, 0,
                          "Nobody in this room may invite people, so nobody can approve your join."};
    *content = ht_json_keep(env->arena, json_copy(ev->content));
    json_object_set_new(*content, "join_authorised_via_users_server", json_string(authoriser));
    return (ht_error){0};
}
