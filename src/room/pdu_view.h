/* pdu_view.h -- private to src/room: an event as the authorization rules
 * and state resolution read it, and the two ways they reach other events.
 *
 * The rules never touch the store: they see events through an
 * ht_event_source (the store, or a test's table) and a state through an
 * ht_state_view, so the same code judges a new local event against current
 * state, a received one against its auth events or the state before it,
 * and the candidates of state resolution against a partial state. */
#ifndef HT_ROOM_PDU_VIEW_H
#define HT_ROOM_PDU_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "room/pdu.h"
#include "util/arena.h"

/* An event as the rules read it; parsed once. Every string is borrowed from
 * the parsed PDU (or the arena), which must outlive the view. */
typedef struct ht_pdu {
    const char *event_id, *room_id, *type, *state_key /* NULL: not a state event */, *sender;
    int64_t origin_server_ts, depth;
    json_t *content; /* borrowed */
    const char **auth_events;
    size_t auth_count;
    const char **prev_events;
    size_t prev_count;
    const char *redacts; /* top level (v10) or content (v11); NULL if none */
    bool rejected;       /* rejected on receipt: never counts in auth */
} ht_pdu;

/* Reads a PDU's fields, checking their JSON types; false if malformed (a
 * field missing or of the wrong type, more prev or auth events than a PDU
 * may cite: HT_PDU_MAX_PREV_EVENTS, HT_PDU_MAX_AUTH_EVENTS, which bound the
 * rules' loops) or if the room version is unknown. The version says where
 * `redacts` lives: at the top level in version 10, in content from version
 * 11. `rejected` starts false. */
bool ht_pdu_view(ht_arena *arena, json_t *pdu, const char *event_id, const char *room_version, ht_pdu *out);
/* The auth events of a stored event's text, read without parsing the rest
 * (util/json_scan.h): a walk over a big room's auth chain needs no more of
 * each event. False when the text does not give them as a PDU must. */
bool ht_pdu_text_auth_events(ht_arena *arena, const char *text, const char ***ids, size_t *count);

/* Where the rules find events by id (the store, or a test's table). NULL:
 * unknown. What it returns must live as long as the caller's arena. */
typedef struct ht_event_source {
    const ht_pdu *(*get)(void *self, const char *event_id);
    void *self;
} ht_event_source;

/* A state to check against: the event id at (type, state_key), or NULL.
 * Looked up, not listed, so checking a message in a 5,000-member room reads
 * five entries, not 5,000. */
typedef struct ht_state_view {
    const char *(*get)(void *self, const char *type, const char *state_key);
    void *self;
} ht_state_view;

/* A key of the room state. */
typedef struct ht_state_key {
    const char *type, *state_key;
} ht_state_key;

#endif
