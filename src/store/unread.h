/* unread.h -- the unread counts kept from push actions.
 *
 * When an event joins a room's timeline, the rooms engine decides what each
 * local member's push rules say about it (room/push_actions.c), and the
 * counts per member, room and thread move here: a notifying event adds
 * one, the member's own event zeroes its thread. Members the event cannot
 * tell apart (most of a large room) share one count per room and thread,
 * moved once per event; a member's own rows hold only where they differ
 * (unread.c says how the two are read together). What makes a count wrong
 * in a way an addition cannot mend -- a read receipt (store/receipts.c), a
 * redaction, a change of the rules or of what they read -- marks it stale,
 * one row write, and the next read judges the member's unread events again.
 * So a /sync reads a handful of rows whatever the backlog, and nothing is
 * written per member beyond its count: a room of thousands stays a few
 * pages of writes per event.
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
 * their display name there (NULL if none; kept beside the membership, so
 * no member event is read) and whether they changed any push rule (else
 * the shared default ruleset is theirs; kept beside the membership too,
 * by triggers on the rules, migration 16). */
typedef struct ht_member_push {
    const char *user_id;
    const char *display_name;
    bool own_rules;
} ht_member_push;

size_t ht_store_members_joined(ht_store *store, ht_arena *arena, const char *room_id, ht_member_push **out);
/* Of those, the ones an event may judge apart from the rest: the members
 * named in ids_json (a JSON array of user ids), those whose name or
 * localpart key (store/member_keys.c) is in words_json (a JSON array of
 * keys; '' stands for names without a word), and every member with rules
 * of their own: each once, ordered by user id. */
size_t ht_store_members_apart(ht_store *store, ht_arena *arena, const char *room_id, const char *ids_json,
                              const char *words_json, ht_member_push **out);

/* Everything at or below this position is read: the member's join (their
 * membership's position) or their latest unthreaded receipt. */
int64_t ht_store_read_floor(ht_store *store, const char *room_id, const char *user_id);

/* An event joined a thread's timeline that notifies every member judged
 * alike (highlighting them if highlight): the room's shared count moves,
 * two rows however many members. */
bool ht_store_unread_alike_add(ht_store *store, const char *room_id, const char *thread_id, bool highlight);
/* An event judged apart for user_id: what their judgment adds to their
 * counts beyond the shared judgment's (either may be negative). */
bool ht_store_unread_add(ht_store *store, const char *room_id, const char *user_id, const char *thread_id,
                         int64_t notifications, int64_t highlights);
/* user_id's own event at `stream` reads everything before it in its
 * thread (called after the event moved the shared count). */
bool ht_store_unread_own_event(ht_store *store, const char *room_id, const char *user_id, const char *thread_id,
                               int64_t stream);
/* Replaces user_id's counts in the room with these (threads not listed: 0). */
bool ht_store_unread_set(ht_store *store, const char *room_id, const char *user_id, const ht_unread_row *rows,
                         size_t n);
/* user_id's own latest event per thread, where they wrote (thread_id,
 * notifications = the position; highlights unused). */
size_t ht_store_unread_own_marks(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                                 ht_unread_row **out);

/* The kept counts, per thread (threads with nothing unread may be listed
 * with zeros). */
size_t ht_store_unread_get(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id,
                           ht_unread_row **out);

ht_unread_state ht_store_unread_state(ht_store *store, const char *room_id, const char *user_id);
bool ht_store_unread_set_judged(ht_store *store, const char *room_id, const char *user_id);
/* What the counts depended on changed: the user's push rules (every room);
 * the room's power levels or an event in it (everyone in it); a member's
 * name in it or their read marks. */
bool ht_store_unread_stale_user(ht_store *store, const char *user_id);
bool ht_store_unread_stale_room(ht_store *store, const char *room_id);
bool ht_store_unread_stale_member(ht_store *store, const char *room_id, const char *user_id);
/* The room's member count changed: stale for members with a rule of their
 * own on it (the default rules' "is 2" is the caller's to judge). */
bool ht_store_unread_stale_count_rules(ht_store *store, const char *room_id);

#endif
