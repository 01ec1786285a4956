/* push_actions.c -- push actions decided when an event joins the timeline,
 * and unread counts that cost a /sync the same whatever the backlog.
 *
 * The design decision: a judgment is made with the member's rules and the
 * room's state as they are when the event arrives, and kept. What it
 * depended on besides the event -- the member's rules, their name in the
 * room, the power levels, the member count where a rule looks at it --
 * marks the member's counts in the room stale when it changes (at the
 * change, not on every read), and the next read judges the unread events
 * again with what holds now: so the counts a sync reads are always what
 * judging afresh would give. Judging again looks at most at the newest
 * MAX_REJUDGE unread events; older ones keep the judgment they got when
 * they arrived. */
#include "room/push_actions.h"

#include <string.h>

#include "matrix/ids.h"
#include "room/push_eval.h"
#include "room/room.h"
#include "store/meta.h"
#include "store/rooms.h"
#include "util/glob.h"
#include "util/json.h"

enum { MAX_REJUDGE = 1000 };

/* Stands for the owner where no rule naming one can apply: matches no one. */
static const char no_owner[] = "@\x02:\x02";

static bool is_local(ht_env *env, const char *user_id) {
    const char *server = ht_id_server(user_id);
    return server && strcmp(server, env->server_name) == 0;
}

/* The event as the rules read it. */
static json_t *event_for_rules(ht_arena *arena, const char *type, const char *sender, const char *room_id,
                               const char *state_key, json_t *content) {
    json_t *event = json_pack("{s:s, s:s, s:s, s:O}", "type", type, "sender", sender, "room_id", room_id, "content",
                              content ? content : json_object());
    if (state_key) json_object_set_new(event, "state_key", json_string(state_key));
    return ht_json_keep(arena, event);
}

/* The text of a rule's actions, dumped once per rule and event: members
 * who share the default ruleset share its actions. */
typedef struct dumped {
    json_t *actions;
    const char *text;
} dumped;

static const char *actions_text(ht_env *env, dumped *last, json_t *actions) {
    if (last->actions != actions || !last->text) *last = (dumped){actions, ht_json_dump(env->arena, actions)};
    return last->text;
}

/* Keeps one member's judgment of an event if it notifies. A judgment the
 * request's matching budget could not pay for is not trusted: the member's
 * counts there are judged again on their next read. */
static bool keep(ht_env *env, ht_push_result r, const char *room_id, const char *user_id, int64_t stream,
                 const char *thread_id, dumped *last) {
    if (ht_budget_spent(&env->match_budget) && !ht_store_unread_stale_member(env->store, room_id, user_id))
        return false;
    if (!r.notify) return true;
    return ht_store_push_action_put(env->store, room_id, user_id, stream, thread_id, r.highlight,
                                    actions_text(env, last, r.actions));
}

static bool judge(ht_env *env, json_t *ruleset, const ht_push_room *room, json_t *event, const char *room_id,
                  const char *user_id, int64_t stream, const char *thread_id, dumped *last) {
    return keep(env, ht_push_evaluate(ruleset, room, event), room_id, user_id, stream, thread_id, last);
}

static const char *localpart_of(ht_arena *arena, const char *user_id) {
    const char *colon = strchr(user_id, ':');
    return ht_arena_strndup(arena, user_id + 1, colon ? (size_t)(colon - user_id - 1) : strlen(user_id + 1));
}

ht_error ht_room_push_event(ht_env *env, const ht_pdu *pdu, int64_t stream) {
    const ht_error failed = {HT_M_SERVER_ERROR, 0, "The event's push actions could not be stored."};
    const char *thread_id = ht_push_event_thread(pdu->content);
    if (is_local(env, pdu->sender) &&
        !ht_store_unread_own_event(env->store, pdu->room_id, pdu->sender, thread_id, stream))
        return failed;
    json_t *event = event_for_rules(env->arena, pdu->type, pdu->sender, pdu->room_id, pdu->state_key, pdu->content);
    /* Most events (no body, no mentions, no invite: state, reactions,
     * encrypted messages) are judged alike for every member who kept the
     * default rules: once, and without their names. */
    bool per_owner = ht_push_default_depends_on_owner(event);
    ht_member_push *members;
    size_t n = ht_store_members_joined(env->store, env->arena, pdu->room_id, per_owner, &members);
    ht_push_room room = ht_push_room_shared(env, pdu->room_id, (int64_t)n);
    json_t *defaults = ht_push_default_ruleset(env);
    ht_push_result alike;
    bool judged_alike = false;
    dumped last = {0};
    for (size_t i = 0; i < n; i++) {
        const ht_member_push *m = &members[i];
        if (strcmp(m->user_id, pdu->sender) == 0 || !is_local(env, m->user_id)) continue;
        bool ok;
        if (m->own_rules) {
            json_t *own = ht_push_ruleset(env, m->user_id);
            ht_push_room theirs = room;
            theirs.display_name = m->display_name; /* NULL without a body: no rule reads it then */
            theirs.owner = theirs.owner_localpart = NULL;
            ok = judge(env, own, &theirs, event, pdu->room_id, m->user_id, stream, thread_id, &last);
            json_decref(own);
        } else if (per_owner) {
            room.display_name = m->display_name;
            room.owner = m->user_id;
            room.owner_localpart = localpart_of(env->arena, m->user_id);
            ok = judge(env, defaults, &room, event, pdu->room_id, m->user_id, stream, thread_id, &last);
        } else {
            if (!judged_alike) {
                room.owner = room.owner_localpart = no_owner; /* no rule that names one applies */
                alike = ht_push_evaluate(defaults, &room, event);
                judged_alike = true;
            }
            ok = keep(env, alike, pdu->room_id, m->user_id, stream, thread_id, &last);
        }
        if (!ok) return failed;
    }
    return ht_store_failed(env->store) ? failed : (ht_error){0};
}

