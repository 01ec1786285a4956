/* test_request_log.c -- the native host's --log-requests line: bounded
 * however the request line is made, and never showing an access token. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "host/native/request_log.h"

static char *logged(const char *request) {
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    static const char answer[] = "HTTP/1.1 404 Not Found\r\n\r\n";
    ht_log_request(f, "192.0.2.1", (const unsigned char *)request, strlen(request),
                   (const unsigned char *)answer, sizeof answer - 1);
    fclose(f);
    return text;
}

static void test_many_empty_tokens_stay_inside_the_line(void **state) {
    (void)state;
    /* Each empty access_token= is written out eight bytes longer. */
    char request[512] = "GET /_matrix/a?";
    while (strlen(request) + 14 + 9 < 200) strcat(request, "access_token=&");
    strcat(request, " HTTP/1.1\r\nHost: t\r\n\r\n");
    char *line = logged(request);
    assert_true(strlen(line) < 256 + 40);
    assert_non_null(strstr(line, "access_token=<hidden>&access_token=<hidden>"));
    assert_non_null(strstr(line, " -> 404\n"));
    free(line);
}

static void test_a_token_is_hidden_and_control_bytes_replaced(void **state) {
    (void)state;
    char *line = logged("GET /_matrix/client/v3/sync?since=s1&access_token=SECRET&x=\x01 HTTP/1.1\r\n\r\n");
    assert_string_equal(line,
                        "192.0.2.1 GET /_matrix/client/v3/sync?since=s1&access_token=<hidden>&x=? HTTP/1.1 -> 404\n");
    free(line);
}

int run_request_log_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_empty_tokens_stay_inside_the_line),
        cmocka_unit_test(test_a_token_is_hidden_and_control_bytes_replaced),
    };
    return cmocka_run_group_tests_name("request log", tests, NULL, NULL);
}
