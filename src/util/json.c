#include "util/json.h"

#include <stdlib.h>

static void release(void *json) { json_decref(json); }

json_t *ht_json_keep(ht_arena *arena, json_t *json) {
    if (json) ht_arena_on_reset(arena, release, json);
    return json;
}

json_t *ht_json_parse(ht_arena *arena, const char *text) {
    /* Any value: stored JSON is not always an object (a one-time key may
     * be a bare string). */
    return ht_json_keep(arena, text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL);
}

const char *ht_json_str(json_t *obj, const char *key) {
    return json_string_value(json_object_get(obj, key));
}

bool ht_json_depth_ok(const char *text, size_t len, int max_depth) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') i++; /* the escaped character cannot end the string */
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return false;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return true;
}

json_t *ht_json_string_array(const char *const *items, size_t n) {
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(list, json_string(items[i]));
    return list;
}

char *ht_json_dump(ht_arena *arena, json_t *value) {
    if (!value) return NULL;
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    char *copy = ht_arena_strdup(arena, text);
    free(text);
    return copy;
}
