/* test_http_request.c -- framing (ht_request_length) and parsing
 * (ht_http_parse) of HTTP/1.1 requests, percent-decoding and UTF-8.
 *
 * Every parse runs on exactly the bytes framing would cut out of a stream,
 * with the host's default limits unless a test shrinks one. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "http/request.h"
#include "util/utf8.h"

static ht_arena arena;
static ht_config cfg;

static int setup(void **state) {
    (void)state;
    ht_arena_init(&arena, 4096);
    return 0;
}

/* Each test starts from the default limits, even if the one before shrank
 * one and then failed. */
static int reset_config(void **state) {
    (void)state;
    ht_config_defaults(&cfg);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    ht_arena_free(&arena);
    return 0;
}

static ht_error parse_bytes(const void *bytes, size_t len, ht_request *req) {
    ht_arena_reset(&arena);
    return ht_http_parse(&arena, &cfg, bytes, len, req);
}

static ht_error parse(const char *text, ht_request *req) {
    return parse_bytes(text, strlen(text), req);
}

static long frame(const char *text) {
    return ht_request_length(&cfg, (const unsigned char *)text, strlen(text), NULL);
}

/* Asserts that parsing fails with this HTTP status. */
static void assert_parse_status(const char *text, int status) {
    ht_request req;
    ht_error err = parse(text, &req);
    assert_int_not_equal(err.code, HT_OK);
    assert_int_equal(ht_error_status(err), status);
    assert_non_null(err.message);
}

/* ---- parsing: the request line and headers ------------------------------ */

static void test_parse_simple_get(void **state) {
    (void)state;
    ht_request req;
    ht_error err = parse("GET /_matrix/client/versions HTTP/1.1\r\nHost: a\r\n\r\n", &req);
    assert_int_equal(err.code, HT_OK);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.target, "/_matrix/client/versions");
    assert_string_equal(req.raw_path, "/_matrix/client/versions");
    assert_int_equal(req.segment_count, 3);
    assert_string_equal(req.segments[0], "_matrix");
    assert_string_equal(req.segments[2], "versions");
    assert_int_equal(req.minor_version, 1);
    assert_true(req.keep_alive);
    assert_int_equal(req.body_len, 0);
}

static void test_parse_repeated_headers_keep_order(void **state) {
    (void)state;
    ht_request req;
    ht_error err = parse("GET / HTTP/1.1\r\nHost: a\r\nX-Thing: one\r\nOther: x\r\n"
                         "x-thing: two\r\nX-THING: three\r\n\r\n",
                         &req);
    assert_int_equal(err.code, HT_OK);
    assert_int_equal(req.header_count, 5);
    const char *values[3];
    size_t n = 0;
    for (size_t i = 0; i < req.header_count; i++)
        if (strcmp(req.headers[i].name, "x-thing") == 0) values[n++] = req.headers[i].value;
    assert_int_equal(n, 3);
    assert_string_equal(values[0], "one");
    assert_string_equal(values[1], "two");
    assert_string_equal(values[2], "three");
    assert_string_equal(ht_request_header(&req, "x-thing"), "one");
}

static void test_header_names_are_lower_cased_and_values_trimmed(void **state) {
    (void)state;
    ht_request req;
    ht_error err = parse("GET / HTTP/1.1\r\nHOST: a\r\nContent-Type: \t text/plain \t\r\n\r\n", &req);
    assert_int_equal(err.code, HT_OK);
    assert_string_equal(req.headers[1].name, "content-type");
    assert_string_equal(ht_request_header(&req, "content-type"), "text/plain");
    assert_null(ht_request_header(&req, "Content-Type")); /* lookups take lower case */
}

static void test_bare_lf_line_endings_are_accepted(void **state) {
    (void)state;
    ht_request req;
    const char *text = "POST /x HTTP/1.1\nHost: a\nContent-Length: 2\n\nhi";
    assert_int_equal(frame(text), (long)strlen(text));
    ht_error err = parse(text, &req);
    assert_int_equal(err.code, HT_OK);
    assert_string_equal(ht_request_header(&req, "host"), "a");
    assert_int_equal(req.body_len, 2);
    assert_memory_equal(req.body, "hi", 2);
}

static void test_request_line_without_version_is_400(void **state) {
    (void)state;
    assert_parse_status("GET /_matrix/client/versions\r\nHost: a\r\n\r\n", 400);
    assert_parse_status("GET\r\nHost: a\r\n\r\n", 400);
    assert_parse_status("\r\n\r\n", 400);
}

