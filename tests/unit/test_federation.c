/* test_federation.c -- the server-server API between cores in one process
 * (federation_net.h carries their fetches): keys, signed requests, the
 * queries, and the client API reaching other servers through them. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "federation_net.h"

static const char *const names[] = {"a.test", "b.test"};

static int setup(void **state) {
    net *n = calloc(1, sizeof *n);
    if (!net_open(n, 2, names)) return -1;
    *state = n;
    return 0;
}

static int teardown(void **state) {
    net_close(*state);
    free(*state);
    return 0;
}

static void test_the_key_server_serves_a_self_signed_key(void **state) {
    net *n = *state;
    reply r = net_call(n, 0, "GET", "/_matrix/key/v2/server", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "server_name")), "a.test");
    json_t *keys = json_object_get(r.json, "verify_keys");
    assert_int_equal(json_object_size(keys), 1);
    assert_non_null(json_object_get(json_object_get(r.json, "signatures"), "a.test"));
    assert_true(json_integer_value(json_object_get(r.json, "valid_until_ts")) > n->clock_ms);
    reply_free(&r);
}

static void test_a_remote_profile_is_asked_of_its_server_over_a_signed_request(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    assert_non_null(alice);
    assert_non_null(bob);
    json_t *name = json_pack("{s:s}", "displayname", "Bob of B");
    reply r = net_call(n, 1, "PUT", "/_matrix/client/v3/profile/@bob:b.test/displayname", bob, name);
    json_decref(name);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    unsigned before = n->fetches;
    r = net_call(n, 0, "GET", "/_matrix/client/v3/profile/@bob:b.test", alice, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "displayname")), "Bob of B");
    reply_free(&r);
    /* a.test asked b.test, which first fetched a.test's key to check it. */
    assert_int_equal(n->fetches - before, 2);
    /* The key is kept: the next ask is one fetch. */
    before = n->fetches;
    r = net_call(n, 0, "GET", "/_matrix/client/v3/profile/@bob:b.test/displayname", alice, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_int_equal(n->fetches - before, 1);
    r = net_call(n, 0, "GET", "/_matrix/client/v3/profile/@nobody:b.test", alice, NULL);
    assert_int_equal(r.status, 404);
    reply_free(&r);
    free(alice);
    free(bob);
}

static void test_an_unreachable_server_is_a_502_naming_it(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    n->down[1] = true;
    reply r = net_call(n, 0, "GET", "/_matrix/client/v3/profile/@bob:b.test", alice, NULL);
    assert_int_equal(r.status, 502);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "error")), "b.test"));
    reply_free(&r);
    free(alice);
}

/* The messages of a room as a user of server i sees them (their bodies,
 * oldest first, joined by '|'), from /messages. */
static char *bodies(net *n, int i, const char *token, const char *room_id) {
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/messages?dir=b&limit=100", room_id);
    reply r = net_call(n, i, "GET", path, token, NULL);
    assert_int_equal(r.status, 200);
    char *out = calloc(1, 4096);
    json_t *chunk = json_object_get(r.json, "chunk");
    for (size_t k = json_array_size(chunk); k-- > 0;) {
        json_t *e = json_array_get(chunk, k);
        const char *body = json_string_value(json_object_get(json_object_get(e, "content"), "body"));
        if (body && strcmp(json_string_value(json_object_get(e, "type")), "m.room.message") == 0) {
            if (*out) strcat(out, "|");
            strcat(out, body);
        }
    }
    reply_free(&r);
    return out;
}

static void say(net *n, int i, const char *token, const char *room_id, const char *text) {
    static int txn;
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/send/m.room.message/t%d", room_id, ++txn);
    json_t *body = json_pack("{s:s, s:s}", "msgtype", "m.text", "body", text);
    reply r = net_call(n, i, "PUT", path, token, body);
    json_decref(body);
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

static void test_a_user_joins_a_room_on_another_server_and_both_talk(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    json_t *body = json_pack("{s:s, s:s}", "preset", "public_chat", "name", "Across");
    reply r = net_call(n, 0, "POST", "/_matrix/client/v3/createRoom", alice, body);
    json_decref(body);
    assert_int_equal(r.status, 200);
    char *room_id = strdup(json_string_value(json_object_get(r.json, "room_id")));
    reply_free(&r);
    say(n, 0, alice, room_id, "before bob");

    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s?server_name=a.test", room_id);
    json_t *empty = json_object();
    r = net_call(n, 1, "POST", path, bob, empty);
    json_decref(empty);
    if (r.status != 200) print_message("join: %s\n", json_dumps(r.json, 0));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    /* b.test now holds the room: its name, and both members. */
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/state/m.room.name/", room_id);
    r = net_call(n, 1, "GET", path, bob, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "Across");
    reply_free(&r);
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/joined_members", room_id);
    for (int i = 0; i < 2; i++) {
        r = net_call(n, i, "GET", path, i ? bob : alice, NULL);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_object_size(json_object_get(r.json, "joined")), 2);
        reply_free(&r);
    }
    say(n, 0, alice, room_id, "hello bob");
    say(n, 1, bob, room_id, "hello alice");
    say(n, 0, alice, room_id, "welcome");
    char *on_a = bodies(n, 0, alice, room_id), *on_b = bodies(n, 1, bob, room_id);
    assert_string_equal(on_a, "before bob|hello bob|hello alice|welcome");
    assert_string_equal(on_b, "hello bob|hello alice|welcome");
    free(on_a);
    free(on_b);
    free(room_id);
    free(alice);
    free(bob);
}

int run_federation_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_the_key_server_serves_a_self_signed_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_remote_profile_is_asked_of_its_server_over_a_signed_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_unreachable_server_is_a_502_naming_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_user_joins_a_room_on_another_server_and_both_talk, setup, teardown),
    };
    return cmocka_run_group_tests_name("federation (cores in one process)", tests, NULL, NULL);
}
