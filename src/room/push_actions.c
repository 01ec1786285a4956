/* push_actions.c -- push actions decided when an event joins the timeline,
 * and unread counts that cost a /sync the same whatever the backlog.
 *
 * The design decision: each member's judgment of an event is made once,
 * with their rules and the room's state as they are when it arrives, and
 * only moves their count (store/unread.h): nothing is kept per member and
 * event. The judgment shared by everyone on the default rules whom the
 * event cannot name is made once and kept once, in the room's shared
 * count; only members judged apart (named, or with rules of their own) get
 * a row, holding where they differ. So a send into a room of 5,000 writes
 * a few rows, not 5,000. Whatever an
 * addition cannot mend -- a receipt that moves their marks, a redaction,
 * their rules, their name in the room, the power levels, the member count
 * where a rule looks at it -- marks the member's counts in the room stale
 * (at the change, not on every read), and their next read judges their
 * unread events again with what holds now: so the counts a sync reads are
 * what judging afresh would give. Judging again looks at the newest
 * MAX_REJUDGE unread events: a backlog beyond that is counted up to it
 * once a receipt or a change has made the count stale. */
#include "room/push_actions.h"

#include <string.h>

#include "matrix/ids.h"
#include "room/push_eval.h"
#include "room/room.h"
#include "store/meta.h"
#include "store/receipts.h"
#include "store/rooms.h"
#include "util/buf.h"
#include "util/glob.h"
#include "util/json.h"

enum { MAX_REJUDGE = 1000 };

/* Stands for the owner where no rule naming one can apply: matches no one. */
static const char no_owner[] = "@\x02:\x02";

static bool is_local(ht_env *env, const char *user_id) {
    const char *server = ht_id_server(user_id);
    return server && strcmp(server, env->server_name) == 0;
}

/* Keeps one member's judgment of an event where it differs from the
 * shared one (the count of everyone judged alike already has that). A
 * judgment the request's matching budget could not pay for is not trusted:
 * the member's counts there are judged again on their next read. */
static bool keep(ht_env *env, ht_push_result r, ht_push_result alike, const char *room_id, const char *user_id,
                 const char *thread_id) {
    if (ht_budget_spent(&env->match_budget) && !ht_store_unread_stale_member(env->store, room_id, user_id))
        return false;
    int64_t highlight = r.notify && r.highlight, alike_highlight = alike.notify && alike.highlight;
    return ht_store_unread_add(env->store, room_id, user_id, thread_id, (int64_t)r.notify - alike.notify,
                               highlight - alike_highlight);
}

static const char *localpart_of(ht_arena *arena, const char *user_id) {
    const char *colon = strchr(user_id, ':');
    return ht_arena_strndup(arena, user_id + 1, colon ? (size_t)(colon - user_id - 1) : strlen(user_id + 1));
}

/* Whether the default rules' judgment of a member can be told from no
 * one's by looking only for the member's name, localpart and id in the
 * event. The default rules read the owner in four places: an invite's
 * state key (.m.rule.invite_for_me), m.mentions.user_ids
 * (.m.rule.is_user_mention), and a body's words (.m.rule.contains_display_name,
 * .m.rule.contains_user_name). A body holding the byte no_owner is made of
 * could match no one's placeholder itself: such an event is judged member
 * by member, and so is one whose state key or mentioned ids hold it. */
static bool shortcut_possible(json_t *event) {
    json_t *content = json_object_get(event, "content");
    const char *body = ht_json_str(content, "body"), *state_key = ht_json_str(event, "state_key");
    if ((body && strchr(body, no_owner[1])) || (state_key && strchr(state_key, no_owner[1]))) return false;
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(json_object_get(content, "m.mentions"), "user_ids"), i, id)
        if (json_is_string(id) && strchr(json_string_value(id), no_owner[1])) return false;
    return true;
}

