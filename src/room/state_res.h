/* state_res.h -- private to src/room: state resolution version 2, the
 * spec's rooms/fragments/v2-state-res.md (room versions 2 to 11; hometab
 * knows 10 and 11).
 *
 * Pure: it reads events through an ht_event_source and writes nothing; the
 * caller persists the answer. Everything it allocates is in the arena. */
#ifndef HT_ROOM_STATE_RES_H
#define HT_ROOM_STATE_RES_H

#include <stdbool.h>
#include <stddef.h>

#include "room/pdu_view.h"
#include "room/state_map.h"
#include "util/arena.h"

/* The bounds of one resolution. States: a PDU cites at most 20 prev events,
 * so 64 leaves room for the forward extremities of a room that forked a lot
 * (and fits the one-bit-per-state sets of the auth difference). Events: the
 * distinct events read, every state's events and all their auth chains; a
 * room of N members who each joined and changed their name once reads 2N.
 * 50,000 is a room of some 20,000 such members. The resolution itself takes
 * about 200 bytes per event read (3 MB for a 5,000-member room, measured by
 * `make bench-stateres`); the event source holds the parsed events, about
 * 3.5 KB each as jansson objects in the tests' table, so some 180 MB at the
 * bound: fine natively, too much for a browser tab, where the host should
 * pass smaller bounds to ht_state_resolve_bounded. */
enum { HT_STATE_RES_MAX_STATES = 64, HT_STATE_RES_MAX_EVENTS = 50000 };

typedef struct ht_state_res_bounds {
    size_t max_states; /* at most HT_STATE_RES_MAX_STATES */
    size_t max_events;
} ht_state_res_bounds;

/* Resolves the states (each the state after one of an event's prev events,
 * or after one forward extremity) into *out, which the caller initialised
 * with ht_state_map_init. False, with *out untouched, when the inputs exceed
 * the bounds, when an event any state or auth chain names is missing from
 * src, or when events of several rooms are mixed: the caller then refuses
 * the event that needed the resolution. */
bool ht_state_resolve(ht_arena *arena, const ht_state_map *const *states, size_t count, const ht_event_source *src,
                      const char *room_version, ht_state_map *out);
/* The same within other bounds (tests; a host that must stay smaller). */
bool ht_state_resolve_bounded(ht_arena *arena, const ht_state_map *const *states, size_t count,
                              const ht_event_source *src, const char *room_version,
                              const ht_state_res_bounds *bounds, ht_state_map *out);

#endif
