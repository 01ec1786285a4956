/* json.h -- small helpers over jansson used across the core. */
#ifndef HT_UTIL_JSON_H
#define HT_UTIL_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

/* Ties the reference to the arena: released when the request ends. Returns
 * json (NULL stays NULL). */
json_t *ht_json_keep(ht_arena *arena, json_t *json);
/* Parses text into a value kept by the arena; NULL if not JSON. */
json_t *ht_json_parse(ht_arena *arena, const char *text);
/* How deep client JSON may nest. jansson itself allows 2048 levels, and
 * everything that later walks a value (canonical JSON, redaction, filters)
 * recurses; no Matrix body needs more than a handful. */
enum { HT_JSON_MAX_DEPTH = 64 };

/* True if text[0..len) nests arrays and objects no deeper than max_depth.
 * A linear scan that respects strings, run before parsing so a deep value
 * costs nothing to refuse. Says nothing else about validity. */
bool ht_json_depth_ok(const char *text, size_t len, int max_depth);

/* Compact JSON text of any value (object, array, string, number...) in
 * the arena; NULL only for NULL. jansson allocates through util/oom.h, so
 * this never fails quietly. */
char *ht_json_dump(ht_arena *arena, json_t *value);

/* The string at key, or NULL if missing or not a string. */
const char *ht_json_str(json_t *obj, const char *key);

/* A new array of the n strings. */
json_t *ht_json_string_array(const char *const *items, size_t n);

#endif
