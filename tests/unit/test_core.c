/* test_core.c -- the one door, ht_core_handle(): request bytes in, response
 * bytes out, on an in-memory database. These are the same calls both hosts
 * make, so what holds here holds natively and in the browser. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "hometab.h"

typedef struct answer {
    ht_result result;
    int status;
    char *head;      /* status line and headers, NUL-terminated */
    char *body;      /* Content-Length bytes, NUL-terminated */
    size_t body_len;
    json_t *json;    /* the body parsed, when it is JSON */
} answer;

static int open_core(void **state) {
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = ":memory:";
    cfg.wal = false;
    cfg.server_name = "unit.test";
    char err[256];
    ht_core *core = ht_core_open(&cfg, err, sizeof err);
    if (!core) return -1;
    *state = core;
    return 0;
}

static int close_core(void **state) {
    ht_core_close(*state);
    return 0;
}

static void answer_free(answer *a) {
    free(a->head);
    free(a->body);
    json_decref(a->json);
}

/* Splits a response at its blank line and checks that Content-Length is
 * exactly the number of bytes after it. */
static answer split_response(const ht_result *r) {
    answer a = {.result = *r};
    assert_int_equal(r->outcome, HT_ANSWER);
    assert_non_null(r->response);
    const unsigned char *end = memmem(r->response, r->response_len, "\r\n\r\n", 4);
    assert_non_null(end);
    size_t head_len = (size_t)(end - r->response) + 2;
    a.head = strndup((const char *)r->response, head_len);
    assert_int_equal(sscanf(a.head, "HTTP/1.1 %d ", &a.status), 1);
    const char *cl = strcasestr(a.head, "\r\nContent-Length: ");
    assert_non_null(cl);
    a.body_len = strtoul(cl + 18, NULL, 10);
    assert_int_equal(r->response_len, head_len + 2 + a.body_len);
    a.body = malloc(a.body_len + 1);
    memcpy(a.body, end + 4, a.body_len);
    a.body[a.body_len] = '\0';
    a.json = json_loadb(a.body, a.body_len, 0, NULL);
    return a;
}

static answer handle(ht_core *core, const void *bytes, size_t len) {
    ht_result r;
    ht_core_handle(core, bytes, len, &(ht_request_meta){.received_ms = 1000, .now_ms = 1000}, &r);
    return split_response(&r);
}

static answer handle_text(ht_core *core, const char *text) { return handle(core, text, strlen(text)); }

static void assert_matrix_error(const answer *a, int status, const char *errcode) {
    assert_int_equal(a->status, status);
    assert_non_null(a->json);
    assert_string_equal(json_string_value(json_object_get(a->json, "errcode")), errcode);
    assert_true(json_is_string(json_object_get(a->json, "error")));
}