/* Could the default rules judge this member differently from no one?
 * False only when none of the four places can name them: the display
 * name and the localpart are matched ASCII case-insensitively as words of
 * the body (util/glob.h), so a body that does not contain them at all,
 * compared the same way, cannot match them as words. An id with a glob's
 * wildcard, or a budget that could not pay for the look, answers true: the
 * member is judged in full. */
static bool owner_may_matter(ht_env *env, json_t *event, const ht_member_push *m) {
    if (strpbrk(m->user_id, "*?")) return true; /* as a pattern it may match others' ids and words */
    json_t *content = json_object_get(event, "content");
    const char *state_key = ht_json_str(event, "state_key");
    if (state_key && strcmp(state_key, m->user_id) == 0) return true;
    json_t *ids = json_object_get(json_object_get(content, "m.mentions"), "user_ids");
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
        if (json_is_string(id) && strcmp(json_string_value(id), m->user_id) == 0) return true;
    const char *body = ht_json_str(content, "body");
    if (!body) return false;
    const char *localpart = localpart_of(env->arena, m->user_id);
    if (m->display_name && *m->display_name && ht_text_contains(body, m->display_name, &env->match_budget))
        return true;
    return ht_text_contains(body, localpart, &env->match_budget) || ht_budget_spent(&env->match_budget);
}

/* The members this event may judge apart from the room's shared count:
 * those with rules of their own and, where the default rules read the
 * owner, those it may name (owner_may_matter then judges each). They are
 * looked up by the ids it names and the words of its body, each a member's
 * name key or localpart key (util/glob.h), so a send costs what it says,
 * not the room's size; a body of more words than the room has members
 * reads the members instead. */
static size_t members_apart(ht_env *env, json_t *event, bool per_owner, int64_t joined, ht_member_push **out) {
    json_t *ids = ht_json_keep(env->arena, json_array());
    ht_buf words = {0};
    ht_buf_puts(&words, "[\"\""); /* '': the names without a word, always looked at */
    if (per_owner) {
        json_t *content = json_object_get(event, "content");
        const char *state_key = ht_json_str(event, "state_key");
        if (state_key) json_array_append_new(ids, json_string(state_key));
        size_t i;
        json_t *id;
        json_array_foreach(json_object_get(json_object_get(content, "m.mentions"), "user_ids"), i, id)
            if (json_is_string(id)) json_array_append(ids, id);
        const char *body = ht_json_str(content, "body");
        char word[HT_PUSH_WORD_MAX + 1];
        int64_t count = 0;
        /* Words hold no '"', '\\' or control character: they need no escaping. */
        for (size_t n; body && (n = ht_push_word_next(&body, word)) > 0;) {
            if (++count > joined) {
                ht_buf_free(&words);
                return ht_store_members_joined(env->store, env->arena, ht_json_str(event, "room_id"), out);
            }
            ht_buf_puts(&words, ",\"");
            ht_buf_append(&words, word, n);
            ht_buf_puts(&words, "\"");
        }
    }
    ht_buf_puts(&words, "]");
    ht_buf_append(&words, "", 1);
    size_t n = ht_store_members_apart(env->store, env->arena, ht_json_str(event, "room_id"),
                                      ht_json_dump(env->arena, ids), per_owner ? (const char *)words.data : "[]", out);
    ht_buf_free(&words);
    return n;
}

/* A member's judgment of the event by rules of their own. Their compiled
 * rules live only for it, not for the request: a room may hold thousands
 * of such members, each judged on every send. */
static ht_push_result judge_by_own_rules(ht_env *env, const char *user_id, const ht_push_room *room,
                                         json_t *event) {
    ht_arena scratch;
    ht_arena_init(&scratch, 4096);
    json_t *own = ht_push_ruleset(env, user_id);
    ht_push_result r = ht_push_evaluate(ht_push_compile(&scratch, own), room, event);
    r.actions = NULL; /* they go with the rules */
    json_decref(own);
    ht_arena_free(&scratch);
    return r;
}

