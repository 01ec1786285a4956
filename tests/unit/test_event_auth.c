/* test_event_auth.c -- the authorization rules of room versions 10 and 11,
 * one test per rule, each run in both versions.
 *
 * A room is built event by event (alice creates it; each event's auth
 * events are what the selection names in the state before it), then a
 * candidate event is judged against the room's state with
 * ht_auth_check_pdu. The knock and restricted-join cases of the local path's
 * tests (test_auth_rules.c, test_restricted_join.c) are here again on the
 * new interface. */
#include "unit.h"

#include <stdio.h>

#include "room/event_auth.h"
#include "room_fixture.h"

#define PL "m.room.power_levels"
#define JR "m.room.join_rules"
#define MEMBER "m.room.member"
#define CREATE "m.room.create"

static const char *const versions[] = {"10", "11"};
#define EACH_VERSION(v) for (const char *const *v = versions; v < versions + 2; v++)

typedef struct room {
    fixture f;
    ht_state_map state;
    const char *last; /* the newest event: the candidate's prev event */
    int made;         /* for ids */
} room;

/* Alice's room: create and her join, then the power levels and join rule
 * given (NULL: no such event). Alice has 100, mod 50 where levels are set. */
static void room_open(room *r, const char *version, const char *power_levels, const char *join_rule);
static const ht_pdu *room_put(room *r, const char *sender, const char *type, const char *state_key,
                              const char *content);

static void room_open(room *r, const char *version, const char *power_levels, const char *join_rule) {
    fixture_init(&r->f, version);
    ht_state_map_init(&r->state, &r->f.arena);
    r->made = 0;
    const char *create =
        strcmp(version, "10") == 0 ? "{'creator': '@alice:x', 'room_version': '10'}" : "{'room_version': '11'}";
    fixture_event(&r->f, "create", "alice", CREATE, "", create, NULL, NULL, 0);
    ht_state_map_set(&r->state, CREATE, "", "$create");
    r->last = "create";
    room_put(r, "alice", MEMBER, "@alice:x", "{'membership': 'join'}");
    if (power_levels) room_put(r, "alice", PL, "", power_levels);
    if (join_rule) {
        char content[64];
        snprintf(content, sizeof content, "{'join_rule': '%s'}", join_rule);
        room_put(r, "alice", JR, "", ht_arena_strdup(&r->f.arena, content));
    }
}

static const char *next_id(room *r) { return ht_arena_printf(&r->f.arena, "e%d", ++r->made); }

/* An event that enters the room unjudged (the room's history). */
static const ht_pdu *room_put(room *r, const char *sender, const char *type, const char *state_key,
                              const char *content) {
    const ht_pdu *e = fixture_add_on(
        &r->f, &(spec_event)EVENT_AT(next_id(r), sender, type, state_key, content, r->last, NULL, 0), &r->state);
    if (e->state_key) ht_state_map_set(&r->state, e->type, e->state_key, e->event_id);
    r->last = e->event_id;
    return e;
}

/* user's membership, set by themselves (join, leave, knock) or by alice. */
static void room_member(room *r, const char *user, const char *membership) {
    const char *user_id = fixture_user(&r->f, user);
    bool own =
        strcmp(membership, "join") == 0 || strcmp(membership, "knock") == 0 || (strcmp(membership, "leave") == 0);
    char content[64];
    snprintf(content, sizeof content, "{'membership': '%s'}", membership);
    room_put(r, own ? user : "alice", MEMBER, user_id, ht_arena_strdup(&r->f.arena, content));
}

static const ht_pdu *candidate(room *r, const char *sender, const char *type, const char *state_key,
                               const char *content) {
    return fixture_add_on(
        &r->f, &(spec_event)EVENT_AT(next_id(r), sender, type, state_key, content, r->last, NULL, 0), &r->state);
}

static ht_error judge_event(room *r, const ht_pdu *e) {
    ht_state_view view = ht_state_map_view(&r->state);
    return ht_auth_check_pdu(&r->f.arena, e, &view, &r->f.src, r->f.version);
}

/* The verdict on a candidate event against the room's state. */
static ht_errcode judge(room *r, const char *sender, const char *type, const char *state_key,
                        const char *content) {
    return judge_event(r, candidate(r, sender, type, state_key, content)).code;
}

static ht_errcode judge_member(room *r, const char *sender, const char *target, const char *membership) {
    char content[64];
    snprintf(content, sizeof content, "{'membership': '%s'}", membership);
    return judge(r, sender, MEMBER, fixture_user(&r->f, target), ht_arena_strdup(&r->f.arena, content));
}

static void room_close(room *r) { fixture_free(&r->f); }

#define LEVELS "{'users': {'@alice:x': 100, '@mod:x': 50}}"

/* ---- 1: m.room.create ----------------------------------------------------- */

static ht_errcode judge_create(const char *version, const char *sender, const char *content, const char *prev) {
    fixture f;
    fixture_init(&f, version);
    ht_state_map empty;
    ht_state_map_init(&empty, &f.arena);
    if (prev) fixture_add(&f, &(spec_event)EVENT("before", "alice", "m.room.message", NULL, "{}"));
    const ht_pdu *e = fixture_event(&f, "create", sender, CREATE, "", content, prev, NULL, 0);
    ht_state_view view = ht_state_map_view(&empty);
    ht_errcode code = ht_auth_check_pdu(&f.arena, e, &view, &f.src, version).code;
    fixture_free(&f);
    return code;
}

