/* fuzz_canonical.c -- libFuzzer target for canonical JSON (util/canonical.c)
 * on bytes as a peer might send them.
 *
 * The input goes through ht_canonical_parse, the entry for received JSON.
 * Besides the sanitizers' checks it asserts what the hashes and signatures
 * rely on: whatever the strict parse accepts has a canonical form; that form
 * parses back to an equal value and is its own canonical form (one byte
 * string per value); and a refusal comes with a message that is valid UTF-8,
 * since it goes into a JSON error body. For an object, the places
 * ht_canonical_write_places gives are right: the same bytes, each present
 * member's value where it says, and a member put in where an absent one
 * would stand gives the bytes of the object with that member. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/arena.h"
#include "util/canonical.h"

static void check(int ok) {
    if (!ok) abort(); /* libFuzzer reports the input that got here */
}

/* The places of a few keys, the object's first among them. */
static void check_places(json_t *object, const char *text, size_t len) {
    void *iter = json_object_iter(object);
    const char *first = iter ? json_object_iter_key(iter) : "first";
    ht_canonical_place at[] = {{.key = "content"}, {.key = "hashes"}, {.key = ""}, {.key = "\xef\xbf\xbf"},
                               {.key = first}};
    enum { N = sizeof at / sizeof *at };
    ht_buf out = {0};
    check(ht_canonical_write_places(&out, object, at, N, NULL));
    check(out.len == len && memcmp(out.data, text, len) == 0);
    for (size_t k = 0; k < N; k++) {
        json_t *value = json_object_get(object, at[k].key);
        check(at[k].present == (value != NULL) && at[k].start <= at[k].end && at[k].end <= len);
        if (value) {
            size_t vlen;
            char *v = ht_canonical_json(value, &vlen, NULL);
            check(v && vlen == at[k].end - at[k].start && memcmp(text + at[k].start, v, vlen) == 0);
            free(v);
            continue;
        }
        /* Put "key":null in where it would stand: the object with it. */
        size_t p = at[k].start;
        check(p == at[k].end && p >= 1);
        ht_buf put = {0};
        ht_buf_append(&put, text, p);
        if (p > 1) ht_buf_append(&put, ",", 1);
        check(ht_canonical_write_string(&put, at[k].key, strlen(at[k].key)));
        ht_buf_puts(&put, ":null");
        if (p == 1 && text[p] != '}') ht_buf_append(&put, ",", 1);
        ht_buf_append(&put, text + p, len - p);
        json_t *with = json_deep_copy(object);
        json_object_set_new(with, at[k].key, json_null());
        size_t wlen;
        char *w = ht_canonical_json(with, &wlen, NULL);
        check(w && wlen == put.len && memcmp(w, put.data, wlen) == 0);
        free(w);
        json_decref(with);
        ht_buf_free(&put);
    }
    ht_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static ht_arena arena;
    if (!arena.block_size) ht_arena_init(&arena, 4096);
    ht_canonical_error err;
    json_t *value = ht_canonical_parse((const char *)data, size, &err);
    if (!value) {
        json_t *message = json_string(ht_canonical_error_text(&arena, &err));
        check(message != NULL);
        json_decref(message);
        ht_arena_reset(&arena);
        return 0;
    }
    size_t len;
    char *text = ht_canonical_json(value, &len, &err);
    check(text != NULL);
    json_t *again = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    check(again != NULL && json_equal(value, again));
    size_t len2;
    char *text2 = ht_canonical_json(again, &len2, NULL);
    check(text2 != NULL && len2 == len && memcmp(text, text2, len) == 0);
    if (json_is_object(value)) check_places(value, text, len);
    free(text);
    free(text2);
    json_decref(again);
    json_decref(value);
    return 0;
}
