/* unread.h -- push actions and the unread counts kept from them.
 *
 * When an event joins a room's timeline, the rooms engine decides what each
 * local member's push rules say about it (room/push_actions.c) and stores
 * the actions of those it notifies here. The counts per member, room and
 * thread are kept beside them and moved as things happen: a notifying
 * event adds one, the member's own event zeroes its thread, a read receipt
 * (store/receipts.c) or a redaction counts the member's rows again. So a
 * /sync reads a handful of rows whatever the backlog.
 *
 * What is counted: the member's push actions after their read marks. The
 * marks are the floor (their join, their unthreaded receipts), and per
 * thread its own receipts and the member's own latest event there. */
#ifndef HT_STORE_UNREAD_H
#define HT_STORE_UNREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

typedef struct ht_unread_row {
    const char *thread_id; /* "main" for the main timeline */
    int64_t notifications;
    int64_t highlights;
} ht_unread_row;

/* Is a member's count in a room known, stale (judged with rules or room
 * state that have changed since), or never judged? */
typedef enum ht_unread_state { HT_UNREAD_UNJUDGED, HT_UNREAD_JUDGED, HT_UNREAD_STALE } ht_unread_state;

/* The members joined to a room, with what judging an event for each needs:
 * their display name there (NULL if none) and whether they changed any
 * push rule (else the shared default ruleset is theirs). */
typedef struct ht_member_push {
    const char *user_id;
    const char *display_name;
    bool own_rules;
} ht_member_push;

size_t ht_store_members_joined(ht_store *store, ht_arena *arena, const char *room_id, bool with_names,
                               ht_member_push **out);

/* Everything at or below this position is read: the member's join (their
 * membership's position) or their latest unthreaded receipt. */
int64_t ht_store_read_floor(ht_store *store, const char *room_id, const char *user_id);

/* The event at `stream` notifies user_id: its actions (JSON text) are kept
 * and its thread's count goes up. */
bool ht_store_push_action_put(ht_store *store, const char *room_id, const char *user_id, int64_t stream,
                              const char *thread_id, bool highlight, const char *actions);
/* user_id's own event at `stream` reads everything before it in its thread. */
bool ht_store_unread_own_event(ht_store *store, const char *room_id, const char *user_id, const char *thread_id,
                               int64_t stream);
/* Forgets user_id's push actions in the room after `after` (before they are
 * judged again). */
bool ht_store_push_actions_clear(ht_store *store, const char *room_id, const char *user_id, int64_t after);
/* The event at `stream` was redacted: it notifies none of the room's
 * members any more, and the counts it was in are counted again. (Someone
 * who left keeps its row; their counts start again from their next join.) */
bool ht_store_push_actions_redacted(ht_store *store, ht_arena *arena, const char *room_id, int64_t stream);

/* Counts user_id's kept push actions in the room again, from their read
 * marks: after a receipt moves them, after a redaction, after judging. */
bool ht_store_unread_recount(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id);

/* The kept counts, per thread (threads with nothing unread may be listed
 * with zeros). */
size_t ht_store_unread_get(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                           ht_unread_row **out);

ht_unread_state ht_store_unread_state(ht_store *store, const char *room_id, const char *user_id);
bool ht_store_unread_set_judged(ht_store *store, const char *room_id, const char *user_id);
/* What a judgment depended on changed: the user's push rules (every room);
 * the room's power levels (everyone in it); a member's name in it. */
bool ht_store_unread_stale_user(ht_store *store, const char *user_id);
bool ht_store_unread_stale_room(ht_store *store, const char *room_id);
bool ht_store_unread_stale_member(ht_store *store, const char *room_id, const char *user_id);
/* The room's member count changed: stale for members with a rule of their
 * own on it (the default rules' "is 2" is the caller's to judge). */
bool ht_store_unread_stale_count_rules(ht_store *store, const char *room_id);

#endif
