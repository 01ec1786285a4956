/* test_pdu_view.c -- reading a PDU into the fields the rules use, and the
 * sorted state map they read states from. */
#include "unit.h"

#include <jansson.h>

#include "room/pdu_view.h"
#include "room/state_map.h"
#include "util/json.h"

static const char good[] =
    "{\"room_id\": \"!r:x\", \"type\": \"m.room.member\", \"state_key\": \"@a:x\", \"sender\": \"@a:x\","
    " \"origin_server_ts\": 5, \"depth\": 3, \"content\": {\"membership\": \"join\"},"
    " \"auth_events\": [\"$c\", \"$p\"], \"prev_events\": [\"$p\"], \"hashes\": {\"sha256\": \"x\"}}";

/* good with one field replaced (value NULL: removed). */
static json_t *with(ht_arena *arena, const char *key, json_t *value) {
    json_t *pdu = ht_json_parse(arena, good);
    if (value) json_object_set_new(pdu, key, value);
    else json_object_del(pdu, key);
    return pdu;
}

static void test_pdu_view_reads_the_fields_the_rules_use(void **state) {
    (void)state;
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    ht_pdu v;
    assert_true(ht_pdu_view(&arena, ht_json_parse(&arena, good), "$e", "10", &v));
    assert_string_equal(v.event_id, "$e");
    assert_string_equal(v.room_id, "!r:x");
    assert_string_equal(v.type, "m.room.member");
    assert_string_equal(v.state_key, "@a:x");
    assert_string_equal(v.sender, "@a:x");
    assert_int_equal(v.origin_server_ts, 5);
    assert_int_equal(v.depth, 3);
    assert_string_equal(ht_json_str(v.content, "membership"), "join");
    assert_int_equal(v.auth_count, 2);
    assert_string_equal(v.auth_events[1], "$p");
    assert_int_equal(v.prev_count, 1);
    assert_null(v.redacts);
    assert_false(v.rejected);
    /* A message has no state key. */
    assert_true(ht_pdu_view(&arena, with(&arena, "state_key", NULL), "$e", "10", &v));
    assert_null(v.state_key);
    ht_arena_free(&arena);
}

static void test_pdu_view_refuses_fields_of_the_wrong_type(void **state) {
    (void)state;
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    ht_pdu v;
    static const char *const required[] = {"room_id", "type", "sender", "origin_server_ts", "depth", "content",
                                           "auth_events", "prev_events"};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        assert_false(ht_pdu_view(&arena, with(&arena, required[i], NULL), "$e", "10", &v));
        assert_false(ht_pdu_view(&arena, with(&arena, required[i], json_real(1.5)), "$e", "10", &v));
    }
    assert_false(ht_pdu_view(&arena, with(&arena, "state_key", json_integer(1)), "$e", "10", &v));
    assert_false(ht_pdu_view(&arena, with(&arena, "auth_events", json_pack("[s, i]", "$c", 1)), "$e", "10", &v));
    assert_false(ht_pdu_view(&arena, with(&arena, "prev_events", json_pack("[[s, {}]]", "$p")), "$e", "10", &v));
    assert_false(ht_pdu_view(&arena, ht_json_keep(&arena, json_string("not an object")), "$e", "10", &v));
    /* Nor can it be read in a room version hometab does not know. */
    assert_false(ht_pdu_view(&arena, ht_json_parse(&arena, good), "$e", "9", &v));
    ht_arena_free(&arena);
}

static void test_pdu_view_refuses_more_prev_or_auth_events_than_a_pdu_may_cite(void **state) {
    (void)state;
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    ht_pdu v;
    json_t *prev = json_array(), *auth = json_array();
    for (int i = 0; i < HT_PDU_MAX_PREV_EVENTS; i++) json_array_append_new(prev, json_string("$p"));
    for (int i = 0; i < HT_PDU_MAX_AUTH_EVENTS; i++) json_array_append_new(auth, json_string("$a"));
    assert_true(ht_pdu_view(&arena, with(&arena, "prev_events", json_copy(prev)), "$e", "10", &v));
    assert_true(ht_pdu_view(&arena, with(&arena, "auth_events", json_copy(auth)), "$e", "10", &v));
    json_array_append_new(prev, json_string("$p"));
    json_array_append_new(auth, json_string("$a"));
    assert_false(ht_pdu_view(&arena, with(&arena, "prev_events", prev), "$e", "10", &v));
    assert_false(ht_pdu_view(&arena, with(&arena, "auth_events", auth), "$e", "10", &v));
    ht_arena_free(&arena);
}

static void test_pdu_view_finds_redacts_where_the_room_version_puts_it(void **state) {
    (void)state;
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    ht_pdu v;
    json_t *pdu = with(&arena, "type", json_string("m.room.redaction"));
    json_object_del(pdu, "state_key");
    json_object_set_new(pdu, "redacts", json_string("$top"));
    json_object_set_new(pdu, "content", json_pack("{s:s}", "redacts", "$inside"));
    assert_true(ht_pdu_view(&arena, pdu, "$e", "10", &v));
    assert_string_equal(v.redacts, "$top");
    assert_true(ht_pdu_view(&arena, pdu, "$e", "11", &v));
    assert_string_equal(v.redacts, "$inside");
    json_object_set_new(json_object_get(pdu, "content"), "redacts", json_integer(7));
    assert_false(ht_pdu_view(&arena, pdu, "$e", "11", &v));
    ht_arena_free(&arena);
}

