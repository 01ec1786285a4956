/* fuzz_canonical.c -- libFuzzer target for canonical JSON (util/canonical.c)
 * on bytes as a peer might send them.
 *
 * The input goes through ht_canonical_parse, the entry for received JSON.
 * Besides the sanitizers' checks it asserts what the hashes and signatures
 * rely on: whatever the strict parse accepts has a canonical form; that form
 * parses back to an equal value and is its own canonical form (one byte
 * string per value); and a refusal comes with a message that is valid UTF-8,
 * since it goes into a JSON error body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/arena.h"
#include "util/canonical.h"

static void check(int ok) {
    if (!ok) abort(); /* libFuzzer reports the input that got here */
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
    free(text);
    free(text2);
    json_decref(again);
    json_decref(value);
    return 0;
}
