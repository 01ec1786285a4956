/* test_push_eval.c -- push rule matching: globs as the spec defines them
 * (whole value, or words of content.body), and rulesets applied to events
 * (first matching rule wins, kinds in order, legacy mention rules skipped
 * when the event has m.mentions). */
#include "unit.h"

#include <jansson.h>

#include "core/core.h"
#include "room/push_eval.h"
#include "util/glob.h"

static void test_glob_matches_whole_value_case_insensitively(void **state) {
    (void)state;
    assert_true(ht_glob_push("lunc?*", "Lunch plans", false, false, NULL));
    assert_true(ht_glob_push("lunc?*", "LUNCH", false, false, NULL));
    assert_false(ht_glob_push("lunc?*", " lunch", false, false, NULL));
    assert_false(ht_glob_push("lunc?*", "lunc", false, false, NULL));
    assert_true(ht_glob_push("m.room.*", "m.room.message", false, false, NULL));
    assert_false(ht_glob_push("m.room", "m.room.message", false, false, NULL));
    assert_true(ht_glob_push("", "", false, false, NULL));
    assert_false(ht_glob_push("", "x", false, false, NULL));
}

static void test_glob_in_body_matches_words(void **state) {
    (void)state;
    assert_true(ht_glob_push("ex*ple", "An example event.", true, false, NULL));
    assert_true(ht_glob_push("ex*ple", "exple", true, false, NULL));
    assert_true(ht_glob_push("ex*ple", "An exciting triple-whammy", true, false, NULL));
    assert_false(ht_glob_push("alice", "malice aforethought", true, false, NULL));
    assert_false(ht_glob_push("alice", "alices", true, false, NULL));
    assert_true(ht_glob_push("alice", "hi alice!", true, false, NULL));
    assert_true(ht_glob_push("@room", "hey @room, look", true, false, NULL));
}

static void test_glob_question_mark_is_one_character_not_one_byte(void **state) {
    (void)state;
    assert_true(ht_glob_push("caf?", "café", false, false, NULL));
    assert_false(ht_glob_push("caf??", "café", false, false, NULL));
    /* Letters beyond ASCII are part of words. */
    assert_false(ht_glob_push("tter", "Sétter", true, false, NULL));
}

static void test_literal_glob_ignores_wildcards(void **state) {
    (void)state;
    assert_true(ht_glob_push("A*B", "say a*b now", true, true, NULL));
    assert_false(ht_glob_push("A*B", "say axxb now", true, true, NULL));
}

static void test_many_stars_stay_fast(void **state) {
    (void)state;
    char text[20001];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    assert_false(ht_glob_push("*a*a*a*a*a*a*a*a*a*a*a*a*b", text, false, false, NULL));
    assert_false(ht_glob_push("*a*a*a*a*a*a*a*a*a*a*a*a*b", text, true, false, NULL));
}

static json_t *event(const char *type, const char *sender, json_t *content) {
    return json_pack("{s:s, s:s, s:s, s:o}", "type", type, "sender", sender, "room_id", "!r:x", "content", content);
}

static ht_push_result eval(const char *ruleset_json, json_t *ev, const char *display_name, int64_t members) {
    json_t *ruleset = json_loads(ruleset_json, 0, NULL);
    assert_non_null(ruleset);
    ht_arena arena;
    ht_arena_init(&arena, 1024);
    ht_push_room room = {.display_name = display_name, .member_count = members};
    ht_push_result r = ht_push_evaluate(ht_push_compile(&arena, ruleset), &room, ev);
    ht_arena_free(&arena);
    json_decref(ruleset);
    json_decref(ev);
    return r;
}

static void test_first_matching_rule_decides(void **state) {
    (void)state;
    const char *rules = "{\"override\": [{\"rule_id\": \"mute\", \"enabled\": true, \"conditions\": "
                        "[{\"kind\": \"event_match\", \"key\": \"sender\", \"pattern\": \"@bot:*\"}], \"actions\": []}],"
                        "\"underride\": [{\"rule_id\": \"all\", \"enabled\": true, \"conditions\": [], "
                        "\"actions\": [\"notify\"]}]}";
    assert_false(eval(rules, event("m.room.message", "@bot:x", json_object()), NULL, 3).notify);
    assert_true(eval(rules, event("m.room.message", "@amy:x", json_object()), NULL, 3).notify);
}

