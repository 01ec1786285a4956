/* test_canonical.c -- canonical JSON (util/canonical.c): the spec appendix's
 * examples, Python's escapes, code point key order, the integer range, the
 * refusal of floats with the path to them, and what strict parsing refuses. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/canonical.h"

/* The canonical form of the JSON text, parsed by jansson (any value). */
static char *canonical_of(const char *text) {
    json_t *value = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_non_null(value);
    char *out = ht_canonical_json(value, NULL, NULL);
    json_decref(value);
    return out;
}

static void assert_canonical(const char *input, const char *expected) {
    char *out = canonical_of(input);
    assert_non_null(out);
    assert_string_equal(out, expected);
    free(out);
}

static void test_spec_appendix_examples_give_the_spec_bytes(void **state) {
    (void)state;
    assert_canonical("{}", "{}");
    assert_canonical("{\n    \"one\": 1,\n    \"two\": \"Two\"\n}", "{\"one\":1,\"two\":\"Two\"}");
    assert_canonical("{\n    \"b\": \"2\",\n    \"a\": \"1\"\n}", "{\"a\":\"1\",\"b\":\"2\"}");
    assert_canonical("{\"b\":\"2\",\"a\":\"1\"}", "{\"a\":\"1\",\"b\":\"2\"}");
    assert_canonical("{\n \"auth\": {\n  \"success\": true,\n  \"mxid\": \"@john.doe:example.com\",\n"
                     "  \"profile\": {\n   \"display_name\": \"John Doe\",\n   \"three_pids\": [\n"
                     "    {\"medium\": \"email\", \"address\": \"john.doe@example.org\"},\n"
                     "    {\"medium\": \"msisdn\", \"address\": \"123456789\"}\n   ]\n  }\n }\n}",
                     "{\"auth\":{\"mxid\":\"@john.doe:example.com\",\"profile\":{\"display_name\":\"John Doe\","
                     "\"three_pids\":[{\"address\":\"john.doe@example.org\",\"medium\":\"email\"},"
                     "{\"address\":\"123456789\",\"medium\":\"msisdn\"}]},\"success\":true}}");
    assert_canonical("{\"a\": \"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"}", "{\"a\":\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"}");
    assert_canonical("{\"\xe6\x9c\xac\": 2, \"\xe6\x97\xa5\": 1}", "{\"\xe6\x97\xa5\":1,\"\xe6\x9c\xac\":2}");
    assert_canonical("{\"a\": \"\\u65E5\"}", "{\"a\":\"\xe6\x97\xa5\"}");
    assert_canonical("{\"a\": null}", "{\"a\":null}");
    /* The appendix's last example: -0 is zero, 1e10 is an integer. */
    assert_canonical("{\"a\": -0, \"b\": 1e10}", "{\"a\":0,\"b\":10000000000}");
}

