/* test_sync_write.c -- the scan that finds a stored event's content without
 * parsing it (api/sync_write.h, over util/json_scan.h): on many random
 * events, written by jansson in every layout it has, the text it finds
 * parses to exactly the content jansson reads; it refuses what the general
 * path must handle; and on text cut anywhere it never reads past the end
 * (the ASan build checks). And the scan asked for several members at once,
 * as federation's PDU texts and auth chain walks ask it. */
#include "unit.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/sync_write.h"
#include "util/json_scan.h"

/* The content the scan finds in text, parsed; NULL if it refuses. */
static json_t *scanned(const char *text) {
    const char *start;
    size_t len;
    if (!ht_sync_stored_content(text, &start, &len)) return NULL;
    assert_true(start >= text && start + len <= text + strlen(text));
    json_t *value = json_loadb(start, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_non_null(value);
    return value;
}

static void assert_content(const char *text, const char *expected) {
    json_t *got = scanned(text), *want = json_loads(expected, JSON_DECODE_ANY, NULL);
    assert_non_null(got);
    assert_non_null(want);
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
}

static void test_stored_content_found_wherever_it_stands(void **state) {
    (void)state;
    assert_content("{\"content\":{\"body\":\"hi\"},\"type\":\"m.room.message\"}", "{\"body\":\"hi\"}");
    assert_content("{\"auth_events\":[\"$a\",\"$b\"],\"content\":{\"n\":-12},\"depth\":3}", "{\"n\":-12}");
    assert_content("{\"hashes\":{\"sha256\":\"x\"},\"prev_events\":[[\"$a\",{}]],\"content\":[1,{\"a\":[]}]}",
                   "[1,{\"a\":[]}]");
    /* Brackets, quotes and escapes inside strings, before and in the content. */
    assert_content("{\"origin\":\"}{][\\\"\",\"content\":{\"body\":\"a \\\"}\\\\\\\" ]\",\"x\":\"\\u00e9\"}}",
                   "{\"body\":\"a \\\"}\\\\\\\" ]\",\"x\":\"\\u00e9\"}");
    assert_content(" {\n \"content\" : { \"a\" : true } ,\n \"type\" : \"t\" }\n", "{\"a\":true}");
    assert_content("{\"content\":null}", "null");
    assert_content("{\"content\":\"just text\"}", "\"just text\"");
    assert_content("{\"contents\":{\"no\":1},\"content\":{\"yes\":2},\"content_\":3}", "{\"yes\":2}");
}

static void test_stored_content_refuses_what_the_general_path_handles(void **state) {
    (void)state;
    const char *refused[] = {
        "{\"type\":\"m.room.message\"}",                                 /* no content */
        "{}",
        "{\"content\":{\"a\":1},\"content\":{\"a\":2}}",                 /* repeated */
        "{\"\\u0063ontent\":{\"a\":1},\"type\":\"t\"}",                  /* an escaped key */
        "{\"content\":{},\"redacts\":\"$e\"}",                           /* redacts at the top */
        "[\"content\",{}]",                                              /* not an object */
        "\"content\"",
        "",
        "{\"content\":}",
        "{\"content\" {}}",
        "{\"content\":{} \"type\":\"t\"}",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        const char *start = NULL;
        size_t len = 0;
        if (ht_sync_stored_content(refused[i], &start, &len)) fail_msg("accepted: %s", refused[i]);
    }
}

/* ---- random events --------------------------------------------------------- */

static unsigned seed = 20261207;

static unsigned next_random(unsigned bound) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % bound;
}

/* A string of characters a JSON writer must treat with care. */
static json_t *random_string(void) {
    static const char *const pieces[] = {"a", "\"", "\\", "{", "}", "[", "]", ",", ":", " ", "\n", "\t",
                                         "\x01", "\xc3\xa9", "\xf0\x9f\x99\x82", "\xe2\x80\xa8", "content", "/"};
    char text[128] = "";
    size_t n = next_random(12);
    for (size_t i = 0; i < n; i++) strcat(text, pieces[next_random(sizeof pieces / sizeof *pieces)]);
    return json_string(text);
}