static void test_disabled_and_unknown_conditions_never_match(void **state) {
    (void)state;
    const char *rules = "{\"override\": [{\"rule_id\": \"off\", \"enabled\": false, \"conditions\": [], "
                        "\"actions\": [\"notify\"]}, {\"rule_id\": \"odd\", \"enabled\": true, \"conditions\": "
                        "[{\"kind\": \"org.example.future\"}], \"actions\": [\"notify\"]}]}";
    assert_false(eval(rules, event("m.room.message", "@a:x", json_object()), NULL, 2).notify);
}

static void test_escaped_dots_in_keys(void **state) {
    (void)state;
    const char *rules = "{\"override\": [{\"rule_id\": \"r\", \"enabled\": true, \"conditions\": "
                        "[{\"kind\": \"event_property_is\", \"key\": \"content.m\\\\.mentions.room\", \"value\": true}],"
                        " \"actions\": [\"notify\", {\"set_tweak\": \"highlight\"}]}]}";
    ht_push_result r = eval(rules, event("m.room.message", "@a:x", json_pack("{s:{s:b}}", "m.mentions", "room", 1)),
                            NULL, 2);
    assert_true(r.notify && r.highlight);
    r = eval(rules, event("m.room.message", "@a:x", json_pack("{s:{s:s}}", "m.mentions", "room", "true")), NULL, 2);
    assert_false(r.notify);
}

static void test_display_name_rule_is_skipped_with_m_mentions(void **state) {
    (void)state;
    const char *rules = "{\"override\": [{\"rule_id\": \".m.rule.contains_display_name\", \"enabled\": true, "
                        "\"conditions\": [{\"kind\": \"contains_display_name\"}], "
                        "\"actions\": [\"notify\", {\"set_tweak\": \"highlight\", \"value\": true}]}]}";
    ht_push_result r = eval(rules, event("m.room.message", "@a:x", json_pack("{s:s}", "body", "hi Bob.")), "bob", 2);
    assert_true(r.highlight);
    r = eval(rules, event("m.room.message", "@a:x", json_pack("{s:s, s:{}}", "body", "hi Bob.", "m.mentions")), "bob", 2);
    assert_false(r.notify);
}

static void test_room_member_count_operators(void **state) {
    (void)state;
    const char *two = "{\"underride\": [{\"rule_id\": \"r\", \"enabled\": true, \"conditions\": "
                      "[{\"kind\": \"room_member_count\", \"is\": \"2\"}], \"actions\": [\"notify\"]}]}";
    const char *few = "{\"underride\": [{\"rule_id\": \"r\", \"enabled\": true, \"conditions\": "
                      "[{\"kind\": \"room_member_count\", \"is\": \"<=3\"}], \"actions\": [\"notify\"]}]}";
    assert_true(eval(two, event("m.room.message", "@a:x", json_object()), NULL, 2).notify);
    assert_false(eval(two, event("m.room.message", "@a:x", json_object()), NULL, 3).notify);
    assert_true(eval(few, event("m.room.message", "@a:x", json_object()), NULL, 3).notify);
    assert_false(eval(few, event("m.room.message", "@a:x", json_object()), NULL, 4).notify);
}

static void test_highlight_false_value_is_no_highlight(void **state) {
    (void)state;
    const char *rules = "{\"underride\": [{\"rule_id\": \"r\", \"enabled\": true, \"conditions\": [], "
                        "\"actions\": [\"notify\", {\"set_tweak\": \"highlight\", \"value\": false}]}]}";
    ht_push_result r = eval(rules, event("m.room.message", "@a:x", json_object()), NULL, 2);
    assert_true(r.notify);
    assert_false(r.highlight);
}

/* The shared default ruleset, its placeholders standing for the owner,
 * judges every event as the owner's own unchanged ruleset does. */