static void test_escapes_are_pythons(void **state) {
    (void)state;
    /* The short forms, the quote and the backslash. */
    assert_canonical("\"\\b\\f\\n\\r\\t\\\"\\\\\"", "\"\\b\\f\\n\\r\\t\\\"\\\\\"");
    /* Every other C0 control as \u00xx in lower case, U+0000 included. */
    assert_canonical("\"\\u0000\\u0001\\u001B\\u001f\\u000B\\u000e\"", "\"\\u0000\\u0001\\u001b\\u001f\\u000b\\u000e\"");
    /* Nothing else: not '/', not DEL, not U+2028, not U+FEFF, not U+10FFFF. */
    assert_canonical("\"/\\u007f\\u2028\\uFEFF\\uDBFF\\uDFFF\"", "\"/\x7f\xe2\x80\xa8\xef\xbb\xbf\xf4\x8f\xbf\xbf\"");
    assert_canonical("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
}

static void test_every_control_character_is_escaped_as_python_does(void **state) {
    (void)state;
    for (int c = 0; c < 0x20; c++) {
        json_t *s = json_stringn((const char[]){(char)c}, 1);
        char *out = ht_canonical_json(s, NULL, NULL);
        char expected[16];
        const char *shortform = c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                              : c == '\t' ? "\\t" : NULL;
        if (shortform) snprintf(expected, sizeof expected, "\"%s\"", shortform);
        else snprintf(expected, sizeof expected, "\"\\u%04x\"", c);
        assert_string_equal(out, expected);
        free(out);
        json_decref(s);
    }
}

static void test_keys_sort_by_code_point_not_utf16(void **state) {
    (void)state;
    /* By UTF-16 code units U+1F600 (D83D DE00) would come before U+FFFF and
     * U+E000; by code point it comes after both. A key that is a prefix of
     * another sorts first; the empty key sorts before everything. */
    assert_canonical("{\"\\ud83d\\ude00\":1,\"\\uffff\":2,\"\\ue000\":3,\"aa\":4,\"a\":5,\"\":6,\"B\":7,\"b\":8}",
                     "{\"\":6,\"B\":7,\"a\":5,\"aa\":4,\"b\":8,\"\xee\x80\x80\":3,\"\xef\xbf\xbf\":2,"
                     "\"\xf0\x9f\x98\x80\":1}");
}

static void test_integers_up_to_2_53_minus_1_are_written(void **state) {
    (void)state;
    assert_canonical("[9007199254740991,-9007199254740991,0,-1]", "[9007199254740991,-9007199254740991,0,-1]");
    json_t *ok = json_pack("[I,I]", (json_int_t)HT_CANONICAL_INT_MAX, -(json_int_t)HT_CANONICAL_INT_MAX);
    assert_true(ht_canonical_check(ok, NULL));
    json_decref(ok);
}

static void test_integers_beyond_2_53_are_refused_with_their_path(void **state) {
    (void)state;
    const json_int_t too_big[] = {HT_CANONICAL_INT_MAX + 1, -HT_CANONICAL_INT_MAX - 1, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_pack("{s:{s:[i,I]}}", "content", "n", 1, too_big[i]);
        ht_canonical_error err;
        assert_false(ht_canonical_check(v, &err));
        assert_string_equal(err.path, ".content.n[1]");
        assert_null(ht_canonical_json(v, NULL, &err));
        assert_string_equal(err.path, ".content.n[1]");
        json_decref(v);
    }
}

static void test_floats_are_refused_by_the_validator_with_their_path(void **state) {
    (void)state;
    json_t *v = json_loads("{\"content\":{\"m.relates_to\":{\"x\":[1,{\"y\":1.5}]}}}", 0, NULL);
    ht_canonical_error err;
    assert_false(ht_canonical_check(v, &err));
    assert_string_equal(err.path, ".content[\"m.relates_to\"].x[1].y");
    ht_arena arena;
    ht_arena_init(&arena, 1024);
    assert_string_equal(ht_canonical_error_text(&arena, &err),
                        "content[\"m.relates_to\"].x[1].y is a number with a fraction or an exponent; "
                        "canonical JSON allows integers only.");
    ht_arena_free(&arena);
    json_decref(v);
    /* An integral float too (Synapse refuses it): only the writer takes it. */
    const char *floats[] = {"[1e10]", "[1.0]", "[-0.0]", "[1E2]"};
    for (size_t i = 0; i < 4; i++) {
        v = json_loads(floats[i], 0, NULL);
        assert_false(ht_canonical_check(v, NULL));
        json_decref(v);
    }
}

static void test_writer_refuses_floats_that_are_not_integers(void **state) {
    (void)state;
    const char *bad[] = {"[1.5]", "[1e300]", "[-0.1]", "[9007199254740992.0]"};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_loads(bad[i], 0, NULL);
        ht_buf out = {0};
        ht_buf_append(&out, "kept", 4);
        assert_false(ht_canonical_write(&out, v, NULL));
        assert_int_equal(out.len, 4); /* nothing of the failed value is left */
        ht_buf_free(&out);
        json_decref(v);
    }
}

static void test_minus_zero_arrives_as_zero(void **state) {
    (void)state;
    /* Measured: jansson reads "-0" as the integer 0, so it is valid and
     * written "0" (as Python and JavaScript write it too). */
    json_t *v = json_loads("[-0]", 0, NULL);
    assert_true(json_is_integer(json_array_get(v, 0)));
    assert_true(ht_canonical_check(v, NULL));
    json_decref(v);
    assert_canonical("[-0]", "[0]");
}

static json_t *nested(int depth) {
    json_t *v = json_string("leaf");
    for (int i = 0; i < depth; i++) {
        json_t *outer = (i % 2) ? json_array() : json_object();
        if (json_is_array(outer)) json_array_append_new(outer, v);
        else json_object_set_new(outer, "k", v);
        v = outer;
    }
    return v;
}

