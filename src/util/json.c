#include "util/json.h"

static void release(void *json) { json_decref(json); }

json_t *ht_json_keep(ht_arena *arena, json_t *json) {
    if (json) ht_arena_on_reset(arena, release, json);
    return json;
}

json_t *ht_json_parse(ht_arena *arena, const char *text) {
    return ht_json_keep(arena, text ? json_loads(text, 0, NULL) : NULL);
}

const char *ht_json_str(json_t *obj, const char *key) {
    return json_string_value(json_object_get(obj, key));
}