static void test_shared_defaults_judge_as_the_owners_own_ruleset(void **state) {
    (void)state;
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = ":memory:";
    cfg.wal = false;
    cfg.server_name = "x";
    char err[256];
    ht_core *core = ht_core_open(&cfg, err, sizeof err);
    assert_non_null(core);
    assert_true(ht_store_begin(core->env.store));
    ht_env *env = &core->env;
    const ht_push_rules *own = ht_push_rules_of(env, "@ann:x");
    const ht_push_rules *shared = ht_push_default_ruleset(env);
    json_t *power = json_pack("{s:{s:i}}", "users", "@boss:x", 100);
    json_t *events[] = {
        event("m.room.message", "@bob:x", json_pack("{s:s, s:s}", "msgtype", "m.text", "body", "hello")),
        event("m.room.message", "@bob:x", json_pack("{s:s}", "body", "ann, look")),
        event("m.room.message", "@bob:x", json_pack("{s:s}", "body", "annie, look")),
        event("m.room.message", "@bob:x", json_pack("{s:s}", "body", "Ann Smith!")),
        event("m.room.message", "@bob:x", json_pack("{s:s, s:{s:[s]}}", "body", "x", "m.mentions", "user_ids", "@ann:x")),
        event("m.room.message", "@bob:x", json_pack("{s:s, s:{s:[s]}}", "body", "x", "m.mentions", "user_ids", "@al:x")),
        event("m.room.message", "@boss:x", json_pack("{s:s}", "body", "@room hi")),
        event("m.room.message", "@bob:x", json_pack("{s:s}", "body", "@room hi")),
        event("m.room.message", "@bob:x", json_pack("{s:s, s:s}", "msgtype", "m.notice", "body", "ann")),
        event("m.reaction", "@bob:x", json_object()),
        event("m.call.invite", "@bob:x", json_object()),
        event("m.room.encrypted", "@bob:x", json_object()),
    };
    json_t *invites[] = {event("m.room.member", "@bob:x", json_pack("{s:s}", "membership", "invite")),
                         event("m.room.member", "@bob:x", json_pack("{s:s}", "membership", "invite"))};
    json_object_set_new(invites[0], "state_key", json_string("@ann:x"));
    json_object_set_new(invites[1], "state_key", json_string("@al:x"));
    json_t *all[sizeof events / sizeof *events + 2];
    size_t n = 0;
    for (size_t i = 0; i < sizeof events / sizeof *events; i++) all[n++] = events[i];
    all[n++] = invites[0];
    all[n++] = invites[1];
    for (int64_t members = 2; members <= 3; members++) {
        ht_push_room mine = {.display_name = "Ann Smith", .member_count = members, .power_levels = power};
        ht_push_room theirs = mine;
        theirs.owner = "@ann:x";
        theirs.owner_localpart = "ann";
        for (size_t i = 0; i < n; i++) {
            ht_push_result a = ht_push_evaluate(own, &mine, all[i]);
            ht_push_result b = ht_push_evaluate(shared, &theirs, all[i]);
            assert_int_equal(a.notify, b.notify);
            assert_int_equal(a.highlight, b.highlight);
            assert_true(a.actions == b.actions || json_equal(a.actions, b.actions));
            /* Where no rule naming the owner can apply, anyone's answer
             * (here: no one's, with no name) is the owner's. */
            if (ht_push_default_depends_on_owner(all[i])) continue;
            ht_push_room nobody = theirs;
            nobody.owner = nobody.owner_localpart = "@\x02:\x02";
            nobody.display_name = NULL;
            ht_push_result c = ht_push_evaluate(shared, &nobody, all[i]);
            assert_int_equal(a.notify, c.notify);
            assert_int_equal(a.highlight, c.highlight);
        }
    }
    size_t alike = 0;
    for (size_t i = 0; i < n; i++) alike += !ht_push_default_depends_on_owner(all[i]);
    assert_int_equal(alike, 3); /* the reaction, the call, the encrypted message */
    /* Not everything is the same: the cases above tell people apart. */
    ht_push_room room = {.display_name = "Ann Smith", .member_count = 3, .power_levels = power};
    assert_true(ht_push_evaluate(own, &room, all[1]).highlight);
    assert_false(ht_push_evaluate(own, &room, all[2]).highlight);
    assert_true(ht_push_evaluate(own, &room, all[n - 2]).notify);
    assert_false(ht_push_evaluate(own, &room, all[n - 1]).notify);
    for (size_t i = 0; i < n; i++) json_decref(all[i]);
    json_decref(power);
    ht_store_rollback(core->env.store);
    ht_core_close(core);
}

int run_push_eval_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob_matches_whole_value_case_insensitively),
        cmocka_unit_test(test_glob_in_body_matches_words),
        cmocka_unit_test(test_glob_question_mark_is_one_character_not_one_byte),
        cmocka_unit_test(test_literal_glob_ignores_wildcards),
        cmocka_unit_test(test_many_stars_stay_fast),
        cmocka_unit_test(test_first_matching_rule_decides),
        cmocka_unit_test(test_disabled_and_unknown_conditions_never_match),
        cmocka_unit_test(test_escaped_dots_in_keys),
        cmocka_unit_test(test_display_name_rule_is_skipped_with_m_mentions),
        cmocka_unit_test(test_room_member_count_operators),
        cmocka_unit_test(test_highlight_false_value_is_no_highlight),
        cmocka_unit_test(test_shared_defaults_judge_as_the_owners_own_ruleset),
    };
    return cmocka_run_group_tests_name("push_eval", tests, NULL, NULL);
}
