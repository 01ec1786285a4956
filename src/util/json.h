/* json.h -- small helpers over jansson used across the core. */
#ifndef HT_UTIL_JSON_H
#define HT_UTIL_JSON_H

#include <jansson.h>

#include "util/arena.h"

/* Ties the reference to the arena: released when the request ends. Returns
 * json (NULL stays NULL). */
json_t *ht_json_keep(ht_arena *arena, json_t *json);
/* Parses text into a value kept by the arena; NULL if not JSON. */
json_t *ht_json_parse(ht_arena *arena, const char *text);
/* The string at key, or NULL if missing or not a string. */
const char *ht_json_str(json_t *obj, const char *key);

#endif
