/* test_router.c -- path templates, {param} capture, (a|b) alternatives,
 * 404 versus 405, and HEAD served by GET routes. Uses its own small table so
 * the tests do not change as endpoints are added; one test checks the real
 * table. */
#include "unit.h"

#include "api/discovery.h"
#include "router/router.h"

static ht_reply handler_a(ht_ctx *ctx) { (void)ctx; return ht_reply_empty(); }
static ht_reply handler_b(ht_ctx *ctx) { (void)ctx; return ht_reply_empty(); }
static ht_reply handler_c(ht_ctx *ctx) { (void)ctx; return ht_reply_empty(); }

static const ht_route table[] = {
    {"GET", "/_matrix/client/(r0|v3)/rooms/{roomId}/state/{eventType}/{stateKey}", handler_a, 0},
    {"PUT", "/_matrix/client/(r0|v3)/rooms/{roomId}/state/{eventType}/{stateKey}", handler_b, 0},
    {"GET", "/_matrix/client/versions", handler_c, 0},
    {"POST", "/_matrix/client/v3/login", handler_b, 0},
    {NULL, NULL, NULL, 0},
};

/* Splits a path like the parser would (no decoding needed here). */
static size_t split(char *path, const char **segs) {
    size_t n = 0;
    for (char *p = strtok(path + 1, "/"); p; p = strtok(NULL, "/")) segs[n++] = p;
    return n;
}

static ht_match_result match(const char *method, const char *path, ht_match *m) {
    static char copy[512];
    static const char *segs[32];
    strcpy(copy, path);
    return ht_route_match(table, method, segs, split(copy, segs), m);
}

/* Parameter names point into the template and run up to '}'. */
static void assert_param(const ht_match *m, size_t i, const char *name, const char *value) {
    assert_true(i < m->param_count);
    assert_int_equal(strncmp(m->params[i].name, name, strlen(name)), 0);
    assert_int_equal(m->params[i].name[strlen(name)], '}');
    assert_string_equal(m->params[i].value, value);
}

static void test_route_params_are_captured(void **state) {
    (void)state;
    ht_match m;
    assert_int_equal(match("GET", "/_matrix/client/v3/rooms/!r:x/state/m.room.name/key", &m),
                     HT_ROUTE_FOUND);
    assert_ptr_equal(m.route, &table[0]);
    assert_int_equal(m.param_count, 3);
    assert_param(&m, 0, "roomId", "!r:x");
    assert_param(&m, 1, "eventType", "m.room.name");
    assert_param(&m, 2, "stateKey", "key");
}

static void test_r0_and_v3_both_match(void **state) {
    (void)state;
    ht_match m;
    assert_int_equal(match("PUT", "/_matrix/client/r0/rooms/a/state/b/c", &m), HT_ROUTE_FOUND);
    assert_ptr_equal(m.route, &table[1]);
    assert_int_equal(match("PUT", "/_matrix/client/v3/rooms/a/state/b/c", &m), HT_ROUTE_FOUND);
    assert_ptr_equal(m.route, &table[1]);
    assert_int_equal(match("PUT", "/_matrix/client/v1/rooms/a/state/b/c", &m), HT_ROUTE_NO_PATH);
    assert_int_equal(match("PUT", "/_matrix/client/r0v3/rooms/a/state/b/c", &m), HT_ROUTE_NO_PATH);
    assert_int_equal(match("PUT", "/_matrix/client/v/rooms/a/state/b/c", &m), HT_ROUTE_NO_PATH);
}

static void test_unknown_path_is_no_path(void **state) {
    (void)state;
    ht_match m;
    assert_int_equal(match("GET", "/_matrix/client/nothing", &m), HT_ROUTE_NO_PATH);
    assert_null(m.route);
    assert_int_equal(match("GET", "/", &m), HT_ROUTE_NO_PATH);
}

