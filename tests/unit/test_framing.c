/* test_framing.c -- a chunked body is bounded by its framing as well as by
 * its data, and framing a request that keeps arriving reads each byte once
 * (ht_request_length_resume), agreeing with framing it whole. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "hometab.h"
#include "http/request.h"

static const char HEAD[] = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

/* HEAD, then `chunks` chunks of `size` bytes each with an extension of
 * `ext` bytes, then the last chunk. */
static char *chunked(size_t chunks, size_t size, size_t ext, size_t *len) {
    size_t cap = sizeof HEAD + chunks * (size + ext + 32) + 16;
    char *text = malloc(cap);
    size_t o = (size_t)sprintf(text, "%s", HEAD);
    for (size_t i = 0; i < chunks; i++) {
        o += (size_t)sprintf(text + o, "%zx", size);
        if (ext) {
            text[o++] = ';';
            memset(text + o, 'e', ext - 1);
            o += ext - 1;
        }
        text[o++] = '\r', text[o++] = '\n';
        memset(text + o, 'd', size);
        o += size;
        text[o++] = '\r', text[o++] = '\n';
    }
    o += (size_t)sprintf(text + o, "0\r\n\r\n");
    *len = o;
    return text;
}

static void test_extensions_cannot_make_a_small_body_huge(void **state) {
    (void)state;
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.max_body_bytes = 64 * 1024;
    /* One data byte and a 4000-byte extension per chunk: within the body
     * limit by data, 250 MB on the wire. Refused once the framing passes
     * the data by 64 KiB: after some 17 chunks, not 65536. */
    size_t len;
    char *text = chunked(40, 1, 4000, &len);
    assert_int_equal(ht_request_length(&cfg, (const unsigned char *)text, len, NULL), -1);
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    ht_request req;
    ht_error err = ht_http_parse(&arena, &cfg, (const unsigned char *)text, len, &req);
    assert_int_equal(ht_error_status(err), 413);
    /* Refused while it is still arriving, before 100 KB of it. */
    assert_int_equal(ht_request_length(&cfg, (const unsigned char *)text, 100 * 1024 < len ? 100 * 1024 : len, NULL),
                     -1);
    ht_arena_free(&arena);
    free(text);
}

static void test_small_chunks_of_a_real_stream_pass(void **state) {
    (void)state;
    ht_config cfg;
    ht_config_defaults(&cfg);
    /* 40,000 chunks of 5 bytes: as much framing as data, which is fine. */
    size_t len;
    char *text = chunked(40000, 5, 0, &len);
    assert_int_equal(ht_request_length(&cfg, (const unsigned char *)text, len, NULL), (long)len);
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    ht_request req;
    assert_int_equal(ht_http_parse(&arena, &cfg, (const unsigned char *)text, len, &req).code, HT_OK);
    assert_int_equal(req.body_len, 200000);
    ht_arena_free(&arena);
    free(text);
}

static void test_resumed_framing_agrees_with_framing_whole(void **state) {
    (void)state;
    ht_config cfg;
    ht_config_defaults(&cfg);
    size_t len;
    char *text = chunked(300, 7, 3, &len);
    /* Fed one byte more each call, as a slow client sends it: every answer
     * matches framing the same prefix from scratch. */
    ht_framing framing = {0};
    for (size_t cut = 1; cut <= len; cut++) {
        long whole = ht_request_length(&cfg, (const unsigned char *)text, cut, NULL);
        long resumed = ht_request_length_resume(&cfg, (const unsigned char *)text, cut, &framing, NULL);
        assert_int_equal(resumed, whole);
    }
    assert_int_equal(ht_request_length_resume(&cfg, (const unsigned char *)text, len, &framing, NULL), (long)len);
    /* It stopped at the last whole chunk, with the data before it counted. */
    assert_int_equal(framing.decoded, 300 * 7);
    assert_true(framing.chunk_at > sizeof HEAD && framing.chunk_at < len);
    free(text);
}

int run_framing_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extensions_cannot_make_a_small_body_huge),
        cmocka_unit_test(test_small_chunks_of_a_real_stream_pass),
        cmocka_unit_test(test_resumed_framing_agrees_with_framing_whole),
    };
    return cmocka_run_group_tests_name("framing", tests, NULL, NULL);
}
