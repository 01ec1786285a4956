/* room.h -- the rooms engine: everything that makes or reads room events.
 *
 * Handlers never write events to the store themselves: they describe the
 * event (ht_new_event) and ht_room_send() checks it against the room's
 * authorization rules, builds the stored form (prev_events, auth_events,
 * depth, content hash, reference-hash event id), and persists it together
 * with the room state and membership it changes. Reads go through
 * ht_room_event_visible() (history visibility) and ht_room_event_json()
 * (the client format). Room version 10 semantics throughout. */
#ifndef HT_ROOM_H
#define HT_ROOM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "matrix/env.h"
#include "matrix/error.h"
#include "room/pdu.h"
#include "store/rooms.h"
#include "util/arena.h"

#define HT_ROOM_VERSION_DEFAULT "10"
enum { HT_MAX_EVENT_BYTES = 65536, HT_MAX_PREV_EVENTS = 20, HT_MAX_AUTH_EVENTS = 10 };

typedef struct ht_new_event {
    const char *room_id;
    const char *type;
    const char *state_key; /* NULL for a message event */
    const char *sender;
    json_t *content;       /* borrowed */
    const char *redacts;   /* m.room.redaction: the event redacted */
    const char *txn_id;    /* with device_id: for unsigned.transaction_id */
    const char *device_id;
} ht_new_event;

/* Authorizes and stores one event. On success *event_id (arena) and
 * *stream are set. */
ht_error ht_room_send(ht_env *env, const ht_new_event *ev,
                      const char **event_id, int64_t *stream);

/* What became of an event from another server (ht_room_receive). */
typedef enum ht_receive_outcome {
    HT_RECEIVED_TIMELINE,    /* accepted: in the graph and shown */
    HT_RECEIVED_SOFT_FAILED, /* in the graph, never shown: it fails against the current state */
    HT_RECEIVED_REJECTED,    /* fails the authorization rules: kept only as rejected */
    HT_RECEIVED_OUTLIER,     /* kept as an outlier, as asked */
    HT_RECEIVED_DUPLICATE,   /* already here */
    HT_RECEIVED_DROPPED,     /* not kept: malformed, badly signed, of a room we do not know */
    HT_RECEIVED_MISSING,     /* not kept yet: it needs the events listed in `missing` */
} ht_receive_outcome;

typedef struct ht_received {
    ht_receive_outcome outcome;
    const char *event_id;       /* NULL if it has none (malformed) */
    const char *reason;         /* why it was dropped, rejected or soft-failed */
    const char **missing;       /* HT_RECEIVED_MISSING: its auth or prev events to fetch first */
    size_t missing_count;
} ht_received;

/* How an event from elsewhere is to be taken (ht_room_receive). */
typedef struct ht_receive_opts {
    /* Kept as an outlier: without its prev events and without the state
     * before it (events fetched to check others, the state a join gives). */
    bool as_outlier;
    /* The state before it, given rather than worked out from its prev
     * events (event ids, all stored already): our own join, after a
     * send_join gave the room's state; an event after a gap, with the state
     * its sender gave at its prev events (federation/gap.c). */
    const char *const *state_before;
    size_t state_before_count;
    /* With state_before: also judged against the room's current state
     * (check 6, soft failure), as an event of a room we are in is; our own
     * join, into a room we were not in, has no current state to meet. */
    bool check_current_state;
    /* History backfilled from another server, to be stored at this position
     * (below 1, see room/graph.h): checked as far as its own auth events go
     * (checks 1 to 4; the state before it is not known here), shown in
     * /messages, never changing the room's state. An event already here,
     * outlier or not, is a duplicate. */
    int64_t historical_stream;
} ht_receive_opts;

/* Takes one event (a PDU) that another server made into a room of version
 * room_version, checking it as the server-server spec's "Checks performed
 * on receipt of a PDU" say. lookup finds servers' public keys (pdu.h). An
 * event kept as an outlier before joins the timeline when it comes again
 * without as_outlier. opts may be NULL. Everything is in the caller's
 * transaction. */
ht_received ht_room_receive(ht_env *env, const char *room_version, json_t *pdu, ht_pdu_key_lookup *lookup,
                            void *key_ctx, const ht_receive_opts *opts);

/* The event another server's user would send, as a template for it to sign
 * (make_join, make_leave): judged by the rules against the current state,
 * with prev events, auth events and depth filled in, not signed. */
ht_error ht_room_template(ht_env *env, const ht_new_event *ev, json_t **pdu, const char **room_version);

/* Writes stored state events of a room into its current state, each key
 * as the event that changes it would (its membership, the unread counts'
 * bookkeeping), at a new stream position: a room's state taken ahead of
 * the event that will carry it, a slice at a time (a big room's join,
 * whose state the resident gave: federation/join_intake.c). The event then
 * finds its state in place and changes only its own key. Keys already
 * holding the event given are left. */
