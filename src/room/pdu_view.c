/* pdu_view.c -- reading a PDU once into the fields the rules use.
 *
 * Only JSON types are checked here (what a rule would otherwise trip over);
 * hashes, signatures, sizes and identifiers are the format checks done on
 * receipt before an event gets this far (pdu.c). */
#include "room/pdu_view.h"

#include <string.h>

#include "util/json.h"
#include "util/json_scan.h"

/* A string at key, or false if missing or not a string. */
static bool string_at(json_t *pdu, const char *key, const char **out) {
    json_t *v = json_object_get(pdu, key);
    *out = json_string_value(v);
    return *out != NULL;
}

static bool integer_at(json_t *pdu, const char *key, int64_t *out) {
    json_t *v = json_object_get(pdu, key);
    if (!json_is_integer(v)) return false;
    *out = json_integer_value(v);
    return true;
}

/* An array of at most `most` strings, as an arena array. */
static bool id_list(ht_arena *arena, json_t *list, size_t most, const char ***out, size_t *count) {
    if (!json_is_array(list) || json_array_size(list) > most) return false;
    size_t n = json_array_size(list);
    const char **ids = ht_arena_alloc(arena, (n ? n : 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        if (!(ids[i] = json_string_value(json_array_get(list, i)))) return false;
    *out = ids;
    *count = n;
    return true;
}

bool ht_pdu_view(ht_arena *arena, json_t *pdu, const char *event_id, const char *room_version, ht_pdu *out) {
    ht_pdu v = {.event_id = event_id};
    const ht_room_version *version = ht_room_version_get(room_version);
    if (!json_is_object(pdu) || !event_id || !version) return false;
    if (!string_at(pdu, "room_id", &v.room_id) || !string_at(pdu, "type", &v.type) ||
        !string_at(pdu, "sender", &v.sender))
        return false;
    json_t *state_key = json_object_get(pdu, "state_key");
    if (state_key && !(v.state_key = json_string_value(state_key))) return false;
    if (!integer_at(pdu, "origin_server_ts", &v.origin_server_ts) || !integer_at(pdu, "depth", &v.depth))
        return false;
    v.content = json_object_get(pdu, "content");
    if (!json_is_object(v.content)) return false;
    if (!id_list(arena, json_object_get(pdu, "auth_events"), HT_PDU_MAX_AUTH_EVENTS, &v.auth_events,
                 &v.auth_count) ||
        !id_list(arena, json_object_get(pdu, "prev_events"), HT_PDU_MAX_PREV_EVENTS, &v.prev_events,
                 &v.prev_count))
        return false;
    /* Version 11 moved `redacts` into content (MSC2174); a top-level one
     * there is unprotected by the redaction algorithm and means nothing. */
    json_t *redacts = json_object_get(version->redacts_in_content ? v.content : pdu, "redacts");
    if (redacts && !(v.redacts = json_string_value(redacts)) && strcmp(v.type, "m.room.redaction") == 0)
        return false;
    *out = v;
    return true;
}

/* A stored array of plain strings (no escapes: event ids as canonical
 * JSON writes them), its items found by the scan (util/json_scan.h) and
 * copied into the arena; false for anything else, and for more than
 * `most`. */
static bool plain_strings(ht_arena *arena, ht_json_span span, size_t most, const char ***ids, size_t *count) {
    ht_json_items items;
    if (!ht_json_items_begin(span, &items)) return false;
    const char **out = ht_arena_alloc(arena, (most ? most : 1) * sizeof *out);
    size_t n = 0;
    ht_json_span item;
    int got;
    while ((got = ht_json_items_next(&items, &item)) == 1) {
        if (n == most || item.len < 2 || *item.start != '"' || memchr(item.start + 1, '\\', item.len - 2))
            return false;
        out[n++] = ht_arena_strndup(arena, item.start + 1, item.len - 2);
    }
    *ids = out;
    *count = n;
    return got == 0;
}

bool ht_pdu_text_auth_events(ht_arena *arena, const char *text, const char ***ids, size_t *count) {
    static const char *const key[] = {"auth_events"};
    ht_json_span span;
    if (ht_json_top_members(text, key, 1, &span) && span.start &&
        plain_strings(arena, span, HT_PDU_MAX_AUTH_EVENTS, ids, count))
        return true;
    /* Not as this server stores events: the general way. */
    return id_list(arena, json_object_get(ht_json_parse(arena, text), "auth_events"), HT_PDU_MAX_AUTH_EVENTS, ids,
                   count);
}
