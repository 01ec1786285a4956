/* test_restricted_join.c -- the room version 10 rule for joins into restricted
 * rooms, on its own: without the server's vouching (restricted.c), a join
 * is allowed when invited or joined already, or when it names in
 * join_authorised_via_users_server a joined member who may invite. */
#include "unit.h"

#include <jansson.h>

#include "room/auth_rules.h"

typedef struct scene {
    json_t *power_levels, *join_rules, *content;
    ht_auth_state st;
    ht_new_event ev;
} scene;

/* @joiner:x joins a room made by @admin:x whose invite level is 50 and
 * where @helper:x has 10. */
static void setup(scene *s, const char *join_rule, const char *authoriser) {
    s->power_levels = json_pack("{s:{s:i, s:i}, s:i}", "users", "@admin:x", 100, "@helper:x", 10, "invite", 50);
    s->join_rules = json_pack("{s:s, s:[{s:s, s:s}]}", "join_rule", join_rule, "allow", "type",
                              "m.room_membership", "room_id", "!space:x");
    s->content = json_pack("{s:s}", "membership", "join");
    if (authoriser) json_object_set_new(s->content, "join_authorised_via_users_server", json_string(authoriser));
    s->st = (ht_auth_state){.creator = "@admin:x", .power_levels = s->power_levels, .join_rules = s->join_rules,
                            .has_create = true};
    s->ev = (ht_new_event){.room_id = "!room:x", .type = "m.room.member", .state_key = "@joiner:x",
                           .sender = "@joiner:x", .content = s->content};
}

static void teardown(scene *s) {
    json_decref(s->power_levels);
    json_decref(s->join_rules);
    json_decref(s->content);
}

static int check(scene *s) { return ht_auth_check_event(NULL, &s->ev, &s->st).code; }

static void test_restricted_join_needs_an_authoriser(void **state) {
    (void)state;
    const char *rules[] = {"restricted", "knock_restricted"};
    for (int i = 0; i < 2; i++) {
        scene s;
        setup(&s, rules[i], NULL);
        assert_int_equal(check(&s), HT_M_FORBIDDEN);
        teardown(&s);
    }
}

static void test_restricted_join_by_a_joined_member_who_may_invite_is_allowed(void **state) {
    (void)state;
    scene s;
    setup(&s, "restricted", "@admin:x");
    s.st.authoriser_membership = "join";
    assert_int_equal(check(&s), 0);
    teardown(&s);
}

static void test_restricted_join_authoriser_must_be_joined(void **state) {
    (void)state;
    const char *memberships[] = {NULL, "leave", "invite", "ban"};
    for (int i = 0; i < 4; i++) {
        scene s;
        setup(&s, "restricted", "@admin:x");
        s.st.authoriser_membership = memberships[i];
        assert_int_equal(check(&s), HT_M_FORBIDDEN);
        teardown(&s);
    }
}

static void test_restricted_join_authoriser_must_have_invite_power(void **state) {
    (void)state;
    scene s;
    setup(&s, "knock_restricted", "@helper:x");
    s.st.authoriser_membership = "join";
    assert_int_equal(check(&s), HT_M_FORBIDDEN);
    teardown(&s);
}

static void test_restricted_join_authoriser_must_be_a_user_id(void **state) {
    (void)state;
    scene s;
    setup(&s, "restricted", "admin");
    s.st.authoriser_membership = "join";
    assert_int_equal(check(&s), HT_M_BAD_JSON);
    teardown(&s);
}

static void test_restricted_join_when_invited_or_joined_needs_nothing(void **state) {
    (void)state;
    const char *memberships[] = {"invite", "join"};
    for (int i = 0; i < 2; i++) {
        scene s;
        setup(&s, "restricted", NULL);
        s.st.target_membership = memberships[i];
        assert_int_equal(check(&s), 0);
        teardown(&s);
    }
}

static void test_restricted_join_when_banned_is_refused_even_with_an_authoriser(void **state) {
    (void)state;
    scene s;
    setup(&s, "restricted", "@admin:x");
    s.st.authoriser_membership = "join";
    s.st.target_membership = "ban";
    assert_int_equal(check(&s), HT_M_FORBIDDEN);
    teardown(&s);
}

static void test_invite_rule_ignores_an_authoriser(void **state) {
    (void)state;
    scene s;
    setup(&s, "invite", "@admin:x");
    s.st.authoriser_membership = "join";
    assert_int_equal(check(&s), HT_M_FORBIDDEN);
    teardown(&s);
}

int run_restricted_join_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restricted_join_needs_an_authoriser),
        cmocka_unit_test(test_restricted_join_by_a_joined_member_who_may_invite_is_allowed),
        cmocka_unit_test(test_restricted_join_authoriser_must_be_joined),
        cmocka_unit_test(test_restricted_join_authoriser_must_have_invite_power),
        cmocka_unit_test(test_restricted_join_authoriser_must_be_a_user_id),
        cmocka_unit_test(test_restricted_join_when_invited_or_joined_needs_nothing),
        cmocka_unit_test(test_restricted_join_when_banned_is_refused_even_with_an_authoriser),
        cmocka_unit_test(test_invite_rule_ignores_an_authoriser),
    };
    return cmocka_run_group_tests_name("restricted_join", tests, NULL, NULL);
}