ht_error ht_room_stage_state(ht_env *env, const char *room_version, const char *room_id, const char *const *ids,
                             size_t count);

/* The state before a stored event, as event ids (in the arena): the state
 * after it less the event itself (the member event it replaced, if any,
 * back in its place). False if its state is unknown (an outlier). */
bool ht_room_state_ids_before(ht_env *env, const char *event_id, const char ***ids, size_t *count);
/* Every event in the auth chains of the given events (transitively, the
 * events themselves not included unless reached), at most max; false if
 * there are more. In the arena. Each event's auth events are read from its
 * stored text alone (ht_pdu_text_auth_events), not a parse of all of it.
 * `texts`: NULL, or the given events' stored texts as the caller read them
 * already (texts[i] is ids[i]'s, or NULL), so that they are not read
 * again: a big room's state is most of its own chain. */
bool ht_room_auth_chain(ht_env *env, const char *const *ids, const char *const *texts, size_t count, size_t max,
                        const char ***out, size_t *out_count);

/* Our event, judged, built and signed as ht_room_send would, but not
 * stored: an invite to another server's user goes there first and is
 * stored (ht_room_receive) once that server signed it too. */
ht_error ht_room_make(ht_env *env, const ht_new_event *ev, json_t **pdu, const char **event_id);

/* An invite from another server to one of our users, into a room this
 * server may not know: kept as an outlier (its signatures checked, not the
 * room's rules: we hold none of its state), with the invitee's membership
 * "invite" and the room's stripped state (what the invitee is shown). */
ht_received ht_room_take_invite(ht_env *env, const char *room_version, json_t *pdu, json_t *stripped_state,
                                ht_pdu_key_lookup *lookup, void *key_ctx);
/* A membership event of ours for a room this server is not in (the leave
 * that declines a remote invite): kept as an outlier, the membership set. */
ht_error ht_room_take_own_outlier(ht_env *env, const char *room_version, json_t *pdu);

/* Creates the rooms row with a fresh room id. */
ht_error ht_room_new(ht_env *env, const char *creator,
                     const char *version, bool published, const char **room_id);
bool ht_room_version_supported(const char *version);
/* Types the authorization rules read only as state events (create, member,
 * power levels, join rules, third-party invites): never sent as messages. */
bool ht_room_type_needs_state_key(const char *type);

/* Content of the current state event, or NULL. Borrowed from the arena's
 * lifetime: the caller must not decref. */
json_t *ht_room_state_content(ht_env *env, const char *room_id,
                              const char *type, const char *state_key);
/* Content of the state event in force at a stream position, or NULL (borrowed). */
json_t *ht_room_state_content_at(ht_env *env, const char *room_id,
                                 const char *type, const char *state_key, int64_t at);

/* Power levels (room version 10), from a m.room.power_levels content or
 * NULL when the room has none. */
int64_t ht_power_user(json_t *pl, const char *user_id, const char *creator);
int64_t ht_power_for_event(json_t *pl, const char *type, bool is_state);
int64_t ht_power_for_action(json_t *pl, const char *action);

/* Restricted rooms (restricted.c): is the join rule "restricted" or
 * "knock_restricted"; is the user joined to a room that the join rules'
 * allow list names with type m.room_membership? */
bool ht_room_rule_restricted(const char *join_rule);
bool ht_room_allow_satisfied(ht_env *env, json_t *join_rules, const char *user_id);

/* May this user see this event (the room's history visibility)? */
bool ht_room_event_visible(ht_env *env, const char *user_id,
                           const ht_event_row *ev);

typedef struct ht_viewer {
    const char *user_id;
    const char *device_id;
} ht_viewer;

/* The event as clients see it: content, event_id, sender, type, state_key,
 * origin_server_ts, room_id (if with_room_id), unsigned (age,
 * transaction_id for the sender's own device, prev_content,
 * redacted_because). New reference. */
json_t *ht_room_event_json(ht_env *env, const ht_event_row *ev,
                           const ht_viewer *viewer, int64_t now_ms, bool with_room_id);

/* The event's content object (borrowed, lives in the arena's lifetime). */
json_t *ht_room_event_content(ht_arena *arena, const ht_event_row *ev);
/* The content of the event at `stream`, or NULL (borrowed: the caller must
 * not change or decref it). Kept parsed across requests (event_cache.h). */
json_t *ht_room_content_at_stream(ht_env *env, int64_t stream);

/* Room version 10's redaction algorithm: a new, redacted copy of a stored
 * event (ht_pdu_redact in pdu.h takes the room's version). */
json_t *ht_redact_event(json_t *pdu);

#endif
