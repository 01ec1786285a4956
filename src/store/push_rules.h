/* push_rules.h -- a user's push rules and pushers.
 *
 * Only what the user changed is stored: their own rules (push_rules), and
 * their changes to a server-default rule (push_rule_defaults: enabled or
 * actions). The defaults themselves are code (room/push_eval.c), so a newer
 * hometab's defaults reach every account. Actions and conditions are JSON
 * text. Every change of a rule marks the user's kept unread counts stale
 * (store/unread.h). */
#ifndef HT_STORE_PUSH_RULES_H
#define HT_STORE_PUSH_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

typedef struct ht_push_rule_row {
    const char *kind;       /* override, content, room, sender, underride */
    const char *rule_id;
    int64_t priority;       /* higher first within a kind */
    bool enabled;
    const char *actions;    /* JSON array */
    const char *conditions; /* JSON array, override/underride only; else NULL */
    const char *pattern;    /* content rules only; else NULL */
} ht_push_rule_row;

/* All the user's rules, by kind, most important first. */
size_t ht_store_push_rules_list(ht_store *store, ht_arena *arena, const char *user_id,
                                ht_push_rule_row **out);
bool ht_store_push_rule_put(ht_store *store, const char *user_id, const ht_push_rule_row *rule);
bool ht_store_push_rule_delete(ht_store *store, const char *user_id, const char *kind,
                               const char *rule_id);

typedef struct ht_push_default_row {
    const char *kind;
    const char *rule_id;
    int enabled;         /* -1: unchanged */
    const char *actions; /* NULL: unchanged */
} ht_push_default_row;

size_t ht_store_push_defaults_list(ht_store *store, ht_arena *arena, const char *user_id,
                                   ht_push_default_row **out);
bool ht_store_push_default_set_enabled(ht_store *store, const char *user_id, const char *kind,
                                       const char *rule_id, bool enabled);
bool ht_store_push_default_set_actions(ht_store *store, const char *user_id, const char *kind,
                                       const char *rule_id, const char *actions);

/* Pushers, stored as the client described them (JSON text). */
bool ht_store_pusher_put(ht_store *store, const char *app_id, const char *pushkey,
                         const char *user_id, const char *json, int64_t now_ms);
bool ht_store_pusher_delete(ht_store *store, const char *app_id, const char *pushkey,
                            const char *user_id);
/* Removes the pusher (app_id, pushkey) of every other user. */
bool ht_store_pusher_delete_others(ht_store *store, const char *app_id, const char *pushkey,
                                   const char *user_id);
/* The user's pushers as stored JSON texts; returns how many. */
size_t ht_store_pushers_list(ht_store *store, ht_arena *arena, const char *user_id, const char ***json);
int64_t ht_store_pushers_count(ht_store *store, const char *user_id);

#endif
