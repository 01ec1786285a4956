/* graph.h -- private to src/room: a room's events as a graph, and the
 * states along it.
 *
 * Every event enters a room through ht_room_persist(), whoever made it:
 * ht_room_send() for our own, ht_room_receive() for another server's. The
 * caller has judged the event (the authorization rules, and for a received
 * one its signatures and hashes); persisting stores it, its edges, its
 * standing, and moves the room's forward extremities and current state.
 *
 * The current state of a room is always the resolution of the states after
 * its forward extremities. While a room has one extremity (every room only
 * this server writes, and any room between forks), that is the state after
 * that event, and the state log holds it at the event's position: nothing
 * else is stored (schema migration 8). Only when the graph forks are states
 * stored apart (state groups) and resolved. */
#ifndef HT_ROOM_GRAPH_H
#define HT_ROOM_GRAPH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "matrix/env.h"
#include "matrix/error.h"
#include "room/pdu_view.h"
#include "room/room_version.h"
#include "room/state_map.h"
#include "store/rooms.h"

/* Events of the store as the rules read them, parsed once per request and
 * cached in the arena; an event stored as rejected reads as rejected. The
 * room version says where redacts lives. */
ht_event_source ht_room_event_source(ht_env *env, const char *room_version);
/* The room's current state, looked up key by key in the store; the view
 * remembers the keys it read, so it serves one judgement made before the
 * request writes, not a request's whole life. */
ht_state_view ht_room_current_view(ht_env *env, const char *room_id);

/* The whole current state, or the state after a stored event, as a map in
 * the arena (initialised here). The state after an outlier or a rejected
 * event is unknown: false. */
void ht_room_current_state(ht_env *env, const char *room_id, ht_state_map *out);
bool ht_room_state_after(ht_env *env, const ht_event_row *ev, ht_state_map *out);

/* A state event of room_id the store holds: its type and state key (in
 * the arena); false for any other (another room's, not a state event,
 * unknown): state another server gives for a room must be of that room.
 * Only the event's key is read (a join's state: 10,000 of them). */
bool ht_room_stored_state_of(ht_env *env, const char *event_id, const char *room_id, const char **type,
                             const char **state_key);

/* What ht_room_persist stores. */
typedef struct ht_persist {
    const ht_pdu *pdu;          /* the event (its id, type, edges...) */
    const char *json;           /* its canonical JSON, as stored and served */
    ht_event_status status;
    /* The state before the event; NULL means the room's current state (our
     * own events, which follow every forward extremity). */
    const ht_state_map *state_before;
    const char *txn_id, *device_id; /* our own events: the client's transaction */
    /* Its prev events are all of the room's forward extremities (read in
     * the same transaction): it will be the only one, with no need to read
     * them again. */
    bool follows_every_extremity;
    int64_t outlier_stream;     /* stored already as an outlier there: moved, not inserted */
    /* History backfilled from another server: stored at this position, below
     * 1 (older than anything shown, so /messages shows it before the join and
     * /sync never as new), and nothing else: its state is unknown, as an
     * outlier's, and it moves no extremity, no state, no outbox. */
    int64_t historical_stream;
    /* Our own timeline event: the servers it goes to, if read already
     * (ht_room_event_servers, to know whether to sign it); else read here. */
    bool servers_read;
    const char *const *servers;
    size_t server_count;
} ht_persist;

/* The servers our own event goes to: every other server with members in
 * the room, and a member event's subject's server (who may be leaving it);
 * in the arena. */
size_t ht_room_event_servers(ht_env *env, const ht_pdu *pdu, const char *const **out);

/* Stores the event and moves the room's graph and state. A timeline event
 * replaces the extremities it follows and becomes one; its state (the state
 * before it, and itself if it is state) becomes the room's current state,
 * or, where other extremities remain, is resolved with theirs. Outliers and
 * rejected events change nothing but the store. A timeline event is then
 * judged against every local member's push rules (push_actions.h): the one
 * place both our events and other servers' pass. *row (may be NULL) gets
 * the stored row. */
ht_error ht_room_persist(ht_env *env, const char *room_version, const ht_persist *p, ht_event_row *row);

/* Applies a redaction the caller allowed: the target keeps only what the
 * room version's redaction algorithm keeps, and leaves the relations and
 * search indexes. A target not (yet) stored, or already redacted, is left. */
ht_error ht_room_redact_target(ht_env *env, const ht_room_version *version, const char *target_id,
                               const char *redaction_id);

#endif