static void test_create_event_is_allowed_with_no_prev_events_from_the_room_server(void **state) {
    (void)state;
    assert_int_equal(judge_create("10", "alice", "{'creator': '@alice:x', 'room_version': '10'}", NULL), HT_OK);
    assert_int_equal(judge_create("11", "alice", "{'room_version': '11'}", NULL), HT_OK);
}

static void test_create_event_with_prev_events_is_rejected(void **state) {
    (void)state;
    EACH_VERSION(v)
    assert_int_equal(judge_create(*v, "alice", "{'creator': '@alice:x'}", "before"), HT_M_FORBIDDEN);
}

static void test_create_event_from_another_server_than_the_room_id_is_rejected(void **state) {
    (void)state;
    EACH_VERSION(v)
    assert_int_equal(judge_create(*v, "@alice:elsewhere", "{'creator': '@alice:elsewhere'}", NULL),
                     HT_M_FORBIDDEN);
}

static void test_create_event_naming_an_unknown_room_version_is_rejected(void **state) {
    (void)state;
    EACH_VERSION(v) {
        assert_int_equal(judge_create(*v, "alice", "{'creator': '@alice:x', 'room_version': '9'}", NULL),
                         HT_M_FORBIDDEN);
        assert_int_equal(judge_create(*v, "alice", "{'creator': '@alice:x', 'room_version': 10}", NULL),
                         HT_M_FORBIDDEN);
        /* Absent, it is not checked (rule 1.3 says "if present"). */
        assert_int_equal(judge_create(*v, "alice", "{'creator': '@alice:x'}", NULL), HT_OK);
    }
}

static void test_create_event_without_creator_is_rejected_in_version_10_only(void **state) {
    (void)state;
    assert_int_equal(judge_create("10", "alice", "{'room_version': '10'}", NULL), HT_M_FORBIDDEN);
    assert_int_equal(judge_create("11", "alice", "{'room_version': '11'}", NULL), HT_OK);
}

static void test_unknown_room_version_is_refused(void **state) {
    (void)state;
    room r;
    room_open(&r, "11", LEVELS, "public");
    const ht_pdu *e = candidate(&r, "alice", "m.room.message", NULL, "{}");
    ht_state_view view = ht_state_map_view(&r.state);
    assert_int_equal(ht_auth_check_pdu(&r.f.arena, e, &view, &r.f.src, "9").code, HT_M_UNSUPPORTED_ROOM_VERSION);
    assert_int_equal(ht_auth_check_auth_events(&r.f.arena, e, &r.f.src, "12").code, HT_M_UNSUPPORTED_ROOM_VERSION);
    room_close(&r);
}

/* ---- 2: the event's own auth events ------------------------------------------ */

/* A message by bob citing these auth events. */
static ht_errcode judge_auth_events(room *r, const char *auth) {
    const ht_pdu *e = fixture_event(&r->f, next_id(r), "bob", "m.room.message", NULL, "{}", r->last, auth, 0);
    return ht_auth_check_auth_events(&r->f.arena, e, &r->f.src, r->f.version).code;
}

static void test_auth_events_named_by_the_selection_pass(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_member(&r, "bob", "join");
        assert_int_equal(judge_auth_events(&r, "create e2 e4"), HT_OK);
        /* Fewer than the selection names is fine: only extra, duplicate,
         * rejected or foreign entries and a missing create event fail. */
        assert_int_equal(judge_auth_events(&r, "create"), HT_OK);
        room_close(&r);
    }
}