static void test_nesting_is_bounded(void **state) {
    (void)state;
    json_t *deepest = nested(HT_CANONICAL_MAX_DEPTH), *too_deep = nested(HT_CANONICAL_MAX_DEPTH + 1);
    assert_true(ht_canonical_check(deepest, NULL));
    char *text = ht_canonical_json(deepest, NULL, NULL);
    assert_non_null(text);
    free(text);
    ht_canonical_error err;
    assert_false(ht_canonical_check(too_deep, &err));
    assert_null(ht_canonical_json(too_deep, NULL, NULL));
    /* The path of a thousand levels is cut from the left, at a character. */
    assert_true(strncmp(err.path, "...", 3) == 0);
    assert_true(strlen(err.path) < sizeof err.path);
    json_decref(deepest);
    json_decref(too_deep);
}

static void test_embedded_nul_is_written_by_length(void **state) {
    (void)state;
    json_t *v = json_stringn("a\0b", 3);
    size_t len;
    char *out = ht_canonical_json(v, &len, NULL);
    assert_int_equal(len, 10);
    assert_memory_equal(out, "\"a\\u0000b\"", 10);
    free(out);
    json_decref(v);
}

static void test_invalid_utf8_is_refused_by_the_writer(void **state) {
    (void)state;
    /* jansson only builds such strings when told not to check them. */
    const char *bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe6\x97", "\x80"};
    for (size_t i = 0; i < 5; i++) {
        json_t *v = json_pack("{s:o}", "k", json_string_nocheck(bad[i]));
        ht_canonical_error err;
        assert_null(ht_canonical_json(v, NULL, &err));
        assert_string_equal(err.path, ".k");
        json_decref(v);
    }
}

static void test_strict_parse_refuses_what_has_two_readings_or_none(void **state) {
    (void)state;
    const char *bad[] = {
        "{\"a\":1,\"a\":2}",         /* duplicate keys: jansson alone keeps the last */
        "{\"a\":\"x\\u0000y\"}",     /* U+0000 */
        "{\"a\":\"\\ud800\"}",       /* a lone surrogate */
        "{\"a\":\"\xc0\xaf\"}",      /* invalid UTF-8 */
        "{\"a\":1.5}",               /* a float */
        "{\"a\":9007199254740992}",  /* beyond 2^53 */
        "{\"a\":99999999999999999999}", /* beyond 64 bits */
        "{\"a\":1} trailing",
        "\"a bare string\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ht_canonical_error err;
        assert_null(ht_canonical_parse(bad[i], strlen(bad[i]), &err));
        assert_non_null(err.reason);
    }
    ht_canonical_error err;
    const char *good = "{\"a\":[1,-0,\"\\u001b\"]}";
    json_t *ok = ht_canonical_parse(good, strlen(good), &err);
    assert_non_null(ok);
    json_decref(ok);
}

static void test_parse_errors_say_where_without_quoting_the_input(void **state) {
    (void)state;
    ht_canonical_error err;
    const char *text = "{\n\"a\":1,\n\"a\":\"\xff\"}";
    assert_null(ht_canonical_parse(text, strlen(text), &err));
    ht_arena arena;
    ht_arena_init(&arena, 1024);
    const char *message = ht_canonical_error_text(&arena, &err);
    assert_true(strncmp(message, "Not valid JSON at line 3, column", 32) == 0);
    for (const char *p = message; *p; p++) assert_true(*p >= 0x20 && *p < 0x7f);
    ht_arena_free(&arena);
}

/* Where named members stand in an object written once: a value's span,
 * or where an absent member would go (first, between two, last). */
