/* test_auth_rules.c -- the local send path's door to the authorization
 * rules (ht_auth_check_event): m.room.member with knocking (who may knock
 * where, and how a knock is answered: invite accepts, kick rejects, the
 * knocker may withdraw) and the create event. Each case checks one event
 * against a room state built here. */
#include "unit.h"

#include <jansson.h>

#include "room/auth_rules.h"

enum { ALLOW = 0, DENY = 1 };

#define OWNER "@owner:hs"
#define MOD "@mod:hs"
#define PLAIN "@plain:hs"
#define KNOCKER "@knocker:hs"

/* Checks sender setting target's membership in a room whose join rule is
 * `rule` (NULL: no join rules event), where the sender's and the target's
 * memberships are as given. OWNER is at 100, MOD at 50, everyone else 0. */
static ht_error check(const char *rule, const char *sender, const char *sender_membership,
                      const char *target, const char *target_membership, const char *membership) {
    json_t *pl = json_pack("{s:{s:i, s:i}, s:i, s:i, s:i}", "users", OWNER, 100, MOD, 50, "kick", 50,
                           "ban", 50, "invite", 0);
    json_t *rules = rule ? json_pack("{s:s}", "join_rule", rule) : NULL;
    json_t *content = json_pack("{s:s}", "membership", membership);
    ht_auth_state st = {.creator = OWNER, .power_levels = pl, .join_rules = rules,
                        .sender_membership = sender_membership, .target_membership = target_membership,
                        .has_create = true};
    ht_new_event ev = {.room_id = "!r:hs", .type = "m.room.member", .state_key = target,
                       .sender = sender, .content = content};
    ht_error err = ht_auth_check_event(NULL, &ev, &st);
    json_decref(pl);
    json_decref(rules);
    json_decref(content);
    return err;
}

/* As check(), for a user acting on their own membership. */
static ht_error self(const char *rule, const char *current, const char *membership) {
    return check(rule, KNOCKER, current, KNOCKER, current, membership);
}

static void assert_verdict(ht_error err, int verdict) {
    if (verdict == ALLOW) {
        assert_int_equal(err.code, 0);
    } else {
        assert_int_equal(err.code, HT_M_FORBIDDEN);
        assert_non_null(err.message);
    }
}

static void test_knock_allowed_only_where_the_join_rule_is_knock_or_knock_restricted(void **state) {
    (void)state;
    assert_verdict(self("knock", NULL, "knock"), ALLOW);
    assert_verdict(self("knock_restricted", NULL, "knock"), ALLOW);
    assert_verdict(self("public", NULL, "knock"), DENY);
    assert_verdict(self("invite", NULL, "knock"), DENY);
    assert_verdict(self("restricted", NULL, "knock"), DENY);
    assert_verdict(self("private", NULL, "knock"), DENY);
    assert_verdict(self(NULL, NULL, "knock"), DENY);
}

static void test_knock_only_as_oneself(void **state) {
    (void)state;
    assert_verdict(check("knock", OWNER, "join", KNOCKER, NULL, "knock"), DENY);
    assert_verdict(check("knock", PLAIN, NULL, KNOCKER, NULL, "knock"), DENY);
}

static void test_knock_refused_when_banned_joined_or_invited(void **state) {
    (void)state;
    assert_verdict(self("knock", "ban", "knock"), DENY);
    assert_verdict(self("knock", "join", "knock"), DENY);
    assert_verdict(self("knock", "invite", "knock"), DENY);
    /* After leaving, or with a knock pending, one may knock (again). */
    assert_verdict(self("knock", "leave", "knock"), ALLOW);
    assert_verdict(self("knock", "knock", "knock"), ALLOW);
}

static void test_joining_a_knock_room_needs_an_invite(void **state) {
    (void)state;
    static const char *const rules[] = {"knock", "knock_restricted"};
    for (size_t i = 0; i < 2; i++) {
        assert_verdict(self(rules[i], NULL, "join"), DENY);
        assert_verdict(self(rules[i], "knock", "join"), DENY);
        assert_verdict(self(rules[i], "invite", "join"), ALLOW);
    }
}

static void test_an_invite_accepts_a_knock(void **state) {
    (void)state;
    assert_verdict(check("knock", PLAIN, "join", KNOCKER, "knock", "invite"), ALLOW);
    /* Only from inside the room. */
    assert_verdict(check("knock", PLAIN, "leave", KNOCKER, "knock", "invite"), DENY);
}

static void test_a_kick_rejects_a_knock_only_with_the_kick_level(void **state) {
    (void)state;
    assert_verdict(check("knock", MOD, "join", KNOCKER, "knock", "leave"), ALLOW);
    assert_verdict(check("knock", PLAIN, "join", KNOCKER, "knock", "leave"), DENY);
}

static void test_the_knocker_may_withdraw(void **state) {
    (void)state;
    assert_verdict(self("knock", "knock", "leave"), ALLOW);
}

/* The local path's create event: judged by the room version it names (a
 * version 11 create names no creator; a version 10 one must). */
static void test_create_event_is_judged_by_the_version_it_names(void **state) {
    (void)state;
    ht_auth_state st = {.creator = OWNER};
    static const char *const contents[] = {"{\"room_version\": \"11\"}", "{\"room_version\": \"10\"}",
                                           "{\"room_version\": \"10\", \"creator\": \"@owner:hs\"}"};
    static const int verdicts[] = {ALLOW, DENY, ALLOW};
    for (size_t i = 0; i < 3; i++) {
        json_t *content = json_loads(contents[i], 0, NULL);
        ht_new_event ev = {.room_id = "!r:hs", .type = "m.room.create", .state_key = "", .sender = OWNER,
                           .content = content};
        assert_verdict(ht_auth_check_event(NULL, &ev, &st), verdicts[i]);
        json_decref(content);
    }
    /* A second create event into a room that has one is refused. */
    json_t *content = json_loads(contents[2], 0, NULL);
    st.has_create = true;
    ht_new_event again = {.room_id = "!r:hs", .type = "m.room.create", .state_key = "", .sender = OWNER,
                          .content = content};
    assert_verdict(ht_auth_check_event(NULL, &again, &st), DENY);
    json_decref(content);
}

int run_auth_rules_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_knock_allowed_only_where_the_join_rule_is_knock_or_knock_restricted),
        cmocka_unit_test(test_knock_only_as_oneself),
        cmocka_unit_test(test_knock_refused_when_banned_joined_or_invited),
        cmocka_unit_test(test_joining_a_knock_room_needs_an_invite),
        cmocka_unit_test(test_an_invite_accepts_a_knock),
        cmocka_unit_test(test_a_kick_rejects_a_knock_only_with_the_kick_level),
        cmocka_unit_test(test_the_knocker_may_withdraw),
        cmocka_unit_test(test_create_event_is_judged_by_the_version_it_names),
    };
    return cmocka_run_group_tests_name("auth_rules", tests, NULL, NULL);
}