static void test_auth_events_with_two_events_for_one_key_are_rejected(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_put(&r, "alice", PL, "", LEVELS); /* e4, a second power levels event */
        room_member(&r, "bob", "join");
        assert_int_equal(judge_auth_events(&r, "create e2 e4"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_auth_events_the_selection_does_not_name_are_rejected(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public"); /* e1 alice, e2 levels, e3 join rules */
        room_member(&r, "bob", "join");      /* e4 */
        /* A message's selection has no join rules, and not alice's membership. */
        assert_int_equal(judge_auth_events(&r, "create e2 e3 e4"), HT_M_FORBIDDEN);
        assert_int_equal(judge_auth_events(&r, "create e1 e4"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_rejected_auth_events_are_rejected(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_member(&r, "bob", "join");
        fixture_get(&r.f, "e4")->rejected = true;
        assert_int_equal(judge_auth_events(&r, "create e2 e4"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_auth_events_without_the_create_event_are_rejected(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_member(&r, "bob", "join");
        assert_int_equal(judge_auth_events(&r, "e2 e4"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_auth_events_of_another_room_or_unknown_are_rejected(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_member(&r, "bob", "join");
        fixture_get(&r.f, "e2")->room_id = "!other:x";
        assert_int_equal(judge_auth_events(&r, "create e2 e4"), HT_M_FORBIDDEN);
        assert_int_equal(judge_auth_events(&r, "create e4 nowhere"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_check_by_auth_events_judges_against_the_state_they_form(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_member(&r, "bob", "join"); /* e4 */
        const ht_pdu *ok = fixture_event(&r.f, "ok", "bob", "m.room.message", NULL, "{}", "e4", "create e2 e4", 0);
        assert_int_equal(ht_auth_check_by_auth_events(&r.f.arena, ok, &r.f.src, *v).code, HT_OK);
        /* Without bob's membership among them, bob is not in the room. */
        const ht_pdu *no = fixture_event(&r.f, "no", "bob", "m.room.message", NULL, "{}", "e4", "create e2", 0);
        assert_int_equal(ht_auth_check_by_auth_events(&r.f.arena, no, &r.f.src, *v).code, HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static bool selects(ht_state_key *keys, size_t n, const char *type, const char *state_key) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i].type, type) == 0 && strcmp(keys[i].state_key, state_key) == 0) return true;
    return false;
}

static void test_auth_selection_names_the_keys_the_spec_lists(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "10");
    ht_state_key *keys;
    const ht_pdu *message = fixture_add(&f, &(spec_event)EVENT("m", "bob", "m.room.message", NULL, "{}"));
    assert_int_equal(ht_auth_selection(&f.arena, message, "10", &keys), 3);
    assert_true(selects(keys, 3, CREATE, "") && selects(keys, 3, PL, "") && selects(keys, 3, MEMBER, "@bob:x"));

    const ht_pdu *join = fixture_add(
        &f, &(spec_event)EVENT("j", "bob", MEMBER, "@bob:x",
                               "{'membership': 'join', 'join_authorised_via_users_server': '@alice:x'}"));
    assert_int_equal(ht_auth_selection(&f.arena, join, "10", &keys), 5);
    assert_true(selects(keys, 5, JR, "") && selects(keys, 5, MEMBER, "@alice:x"));

    const ht_pdu *invite = fixture_add(
        &f, &(spec_event)EVENT("i", "alice", MEMBER, "@bob:x",
                               "{'membership': 'invite', 'third_party_invite': {'signed': {'token': 't'}}}"));
    assert_int_equal(ht_auth_selection(&f.arena, invite, "10", &keys), 6);
    assert_true(selects(keys, 6, MEMBER, "@bob:x") && selects(keys, 6, JR, "") &&
                selects(keys, 6, "m.room.third_party_invite", "t"));

    const ht_pdu *kick =
        fixture_add(&f, &(spec_event)EVENT("k", "alice", MEMBER, "@bob:x", "{'membership': 'leave'}"));
    assert_int_equal(ht_auth_selection(&f.arena, kick, "10", &keys), 4);
    assert_false(selects(keys, 4, JR, ""));

    const ht_pdu *create = fixture_add(&f, &(spec_event)EVENT("c", "alice", CREATE, "", "{}"));
    assert_int_equal(ht_auth_selection(&f.arena, create, "10", &keys), 0);
    fixture_free(&f);
}

/* ---- 3: m.federate ----------------------------------------------------------- */

static void test_room_that_does_not_federate_refuses_other_servers(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        fixture_init(&r.f, *v);
        ht_state_map_init(&r.state, &r.f.arena);
        r.made = 0;
        fixture_add(&r.f, &(spec_event)EVENT("create", "alice", CREATE, "",
                                             "{'creator': '@alice:x', 'm.federate': false}"));
        ht_state_map_set(&r.state, CREATE, "", "$create");
        r.last = "create";
        room_put(&r, "alice", MEMBER, "@alice:x", "{'membership': 'join'}");
        room_put(&r, "alice", JR, "", "{'join_rule': 'public'}");
        assert_int_equal(judge_member(&r, "@eve:elsewhere", "@eve:elsewhere", "join"), HT_M_FORBIDDEN);
        assert_int_equal(judge_member(&r, "bob", "bob", "join"), HT_OK);
        room_close(&r);
    }
}

/* ---- 4.3: join ------------------------------------------------------------------ */

static void test_creator_joins_right_after_the_create_event(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        fixture_init(&r.f, *v);
        ht_state_map_init(&r.state, &r.f.arena);
        r.made = 0;
        /* In version 11 the creator is the sender; a content.creator naming
         * someone else means nothing there, and everything in version 10. */
        fixture_add(&r.f, &(spec_event)EVENT("create", "alice", CREATE, "", "{'creator': '@bob:x'}"));
        ht_state_map_set(&r.state, CREATE, "", "$create");
        r.last = "create";
        bool v10 = strcmp(*v, "10") == 0;
        assert_int_equal(judge_member(&r, "alice", "alice", "join"), v10 ? HT_M_FORBIDDEN : HT_OK);
        assert_int_equal(judge_member(&r, "bob", "bob", "join"), v10 ? HT_OK : HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_join_only_as_oneself(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        assert_int_equal(judge_member(&r, "alice", "bob", "join"), HT_M_FORBIDDEN);
        assert_int_equal(judge_member(&r, "bob", "bob", "join"), HT_OK);
        room_close(&r);
    }
}

static void test_banned_user_cannot_join_even_a_public_room(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_member(&r, "bob", "ban");
        assert_int_equal(judge_member(&r, "bob", "bob", "join"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_invite_only_room_needs_an_invite(void **state) {
    (void)state;
    static const char *const rules[] = {"invite", NULL /* no join rules: invite-only */};
    EACH_VERSION(v) {
        for (size_t i = 0; i < 2; i++) {
            room r;
            room_open(&r, *v, LEVELS, rules[i]);
            assert_int_equal(judge_member(&r, "bob", "bob", "join"), HT_M_FORBIDDEN);
            room_member(&r, "bob", "invite");
            assert_int_equal(judge_member(&r, "bob", "bob", "join"), HT_OK);
            room_close(&r);
        }
    }
}

static void test_unknown_join_rule_lets_nobody_in(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "private");
        room_member(&r, "bob", "invite");
        assert_int_equal(judge_member(&r, "bob", "bob", "join"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

/* A restricted room where mod (50) may invite at 50 and helper (10) not. */
static void restricted_room(room *r, const char *version, const char *rule) {
    char rules[128];
    snprintf(rules, sizeof rules,
             "{'join_rule': '%s', 'allow': [{'type': 'm.room_membership', 'room_id': '!s:x'}]}", rule);
    room_open(r, version, "{'users': {'@alice:x': 100, '@mod:x': 50, '@helper:x': 10}, 'invite': 50}", NULL);
    room_put(r, "alice", JR, "", ht_arena_strdup(&r->f.arena, rules));
    room_member(r, "mod", "join");
    room_member(r, "helper", "join");
}

static ht_errcode join_via(room *r, const char *authoriser) {
    char content[128];
    snprintf(content, sizeof content, "{'membership': 'join', 'join_authorised_via_users_server': %s}",
             authoriser);
    return judge(r, "bob", MEMBER, "@bob:x", ht_arena_strdup(&r->f.arena, content));
}

static void test_restricted_join_needs_a_joined_authoriser_who_may_invite(void **state) {
    (void)state;
    static const char *const rules[] = {"restricted", "knock_restricted"};
    EACH_VERSION(v) {
        for (size_t i = 0; i < 2; i++) {
            room r;
            restricted_room(&r, *v, rules[i]);
            assert_int_equal(judge_member(&r, "bob", "bob", "join"), HT_M_FORBIDDEN);
            assert_int_equal(join_via(&r, "'@mod:x'"), HT_OK);
            assert_int_equal(join_via(&r, "'@helper:x'"), HT_M_FORBIDDEN); /* may not invite */
            assert_int_equal(join_via(&r, "'@nobody:x'"), HT_M_FORBIDDEN); /* not in the room */
            assert_int_equal(join_via(&r, "42"), HT_M_BAD_JSON);
            assert_int_equal(join_via(&r, "'mod'"), HT_M_BAD_JSON);
            room_member(&r, "mod", "leave");
            assert_int_equal(join_via(&r, "'@mod:x'"), HT_M_FORBIDDEN);
            room_close(&r);
        }
    }
}

static void test_restricted_join_when_invited_or_joined_needs_no_authoriser(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        restricted_room(&r, *v, "restricted");
        room_member(&r, "bob", "invite");
        assert_int_equal(judge_member(&r, "bob", "bob", "join"), HT_OK);
        room_member(&r, "bob", "join");
        assert_int_equal(judge_member(&r, "bob", "bob", "join"), HT_OK);
        room_close(&r);
    }
}

static void test_restricted_join_when_banned_is_refused_even_with_an_authoriser(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        restricted_room(&r, *v, "restricted");
        room_member(&r, "bob", "ban");
        assert_int_equal(join_via(&r, "'@mod:x'"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_authoriser_means_nothing_in_an_invite_only_room(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "invite");
        room_member(&r, "mod", "join");
        assert_int_equal(join_via(&r, "'@mod:x'"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

/* ---- 4.4: invite ---------------------------------------------------------------- */

static void test_invite_needs_the_sender_joined_and_the_invite_level(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, "{'users': {'@alice:x': 100, '@mod:x': 50}, 'invite': 50}", "invite");
        room_member(&r, "carol", "invite");
        room_member(&r, "carol", "join");
        assert_int_equal(judge_member(&r, "carol", "bob", "invite"), HT_M_FORBIDDEN); /* level 0 < 50 */
        assert_int_equal(judge_member(&r, "mod", "bob", "invite"), HT_M_FORBIDDEN);   /* mod is not in */
        room_member(&r, "mod", "invite");
        room_member(&r, "mod", "join");
        assert_int_equal(judge_member(&r, "mod", "bob", "invite"), HT_OK);
        room_close(&r);
    }
}

static void test_invite_of_a_joined_or_banned_user_is_rejected(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_member(&r, "bob", "join");
        room_member(&r, "carol", "ban");
        assert_int_equal(judge_member(&r, "alice", "bob", "invite"), HT_M_FORBIDDEN);
        assert_int_equal(judge_member(&r, "alice", "carol", "invite"), HT_M_FORBIDDEN);
        assert_int_equal(judge_member(&r, "alice", "dave", "invite"), HT_OK);
        room_close(&r);
    }
}

static void test_third_party_invite_is_refused_as_unsupported(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_put(&r, "alice", "m.room.third_party_invite", "t", "{'public_key': 'abc'}");
        const ht_pdu *e = candidate(&r, "alice", MEMBER, "@bob:x",
                                    "{'membership': 'invite', 'third_party_invite': {'display_name': 'b', "
                                    "'signed': {'mxid': '@bob:x', 'token': 't', 'signatures': {}}}}");
        ht_error err = judge_event(&r, e);
        assert_int_equal(err.code, HT_M_FORBIDDEN);
        assert_non_null(strstr(err.message, "not supported"));
        /* Its auth events (naming the invite by its token) pass rule 2. */
        assert_int_equal(ht_auth_check_auth_events(&r.f.arena, e, &r.f.src, *v).code, HT_OK);
        room_close(&r);
    }
}

/* ---- 4.5: leave, 4.6: ban ---------------------------------------------------- */

static void test_leaving_oneself_needs_to_be_joined_invited_or_knocking(void **state) {
    (void)state;
    static const char *const from[] = {"join", "invite", "knock"};
    EACH_VERSION(v) {
        for (size_t i = 0; i < 3; i++) {
            room r;
            room_open(&r, *v, LEVELS, "knock");
            room_member(&r, "bob", from[i]);
            assert_int_equal(judge_member(&r, "bob", "bob", "leave"), HT_OK);
            room_close(&r);
        }
        room r;
        room_open(&r, *v, LEVELS, "public");
        assert_int_equal(judge_member(&r, "bob", "bob", "leave"), HT_M_FORBIDDEN); /* never in */
        room_member(&r, "bob", "ban");
        assert_int_equal(judge_member(&r, "bob", "bob", "leave"), HT_M_FORBIDDEN); /* banned */
        room_close(&r);
    }
}

static void test_kick_needs_the_kick_level_and_more_power_than_the_target(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, "{'users': {'@alice:x': 100, '@mod:x': 50, '@mod2:x': 50}}", "public");
        room_member(&r, "mod", "join");
        room_member(&r, "mod2", "join");
        room_member(&r, "bob", "join");
        assert_int_equal(judge_member(&r, "bob", "mod", "leave"), HT_M_FORBIDDEN);  /* 0 < kick 50 */
        assert_int_equal(judge_member(&r, "mod", "mod2", "leave"), HT_M_FORBIDDEN); /* equal power */
        assert_int_equal(judge_member(&r, "mod", "alice", "leave"), HT_M_FORBIDDEN);
        assert_int_equal(judge_member(&r, "mod", "bob", "leave"), HT_OK);
        room_close(&r);
    }
}

static void test_removing_someone_needs_the_sender_joined(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "invite");
        room_member(&r, "bob", "invite");
        /* mod has the power but is not in the room. */
        assert_int_equal(judge_member(&r, "mod", "bob", "leave"), HT_M_FORBIDDEN);
        assert_int_equal(judge_member(&r, "mod", "bob", "ban"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_unban_needs_the_ban_level(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, "{'users': {'@alice:x': 100, '@mod:x': 50}, 'ban': 60}", "public");
        room_member(&r, "mod", "join");
        room_member(&r, "bob", "ban");
        assert_int_equal(judge_member(&r, "mod", "bob", "leave"), HT_M_FORBIDDEN); /* kick 50 but ban 60 */
        assert_int_equal(judge_member(&r, "alice", "bob", "leave"), HT_OK);
        room_close(&r);
    }
}

static void test_ban_needs_the_ban_level_and_more_power_than_the_target(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_member(&r, "mod", "join");
        room_member(&r, "bob", "join");
        assert_int_equal(judge_member(&r, "bob", "mod", "ban"), HT_M_FORBIDDEN);
        assert_int_equal(judge_member(&r, "mod", "alice", "ban"), HT_M_FORBIDDEN);
        assert_int_equal(judge_member(&r, "mod", "bob", "ban"), HT_OK);
        /* Someone never in the room can be banned too. */
        assert_int_equal(judge_member(&r, "mod", "stranger", "ban"), HT_OK);
        room_close(&r);
    }
}

/* ---- 4.7: knock (the local path's cases, on this interface) ------------------ */

static void test_knock_only_where_the_join_rule_is_knock_or_knock_restricted(void **state) {
    (void)state;
    static const char *const rules[] = {"knock", "knock_restricted", "public", "invite", "restricted", NULL};
    static const ht_errcode verdicts[] = {HT_OK,          HT_OK,          HT_M_FORBIDDEN,
                                          HT_M_FORBIDDEN, HT_M_FORBIDDEN, HT_M_FORBIDDEN};
    EACH_VERSION(v) {
        for (size_t i = 0; i < 6; i++) {
            room r;
            room_open(&r, *v, LEVELS, rules[i]);
            assert_int_equal(judge_member(&r, "bob", "bob", "knock"), verdicts[i]);
            room_close(&r);
        }
    }
}

static void test_knock_only_as_oneself_and_not_when_banned_joined_or_invited(void **state) {
    (void)state;
    static const char *const memberships[] = {"ban", "join", "invite", "leave", "knock"};
    static const ht_errcode verdicts[] = {HT_M_FORBIDDEN, HT_M_FORBIDDEN, HT_M_FORBIDDEN, HT_OK, HT_OK};
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "knock");
        assert_int_equal(judge_member(&r, "alice", "bob", "knock"), HT_M_FORBIDDEN);
        room_close(&r);
        for (size_t i = 0; i < 5; i++) {
            room_open(&r, *v, LEVELS, "knock");
            if (strcmp(memberships[i], "join") == 0) room_member(&r, "bob", "invite");
            if (strcmp(memberships[i], "leave") == 0) room_member(&r, "bob", "knock");
            room_member(&r, "bob", memberships[i]);
            assert_int_equal(judge_member(&r, "bob", "bob", "knock"), verdicts[i]);
            room_close(&r);
        }
    }
}

static void test_a_knock_is_answered_by_invite_or_kick_or_withdrawn(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "knock");
        room_member(&r, "mod", "knock"); /* mod knocks and is let in */
        room_member(&r, "mod", "invite");
        room_member(&r, "mod", "join");
        room_member(&r, "plain", "knock");
        room_member(&r, "plain", "invite");
        room_member(&r, "plain", "join");
        room_member(&r, "bob", "knock");
        assert_int_equal(judge_member(&r, "bob", "bob", "join"), HT_M_FORBIDDEN); /* a knock is no invite */
        assert_int_equal(judge_member(&r, "plain", "bob", "invite"), HT_OK);
        assert_int_equal(judge_member(&r, "mod", "bob", "leave"), HT_OK); /* rejected by a kick */
        assert_int_equal(judge_member(&r, "plain", "bob", "leave"), HT_M_FORBIDDEN);
        assert_int_equal(judge_member(&r, "bob", "bob", "leave"), HT_OK); /* withdrawn */
        room_close(&r);
    }
}

static void test_membership_missing_or_unknown_is_malformed(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        assert_int_equal(judge(&r, "bob", MEMBER, "@bob:x", "{}"), HT_M_BAD_JSON);
        assert_int_equal(judge(&r, "bob", MEMBER, "@bob:x", "{'membership': 'dance'}"), HT_M_BAD_JSON);
        room_close(&r);
    }
}

/* ---- 5 to 8 ---------------------------------------------------------------------- */

static void test_events_need_the_sender_joined(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        assert_int_equal(judge(&r, "bob", "m.room.message", NULL, "{}"), HT_M_FORBIDDEN);
        room_member(&r, "bob", "invite");
        assert_int_equal(judge(&r, "bob", "m.room.message", NULL, "{}"), HT_M_FORBIDDEN);
        room_member(&r, "bob", "join");
        assert_int_equal(judge(&r, "bob", "m.room.message", NULL, "{}"), HT_OK);
        room_close(&r);
    }
}

static void test_third_party_invite_event_needs_the_invite_level(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, "{'users': {'@alice:x': 100, '@mod:x': 50}, 'invite': 50, 'state_default': 0}",
                  "public");
        room_member(&r, "bob", "join");
        room_member(&r, "mod", "join");
        assert_int_equal(judge(&r, "bob", "m.room.third_party_invite", "t", "{}"), HT_M_FORBIDDEN);
        assert_int_equal(judge(&r, "mod", "m.room.third_party_invite", "t", "{}"), HT_OK);
        room_close(&r);
    }
}

static void test_events_need_their_required_power_level(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v,
                  "{'users': {'@alice:x': 100, '@mod:x': 50}, 'events': {'m.room.name': 60, 'm.sticker': 10},"
                  " 'events_default': 5, 'state_default': 40}",
                  "public");
        room_member(&r, "mod", "join");
        room_member(&r, "bob", "join");
        assert_int_equal(judge(&r, "mod", "m.room.name", "", "{}"), HT_M_FORBIDDEN); /* events: 60 */
        assert_int_equal(judge(&r, "mod", "m.room.topic", "", "{}"), HT_OK);         /* state_default 40 */
        assert_int_equal(judge(&r, "bob", "m.room.topic", "", "{}"), HT_M_FORBIDDEN);
        assert_int_equal(judge(&r, "bob", "m.room.message", NULL, "{}"), HT_M_FORBIDDEN); /* events_default 5 */
        assert_int_equal(judge(&r, "mod", "m.sticker", NULL, "{}"), HT_OK);
        room_close(&r);
    }
}

static void test_redaction_is_judged_by_its_event_level_not_the_redact_level(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, "{'users': {'@alice:x': 100}, 'redact': 90}", "public");
        room_member(&r, "bob", "join");
        const char *content = strcmp(*v, "11") == 0 ? "{'redacts': '$e1'}" : "{}";
        assert_int_equal(judge(&r, "bob", "m.room.redaction", NULL, content), HT_OK);
        room_close(&r);
        room_open(&r, *v, "{'users': {'@alice:x': 100}, 'events': {'m.room.redaction': 20}}", "public");
        room_member(&r, "bob", "join");
        assert_int_equal(judge(&r, "bob", "m.room.redaction", NULL, content), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_state_key_naming_another_user_is_rejected(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, "{'users': {'@alice:x': 100}, 'state_default': 0}", "public");
        room_member(&r, "bob", "join");
        assert_int_equal(judge(&r, "bob", "org.example.status", "@alice:x", "{}"), HT_M_FORBIDDEN);
        assert_int_equal(judge(&r, "bob", "org.example.status", "@bob:x", "{}"), HT_OK);
        /* Even the most powerful may not write another's key. */
        assert_int_equal(judge(&r, "alice", "org.example.status", "@bob:x", "{}"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_without_power_levels_the_creator_has_100_and_state_needs_50(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, NULL, "public");
        room_member(&r, "bob", "join");
        assert_int_equal(judge(&r, "alice", "m.room.topic", "", "{}"), HT_OK);
        assert_int_equal(judge(&r, "bob", "m.room.topic", "", "{}"), HT_M_FORBIDDEN);
        assert_int_equal(judge(&r, "bob", "m.room.message", NULL, "{}"), HT_OK);
        assert_int_equal(judge_member(&r, "alice", "bob", "ban"), HT_OK); /* 100 >= 50 > 0 */
        assert_int_equal(judge_member(&r, "bob", "alice", "leave"), HT_M_FORBIDDEN);
        assert_int_equal(judge(&r, "bob", PL, "", "{'users': {'@bob:x': 100}}"), HT_M_FORBIDDEN);
        /* The first power levels event, by someone allowed to send it, is
         * not compared with anything (rule 9.4). */
        assert_int_equal(judge(&r, "alice", PL, "", "{'users': {'@bob:x': 1000}}"), HT_OK);
        room_close(&r);
    }
}

/* ---- 9: power levels ------------------------------------------------------------ */

static void test_power_levels_must_be_integers(void **state) {
    (void)state;
    static const char *const bad[] = {
        "{'users': {'@alice:x': 100}, 'ban': '50'}",
        "{'users': {'@alice:x': 100}, 'state_default': true}",
        "{'users': {'@alice:x': '100'}}",
        "{'users': {'@alice:x': 100}, 'events': {'m.room.name': '50'}}",
        "{'users': {'@alice:x': 100}, 'notifications': {'room': null}}",
        "{'users': {'@alice:x': 100}, 'events': []}",
        "{'users': [], 'ban': 50}",
        "{'users': {'alice': 100}}",
    };
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, "{'users': {'@alice:x': 100}}", "public");
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
            assert_int_equal(judge(&r, "alice", PL, "", bad[i]), HT_M_BAD_JSON);
        room_close(&r);
    }
}

/* Mod (50) sends power levels with these users and, after the power
 * levels' own level (50), these other properties. */
static ht_errcode change_levels(room *r, const char *users, const char *rest) {
    return judge(
        r, "mod", PL, "",
        ht_arena_printf(&r->f.arena, "{'users': {%s}, 'events': {'m.room.power_levels': 50%s}", users, rest));
}

#define ALICE_AND_MOD "'@alice:x': 100, '@mod:x': 50"

static void test_named_levels_change_only_within_the_senders_level(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, "{'users': {" ALICE_AND_MOD "}, 'events': {'m.room.power_levels': 50}, 'kick': 75}",
                  "public");
        room_member(&r, "mod", "join");
        /* kick is 75, above mod: changing or removing it fails; adding ban
         * above 50 fails, at 50 is fine. */
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, "}, 'kick': 40"), HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, "}"), HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, "}, 'kick': 75, 'ban': 51"), HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, "}, 'kick': 75, 'ban': 50"), HT_OK);
        room_close(&r);
    }
}