static void test_known_path_with_other_method_is_no_method(void **state) {
    (void)state;
    ht_match m;
    assert_int_equal(match("POST", "/_matrix/client/versions", &m), HT_ROUTE_NO_METHOD);
    assert_null(m.route);
    assert_int_equal(m.param_count, 0);
    assert_int_equal(match("GET", "/_matrix/client/v3/login", &m), HT_ROUTE_NO_METHOD);
    assert_int_equal(match("DELETE", "/_matrix/client/v3/rooms/a/state/b/c", &m), HT_ROUTE_NO_METHOD);
}

static void test_no_method_lists_the_methods_the_path_takes(void **state) {
    (void)state;
    ht_match m;
    assert_int_equal(match("POST", "/_matrix/client/versions", &m), HT_ROUTE_NO_METHOD);
    assert_string_equal(m.allow, "GET, HEAD, OPTIONS");
    assert_int_equal(match("PUT", "/_matrix/client/v3/login", &m), HT_ROUTE_NO_METHOD);
    assert_string_equal(m.allow, "POST, OPTIONS");
}

static void test_head_matches_get_routes(void **state) {
    (void)state;
    ht_match m;
    assert_int_equal(match("HEAD", "/_matrix/client/versions", &m), HT_ROUTE_FOUND);
    assert_ptr_equal(m.route, &table[2]);
    assert_int_equal(match("HEAD", "/_matrix/client/v3/login", &m), HT_ROUTE_NO_METHOD);
}

static void test_segment_count_must_match_exactly(void **state) {
    (void)state;
    ht_match m;
    assert_int_equal(match("GET", "/_matrix/client/versions/extra", &m), HT_ROUTE_NO_PATH);
    assert_int_equal(match("GET", "/_matrix/client", &m), HT_ROUTE_NO_PATH);
    assert_int_equal(match("GET", "/_matrix/client/v3/rooms/a/state/b", &m), HT_ROUTE_NO_PATH);
}

static void test_literal_segments_compare_whole_and_case_sensitive(void **state) {
    (void)state;
    ht_match m;
    assert_int_equal(match("GET", "/_matrix/client/version", &m), HT_ROUTE_NO_PATH);
    assert_int_equal(match("GET", "/_matrix/client/versionsX", &m), HT_ROUTE_NO_PATH);
    assert_int_equal(match("GET", "/_matrix/client/Versions", &m), HT_ROUTE_NO_PATH);
}

static void test_a_parameter_does_not_span_segments(void **state) {
    (void)state;
    /* A decoded "%2F" stays inside one segment and one parameter. */
    const char *segs[] = {"_matrix", "client", "v3", "rooms", "a/b", "state", "t", "k"};
    ht_match m;
    assert_int_equal(ht_route_match(table, "GET", segs, 8, &m), HT_ROUTE_FOUND);
    assert_param(&m, 0, "roomId", "a/b");
}

static void test_real_table_serves_discovery(void **state) {
    (void)state;
    const char *versions[] = {"_matrix", "client", "versions"};
    const char *well_known[] = {".well-known", "matrix", "client"};
    ht_match m;
    assert_int_equal(ht_route_match(ht_routes, "GET", versions, 3, &m), HT_ROUTE_FOUND);
    assert_ptr_equal(m.route->handler, ht_api_versions);
    assert_int_equal(ht_route_match(ht_routes, "GET", well_known, 3, &m), HT_ROUTE_FOUND);
    assert_ptr_equal(m.route->handler, ht_api_well_known_client);
    assert_int_equal(ht_route_match(ht_routes, "PUT", versions, 3, &m), HT_ROUTE_NO_METHOD);
}

int run_router_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_params_are_captured),
        cmocka_unit_test(test_r0_and_v3_both_match),
        cmocka_unit_test(test_unknown_path_is_no_path),
        cmocka_unit_test(test_known_path_with_other_method_is_no_method),
        cmocka_unit_test(test_no_method_lists_the_methods_the_path_takes),
        cmocka_unit_test(test_head_matches_get_routes),
        cmocka_unit_test(test_segment_count_must_match_exactly),
        cmocka_unit_test(test_literal_segments_compare_whole_and_case_sensitive),
        cmocka_unit_test(test_a_parameter_does_not_span_segments),
        cmocka_unit_test(test_real_table_serves_discovery),
    };
    return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