static void test_request_line_with_junk_version_is_400(void **state) {
    (void)state;
    assert_parse_status("GET / FTP/1.1\r\nHost: a\r\n\r\n", 400);
    assert_parse_status("GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400);
}

static void test_other_http_versions_are_505(void **state) {
    (void)state;
    assert_parse_status("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
    assert_parse_status("GET / HTTP/0.9\r\n\r\n", 505);
}

static void test_unknown_method_is_405(void **state) {
    (void)state;
    assert_parse_status("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", 405);
    assert_parse_status("get / HTTP/1.1\r\nHost: a\r\n\r\n", 405); /* methods are case-sensitive */
}

static void test_method_with_non_token_characters_is_400(void **state) {
    (void)state;
    assert_parse_status("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void test_target_must_start_with_slash(void **state) {
    (void)state;
    assert_parse_status("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    assert_parse_status("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void test_control_or_non_ascii_bytes_in_target_are_400(void **state) {
    (void)state;
    assert_parse_status("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    assert_parse_status("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void test_http11_without_host_is_400(void **state) {
    (void)state;
    assert_parse_status("GET / HTTP/1.1\r\n\r\n", 400);
    ht_request req;
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &req).code, HT_OK);
}

static void test_header_line_without_colon_is_400(void **state) {
    (void)state;
    assert_parse_status("GET / HTTP/1.1\r\nHost: a\r\nnonsense\r\n\r\n", 400);
    assert_parse_status("GET / HTTP/1.1\r\nHost: a\r\n: empty name\r\n\r\n", 400);
}

static void test_header_name_with_space_is_400(void **state) {
    (void)state;
    /* "Host : a" and obsolete line folding both put a space in a name. */
    assert_parse_status("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
    assert_parse_status("GET / HTTP/1.1\r\nHost: a\r\n folded: b\r\n\r\n", 400);
}

static void test_bare_cr_in_header_value_is_400(void **state) {
    (void)state;
    assert_parse_status("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400);
}

static void test_keep_alive_follows_version_and_connection_header(void **state) {
    (void)state;
    ht_request req;
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &req).code, HT_OK);
    assert_false(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &req).code, HT_OK);
    assert_false(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req).code, HT_OK);
    assert_true(req.keep_alive);
}

static void test_connection_is_a_token_list(void **state) {
    (void)state;
    ht_request req;
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n", &req).code,
                     HT_OK);
    assert_false(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nConnection: close\r\n\r\n",
                           &req).code, HT_OK);
    assert_false(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", &req).code, HT_OK);
    assert_true(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: TE,keep-alive\r\n\r\n", &req).code, HT_OK);
    assert_true(req.keep_alive);
}

static void test_empty_lines_before_the_request_line_are_skipped(void **state) {
    (void)state;
    ht_request req;
    const char *text = "\r\n\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    assert_int_equal(frame(text), (long)strlen(text));
    assert_int_equal(parse(text, &req).code, HT_OK);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.segments[0], "a");
    assert_string_equal(ht_request_header(&req, "host"), "h");
    assert_int_equal(frame("\r\n"), 0); /* a request may still follow */
    assert_parse_status("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

/* ---- limits ------------------------------------------------------------ */

static char *request_with_header_of(size_t value_len) {
    char *text = malloc(value_len + 64);
    int n = sprintf(text, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    memset(text + n, 'a', value_len);
    strcpy(text + n + value_len, "\r\n\r\n");
    return text;
}

static void test_header_block_too_large_is_431(void **state) {
    (void)state;
    char *text = request_with_header_of(cfg.max_header_bytes);
    assert_int_equal(frame(text), -1);
    assert_parse_status(text, 431);
    /* Framing refuses as soon as the limit is passed, before the blank line. */
    text[cfg.max_header_bytes + 10] = '\0';
    assert_int_equal(frame(text), -1);
    free(text);

    char *fits = request_with_header_of(cfg.max_header_bytes - 100);
    assert_int_equal(frame(fits), (long)strlen(fits));
    free(fits);
}

static void test_too_many_headers_is_431(void **state) {
    (void)state;
    char text[8192] = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 101; i++) sprintf(text + strlen(text), "H%d: v\r\n", i);
    strcat(text, "\r\n");
    assert_parse_status(text, 431);
}

static char *request_with_path_of(size_t path_len, const char *after) {
    char *text = malloc(path_len + 64);
    strcpy(text, "GET /");
    memset(text + 5, 'a', path_len);
    strcpy(text + 5 + path_len, after);
    return text;
}

static void test_uri_too_long_is_414(void **state) {
    (void)state;
    char *text = request_with_path_of(cfg.max_uri_bytes + 1, " HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_parse_status(text, 414);
    free(text);
    /* Past the limit by a lot, framing refuses it. */
    text = request_with_path_of(cfg.max_uri_bytes + 100, " HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(frame(text), -1);
    assert_parse_status(text, 414);
    free(text);
    /* The same before its line has even ended: a host passes those bytes on. */
    text = request_with_path_of(cfg.max_uri_bytes + 100, "");
    assert_int_equal(frame(text), -1);
    assert_parse_status(text, 414);
    free(text);

    text = request_with_path_of(cfg.max_uri_bytes - 1, " HTTP/1.1\r\nHost: a\r\n\r\n");
    ht_request req;
    assert_int_equal(parse(text, &req).code, HT_OK);
    free(text);
}

static void test_body_too_large_is_413(void **state) {
    (void)state;
    cfg.max_body_bytes = 10;
    assert_int_equal(frame("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"), -1);
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n01234567890", 413);
    /* Chunked: the decoded total counts, however it is split. */
    const char *chunked = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "6\r\n012345\r\n5\r\n67890\r\n0\r\n\r\n";
    assert_int_equal(frame(chunked), -1);
    assert_parse_status(chunked, 413);
    /* Exactly the limit is fine. */
    ht_request req;
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", &req).code,
                     HT_OK);
    assert_int_equal(req.body_len, 10);
}

static void test_huge_content_length_is_413_not_overflow(void **state) {
    (void)state;
    assert_int_equal(frame("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999\r\n\r\n"),
                     -1);
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999\r\n\r\n", 413);
}

/* ---- bodies ------------------------------------------------------------ */

static void test_content_length_body_may_hold_nuls(void **state) {
    (void)state;
    static const char text[] = "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\na\0b\0c";
    ht_request req;
    assert_int_equal(parse_bytes(text, sizeof text - 1, &req).code, HT_OK);
    assert_int_equal(req.body_len, 5);
    assert_memory_equal(req.body, "a\0b\0c", 5);
    assert_int_equal(req.body[5], '\0'); /* terminated for convenience */
}

static void test_invalid_content_length_is_400(void **state) {
    (void)state;
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", 400);
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400);
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400);
}

static void test_conflicting_content_lengths_are_400(void **state) {
    (void)state;
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                        400);
    ht_request req;
    ht_error err = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
                         &req);
    assert_int_equal(err.code, HT_OK);
    assert_int_equal(req.body_len, 2);
}

static void test_body_shorter_than_content_length_is_400(void **state) {
    (void)state;
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", 400);
}

static void test_chunked_body_is_decoded(void **state) {
    (void)state;
    const char *text = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n"
                       "1;ext=1\r\n \r\n"
                       "A\r\n0123456789\r\n"
                       "0\r\nX-Trailer: t\r\n\r\n";
    assert_int_equal(frame(text), (long)strlen(text));
    ht_request req;
    ht_error err = parse(text, &req);
    assert_int_equal(err.code, HT_OK);
    assert_int_equal(req.body_len, 16);
    assert_memory_equal(req.body, "hello 0123456789", 16);
}

static void test_transfer_encoding_name_is_case_insensitive(void **state) {
    (void)state;
    ht_request req;
    ht_error err = parse("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n", &req);
    assert_int_equal(err.code, HT_OK);
    assert_int_equal(req.body_len, 0);
}

static void test_both_content_length_and_chunked_is_400(void **state) {
    (void)state;
    const char *text = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "0\r\n\r\n";
    assert_int_equal(frame(text), -1);
    assert_parse_status(text, 400);
}

static void test_unsupported_transfer_encoding_is_501(void **state) {
    (void)state;
    const char *text = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n";
    assert_int_equal(frame(text), -1);
    assert_parse_status(text, 501);
}

static void test_truncated_chunked_body(void **state) {
    (void)state;
    const char *whole = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n0\r\n\r\n";
    /* Framing waits for every missing byte ... */
    for (size_t cut = 1; cut < strlen(whole); cut++)
        assert_int_equal(ht_request_length(&cfg, (const unsigned char *)whole, cut, NULL), 0);
    /* ... and a parser handed the truncated bytes says so. */
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 400);
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
                        400);
}

