/* power_levels.c -- levels with their defaults, and who may change them.
 *
 * Room version 10 made every value an integer, so a value of another type
 * can only be in an event that failed the rules; reading one anyway falls
 * back to the default, the same answer whatever the bad value is. */
#include "room/power_levels.h"

#include <string.h>

#include "matrix/ids.h"

static bool is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static bool integer_in(json_t *object, const char *key, int64_t *out) {
    json_t *v = json_object_get(object, key);
    if (!json_is_integer(v)) return false;
    *out = json_integer_value(v);
    return true;
}

int64_t ht_levels_user(const ht_levels *pl, const char *user_id) {
    if (!pl->content) return is(user_id, pl->creator) ? 100 : 0;
    int64_t level;
    if (integer_in(json_object_get(pl->content, "users"), user_id, &level)) return level;
    if (integer_in(pl->content, "users_default", &level)) return level;
    return 0;
}

int64_t ht_levels_event(const ht_levels *pl, const char *type, bool is_state) {
    int64_t level;
    if (integer_in(json_object_get(pl->content, "events"), type, &level)) return level;
    if (is_state) return integer_in(pl->content, "state_default", &level) ? level : 50;
    return integer_in(pl->content, "events_default", &level) ? level : 0;
}

int64_t ht_levels_action(const ht_levels *pl, const char *action) {
    int64_t level;
    if (integer_in(pl->content, action, &level)) return level;
    return is(action, "invite") ? 0 : 50;
}

static const char *const named_levels[] = {"users_default", "events_default", "state_default", "ban",
                                           "redact",        "kick",           "invite"};
enum { NAMED_LEVELS = sizeof named_levels / sizeof *named_levels };

static ht_error bad(const char *message) { return (ht_error){HT_M_BAD_JSON, 0, message}; }
static ht_error forbid(const char *message) { return (ht_error){HT_M_FORBIDDEN, 0, message}; }

ht_error ht_levels_check_content(json_t *content) {
    for (size_t i = 0; i < NAMED_LEVELS; i++) {
        json_t *v = json_object_get(content, named_levels[i]);
        if (v && !json_is_integer(v)) return bad("Power levels must be integers.");
    }
    static const char *const maps[] = {"events", "notifications", "users"};
    for (size_t i = 0; i < 3; i++) {
        json_t *map = json_object_get(content, maps[i]);
        if (!map) continue;
        if (!json_is_object(map)) return bad("users, events and notifications must be objects.");
        const char *key;
        json_t *v;
        json_object_foreach(map, key, v) {
            if (!json_is_integer(v)) return bad("Power levels must be integers.");
            if (i == 2 && !ht_user_id_valid(key)) return bad("The keys of users must be user ids.");
        }
    }
    return (ht_error){0};
}

/* Has the value at key changed between a and b (added, removed or another
 * integer)? *old and *new are set to the values that exist. */
static bool changed(json_t *a, json_t *b, const char *key, json_t **old, json_t **new) {
    *old = json_object_get(a, key);
    *new = json_object_get(b, key);
    if (!*old && !*new) return false;
    return !(*old && *new &&json_integer_value(*old) == json_integer_value(*new));
}

static bool above(json_t *level, int64_t mine) { return level && json_integer_value(level) > mine; }

/* Rules 9.6 and 9.7 for `events` and `notifications`: every entry changed,
 * added or removed must be at most the sender's level before and after.
 * Both maps are walked, so removed keys count too. */
static ht_error check_map(json_t *prev, json_t *next, const char *name, int64_t mine) {
    json_t *a = json_object_get(prev, name), *b = json_object_get(next, name);
    for (int side = 0; side < 2; side++) {
        const char *key;
        json_t *v, *old, *new;
        json_object_foreach(side ? b : a, key, v) {
            if (!changed(a, b, key, &old, &new)) continue;
            if (above(old, mine)) return forbid("You cannot change a power level that is above your own.");
            if (above(new, mine)) return forbid("You cannot set a power level above your own.");
        }
    }
    return (ht_error){0};
}

ht_error ht_levels_check_change(json_t *prev, json_t *next, const char *sender, int64_t mine) {
    json_t *old, *new;
    for (size_t i = 0; i < NAMED_LEVELS; i++) {
        if (!changed(prev, next, named_levels[i], &old, &new)) continue;
        if (above(old, mine)) return forbid("You cannot change a power level that is above your own.");
        if (above(new, mine)) return forbid("You cannot set a power level above your own.");
    }
    /* notifications is bounded exactly as events is (issue 9 found it was
     * not checked at all). */
    ht_error err = check_map(prev, next, "events", mine);
    if (!err.code) err = check_map(prev, next, "notifications", mine);
    if (err.code) return err;

    json_t *a = json_object_get(prev, "users"), *b = json_object_get(next, "users");
    for (int side = 0; side < 2; side++) {
        const char *user;
        json_t *v;
        json_object_foreach(side ? b : a, user, v) {
            if (!changed(a, b, user, &old, &new)) continue;
            if (old && !is(user, sender) && json_integer_value(old) >= mine)
                return forbid("You cannot change the power level of someone at or above your own.");
            if (above(new, mine)) return forbid("You cannot set a power level above your own.");
        }
    }
    return (ht_error){0};
}