ht_error ht_room_push_event(ht_env *env, const ht_pdu *pdu, int64_t stream) {
    const ht_error failed = {HT_M_SERVER_ERROR, 0, "The event's push actions could not be stored."};
    const char *thread_id = ht_push_event_thread(pdu->content);
    json_t *event =
        ht_json_keep(env->arena, ht_push_event(pdu->type, pdu->sender, pdu->room_id, pdu->state_key, pdu->content));
    int64_t joined = ht_store_members_joined_count(env->store, pdu->room_id);
    ht_push_room room = ht_push_room_shared(env, pdu->room_id, joined);
    const ht_push_rules *defaults = ht_push_default_ruleset(env);
    /* The judgment of everyone who kept the default rules and whom the
     * event cannot name: made once, without a name, and kept once, in the
     * room's shared count. The sender's own event then reads their thread
     * up to it. */
    ht_push_room no_one = room;
    no_one.display_name = NULL;
    no_one.owner = no_one.owner_localpart = no_owner; /* no rule that names one applies */
    ht_push_result alike = ht_push_evaluate(defaults, &no_one, event);
    if (alike.notify && !ht_store_unread_alike_add(env->store, pdu->room_id, thread_id, alike.highlight)) return failed;
    if (is_local(env, pdu->sender) &&
        !ht_store_unread_own_event(env->store, pdu->room_id, pdu->sender, thread_id, stream))
        return failed;
    /* Most events (no body, no mentions, no invite: state, reactions,
     * encrypted messages) are judged alike for every member who kept the
     * default rules. Even one with a body is, for a member whose name,
     * localpart and id it cannot mention (owner_may_matter): of 5,000
     * members a message names a few, and only those, and members with
     * rules of their own, are judged apart. */
    bool per_owner = ht_push_default_depends_on_owner(event);
    bool shortcut = per_owner && shortcut_possible(event);
    ht_member_push *members;
    size_t n = per_owner && !shortcut ? ht_store_members_joined(env->store, env->arena, pdu->room_id, &members)
                                      : members_apart(env, event, per_owner, joined, &members);
    for (size_t i = 0; i < n; i++) {
        const ht_member_push *m = &members[i];
        if (strcmp(m->user_id, pdu->sender) == 0 || !is_local(env, m->user_id)) continue;
        ht_push_result r;
        if (m->own_rules) {
            ht_push_room theirs = room;
            theirs.display_name = m->display_name;
            theirs.owner = theirs.owner_localpart = NULL;
            r = judge_by_own_rules(env, m->user_id, &theirs, event);
        } else if (per_owner && (!shortcut || owner_may_matter(env, event, m))) {
            ht_push_room theirs = room;
            theirs.display_name = m->display_name;
            theirs.owner = m->user_id;
            theirs.owner_localpart = localpart_of(env->arena, m->user_id);
            r = ht_push_evaluate(defaults, &theirs, event);
        } else {
            continue; /* the shared count is theirs */
        }
        if (!keep(env, r, alike, pdu->room_id, m->user_id, thread_id)) return failed;
    }
    /* A shared judgment the budget could not pay for is not trusted either. */
    if (ht_budget_spent(&env->match_budget) && !ht_store_unread_stale_room(env->store, pdu->room_id)) return failed;
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
        int64_t now = ht_store_members_joined_count(store, room_id);
        int64_t before = joined ? now - 1 : now + 1;
        bool ok = now == 2 || before == 2 ? ht_store_unread_stale_room(store, room_id)
                                          : ht_store_unread_stale_count_rules(store, room_id);
        if (!ok) return false;
    }
    if (!is_local(env, state_key)) return true;
    if (joined && !was_joined) /* nothing after a join is unread yet */
        return ht_store_unread_set(store, room_id, state_key, NULL, 0) &&
               ht_store_unread_set_judged(store, room_id, state_key);
    return ht_store_unread_stale_member(store, room_id, state_key); /* their name may have changed */
}