static void test_versions_answered_through_core(void **state) {
    answer a = handle_text(*state, "GET /_matrix/client/versions HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.head, "Content-Type: application/json"));
    json_t *versions = json_object_get(a.json, "versions");
    assert_true(json_is_array(versions));
    bool has_v1_1 = false;
    size_t i;
    json_t *v;
    json_array_foreach(versions, i, v) {
        if (strcmp(json_string_value(v), "v1.1") == 0) has_v1_1 = true;
    }
    assert_true(has_v1_1);
    assert_true(json_is_object(json_object_get(a.json, "unstable_features")));
    assert_false(a.result.close_connection);
    assert_false(a.result.wrote);
    answer_free(&a);
}

static void test_request_bytes_are_read_by_length_not_to_a_nul(void **state) {
    /* A body holding NULs, and bytes after the request that are not part of
     * it: the core must read exactly `len` bytes. */
    static const char bytes[] = "GET /_matrix/client/versions HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"
                                "a\0b\0c"
                                "GARBAGE THAT IS NOT PART OF THE REQUEST";
    size_t len = sizeof bytes - 1 - strlen("GARBAGE THAT IS NOT PART OF THE REQUEST");
    answer a = handle(*state, bytes, len);
    assert_int_equal(a.status, 200);
    assert_true(json_is_array(json_object_get(a.json, "versions")));
    answer_free(&a);

    /* One byte short of its Content-Length, the same bytes are refused. */
    answer b = handle(*state, bytes, len - 1);
    assert_matrix_error(&b, 400, "M_UNKNOWN");
    answer_free(&b);
}

static void test_head_has_get_headers_and_no_body(void **state) {
    answer get = handle_text(*state, "GET /_matrix/client/versions HTTP/1.1\r\nHost: h\r\n\r\n");
    ht_result r;
    const char *head = "HEAD /_matrix/client/versions HTTP/1.1\r\nHost: h\r\n\r\n";
    ht_core_handle(*state, (const unsigned char *)head, strlen(head), &(ht_request_meta){.received_ms = 1, .now_ms = 1}, &r);
    char *text = strndup((const char *)r.response, r.response_len);
    assert_int_equal(strncmp(text, "HTTP/1.1 200 ", 13), 0);
    char expected[64];
    snprintf(expected, sizeof expected, "Content-Length: %zu\r\n", get.body_len);
    assert_non_null(strstr(text, expected));
    assert_string_equal(text + strlen(text) - 4, "\r\n\r\n");
    assert_int_equal(r.response_len, strlen(text));
    free(text);
    answer_free(&get);
}

static void test_well_known_uses_the_host_header(void **state) {
    answer a = handle_text(*state, "GET /.well-known/matrix/client HTTP/1.1\r\nHost: chat.example:8448\r\n\r\n");
    assert_int_equal(a.status, 200);
    json_t *hs = json_object_get(a.json, "m.homeserver");
    assert_string_equal(json_string_value(json_object_get(hs, "base_url")), "http://chat.example:8448");
    answer_free(&a);
}

static void test_well_known_uses_the_configured_public_url(void **state) {
    (void)state;
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = ":memory:";
    cfg.public_base_url = "https://matrix.example.org";
    char err[256];
    ht_core *core = ht_core_open(&cfg, err, sizeof err);
    assert_non_null(core);
    answer a = handle_text(core, "GET /.well-known/matrix/client HTTP/1.1\r\nHost: other\r\n\r\n");
    json_t *hs = json_object_get(a.json, "m.homeserver");
    assert_string_equal(json_string_value(json_object_get(hs, "base_url")), "https://matrix.example.org");
    answer_free(&a);
    ht_core_close(core);
}

static void test_options_preflight_has_cors_headers(void **state) {
    answer a = handle_text(*state, "OPTIONS /_matrix/client/v3/rooms/x/send/m.room.message/1 HTTP/1.1\r\n"
                                   "Host: h\r\nOrigin: https://app.example\r\n"
                                   "Access-Control-Request-Method: PUT\r\n\r\n");
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.head, "\r\nAccess-Control-Allow-Origin: *\r\n"));
    const char *methods = strstr(a.head, "\r\nAccess-Control-Allow-Methods: ");
    assert_non_null(methods);
    const char *methods_end = strstr(methods + 2, "\r\n");
    assert_non_null(memmem(methods, (size_t)(methods_end - methods), "PUT", 3));
    assert_non_null(memmem(methods, (size_t)(methods_end - methods), "DELETE", 6));
    const char *headers = strstr(a.head, "\r\nAccess-Control-Allow-Headers: ");
    assert_non_null(headers);
    assert_non_null(strstr(headers, "Authorization"));
    assert_non_null(strstr(headers, "Content-Type"));
    answer_free(&a);
}

