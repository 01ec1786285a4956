/* test_http_response.c -- the response writer: status line, the headers
 * every answer carries, and bodies written by length. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "http/response.h"

/* The response as a NUL-terminated string (bodies here hold no NUL). */
static char *text_of(ht_buf *b) {
    char *s = malloc(b->len + 1);
    memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    return s;
}

static void test_response_has_status_line_length_and_cors(void **state) {
    (void)state;
    ht_buf out = {0};
    ht_response res = {.status = 404, .body = BYTES("{}")};
    ht_http_write_response(&out, &res);
    char *s = text_of(&out);
    assert_int_equal(strncmp(s, "HTTP/1.1 404 Not Found\r\n", 24), 0);
    assert_non_null(strstr(s, "\r\nContent-Length: 2\r\n"));
    assert_non_null(strstr(s, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strstr(s, "\r\nAccess-Control-Allow-Origin: *\r\n"));
    assert_non_null(strstr(s, "\r\nAccess-Control-Allow-Headers: "));
    assert_null(strstr(s, "Connection: close"));
    assert_string_equal(s + strlen(s) - 6, "\r\n\r\n{}");
    free(s);
    ht_buf_free(&out);
}

static void test_response_body_is_written_by_length(void **state) {
    (void)state;
    ht_buf out = {0};
    static const unsigned char body[] = {'a', 0, 'b', 0};
    ht_response res = {.status = 200, .content_type = "application/octet-stream",
                       .body = body, .body_len = sizeof body};
    ht_http_write_response(&out, &res);
    assert_true(out.len > sizeof body);
    assert_memory_equal(out.data + out.len - sizeof body, body, sizeof body);
    assert_memory_equal(out.data + out.len - sizeof body - 4, "\r\n\r\n", 4);
    char *s = text_of(&out);
    assert_non_null(strstr(s, "Content-Length: 4\r\n"));
    assert_non_null(strstr(s, "Content-Type: application/octet-stream\r\n"));
    free(s);
    ht_buf_free(&out);
}

static void test_head_response_keeps_length_but_omits_body(void **state) {
    (void)state;
    ht_buf out = {0};
    ht_response res = {.status = 200, .body = BYTES("{\"a\":1}"), .omit_body = true};
    ht_http_write_response(&out, &res);
    char *s = text_of(&out);
    assert_non_null(strstr(s, "Content-Length: 7\r\n"));
    assert_string_equal(s + strlen(s) - 4, "\r\n\r\n");
    free(s);
    ht_buf_free(&out);
}

static void test_close_and_extra_headers_are_written(void **state) {
    (void)state;
    ht_buf out = {0};
    ht_response res = {.status = 405, .extra_headers = "Allow: GET\r\n", .close = true};
    ht_http_write_response(&out, &res);
    char *s = text_of(&out);
    assert_non_null(strstr(s, "\r\nAllow: GET\r\n"));
    assert_non_null(strstr(s, "\r\nConnection: close\r\n"));
    assert_non_null(strstr(s, "Content-Length: 0\r\n"));
    free(s);
    ht_buf_free(&out);
}

static void test_error_response_has_matrix_body(void **state) {
    (void)state;
    ht_buf out = {0};
    ht_http_write_error(&out, (ht_error){HT_M_LIMIT_EXCEEDED, 503, "Busy."}, true);
    char *s = text_of(&out);
    assert_int_equal(strncmp(s, "HTTP/1.1 503 Service Unavailable\r\n", 34), 0);
    const char *body = strstr(s, "\r\n\r\n") + 4;
    json_error_t jerr;
    json_t *j = json_loads(body, 0, &jerr);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "errcode")), "M_LIMIT_EXCEEDED");
    assert_string_equal(json_string_value(json_object_get(j, "error")), "Busy.");
    char length[64];
    snprintf(length, sizeof length, "Content-Length: %zu\r\n", strlen(body));
    assert_non_null(strstr(s, length));
    json_decref(j);
    free(s);
    ht_buf_free(&out);
}

static void test_every_status_we_send_has_a_reason(void **state) {
    (void)state;
    const int statuses[] = {200, 400, 401, 403, 404, 405, 408, 413, 414, 429, 431, 500, 501, 503, 505};
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++)
        assert_string_not_equal(ht_http_reason(statuses[i]), "Unknown");
}

int run_http_response_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_response_has_status_line_length_and_cors),
        cmocka_unit_test(test_response_body_is_written_by_length),
        cmocka_unit_test(test_head_response_keeps_length_but_omits_body),
        cmocka_unit_test(test_close_and_extra_headers_are_written),
        cmocka_unit_test(test_error_response_has_matrix_body),
        cmocka_unit_test(test_every_status_we_send_has_a_reason),
    };
    return cmocka_run_group_tests_name("http_response", tests, NULL, NULL);
}
