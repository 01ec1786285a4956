/* push_eval.h -- push rules: the server-default ruleset, a user's whole
 * ruleset, and deciding what a rule set says about one event.
 *
 * Nothing is pushed anywhere (pushers are stored, not called); the rules
 * decide the notification and highlight counts /sync reports. It lives
 * in the rooms engine because events are judged when they join the
 * timeline (push_actions.c); the API layer reads and edits rules with it. */
#ifndef HT_ROOM_PUSH_EVAL_H
#define HT_ROOM_PUSH_EVAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "matrix/env.h"
#include "store/rooms.h"
#include "store/store.h"
#include "util/arena.h"

/* The longest pattern a rule may hold (event_match, content rules): the
 * spec's limit for the identifiers and types patterns are matched against. */
enum { HT_PUSH_MAX_PATTERN_BYTES = 255 };

/* The five kinds, in the order they are evaluated. */
extern const char *const ht_push_kinds[5];
bool ht_push_kind_valid(const char *kind);

/* The user's ruleset {override, content, room, sender, underride}: the
 * server defaults with the user's changes, and the user's own rules.
 * New reference. */
json_t *ht_push_ruleset(ht_env *env, const char *user_id);

/* A ruleset made ready to judge events with: its enabled rules in the
 * order they are tried, each condition's key split, each rule's notify and
 * highlight read from its actions (push_eval.c says why). */
typedef struct ht_push_rules ht_push_rules;

/* Compiles ruleset into arena. The ruleset is borrowed: it must live as
 * long as the result (whose results point at its actions). */
const ht_push_rules *ht_push_compile(ht_arena *arena, json_t *ruleset);
/* The user's ruleset (ht_push_ruleset), compiled; both kept in env's arena. */
const ht_push_rules *ht_push_rules_of(ht_env *env, const char *user_id);

/* The ruleset of every user who changed no rule (ht_store_push_rules_changed
 * says who did), for any owner, compiled: borrowed, kept in env until
 * ht_push_defaults_free. Judge with it by setting the ht_push_room's owner. */
const ht_push_rules *ht_push_default_ruleset(ht_env *env);
void ht_push_defaults_free(ht_env *env);

/* Could the default ruleset judge this event ({type, content...})
 * differently for two owners in the same room? Only through the rules that
 * name the owner: an invite's state key, m.mentions.user_ids, the body
 * (display name, localpart). When it could not, one judgment serves every
 * member who changed no rule. */
bool ht_push_default_depends_on_owner(json_t *event);

/* What the rules need to know about the room of an event. */
typedef struct ht_push_room {
    const char *display_name; /* the rules' owner's name in the room, or NULL */
    int64_t member_count;     /* joined members */
    json_t *power_levels;     /* m.room.power_levels content, or NULL */
    const char *creator;
    int64_t *budget;          /* matching steps left in this request (util/glob.h); NULL: unbounded */
    /* Judging with ht_push_default_ruleset: the owner and their localpart,
     * which its placeholders stand for. NULL with anyone's own ruleset. */
    const char *owner, *owner_localpart;
} ht_push_room;

typedef struct ht_push_result {
    bool notify;
    bool highlight;
    json_t *actions; /* the matching rule's actions (borrowed from the ruleset), or NULL */
} ht_push_result;

/* What the rules of user_id need to know about a room. */
ht_push_room ht_push_room_of(ht_env *env, const char *room_id, const char *user_id);
/* The same without the owner's name (display_name NULL), for judging one
 * event for many members; and the name, member by member. */
ht_push_room ht_push_room_shared(ht_env *env, const char *room_id, int64_t member_count);
const char *ht_push_display_name(ht_env *env, const char *room_id, const char *user_id);

/* An event as the rules read it: {type, sender, room_id, state_key (if
 * not NULL), content} (content NULL: {}). New reference. */
json_t *ht_push_event(const char *type, const char *sender, const char *room_id, const char *state_key,
                      json_t *content);

/* Applies the rules to an event given as ht_push_event makes it. */
ht_push_result ht_push_evaluate(const ht_push_rules *rules, const ht_push_room *room, json_t *event);
/* The same for a stored event; content is its content (ht_room_event_content). */
ht_push_result ht_push_evaluate_row(const ht_push_rules *rules, const ht_push_room *room, const ht_event_row *ev,
                                    json_t *content);

/* The thread an event belongs to, as receipts and unread counts name it:
 * its m.thread root's event id, or "main". content: the event's content. */
const char *ht_push_event_thread(json_t *content);

#endif