static void test_chunk_longer_than_its_size_is_400(void **state) {
    (void)state;
    const char *text = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "3\r\nhello\r\n0\r\n\r\n";
    assert_int_equal(frame(text), -1);
    assert_parse_status(text, 400);
}

static void test_bad_chunk_size_is_400(void **state) {
    (void)state;
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n", 400);
    assert_parse_status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\n\r\n", 400);
}

static void test_endless_chunk_size_line_is_refused(void **state) {
    (void)state;
    /* Without a limit a client could grow the host's buffer forever by never
     * ending a chunk-size line (or a trailer). */
    size_t n = 64 * 1024;
    char *text = malloc(n + 128);
    int head = sprintf(text, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;");
    memset(text + head, 'x', n);
    text[head + n] = '\0';
    assert_int_equal(frame(text), -1);

    head = sprintf(text, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: ");
    memset(text + head, 'x', n);
    text[head + n] = '\0';
    assert_int_equal(frame(text), -1);
    free(text);
}

/* ---- framing ----------------------------------------------------------- */

static void test_request_length_of_complete_request(void **state) {
    (void)state;
    const char *get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(frame(get), (long)strlen(get));
    const char *post = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    assert_int_equal(frame(post), (long)strlen(post));
}

static void test_request_length_of_incomplete_request_is_0(void **state) {
    (void)state;
    const char *post = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    for (size_t cut = 0; cut < strlen(post); cut++)
        assert_int_equal(ht_request_length(&cfg, (const unsigned char *)post, cut, NULL), 0);
}

static void test_request_length_of_pipelined_requests(void **state) {
    (void)state;
    const char *first = "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nGET ";
    const char *second = "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
    char both[256];
    snprintf(both, sizeof both, "%s%s", first, second);
    long n = frame(both);
    assert_int_equal(n, (long)strlen(first));
    assert_int_equal(frame(both + n), (long)strlen(second));

    ht_request req;
    assert_int_equal(parse_bytes(both, (size_t)n, &req).code, HT_OK);
    assert_string_equal(req.target, "/a");
    assert_memory_equal(req.body, "GET ", 4);
}

static void test_request_length_of_garbage_is_minus_1(void **state) {
    (void)state;
    /* The start of a TLS handshake: refused at once, not after a timeout. */
    static const unsigned char tls[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
    assert_int_equal(ht_request_length(&cfg, tls, sizeof tls, NULL), -1);
    ht_request req;
    ht_error err = parse_bytes(tls, sizeof tls, &req);
    assert_int_equal(ht_error_status(err), 400);
    assert_int_equal(frame("GET / HTTP/1.1\r\nnot a header\r\n\r\n"), -1);
    assert_int_equal(frame("GET / HTTP/1.1\r\nContent-Length: many\r\n\r\n"), -1);
    /* A request line still arriving is not garbage. */
    assert_int_equal(frame("GET /_matrix/cli"), 0);
    assert_int_equal(frame("GE"), 0);
}

static void test_request_length_reports_expect_continue(void **state) {
    (void)state;
    const char *head = "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
    bool cont = false;
    assert_int_equal(ht_request_length(&cfg, (const unsigned char *)head, strlen(head), &cont), 0);
    assert_true(cont);
    const char *plain = "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
    assert_int_equal(ht_request_length(&cfg, (const unsigned char *)plain, strlen(plain), &cont), 0);
    assert_false(cont);
}

/* ---- paths, queries, UTF-8 ---------------------------------------------- */

static void test_percent_decoded_path_segments(void **state) {
    (void)state;
    ht_request req;
    ht_error err = parse("GET /_matrix/client/v3/rooms/%21abc%3Aexample.org/state/m.room.name/a%2Fb"
                         " HTTP/1.1\r\nHost: a\r\n\r\n",
                         &req);
    assert_int_equal(err.code, HT_OK);
    assert_int_equal(req.segment_count, 8);
    assert_string_equal(req.segments[4], "!abc:example.org");
    assert_string_equal(req.segments[6], "m.room.name");
    assert_string_equal(req.segments[7], "a/b"); /* %2F stays inside its segment */
    assert_string_equal(req.raw_path, "/_matrix/client/v3/rooms/%21abc%3Aexample.org/state/m.room.name/a%2Fb");
}

static void test_empty_and_trailing_segments_are_kept(void **state) {
    (void)state;
    ht_request req;
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &req).code, HT_OK);
    assert_int_equal(req.segment_count, 0);
    assert_int_equal(parse("GET /a//b/ HTTP/1.1\r\nHost: a\r\n\r\n", &req).code, HT_OK);
    assert_int_equal(req.segment_count, 4);
    assert_string_equal(req.segments[1], "");
    assert_string_equal(req.segments[3], "");
}

static void test_plus_is_space_only_in_query(void **state) {
    (void)state;
    ht_request req;
    ht_error err = parse("GET /a+b?q=c+d&r%2Bs=%2B HTTP/1.1\r\nHost: a\r\n\r\n", &req);
    assert_int_equal(err.code, HT_OK);
    assert_string_equal(req.segments[0], "a+b");
    assert_string_equal(ht_request_query(&req, "q"), "c d");
    assert_string_equal(ht_request_query(&req, "r+s"), "+");
}

static void test_query_parameters_keep_order_and_repeats(void **state) {
    (void)state;
    ht_request req;
    ht_error err = parse("GET /x?b=1&a=2&b=3&flag&&empty= HTTP/1.1\r\nHost: a\r\n\r\n", &req);
    assert_int_equal(err.code, HT_OK);
    assert_int_equal(req.query_count, 5);
    assert_string_equal(req.query[0].name, "b");
    assert_string_equal(req.query[2].value, "3");
    assert_string_equal(ht_request_query(&req, "b"), "1");
    assert_string_equal(ht_request_query(&req, "flag"), "");
    assert_string_equal(ht_request_query(&req, "empty"), "");
    assert_null(ht_request_query(&req, "missing"));
    assert_string_equal(req.raw_path, "/x");
}

static void test_invalid_utf8_in_path_is_400(void **state) {
    (void)state;
    assert_parse_status("GET /a%C3%28 HTTP/1.1\r\nHost: a\r\n\r\n", 400);     /* bad continuation */
    assert_parse_status("GET /%C0%AF HTTP/1.1\r\nHost: a\r\n\r\n", 400);      /* overlong '/' */
    assert_parse_status("GET /%ED%A0%80 HTTP/1.1\r\nHost: a\r\n\r\n", 400);   /* surrogate */
    assert_parse_status("GET /%FF HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    ht_request req;
    assert_int_equal(parse("GET /caf%C3%A9 HTTP/1.1\r\nHost: a\r\n\r\n", &req).code, HT_OK);
    assert_string_equal(req.segments[0], "caf\xc3\xa9");
}

static void test_invalid_utf8_in_query_is_400(void **state) {
    (void)state;
    assert_parse_status("GET /a?x=%E2%82 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    assert_parse_status("GET /a?%80=1 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void test_bad_percent_escapes_are_400(void **state) {
    (void)state;
    assert_parse_status("GET /a%2 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    assert_parse_status("GET /a% HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    assert_parse_status("GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    assert_parse_status("GET /a?x=%g0 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void test_encoded_nul_is_400(void **state) {
    (void)state;
    assert_parse_status("GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    assert_parse_status("GET /a?x=%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void test_percent_decode_handles_escape_at_end(void **state) {
    (void)state;
    char *s = ht_percent_decode(&arena, "ab%41", 5, false);
    assert_non_null(s);
    assert_string_equal(s, "abA");
    assert_null(ht_percent_decode(&arena, "ab%4", 4, false));
    /* Only the given length is read, whatever follows. */
    s = ht_percent_decode(&arena, "a+b%41zzz", 6, true);
    assert_string_equal(s, "a bA");
}

static void test_utf8_validation(void **state) {
    (void)state;
    assert_true(ht_utf8_valid(BYTES("")));
    assert_true(ht_utf8_valid(BYTES("plain ascii")));
    assert_true(ht_utf8_valid(BYTES("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"))); /* é € 😀 */
    assert_true(ht_utf8_valid(BYTES("\xf4\x8f\xbf\xbf")));                     /* U+10FFFF */
    assert_false(ht_utf8_valid(BYTES("\xf4\x90\x80\x80")));                    /* past U+10FFFF */
    assert_false(ht_utf8_valid(BYTES("\xe2\x82")));                            /* truncated */
    assert_false(ht_utf8_valid(BYTES("\xe0\x80\x80")));                        /* overlong */
    assert_false(ht_utf8_valid(BYTES("\xed\xbf\xbf")));                        /* surrogate */
    assert_false(ht_utf8_valid(BYTES("\x80")));                                /* lone continuation */
    assert_false(ht_utf8_valid(BYTES("\xf8\x88\x80\x80\x80")));                /* 5-byte form */
}

int run_http_request_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_parse_simple_get, reset_config),
        cmocka_unit_test_setup(test_parse_repeated_headers_keep_order, reset_config),
        cmocka_unit_test_setup(test_header_names_are_lower_cased_and_values_trimmed, reset_config),
        cmocka_unit_test_setup(test_bare_lf_line_endings_are_accepted, reset_config),
        cmocka_unit_test_setup(test_request_line_without_version_is_400, reset_config),
        cmocka_unit_test_setup(test_request_line_with_junk_version_is_400, reset_config),
        cmocka_unit_test_setup(test_other_http_versions_are_505, reset_config),
        cmocka_unit_test_setup(test_unknown_method_is_405, reset_config),
        cmocka_unit_test_setup(test_method_with_non_token_characters_is_400, reset_config),
        cmocka_unit_test_setup(test_target_must_start_with_slash, reset_config),
        cmocka_unit_test_setup(test_control_or_non_ascii_bytes_in_target_are_400, reset_config),
        cmocka_unit_test_setup(test_http11_without_host_is_400, reset_config),
        cmocka_unit_test_setup(test_header_line_without_colon_is_400, reset_config),
        cmocka_unit_test_setup(test_header_name_with_space_is_400, reset_config),
        cmocka_unit_test_setup(test_bare_cr_in_header_value_is_400, reset_config),
        cmocka_unit_test_setup(test_keep_alive_follows_version_and_connection_header, reset_config),
        cmocka_unit_test_setup(test_connection_is_a_token_list, reset_config),
        cmocka_unit_test_setup(test_empty_lines_before_the_request_line_are_skipped, reset_config),
        cmocka_unit_test_setup(test_header_block_too_large_is_431, reset_config),
        cmocka_unit_test_setup(test_too_many_headers_is_431, reset_config),
        cmocka_unit_test_setup(test_uri_too_long_is_414, reset_config),
        cmocka_unit_test_setup(test_body_too_large_is_413, reset_config),
        cmocka_unit_test_setup(test_huge_content_length_is_413_not_overflow, reset_config),
        cmocka_unit_test_setup(test_content_length_body_may_hold_nuls, reset_config),
        cmocka_unit_test_setup(test_invalid_content_length_is_400, reset_config),
        cmocka_unit_test_setup(test_conflicting_content_lengths_are_400, reset_config),
        cmocka_unit_test_setup(test_body_shorter_than_content_length_is_400, reset_config),
        cmocka_unit_test_setup(test_chunked_body_is_decoded, reset_config),
        cmocka_unit_test_setup(test_transfer_encoding_name_is_case_insensitive, reset_config),
        cmocka_unit_test_setup(test_both_content_length_and_chunked_is_400, reset_config),
        cmocka_unit_test_setup(test_unsupported_transfer_encoding_is_501, reset_config),
        cmocka_unit_test_setup(test_truncated_chunked_body, reset_config),
        cmocka_unit_test_setup(test_chunk_longer_than_its_size_is_400, reset_config),
        cmocka_unit_test_setup(test_bad_chunk_size_is_400, reset_config),
        cmocka_unit_test_setup(test_endless_chunk_size_line_is_refused, reset_config),
        cmocka_unit_test_setup(test_request_length_of_complete_request, reset_config),
        cmocka_unit_test_setup(test_request_length_of_incomplete_request_is_0, reset_config),
        cmocka_unit_test_setup(test_request_length_of_pipelined_requests, reset_config),
        cmocka_unit_test_setup(test_request_length_of_garbage_is_minus_1, reset_config),
        cmocka_unit_test_setup(test_request_length_reports_expect_continue, reset_config),
        cmocka_unit_test_setup(test_percent_decoded_path_segments, reset_config),
        cmocka_unit_test_setup(test_empty_and_trailing_segments_are_kept, reset_config),
        cmocka_unit_test_setup(test_plus_is_space_only_in_query, reset_config),
        cmocka_unit_test_setup(test_query_parameters_keep_order_and_repeats, reset_config),
        cmocka_unit_test_setup(test_invalid_utf8_in_path_is_400, reset_config),
        cmocka_unit_test_setup(test_invalid_utf8_in_query_is_400, reset_config),
        cmocka_unit_test_setup(test_bad_percent_escapes_are_400, reset_config),
        cmocka_unit_test_setup(test_encoded_nul_is_400, reset_config),
        cmocka_unit_test_setup(test_percent_decode_handles_escape_at_end, reset_config),
        cmocka_unit_test_setup(test_utf8_validation, reset_config),
    };
    return cmocka_run_group_tests_name("http_request", tests, setup, teardown);
}