static void test_event_levels_change_only_within_the_senders_level(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v,
                  "{'users': {" ALICE_AND_MOD "}, 'events': {'m.room.power_levels': 50, 'm.room.name': 80}}",
                  "public");
        room_member(&r, "mod", "join");
        /* Removing or lowering an entry above mod fails, adding one above mod
         * fails, adding one at mod's level is fine. */
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, "}"), HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, ", 'm.room.name': 10}"), HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, ", 'm.room.name': 80, 'm.room.topic': 51}"),
                         HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, ", 'm.room.name': 80, 'm.room.topic': 50}"), HT_OK);
        room_close(&r);
    }
}

/* Issue 9: a change to notifications is bounded exactly as events is. */
static void test_notification_levels_change_only_within_the_senders_level(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v,
                  "{'users': {" ALICE_AND_MOD "}, 'events': {'m.room.power_levels': 50},"
                  " 'notifications': {'room': 80}}",
                  "public");
        room_member(&r, "mod", "join");
        /* @room notifications need 80: mod may neither lower nor remove that,
         * nor add another key above 50. */
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, "}, 'notifications': {'room': 0}"), HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, "}"), HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, "}, 'notifications': {'room': 80, 'keyword': 60}"),
                         HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD, "}, 'notifications': {'room': 80, 'keyword': 50}"),
                         HT_OK);
        /* alice (100) may lower it. */
        assert_int_equal(
            judge(&r, "alice", PL, "", "{'users': {" ALICE_AND_MOD "}, 'notifications': {'room': 0}}"), HT_OK);
        room_close(&r);
    }
}