static json_t *random_value(int depth) {
    switch (next_random(depth > 3 ? 5 : 7)) {
    case 0: return random_string();
    case 1: return json_integer((json_int_t)next_random(2000000) - 1000000);
    case 2: return json_true();
    case 3: return json_false();
    case 4: return json_null();
    case 5: {
        json_t *object = json_object();
        for (unsigned i = next_random(5); i > 0; i--) {
            json_t *key = random_string();
            json_object_set_new(object, json_string_value(key), random_value(depth + 1));
            json_decref(key);
        }
        return object;
    }
    default: {
        json_t *array = json_array();
        for (unsigned i = next_random(5); i > 0; i--) json_array_append_new(array, random_value(depth + 1));
        return array;
    }
    }
}

static void test_stored_content_equals_what_jansson_reads(void **state) {
    (void)state;
    const size_t layouts[] = {JSON_COMPACT, JSON_COMPACT | JSON_SORT_KEYS, JSON_INDENT(2),
                              JSON_COMPACT | JSON_ENSURE_ASCII, JSON_INDENT(1) | JSON_ESCAPE_SLASH};
    for (int round = 0; round < 2000; round++) {
        json_t *event = json_object();
        /* Fields around the content, as a PDU has them. */
        for (unsigned i = next_random(4); i > 0; i--) {
            char key[16];
            snprintf(key, sizeof key, "field%u", i);
            json_object_set_new(event, key, random_value(1));
        }
        json_t *content = random_value(0);
        json_object_set(event, "content", content);
        for (unsigned i = next_random(3); i > 0; i--) {
            char key[16];
            snprintf(key, sizeof key, "after%u", i);
            json_object_set_new(event, key, random_value(1));
        }
        char *text = json_dumps(event, layouts[round % (sizeof layouts / sizeof *layouts)]);
        json_t *got = scanned(text);
        if (!got || !json_equal(got, content)) fail_msg("round %d: %s", round, text);
        json_decref(got);
        /* Cut anywhere, the scan refuses or stays inside the text. */
        size_t length = strlen(text);
        for (size_t cut = 0; cut < length; cut += 1 + length / 16) {
            char *prefix = malloc(cut + 1);
            memcpy(prefix, text, cut);
            prefix[cut] = '\0';
            json_decref(scanned(prefix));
            free(prefix);
        }
        free(text);
        json_decref(content);
        json_decref(event);
    }
}

static bool span_is(ht_json_span span, const char *text) {
    return span.start && span.len == strlen(text) && memcmp(span.start, text, span.len) == 0;
}

static void test_top_members_are_found_and_nested_ones_are_not(void **state) {
    (void)state;
    static const char *const keys[] = {"auth_events", "unsigned", "signatures"};
    ht_json_span spans[3];
    const char *text = "{\"auth_events\":[\"$a\",\"$b\"],\"content\":{\"unsigned\":1,\"x\":\"\\\"unsigned\\\":\"},"
                       "\"signatures\":{\"s\":{\"k\":\"v\"}}, \"type\" : \"m\"}";
    assert_true(ht_json_top_members(text, keys, 3, spans));
    assert_true(span_is(spans[0], "[\"$a\",\"$b\"]"));
    assert_null(spans[1].start); /* only inside content, and inside a string */
    assert_true(span_is(spans[2], "{\"s\":{\"k\":\"v\"}}"));
    /* An empty object has none; a repeated or escaped key, or text that is
     * no object, is refused. */
    assert_true(ht_json_top_members("{}", keys, 3, spans));
    assert_null(spans[0].start);
    assert_false(ht_json_top_members("{\"unsigned\":{},\"unsigned\":{}}", keys, 3, spans));
    assert_false(ht_json_top_members("{\"uns\\u0069gned\":{}}", keys, 3, spans));
    assert_false(ht_json_top_members("[\"unsigned\"]", keys, 3, spans));
    assert_false(ht_json_top_members("{\"auth_events\":[\"$a\"", keys, 3, spans));
}

int run_sync_write_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stored_content_found_wherever_it_stands),
        cmocka_unit_test(test_stored_content_refuses_what_the_general_path_handles),
        cmocka_unit_test(test_stored_content_equals_what_jansson_reads),
        cmocka_unit_test(test_top_members_are_found_and_nested_ones_are_not),
    };
    return cmocka_run_group_tests_name("sync_write", tests, NULL, NULL);
}