static void test_places_say_where_members_stand(void **state) {
    (void)state;
    json_t *object = json_loads("{\"b\":[1,2],\"d\":{\"x\":\"y\"},\"\xc3\xa9\":true}", 0, NULL);
    ht_canonical_place at[] = {{.key = "a"}, {.key = "b"}, {.key = "c"}, {.key = "d"}, {.key = "z"}, {.key = "\xc3\xa9"}};
    ht_buf out = {0};
    ht_buf_puts(&out, "prefix");
    assert_true(ht_canonical_write_places(&out, object, at, 6, NULL));
    const char *text = (const char *)out.data + 6;
    assert_int_equal(out.len - 6, strlen("{\"b\":[1,2],\"d\":{\"x\":\"y\"},\"\xc3\xa9\":true}"));
    assert_memory_equal(text, "{\"b\":[1,2],\"d\":{\"x\":\"y\"},\"\xc3\xa9\":true}", out.len - 6);
    /* Offsets count from the start of out. */
    assert_false(at[0].present);
    assert_int_equal(at[0].start, 6 + 1); /* before "b" */
    assert_true(at[1].present);
    assert_memory_equal((const char *)out.data + at[1].start, "[1,2]", at[1].end - at[1].start);
    assert_false(at[2].present);
    assert_int_equal(at[2].start, 6 + strlen("{\"b\":[1,2]")); /* before ,"d" */
    assert_int_equal(at[2].end, at[2].start);
    assert_memory_equal((const char *)out.data + at[3].start, "{\"x\":\"y\"}", at[3].end - at[3].start);
    assert_false(at[4].present); /* "z" sorts before U+00E9 */
    assert_int_equal(at[4].start, 6 + strlen("{\"b\":[1,2],\"d\":{\"x\":\"y\"}"));
    assert_memory_equal((const char *)out.data + at[5].start, "true", at[5].end - at[5].start);
    ht_buf_free(&out);
    /* Not an object, or not canonical: nothing written. */
    json_t *real = json_loads("{\"a\":1.5}", 0, NULL);
    assert_false(ht_canonical_write_places(&out, real, at, 1, NULL));
    assert_int_equal(out.len, 0);
    json_t *array = json_loads("[]", 0, NULL);
    assert_false(ht_canonical_write_places(&out, array, at, 1, NULL));
    ht_buf_free(&out);
    json_decref(array);
    json_decref(real);
    json_decref(object);
}

static void test_ordinary_events_canonicalise_as_jansson_sorted_did(void **state) {
    (void)state;
    /* Event ids of stored events were computed with jansson's sorted output;
     * for anything without a control character the bytes are the same. */
    const char *texts[] = {
        "{\"type\":\"m.room.message\",\"content\":{\"body\":\"h\xc3\xa9llo \xf0\x9f\x98\x80 \\\" \\\\ / \\n\\t\","
        "\"msgtype\":\"m.text\"},\"depth\":8,\"prev_events\":[\"$x\"],\"n\":[-9007199254740991,true,null]}",
        "{\"\xef\xbf\xbf\":1,\"\xf0\x9f\x98\x80\":2,\"\":3,\"b\":{\"a\":[]}}",
    };
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_loads(texts[i], 0, NULL);
        char *before = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        char *now = ht_canonical_json(v, NULL, NULL);
        assert_string_equal(now, before);
        free(before);
        free(now);
        json_decref(v);
    }
    /* ... and with one, jansson was wrong. */
    json_t *v = json_pack("{s:s}", "body", "\x1b");
    char *before = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    char *now = ht_canonical_json(v, NULL, NULL);
    assert_string_equal(before, "{\"body\":\"\\u001B\"}");
    assert_string_equal(now, "{\"body\":\"\\u001b\"}");
    free(before);
    free(now);
    json_decref(v);
}

int run_canonical_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_appendix_examples_give_the_spec_bytes),
        cmocka_unit_test(test_escapes_are_pythons),
        cmocka_unit_test(test_every_control_character_is_escaped_as_python_does),
        cmocka_unit_test(test_keys_sort_by_code_point_not_utf16),
        cmocka_unit_test(test_integers_up_to_2_53_minus_1_are_written),
        cmocka_unit_test(test_integers_beyond_2_53_are_refused_with_their_path),
        cmocka_unit_test(test_floats_are_refused_by_the_validator_with_their_path),
        cmocka_unit_test(test_writer_refuses_floats_that_are_not_integers),
        cmocka_unit_test(test_minus_zero_arrives_as_zero),
        cmocka_unit_test(test_nesting_is_bounded),
        cmocka_unit_test(test_embedded_nul_is_written_by_length),
        cmocka_unit_test(test_invalid_utf8_is_refused_by_the_writer),
        cmocka_unit_test(test_strict_parse_refuses_what_has_two_readings_or_none),
        cmocka_unit_test(test_parse_errors_say_where_without_quoting_the_input),
        cmocka_unit_test(test_places_say_where_members_stand),
        cmocka_unit_test(test_ordinary_events_canonicalise_as_jansson_sorted_did),
    };
    return cmocka_run_group_tests_name("canonical", tests, NULL, NULL);
}