static void test_user_levels_change_only_below_the_sender(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v,
                  "{'users': {" ALICE_AND_MOD
                  ", '@mod2:x': 50, '@bob:x': 10}, 'events': {'m.room.power_levels': 50}}",
                  "public");
        room_member(&r, "mod", "join");
        /* mod may raise bob to 50, not to 51; may not touch mod2 (equal) or
         * alice; may lower itself; may remove bob. */
        assert_int_equal(change_levels(&r, ALICE_AND_MOD ", '@mod2:x': 50, '@bob:x': 50", "}"), HT_OK);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD ", '@mod2:x': 50, '@bob:x': 51", "}"), HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD ", '@mod2:x': 0, '@bob:x': 10", "}"), HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, "'@alice:x': 99, '@mod:x': 50, '@mod2:x': 50, '@bob:x': 10", "}"),
                         HT_M_FORBIDDEN);
        assert_int_equal(change_levels(&r, "'@alice:x': 100, '@mod:x': 20, '@mod2:x': 50, '@bob:x': 10", "}"),
                         HT_OK);
        assert_int_equal(change_levels(&r, ALICE_AND_MOD ", '@mod2:x': 50", "}"), HT_OK);
        room_close(&r);
    }
}

/* ---- the state itself ------------------------------------------------------------ */