bool ht_room_push_state_changed(ht_env *env, const char *room_id, const char *type, const char *state_key,
                                const char *old_membership, const char *membership) {
    ht_store *store = env->store;
    if (strcmp(type, "m.room.power_levels") == 0) return ht_store_unread_stale_room(store, room_id);
    if (strcmp(type, "m.room.member") != 0) return true;
    bool was_joined = old_membership && strcmp(old_membership, "join") == 0;
    bool joined = membership && strcmp(membership, "join") == 0;
    if (was_joined != joined) {
        /* The default rules look at the member count only as "is 2"; a
         * member's own rules may look at any count. */
        int64_t now = ht_store_members_count(store, room_id, "join");
        int64_t before = joined ? now - 1 : now + 1;
        bool ok = now == 2 || before == 2 ? ht_store_unread_stale_room(store, room_id)
                                          : ht_store_unread_stale_count_rules(store, room_id);
        if (!ok) return false;
    }
    if (!is_local(env, state_key)) return true;
    if (joined && !was_joined) /* nothing after a join is unread yet */
        return ht_store_unread_recount(store, env->arena, room_id, state_key) &&
               ht_store_unread_set_judged(store, room_id, state_key);
    return ht_store_unread_stale_member(store, room_id, state_key); /* their name may have changed */
}

/* Judges the member's newest unread events again with what holds now. */
static bool rejudge(ht_env *env, const char *room_id, const char *user_id, json_t **ruleset) {
    ht_store *store = env->store;
    int64_t floor = ht_store_read_floor(store, room_id, user_id);
    ht_event_row *events;
    size_t n = ht_store_events_before(store, env->arena, room_id, (int64_t)ht_store_stream_position(store), floor,
                                      MAX_REJUDGE, &events);
    int64_t from = n == MAX_REJUDGE ? events[n - 1].stream - 1 : floor;
    if (!ht_store_push_actions_clear(store, room_id, user_id, from)) return false;
    if (!*ruleset) *ruleset = ht_json_keep(env->arena, ht_push_ruleset(env, user_id));
    ht_push_room room = ht_push_room_of(env, room_id, user_id);
    dumped last = {0};
    for (size_t i = n; i-- > 0;) { /* oldest first */
        const ht_event_row *ev = &events[i];
        json_t *content = ht_room_event_content(env->arena, ev);
        const char *thread_id = ht_push_event_thread(content);
        bool ok = strcmp(ev->sender, user_id) == 0
                      ? ht_store_unread_own_event(store, room_id, user_id, thread_id, ev->stream)
                  : ev->redacted_by ? true
                                    : judge(env, *ruleset, &room,
                                            event_for_rules(env->arena, ev->type, ev->sender, ev->room_id,
                                                            ev->state_key, content),
                                            room_id, user_id, ev->stream, thread_id, &last);
        if (!ok) return false;
    }
    if (!ht_store_unread_recount(store, env->arena, room_id, user_id)) return false;
    return ht_budget_spent(room.budget) || ht_store_unread_set_judged(store, room_id, user_id);
}

size_t ht_room_unread_counts(ht_env *env, const char *room_id, const char *user_id, json_t **ruleset,
                             ht_unread_row **out) {
    if (ht_store_unread_state(env->store, room_id, user_id) != HT_UNREAD_JUDGED &&
        !rejudge(env, room_id, user_id, ruleset)) {
        *out = NULL;
        return 0;
    }
    return ht_store_unread_get(env->store, env->arena, room_id, user_id, out);
}
