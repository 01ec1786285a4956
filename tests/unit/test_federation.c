/* test_federation.c -- the server-server API between cores in one process
 * (federation_net.h carries their fetches): keys, signed requests, the
 * queries, and the client API reaching other servers through them. */
#include "unit.h"

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

int run_federation_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_the_key_server_serves_a_self_signed_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_remote_profile_is_asked_of_its_server_over_a_signed_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_unreachable_server_is_a_502_naming_it, setup, teardown),
    };
    return cmocka_run_group_tests_name("federation (cores in one process)", tests, NULL, NULL);
}