/* A count per thread while judging again. */
typedef struct tally {
    ht_unread_row *rows;
    int64_t *marks; /* per thread: read up to here (its receipts, the member's own events) */
    size_t count, cap;
} tally;

static size_t tally_of(ht_arena *arena, tally *t, const char *thread_id) {
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->rows[i].thread_id, thread_id) == 0) return i;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        ht_unread_row *rows = ht_arena_alloc(arena, cap * sizeof *rows);
        int64_t *marks = ht_arena_alloc(arena, cap * sizeof *marks);
        if (t->count) {
            memcpy(rows, t->rows, t->count * sizeof *rows);
            memcpy(marks, t->marks, t->count * sizeof *marks);
        }
        t->rows = rows, t->marks = marks, t->cap = cap;
    }
    t->rows[t->count] = (ht_unread_row){.thread_id = ht_arena_strdup(arena, thread_id)};
    t->marks[t->count] = 0;
    return t->count++;
}

static void raise_mark(ht_arena *arena, tally *t, const char *thread_id, int64_t mark) {
    size_t i = tally_of(arena, t, thread_id);
    if (mark > t->marks[i]) t->marks[i] = mark;
}

/* Judges the member's newest unread events again with what holds now, and
 * keeps the counts that gives. */
static bool rejudge(ht_env *env, const char *room_id, const char *user_id, const ht_push_rules **rules) {
    ht_store *store = env->store;
    ht_arena *arena = env->arena;
    tally t = {0};
    ht_read_mark *receipts;
    size_t n = ht_store_read_marks(store, arena, room_id, user_id, &receipts);
    for (size_t i = 0; i < n; i++)
        if (*receipts[i].thread_id) raise_mark(arena, &t, receipts[i].thread_id, receipts[i].event_stream);
    ht_unread_row *own;
    n = ht_store_unread_own_marks(store, arena, room_id, user_id, &own);
    for (size_t i = 0; i < n; i++) raise_mark(arena, &t, own[i].thread_id, own[i].notifications);

    ht_event_row *events;
    n = ht_store_events_before(store, arena, room_id, (int64_t)ht_store_stream_position(store),
                               ht_store_read_floor(store, room_id, user_id), MAX_REJUDGE, &events);
    if (!*rules) *rules = ht_push_rules_of(env, user_id);
    ht_push_room room = ht_push_room_of(env, room_id, user_id);
    for (size_t i = n; i-- > 0;) { /* oldest first */
        const ht_event_row *ev = &events[i];
        json_t *content = ht_room_event_content(arena, ev);
        size_t k = tally_of(arena, &t, ht_push_event_thread(content));
        if (strcmp(ev->sender, user_id) == 0) { /* reads the thread up to here */
            t.rows[k].notifications = t.rows[k].highlights = 0;
            if (!ht_store_unread_own_event(store, room_id, user_id, t.rows[k].thread_id, ev->stream)) return false;
            continue;
        }
        if (ev->redacted_by || ev->stream <= t.marks[k]) continue;
        ht_push_result r = ht_push_evaluate_row(*rules, &room, ev, content);
        t.rows[k].notifications += r.notify;
        t.rows[k].highlights += r.notify && r.highlight;
    }
    if (!ht_store_unread_set(store, room_id, user_id, t.rows, t.count)) return false;
    /* Counts the matching budget could not pay for stay stale. */
    return ht_budget_spent(room.budget) || ht_store_unread_set_judged(store, room_id, user_id);
}

size_t ht_room_unread_counts(ht_env *env, const char *room_id, const char *user_id, const ht_push_rules **rules,
                             ht_unread_row **out) {
    if (ht_store_unread_state(env->store, room_id, user_id) != HT_UNREAD_JUDGED &&
        !rejudge(env, room_id, user_id, rules)) {
        *out = NULL;
        return 0;
    }
    return ht_store_unread_get(env->store, env->arena, room_id, user_id, out);
}