static void test_errors_carry_cors_headers_too(void **state) {
    answer a = handle_text(*state, "GET /_matrix/nothing HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_non_null(strstr(a.head, "\r\nAccess-Control-Allow-Origin: *\r\n"));
    answer_free(&a);
    answer b = handle_text(*state, "NONSENSE\r\n\r\n");
    assert_non_null(strstr(b.head, "\r\nAccess-Control-Allow-Origin: *\r\n"));
    answer_free(&b);
}

static void test_unknown_endpoint_is_404_m_unrecognized(void **state) {
    answer a = handle_text(*state, "GET /_matrix/client/v3/no_such_thing HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_matrix_error(&a, 404, "M_UNRECOGNIZED");
    assert_false(a.result.close_connection);
    answer_free(&a);
}

static void test_wrong_method_is_405_m_unrecognized(void **state) {
    answer a = handle_text(*state, "POST /_matrix/client/versions HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}");
    assert_matrix_error(&a, 405, "M_UNRECOGNIZED");
    answer_free(&a);
}

static void test_unreadable_request_is_answered_and_closes_the_connection(void **state) {
    answer a = handle_text(*state, "\x01\x02\x03 garbage\r\n\r\n");
    assert_matrix_error(&a, 400, "M_UNKNOWN");
    assert_true(a.result.close_connection);
    assert_non_null(strstr(a.head, "\r\nConnection: close\r\n"));
    answer_free(&a);

    answer b = handle_text(*state, "GET /_matrix/client/versions HTTP/3.0\r\nHost: h\r\n\r\n");
    assert_int_equal(b.status, 505);
    assert_true(b.result.close_connection);
    answer_free(&b);
}

static void test_connection_close_is_honoured(void **state) {
    answer a = handle_text(*state, "GET /_matrix/client/versions HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert_int_equal(a.status, 200);
    assert_true(a.result.close_connection);
    assert_non_null(strstr(a.head, "\r\nConnection: close\r\n"));
    answer_free(&a);
    answer b = handle_text(*state, "GET /_matrix/client/versions HTTP/1.0\r\n\r\n");
    assert_true(b.result.close_connection);
    answer_free(&b);
}

static void test_reads_do_not_move_the_stream_position(void **state) {
    uint64_t before = ht_core_stream_position(*state);
    for (int i = 0; i < 3; i++) {
        answer a = handle_text(*state, "GET /_matrix/client/versions HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_false(a.result.wrote);
        answer_free(&a);
    }
    assert_int_equal(ht_core_stream_position(*state), before);
}

static void test_core_open_failure_says_why(void **state) {
    (void)state;
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = "/nonexistent-dir-for-hometab-tests/db.sqlite";
    char err[512] = "";
    assert_null(ht_core_open(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir-for-hometab-tests/db.sqlite"));
}

static void test_many_requests_reuse_memory(void **state) {
    /* The response and arena are reused; answers stay correct after many
     * calls, including ones that grow the arena with a large body. */
    size_t big = 300 * 1024;
    char *req = malloc(big + 200);
    int n = sprintf(req, "GET /_matrix/client/versions HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", big);
    memset(req + n, 'x', big);
    for (int i = 0; i < 50; i++) {
        answer a = i % 2 ? handle(*state, req, (size_t)n + big)
                         : handle_text(*state, "GET /_matrix/client/versions HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_int_equal(a.status, 200);
        assert_true(json_is_array(json_object_get(a.json, "versions")));
        answer_free(&a);
    }
    free(req);
}

int run_core_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_answered_through_core),
        cmocka_unit_test(test_request_bytes_are_read_by_length_not_to_a_nul),
        cmocka_unit_test(test_head_has_get_headers_and_no_body),
        cmocka_unit_test(test_well_known_uses_the_host_header),
        cmocka_unit_test(test_well_known_uses_the_configured_public_url),
        cmocka_unit_test(test_options_preflight_has_cors_headers),
        cmocka_unit_test(test_errors_carry_cors_headers_too),
        cmocka_unit_test(test_unknown_endpoint_is_404_m_unrecognized),
        cmocka_unit_test(test_wrong_method_is_405_m_unrecognized),
        cmocka_unit_test(test_unreadable_request_is_answered_and_closes_the_connection),
        cmocka_unit_test(test_connection_close_is_honoured),
        cmocka_unit_test(test_reads_do_not_move_the_stream_position),
        cmocka_unit_test(test_core_open_failure_says_why),
        cmocka_unit_test(test_many_requests_reuse_memory),
    };
    return cmocka_run_group_tests_name("core", tests, open_core, close_core);
}
