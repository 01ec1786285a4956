/* auth_rules.c -- the local send path's door to the authorization rules.
 *
 * The rules themselves live in event_auth.c and judge an event against any
 * state. The local path (ht_room_send) still describes the room by what it
 * read from the store, an ht_auth_state of contents and memberships; this
 * file turns that into the few state events the rules look up (create,
 * power levels, join rules, the members concerned) and asks event_auth.c.
 * So a local send and a received event are judged by one implementation.
 * Restricted joins are judged in two halves: the rule here (a joined
 * authoriser who may invite), the allow list in restricted.c. */
#include "room/auth_rules.h"

#include <string.h>

#include "room/event_auth.h"
#include "room/power_levels.h"
#include "util/json.h"

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

/* The state an ht_auth_state describes, as events: at most a create, power
 * levels, join rules and three members (sender, target, authoriser). */
typedef struct local_state {
    ht_pdu events[6];
    size_t count;
    json_t *contents[6]; /* made here, released by release() */
    size_t made;
} local_state;

static const char *const local_ids[] = {"$local0", "$local1", "$local2", "$local3", "$local4", "$local5"};

static const ht_pdu *add(local_state *s, const char *room_id, const char *type, const char *state_key,
                         const char *sender, json_t *content, bool made_here) {
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->events[i].type, type) == 0 && strcmp(s->events[i].state_key, state_key) == 0) {
            if (made_here) json_decref(content);
            return &s->events[i];
        }
    if (made_here) s->contents[s->made++] = content;
    ht_pdu *e = &s->events[s->count];
    *e = (ht_pdu){.event_id = local_ids[s->count],
                  .room_id = room_id,
                  .type = type,
                  .state_key = state_key,
                  .sender = sender,
                  .content = content};
    s->count++;
    return e;
}

static void add_member(local_state *s, const char *room_id, const char *user_id, const char *membership) {
    if (user_id && membership)
        add(s, room_id, "m.room.member", user_id, user_id, json_pack("{s:s}", "membership", membership), true);
}

static void release(local_state *s) {
    for (size_t i = 0; i < s->made; i++) json_decref(s->contents[i]);
}

static const char *state_get(void *self, const char *type, const char *state_key) {
    local_state *s = self;
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->events[i].type, type) == 0 && strcmp(s->events[i].state_key, state_key) == 0)
            return s->events[i].event_id;
    return NULL;
}

static const ht_pdu *source_get(void *self, const char *event_id) {
    local_state *s = self;
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->events[i].event_id, event_id) == 0) return &s->events[i];
    return NULL;
}

ht_error ht_auth_check_event(ht_arena *arena, const ht_new_event *ev, const ht_auth_state *st) {
    local_state s = {.count = 0};
    const ht_pdu *create = NULL;
    if (st->has_create)
        create = add(&s, ev->room_id, "m.room.create", "", st->creator,
                     json_pack("{s:s?}", "creator", st->creator), true);
    if (st->power_levels) add(&s, ev->room_id, "m.room.power_levels", "", st->creator, st->power_levels, false);
    if (st->join_rules) add(&s, ev->room_id, "m.room.join_rules", "", st->creator, st->join_rules, false);
    bool member = strcmp(ev->type, "m.room.member") == 0 && ev->state_key;
    if (member) add_member(&s, ev->room_id, ev->state_key, st->target_membership);
    add_member(&s, ev->room_id, ev->sender, st->sender_membership);
    add_member(&s, ev->room_id, ht_json_str(ev->content, "join_authorised_via_users_server"),
               st->authoriser_membership);

    /* The rules read prev_events in two places: a create event has none, and
     * the creator's first join follows the create event alone. */
    const char *prev = create && st->room_empty ? create->event_id : "$earlier";
    ht_pdu pdu = {.event_id = "$new",
                  .room_id = ev->room_id,
                  .type = ev->type,
                  .state_key = ev->state_key,
                  .sender = ev->sender,
                  .content = ev->content,
                  .redacts = ev->redacts,
                  .prev_events = &prev,
                  .prev_count = st->has_create ? 1 : 0};
    ht_state_view state = {state_get, &s};
    ht_event_source src = {source_get, &s};
    /* The versions' rules differ in who the creator is, which the state
     * built above answers alike for both, and in what a create event must
     * hold: judge a create event by the version it names. */
    const char *version = HT_ROOM_VERSION_DEFAULT;
    const char *named = ht_json_str(ev->content, "room_version");
    if (strcmp(ev->type, "m.room.create") == 0 && ht_room_version_get(named)) version = named;
    ht_error err = ht_auth_check_pdu(arena, &pdu, &state, &src, version);
    release(&s);
    return err;
}