static void test_rejected_state_event_counts_as_absent(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_member(&r, "bob", "join");
        assert_int_equal(judge(&r, "bob", "m.room.message", NULL, "{}"), HT_OK);
        fixture_get(&r.f, r.last)->rejected = true; /* bob's join */
        assert_int_equal(judge(&r, "bob", "m.room.message", NULL, "{}"), HT_M_FORBIDDEN);
        room_close(&r);
    }
}

static void test_state_naming_an_unknown_or_misplaced_event_refuses(void **state) {
    (void)state;
    EACH_VERSION(v) {
        room r;
        room_open(&r, *v, LEVELS, "public");
        room_member(&r, "bob", "join");
        /* A state whose power levels entry is unknown must not fall back to
         * "no power levels" (where the creator has everything). */
        ht_state_map_set(&r.state, PL, "", "$unknown");
        assert_int_equal(judge(&r, "alice", "m.room.topic", "", "{}"), HT_M_FORBIDDEN);
        /* Nor may an event stand at a key it does not belong to. */
        ht_state_map_set(&r.state, PL, "", "$e3"); /* the join rules */
        assert_int_equal(judge(&r, "alice", "m.room.topic", "", "{}"), HT_M_FORBIDDEN);
        /* Even where the last thing looked up is what is broken, and "absent"
         * would have allowed it: an invite of someone maybe banned. */
        ht_state_map_set(&r.state, PL, "", "$e2");
        ht_state_map_set(&r.state, MEMBER, "@carol:x", "$unknown");
        assert_int_equal(judge_member(&r, "alice", "carol", "invite"), HT_M_FORBIDDEN);
        assert_int_equal(judge_member(&r, "alice", "dave", "invite"), HT_OK);
        room_close(&r);
    }
}

