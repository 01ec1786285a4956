/* event_auth.h -- private to src/room: the authorization rules of room
 * versions 10 and 11, against any state.
 *
 * The spec runs the rules three times on a received event: against its own
 * auth events, against the state before it, against the current state (a
 * failure there "soft fails" it); state resolution runs them once more per
 * candidate against a partial state; the local send path runs them against
 * current state. One implementation serves all five: the caller says which
 * state by the ht_state_view it passes.
 *
 * Refusals are 403 M_FORBIDDEN naming the rule that failed, or 400
 * M_BAD_JSON when the rule that failed is about the event's own shape (no
 * membership, power levels that are not integers, an authoriser that is not
 * a user id): a client that sent it should hear that its request was
 * malformed, and to other servers both mean "rejected".
 *
 * The room version is passed by its id ("10", "11"); one that room_version.c
 * does not know is refused with M_UNSUPPORTED_ROOM_VERSION.
 *
 * Not here: signatures (rule "events must be signed by the sender's server",
 * 4.2 "signed by the authorising server"), which pdu.c checks before the
 * rules run, and the redaction power check ("handling redactions"), which
 * happens when a redaction is applied. */
#ifndef HT_ROOM_EVENT_AUTH_H
#define HT_ROOM_EVENT_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "matrix/error.h"
#include "room/pdu_view.h"
#include "room/room_version.h"
#include "util/arena.h"

/* The (type, state_key) pairs the spec's auth events selection names for ev
 * (none for m.room.create), without duplicates, in the arena. */
size_t ht_auth_selection(ht_arena *arena, const ht_pdu *ev, const char *room_version, ht_state_key **out);

/* Rule 2, the first check on receipt: ev's own auth_events list has no
 * duplicate keys, nothing the selection would not name, no rejected or
 * unknown event, no event of another room, and a create event. HT_OK for a
 * create event (rule 1 applies instead). */
ht_error ht_auth_check_auth_events(ht_arena *arena, const ht_pdu *ev, const ht_event_source *src,
                                   const char *room_version);

/* Every other rule of the room version against a state. Events the state
 * names that are rejected count as absent; one that src does not know, or
 * that is not what the state says it is, refuses ev (the state is broken, and
 * guessing could let the event in). */
ht_error ht_auth_check_pdu(ht_arena *arena, const ht_pdu *ev, const ht_state_view *state,
                           const ht_event_source *src, const char *room_version);

/* Check 4 on receipt of a PDU: rule 2, then the other rules against the
 * state that ev's auth events form. */
ht_error ht_auth_check_by_auth_events(ht_arena *arena, const ht_pdu *ev, const ht_event_source *src,
                                      const char *room_version);

#endif
