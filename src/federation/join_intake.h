/* join_intake.h -- a send_join answer taken in slices (remote_join.c).
 *
 * A big room's state and auth chain would take a whole second or more to
 * check in one call into the core, serving no one else meanwhile. The
 * answer is read a slice of events a pass (each parsed and its id worked
 * out), then put in order once, the reading kept with the answer between
 * the request's passes (ht_remote_keep); then each pass checks and keeps a
 * slice of the events, commits them and gives the host back its loop
 * (ht_remote_resume) until all are taken; then, as
 * many passes, the room's state is written into its current state
 * (ht_room_stage_state), and the join itself changes one key.
 *
 * Until the join, no user of this server is in the room: what it sees of
 * it is nothing, and events other servers send for it are not taken. A
 * join that fails after some passes leaves what they stored: checked
 * events, and the room's state as the resident gave it, which a second
 * attempt finds in place. */
#ifndef HT_FEDERATION_JOIN_INTAKE_H
#define HT_FEDERATION_JOIN_INTAKE_H

#include <jansson.h>
#include <stdbool.h>

#include "matrix/handler.h"
#include "matrix/remote.h"
#include "room/room_version.h"

typedef struct ht_join_intake ht_join_intake;

/* The most events a joined room may bring: its state and auth chain. */
enum { HT_JOIN_MAX_EVENTS = 100000 };

/* The reading of a send_join answer (`sent`, status 200, asked unparsed):
 * kept with the answer when the door can keep it, else tied to this pass
 * and read and taken in it whole. NULL, with *why, when the answer has no
 * state and auth chain arrays. */
ht_join_intake *ht_join_intake_of(ht_ctx *ctx, const ht_remote_answer *sent, const char **why);

typedef enum ht_intake_step {
    HT_INTAKE_DONE,   /* every event is taken */
    HT_INTAKE_MORE,   /* a slice is taken: commit it, then call again */
    HT_INTAKE_FAILED, /* *why says why */
} ht_intake_step;

/* Parses the next slice of the answer's events (scanned from its text:
 * util/json_scan.h), each with its id, and once all are, puts them in the
 * order to take them; DONE once that was done (at once when the reading is
 * not kept). HT_JOIN_MAX_EVENTS or more events fail. */
ht_intake_step ht_join_intake_read(ht_ctx *ctx, const ht_room_version *v, const ht_remote_answer *sent,
                                   ht_join_intake *in, const char **why);

/* The kept reading of `sent`, or NULL if there is none (read it). */
ht_join_intake *ht_join_intake_kept(const ht_remote_answer *sent);

/* Every event the join brings, and `join` (the joining event), for their
 * signing keys to be fetched first: an array in the arena, *count long. */
json_t **ht_join_intake_pdus(ht_ctx *ctx, ht_join_intake *in, json_t *join, size_t *count);
/* The resident's copy of the join, signed by it too (a restricted join),
 * or NULL when it sent none. */
json_t *ht_join_intake_signed_join(const ht_join_intake *in);
/* Whether the signing keys were fetched on an earlier pass; mark them so. */
bool ht_join_intake_keys_ready(const ht_join_intake *in);
void ht_join_intake_set_keys_ready(ht_join_intake *in);

/* Takes the next slice of the events as outliers, then writes the next
 * slice of the state into the room's current state (all the events, and
 * none of the state, when the reading is not kept). */
ht_intake_step ht_join_intake_take(ht_ctx *ctx, const ht_room_version *v, const char *room_id, ht_join_intake *in,
                                   const char **why);

/* The ids of the room's state the resident gave (in the arena). */
const char **ht_join_intake_state_ids(ht_ctx *ctx, const ht_join_intake *in, size_t *count);

#endif
