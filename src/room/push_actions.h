/* push_actions.h -- what each local member's push rules say about an event,
 * decided once, when the event joins its room's timeline, and the unread
 * counts kept from it (store/unread.h).
 *
 * Every timeline event passes ht_room_persist (graph.c), whichever way it
 * came: ours from ht_room_send, another server's from ht_room_receive. That
 * is where ht_room_push_event runs, so federation gets push actions and
 * counts without doing anything. */
#ifndef HT_ROOM_PUSH_ACTIONS_H
#define HT_ROOM_PUSH_ACTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matrix/env.h"
#include "matrix/error.h"
#include "room/pdu_view.h"
#include "room/push_eval.h"
#include "store/unread.h"

/* Judges the event stored at `stream` (in the timeline) against the push
 * rules of every local member joined to its room, and moves their counts;
 * the sender's own event reads their thread. */
ht_error ht_room_push_event(ht_env *env, const ht_pdu *pdu, int64_t stream);

/* A key of the room's current state changed (graph.c): the judgments that
 * depended on it go stale. old_membership/membership: for m.room.member,
 * the member's membership before and after (NULL if none before). */
bool ht_room_push_state_changed(ht_env *env, const char *room_id, const char *type, const char *state_key,
                                const char *old_membership, const char *membership);

/* user_id's unread counts in the room, per thread, into *out (arena).
 * Stale or never judged counts are judged again first, from the newest
 * events after the member's floor; *rules caches the member's rules
 * across rooms (loaded on first use, kept in the arena). */
size_t ht_room_unread_counts(ht_env *env, const char *room_id, const char *user_id, const ht_push_rules **rules,
                             ht_unread_row **out);

#endif