int run_event_auth_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_event_is_allowed_with_no_prev_events_from_the_room_server),
        cmocka_unit_test(test_create_event_with_prev_events_is_rejected),
        cmocka_unit_test(test_create_event_from_another_server_than_the_room_id_is_rejected),
        cmocka_unit_test(test_create_event_naming_an_unknown_room_version_is_rejected),
        cmocka_unit_test(test_create_event_without_creator_is_rejected_in_version_10_only),
        cmocka_unit_test(test_unknown_room_version_is_refused),
        cmocka_unit_test(test_auth_events_named_by_the_selection_pass),
        cmocka_unit_test(test_auth_events_with_two_events_for_one_key_are_rejected),
        cmocka_unit_test(test_auth_events_the_selection_does_not_name_are_rejected),
        cmocka_unit_test(test_rejected_auth_events_are_rejected),
        cmocka_unit_test(test_auth_events_without_the_create_event_are_rejected),
        cmocka_unit_test(test_auth_events_of_another_room_or_unknown_are_rejected),
        cmocka_unit_test(test_check_by_auth_events_judges_against_the_state_they_form),
        cmocka_unit_test(test_auth_selection_names_the_keys_the_spec_lists),
        cmocka_unit_test(test_room_that_does_not_federate_refuses_other_servers),
        cmocka_unit_test(test_creator_joins_right_after_the_create_event),
        cmocka_unit_test(test_join_only_as_oneself),
        cmocka_unit_test(test_banned_user_cannot_join_even_a_public_room),
        cmocka_unit_test(test_invite_only_room_needs_an_invite),
        cmocka_unit_test(test_unknown_join_rule_lets_nobody_in),
        cmocka_unit_test(test_restricted_join_needs_a_joined_authoriser_who_may_invite),
        cmocka_unit_test(test_restricted_join_when_invited_or_joined_needs_no_authoriser),
        cmocka_unit_test(test_restricted_join_when_banned_is_refused_even_with_an_authoriser),
        cmocka_unit_test(test_authoriser_means_nothing_in_an_invite_only_room),
        cmocka_unit_test(test_invite_needs_the_sender_joined_and_the_invite_level),
        cmocka_unit_test(test_invite_of_a_joined_or_banned_user_is_rejected),
        cmocka_unit_test(test_third_party_invite_is_refused_as_unsupported),
        cmocka_unit_test(test_leaving_oneself_needs_to_be_joined_invited_or_knocking),
        cmocka_unit_test(test_kick_needs_the_kick_level_and_more_power_than_the_target),
        cmocka_unit_test(test_removing_someone_needs_the_sender_joined),
        cmocka_unit_test(test_unban_needs_the_ban_level),
        cmocka_unit_test(test_ban_needs_the_ban_level_and_more_power_than_the_target),
        cmocka_unit_test(test_knock_only_where_the_join_rule_is_knock_or_knock_restricted),
        cmocka_unit_test(test_knock_only_as_oneself_and_not_when_banned_joined_or_invited),
        cmocka_unit_test(test_a_knock_is_answered_by_invite_or_kick_or_withdrawn),
        cmocka_unit_test(test_membership_missing_or_unknown_is_malformed),
        cmocka_unit_test(test_events_need_the_sender_joined),
        cmocka_unit_test(test_third_party_invite_event_needs_the_invite_level),
        cmocka_unit_test(test_events_need_their_required_power_level),
        cmocka_unit_test(test_redaction_is_judged_by_its_event_level_not_the_redact_level),
        cmocka_unit_test(test_state_key_naming_another_user_is_rejected),
        cmocka_unit_test(test_without_power_levels_the_creator_has_100_and_state_needs_50),
        cmocka_unit_test(test_power_levels_must_be_integers),
        cmocka_unit_test(test_named_levels_change_only_within_the_senders_level),
        cmocka_unit_test(test_event_levels_change_only_within_the_senders_level),
        cmocka_unit_test(test_notification_levels_change_only_within_the_senders_level),
        cmocka_unit_test(test_user_levels_change_only_below_the_sender),
        cmocka_unit_test(test_rejected_state_event_counts_as_absent),
        cmocka_unit_test(test_state_naming_an_unknown_or_misplaced_event_refuses),
    };
    return cmocka_run_group_tests_name("event_auth", tests, NULL, NULL);
}
