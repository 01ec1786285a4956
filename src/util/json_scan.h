/* json_scan.h -- the top-level members of a stored JSON object's text,
 * found without parsing it.
 *
 * A stored event is its PDU's JSON text, written by this server or checked
 * when it arrived. Much of what is done with one needs only a member or two
 * of it (a /sync takes its "content" as is; another server takes the whole
 * text; an auth chain walk needs its "auth_events"), and a parse into a
 * jansson tree costs most of such a request (a big room's /sync or
 * send_join). This scan only skips over values: no tree, no allocation. */
#ifndef HT_UTIL_JSON_SCAN_H
#define HT_UTIL_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ht_json_span {
    const char *start; /* NULL: the member is absent */
    size_t len;
} ht_json_span;

/* For each of the n keys, the text of its top-level value in `json`
 * (spans[i]). False when the scan cannot vouch for the answer: the text is
 * not an object it understands, a key is escaped (it could spell one of
 * the keys), or one of the keys is repeated. The text is trusted to be JSON
 * (the store holds only JSON it wrote or checked); on text that is not,
 * the scan still never reads past its end. */
bool ht_json_top_members(const char *json, const char *const *keys, size_t n, ht_json_span *spans);

/* The items of an array's text, one at a time, so that a long array (a
 * big room's send_join answer) can be read a slice a call: `at` is where
 * the scan goes on. */
typedef struct ht_json_items {
    const char *at;
    size_t taken;
} ht_json_items;
/* Starts at the array `array` (a span this scan found); false if it is not
 * an array. */
bool ht_json_items_begin(ht_json_span array, ht_json_items *items);
/* 1 with the next item's text, 0 at the array's end, -1 when the text is
 * not an array the scan understands. */
int ht_json_items_next(ht_json_items *items, ht_json_span *item);

#endif