/* The auth events of a stored text, read by the scan (spaces or not), the
 * general way when an id is escaped, the same either way. */
static void test_auth_events_are_read_from_a_stored_text(void **state) {
    (void)state;
    ht_arena arena;
    ht_arena_init(&arena, 1024);
    static const struct {
        const char *text;
        bool ok;
        size_t count;
        const char *first;
    } cases[] = {
        {"{\"auth_events\":[\"$c\",\"$p\"],\"content\":{\"auth_events\":[]}}", true, 2, "$c"},
        {"{\"auth_events\":[]}", true, 0, NULL},
        {good, true, 2, "$c"},                                     /* spaces between the members */
        {"{\"auth_events\":[\"\\u0024c\"]}", true, 1, "$c"},         /* an escape: the general way */
        {"{\"auth_events\":[\"$a\",]}", false, 0, NULL},             /* not JSON */
        {"{\"auth_events\":[\"$a\",5]}", false, 0, NULL},
        {"{\"auth_events\":\"$a\"}", false, 0, NULL},
        {"{\"content\":{}}", false, 0, NULL},
        {"{\"auth_events\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}", false, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char **ids = NULL;
        size_t count = 99;
        bool ok = ht_pdu_text_auth_events(&arena, cases[i].text, &ids, &count);
        if (ok != cases[i].ok) fail_msg("case %zu: %s", i, cases[i].text);
        if (!ok) continue;
        assert_int_equal(count, cases[i].count);
        if (cases[i].first) assert_string_equal(ids[0], cases[i].first);
    }
    ht_arena_free(&arena);
}

static void test_state_map_keeps_keys_sorted_and_replaces_in_place(void **state) {
    (void)state;
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    ht_state_map map;
    ht_state_map_init(&map, &arena);
    ht_state_map_set(&map, "m.room.topic", "", "$t1");
    ht_state_map_set(&map, "m.room.member", "@b:x", "$b");
    ht_state_map_set(&map, "m.room.member", "@a:x", "$a");
    ht_state_map_set(&map, "m.room.create", "", "$c");
    ht_state_map_set(&map, "m.room.topic", "", "$t2");
    assert_int_equal(map.count, 4);
    assert_string_equal(map.entries[0].type, "m.room.create");
    assert_string_equal(map.entries[1].state_key, "@a:x");
    assert_string_equal(map.entries[2].state_key, "@b:x");
    assert_string_equal(map.entries[3].event_id, "$t2");
    assert_string_equal(ht_state_map_get(&map, "m.room.member", "@b:x"), "$b");
    assert_null(ht_state_map_get(&map, "m.room.member", "@c:x"));
    assert_null(ht_state_map_get(&map, "m.room.member", ""));

    ht_state_map copy;
    ht_state_map_init(&copy, &arena);
    ht_state_map_copy(&copy, &map);
    assert_true(ht_state_map_equal(&copy, &map));
    ht_state_map_set(&copy, "m.room.topic", "", "$t3");
    assert_false(ht_state_map_equal(&copy, &map));
    assert_string_equal(ht_state_map_get(&map, "m.room.topic", ""), "$t2");

    assert_true(ht_state_map_remove(&map, "m.room.member", "@a:x"));
    assert_false(ht_state_map_remove(&map, "m.room.member", "@a:x"));
    assert_int_equal(map.count, 3);
    assert_string_equal(map.entries[1].state_key, "@b:x");
    ht_state_view view = ht_state_map_view(&map);
    assert_string_equal(view.get(view.self, "m.room.create", ""), "$c");
    assert_null(view.get(view.self, "m.room.member", "@a:x"));
    ht_arena_free(&arena);
}

/* Keys order by type, then state key, byte by byte: "a" < "a.b" < "ab", and
 * ("t", "z") < ("t2", ""). */
static void test_state_map_orders_by_type_then_state_key(void **state) {
    (void)state;
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    ht_state_map map;
    ht_state_map_init(&map, &arena);
    static const char *const keys[][2] = {{"t2", ""}, {"ab", ""}, {"t", "z"}, {"a.b", ""}, {"a", "x"}, {"a", ""}};
    for (size_t i = 0; i < 6; i++) ht_state_map_set(&map, keys[i][0], keys[i][1], "$e");
    static const char *const order[][2] = {{"a", ""}, {"a", "x"}, {"a.b", ""}, {"ab", ""}, {"t", "z"}, {"t2", ""}};
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(map.entries[i].type, order[i][0]);
        assert_string_equal(map.entries[i].state_key, order[i][1]);
    }
    ht_arena_free(&arena);
}

int run_pdu_view_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdu_view_reads_the_fields_the_rules_use),
        cmocka_unit_test(test_pdu_view_refuses_fields_of_the_wrong_type),
        cmocka_unit_test(test_pdu_view_refuses_more_prev_or_auth_events_than_a_pdu_may_cite),
        cmocka_unit_test(test_pdu_view_finds_redacts_where_the_room_version_puts_it),
        cmocka_unit_test(test_auth_events_are_read_from_a_stored_text),
        cmocka_unit_test(test_state_map_keeps_keys_sorted_and_replaces_in_place),
        cmocka_unit_test(test_state_map_orders_by_type_then_state_key),
    };
    return cmocka_run_group_tests_name("pdu_view", tests, NULL, NULL);
}
