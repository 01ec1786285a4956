/* push_eval.c -- the default push rules, a user's ruleset, and evaluating
 * it against an event.
 *
 * The server-default rules are built here rather than stored, so every
 * account gets the rules of the running version; the store keeps only what
 * a user changed. The ruleset includes the legacy body-mention rules
 * (.m.rule.contains_display_name, .m.rule.contains_user_name,
 * .m.rule.roomnotif, as in spec v1.7 to v1.16): they apply only to events
 * without m.mentions, which is how clients that predate m.mentions still
 * get highlights. */
#include "room/push_eval.h"

#include <stdlib.h>
#include <string.h>

#include "room/room.h"
#include "store/push_rules.h"
#include "store/unread.h"
#include "util/glob.h"
#include "util/json.h"
#include "util/oom.h"

const char *const ht_push_kinds[5] = {"override", "content", "room", "sender", "underride"};

bool ht_push_kind_valid(const char *kind) {
    for (size_t i = 0; i < 5; i++)
        if (strcmp(kind, ht_push_kinds[i]) == 0) return true;
    return false;
}

/* ---- the server-default ruleset ------------------------------------------ */

static json_t *match(const char *key, const char *pattern) {
    return json_pack("{s:s, s:s, s:s}", "kind", "event_match", "key", key, "pattern", pattern);
}

static json_t *rule(const char *id, json_t *conditions, json_t *actions) {
    return json_pack("{s:s, s:b, s:b, s:o, s:o}", "rule_id", id, "default", 1, "enabled", 1, "conditions",
                     conditions, "actions", actions);
}

static json_t *notify_sound(const char *sound) {
    return json_pack("[s, {s:s, s:s}]", "notify", "set_tweak", "sound", "value", sound);
}

static json_t *notify_sound_highlight(void) {
    return json_pack("[s, {s:s, s:s}, {s:s}]", "notify", "set_tweak", "sound", "value", "default",
                     "set_tweak", "highlight");
}

static json_t *notify_highlight(void) { return json_pack("[s, {s:s}]", "notify", "set_tweak", "highlight"); }

static json_t *default_override(const char *user_id) {
    json_t *list = json_array();
    json_t *master = rule(".m.rule.master", json_array(), json_array());
    json_object_set_new(master, "enabled", json_false());
    json_array_append_new(list, master);
    json_array_append_new(list, rule(".m.rule.suppress_notices", json_pack("[o]", match("content.msgtype", "m.notice")),
                                     json_array()));
    json_array_append_new(list, rule(".m.rule.invite_for_me",
                                     json_pack("[o, o, o]", match("type", "m.room.member"),
                                               match("content.membership", "invite"), match("state_key", user_id)),
                                     notify_sound("default")));
    json_array_append_new(list, rule(".m.rule.member_event", json_pack("[o]", match("type", "m.room.member")),
                                     json_array()));
    json_array_append_new(list, rule(".m.rule.is_user_mention",
                                     json_pack("[{s:s, s:s, s:s}]", "kind", "event_property_contains", "key",
                                               "content.m\\.mentions.user_ids", "value", user_id),
                                     notify_sound_highlight()));
    json_array_append_new(list, rule(".m.rule.contains_display_name",
                                     json_pack("[{s:s}]", "kind", "contains_display_name"),
                                     notify_sound_highlight()));
    json_array_append_new(list, rule(".m.rule.is_room_mention",
                                     json_pack("[{s:s, s:s, s:b}, {s:s, s:s}]", "kind", "event_property_is",
                                               "key", "content.m\\.mentions.room", "value", 1, "kind",
                                               "sender_notification_permission", "key", "room"),
                                     notify_highlight()));
    json_array_append_new(list, rule(".m.rule.roomnotif",
                                     json_pack("[o, {s:s, s:s}]", match("content.body", "@room"), "kind",
                                               "sender_notification_permission", "key", "room"),
                                     notify_highlight()));
    json_array_append_new(list, rule(".m.rule.tombstone",
                                     json_pack("[o, o]", match("type", "m.room.tombstone"), match("state_key", "")),
                                     notify_highlight()));
    json_array_append_new(list, rule(".m.rule.reaction", json_pack("[o]", match("type", "m.reaction")), json_array()));
    json_array_append_new(list, rule(".m.rule.room.server_acl",
                                     json_pack("[o, o]", match("type", "m.room.server_acl"), match("state_key", "")),
                                     json_array()));
    json_array_append_new(list, rule(".m.rule.suppress_edits",
                                     json_pack("[{s:s, s:s, s:s}]", "kind", "event_property_is", "key",
                                               "content.m\\.relates_to.rel_type", "value", "m.replace"),
                                     json_array()));
    return list;
}

static json_t *default_content(const char *user_id) {
    const char *colon = strchr(user_id, ':');
    size_t len = colon ? (size_t)(colon - user_id - 1) : strlen(user_id + 1);
    json_t *localpart = json_stringn(user_id + 1, len);
    return json_pack("[{s:s, s:b, s:b, s:o, s:o}]", "rule_id", ".m.rule.contains_user_name", "default", 1,
                     "enabled", 1, "pattern", localpart, "actions", notify_sound_highlight());
}

static json_t *room_size_two(const char *type) {
    return json_pack("[{s:s, s:s}, o]", "kind", "room_member_count", "is", "2", match("type", type));
}

static json_t *default_underride(void) {
    json_t *list = json_array();
    json_array_append_new(list, rule(".m.rule.call", json_pack("[o]", match("type", "m.call.invite")),
                                     notify_sound("ring")));
    json_array_append_new(list, rule(".m.rule.encrypted_room_one_to_one", room_size_two("m.room.encrypted"),
                                     notify_sound("default")));
    json_array_append_new(list, rule(".m.rule.room_one_to_one", room_size_two("m.room.message"),
                                     notify_sound("default")));
    json_array_append_new(list, rule(".m.rule.message", json_pack("[o]", match("type", "m.room.message")),
                                     json_pack("[s]", "notify")));
    json_array_append_new(list, rule(".m.rule.encrypted", json_pack("[o]", match("type", "m.room.encrypted")),
                                     json_pack("[s]", "notify")));
    return list;
}

/* ---- a user's ruleset ------------------------------------------------------ */

static json_t *find_rule(json_t *list, const char *rule_id) {
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r) {
        if (strcmp(ht_json_str(r, "rule_id"), rule_id) == 0) return r;
    }
    return NULL;
}

/* Applies the user's changes (enabled, actions) to the default rules. */
static void apply_default_changes(ht_env *env, const char *user_id, json_t *defaults) {
    ht_push_default_row *rows;
    size_t n = ht_store_push_defaults_list(env->store, env->arena, user_id, &rows);
    for (size_t i = 0; i < n; i++) {
        json_t *r = find_rule(json_object_get(defaults, rows[i].kind), rows[i].rule_id);
        if (!r) continue; /* a default this version no longer has */
        if (rows[i].enabled >= 0) json_object_set_new(r, "enabled", json_boolean(rows[i].enabled));
        json_t *actions = rows[i].actions ? json_loads(rows[i].actions, 0, NULL) : NULL;
        if (json_is_array(actions)) json_object_set(r, "actions", actions);
        json_decref(actions);
    }
}

static json_t *user_rule(const ht_push_rule_row *row) {
    json_t *r = json_pack("{s:s, s:b, s:b}", "rule_id", row->rule_id, "default", 0, "enabled", row->enabled);
    json_t *actions = json_loads(row->actions, 0, NULL);
    json_object_set_new(r, "actions", json_is_array(actions) ? actions : json_array());
    if (!json_is_array(actions)) json_decref(actions);
    if (row->conditions) {
        json_t *conditions = json_loads(row->conditions, 0, NULL);
        if (json_is_array(conditions)) json_object_set(r, "conditions", conditions);
        json_decref(conditions);
    }
    if (row->pattern) json_object_set_new(r, "pattern", json_string(row->pattern));
    return r;
}

/* The default ruleset of a user who changed nothing, with placeholders for
 * the owner, compiled once and kept for the life of the env: judging an
 * event for every member of a room then builds no ruleset per member. */
static const char owner_placeholder[] = "@\x01:\x01", localpart_placeholder[] = "\x01";

struct ht_push_defaults {
    ht_arena arena; /* the compiled rules, and their JSON tied to it */
    const ht_push_rules *rules;
};

const ht_push_rules *ht_push_default_ruleset(ht_env *env) {
    if (!env->push_defaults) {
        struct ht_push_defaults *d = ht_xmalloc(sizeof *d);
        ht_arena_init(&d->arena, 4096);
        json_t *json = json_pack("{s:o, s:o, s:[], s:[], s:o}", "override", default_override(owner_placeholder),
                                 "content", default_content(owner_placeholder), "room", "sender", "underride",
                                 default_underride());
        d->rules = ht_push_compile(&d->arena, ht_json_keep(&d->arena, json));
        env->push_defaults = d;
    }
    return env->push_defaults->rules;
}

void ht_push_defaults_free(ht_env *env) {
    if (!env->push_defaults) return;
    ht_arena_free(&env->push_defaults->arena);
    free(env->push_defaults);
    env->push_defaults = NULL;
}

bool ht_push_default_depends_on_owner(json_t *event) {
    json_t *content = json_object_get(event, "content");
    if (json_is_string(json_object_get(content, "body"))) return true; /* names, localparts */
    if (json_is_array(json_object_get(json_object_get(content, "m.mentions"), "user_ids"))) return true;
    const char *type = ht_json_str(event, "type"), *membership = ht_json_str(content, "membership");
    return type && membership && strcmp(type, "m.room.member") == 0 && strcmp(membership, "invite") == 0;
}

json_t *ht_push_ruleset(ht_env *env, const char *user_id) {
    json_t *defaults = json_pack("{s:o, s:o, s:[], s:[], s:o}", "override", default_override(user_id), "content",
                                 default_content(user_id), "room", "sender", "underride", default_underride());
    apply_default_changes(env, user_id, defaults);

    /* User rules come before the defaults of their kind, except that
     * .m.rule.master stays above everything. */
    ht_push_rule_row *rows;
    size_t n = ht_store_push_rules_list(env->store, env->arena, user_id, &rows);
    json_t *ruleset = json_object();
    for (size_t k = 0; k < 5; k++) {
        json_t *list = json_array();
        json_t *def = json_object_get(defaults, ht_push_kinds[k]);
        size_t first_default = 0;
        if (k == 0) {
            json_array_append(list, json_array_get(def, 0));
            first_default = 1;
        }
        for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].kind, ht_push_kinds[k]) == 0) json_array_append_new(list, user_rule(&rows[i]));
        for (size_t i = first_default; i < json_array_size(def); i++) json_array_append(list, json_array_get(def, i));
        json_object_set_new(ruleset, ht_push_kinds[k], list);
    }
    json_decref(defaults);
    return ruleset;
}

/* ---- compiling a ruleset ---------------------------------------------------- */

/* The design decision: a ruleset is judged in the form it is compiled to
 * here, not as JSON. Judging walks every rule until one matches (about
 * twenty for a plain message), and reading each rule's id, flag,
 * conditions, keys and actions out of JSON objects on every event was 9%
 * of a send; compiled, a rule's kind, key path and result are read once.
 * A disabled rule, or one without an id, can never match: it is left out. */

/* Indexes into ht_push_kinds of the kinds judged other than by conditions. */
enum { KIND_CONTENT = 1, KIND_ROOM = 2, KIND_SENDER = 3 };

enum condition_kind {
    COND_UNKNOWN, /* never holds */
    COND_EVENT_MATCH,
    COND_PROPERTY_IS,
    COND_PROPERTY_CONTAINS,
    COND_DISPLAY_NAME,
    COND_MEMBER_COUNT,
    COND_SENDER_PERMISSION,
};

/* A key's dot-separated path ("content.m\.mentions.room"), split. */
typedef struct key_path {
    const char **parts; /* NULL: no key, or one that can find nothing */
    size_t count;
} key_path;

typedef struct condition {
    enum condition_kind kind;
    const char *key; /* as written, or NULL */
    key_path path;
    const char *text; /* event_match's pattern, room_member_count's is */
    json_t *value;    /* event_property_is/_contains' value */
} condition;

typedef struct compiled_rule {
    size_t kind; /* index into ht_push_kinds */
    const char *rule_id;
    bool legacy_mention;
    const char *pattern; /* content rules' */
    condition *conditions;
    size_t condition_count;
    ht_push_result result;
} compiled_rule;

struct ht_push_rules {
    compiled_rule *rules; /* in the order they are tried */
    size_t count;
};

/* A part longer than 255 bytes can name no key an event may hold. */
enum { MAX_KEY_PART = 256 };

static key_path split_key(ht_arena *arena, const char *key) {
    key_path path = {0};
    if (!key) return path;
    size_t cap = 0, len = 0;
    char part[MAX_KEY_PART];
    const char **parts = NULL;
    for (const char *c = key;; c++) {
        if (*c == '.' || *c == '\0') {
            parts = ht_arena_push(arena, parts, sizeof *parts, path.count, &cap);
            parts[path.count++] = ht_arena_strndup(arena, part, len);
            if (*c == '\0') break;
            len = 0;
            continue;
        }
        if (*c == '\\' && (c[1] == '.' || c[1] == '\\')) c++; /* an escaped '.' or '\' stands for itself */
        if (len + 1 >= MAX_KEY_PART) return (key_path){0};
        part[len++] = *c;
    }
    path.parts = parts;
    return path;
}

static enum condition_kind condition_kind_of(const char *kind) {
    static const struct {
        const char *name;
        enum condition_kind kind;
    } kinds[] = {
        {"event_match", COND_EVENT_MATCH},
        {"event_property_is", COND_PROPERTY_IS},
        {"event_property_contains", COND_PROPERTY_CONTAINS},
        {"contains_display_name", COND_DISPLAY_NAME},
        {"room_member_count", COND_MEMBER_COUNT},
        {"sender_notification_permission", COND_SENDER_PERMISSION},
    };
    for (size_t i = 0; kind && i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(kind, kinds[i].name) == 0) return kinds[i].kind;
    return COND_UNKNOWN;
}

static bool legacy_mention_rule(const char *rule_id) {
    return strcmp(rule_id, ".m.rule.contains_display_name") == 0 ||
           strcmp(rule_id, ".m.rule.contains_user_name") == 0 || strcmp(rule_id, ".m.rule.roomnotif") == 0;
}

static ht_push_result actions_result(json_t *actions) {
    ht_push_result res = {false, false, actions};
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a) {
        if (json_is_string(a) && strcmp(json_string_value(a), "notify") == 0) res.notify = true;
        const char *tweak = ht_json_str(a, "set_tweak");
        if (tweak && strcmp(tweak, "highlight") == 0) {
            json_t *value = json_object_get(a, "value");
            if (!value || json_is_true(value)) res.highlight = true;
        }
    }
    /* A highlight without a notification is not counted anywhere. */
    if (!res.notify) res.highlight = false;
    return res;
}

static void compile_rule(ht_arena *arena, size_t kind, json_t *r, compiled_rule *out) {
    *out = (compiled_rule){.kind = kind, .rule_id = ht_json_str(r, "rule_id")};
    out->legacy_mention = legacy_mention_rule(out->rule_id);
    out->pattern = ht_json_str(r, "pattern");
    out->result = actions_result(json_object_get(r, "actions"));
    json_t *conditions = json_object_get(r, "conditions");
    out->condition_count = json_array_size(conditions);
    out->conditions = ht_arena_calloc(arena, out->condition_count ? out->condition_count : 1, sizeof *out->conditions);
    for (size_t i = 0; i < out->condition_count; i++) {
        json_t *c = json_array_get(conditions, i);
        condition *cond = &out->conditions[i];
        cond->kind = condition_kind_of(ht_json_str(c, "kind"));
        cond->key = ht_json_str(c, "key");
        cond->path = split_key(arena, cond->key);
        cond->text = ht_json_str(c, cond->kind == COND_MEMBER_COUNT ? "is" : "pattern");
        cond->value = json_object_get(c, "value");
    }
}

const ht_push_rules *ht_push_compile(ht_arena *arena, json_t *ruleset) {
    ht_push_rules *rules = ht_arena_calloc(arena, 1, sizeof *rules);
    size_t cap = 0;
    for (size_t k = 0; k < 5; k++) {
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(ruleset, ht_push_kinds[k]), i, r) {
            if (!ht_json_str(r, "rule_id") || !json_is_true(json_object_get(r, "enabled"))) continue;
            rules->rules = ht_arena_push(arena, rules->rules, sizeof *rules->rules, rules->count, &cap);
            compile_rule(arena, k, r, &rules->rules[rules->count++]);
        }
    }
    return rules;
}

const ht_push_rules *ht_push_rules_of(ht_env *env, const char *user_id) {
    return ht_push_compile(env->arena, ht_json_keep(env->arena, ht_push_ruleset(env, user_id)));
}

/* ---- conditions ------------------------------------------------------------ */

static json_t *lookup(json_t *event, const key_path *path) {
    json_t *cur = path->parts ? event : NULL;
    for (size_t i = 0; cur && i < path->count; i++) cur = json_is_object(cur) ? json_object_get(cur, path->parts[i]) : NULL;
    return cur;
}

static const key_path body_path = {(const char *[]){"content", "body"}, 2};

/* Patterns are bounded where rules enter (push_rules.c); one longer than
 * that was stored before the bound existed and could not be stored today,
 * so it matches nothing rather than cost every sync. */
static bool pattern_usable(const char *pattern) {
    return pattern && strlen(pattern) <= HT_PUSH_MAX_PATTERN_BYTES;
}

static bool scalar(json_t *v) {
    return json_is_string(v) || json_is_integer(v) || json_is_boolean(v) || json_is_null(v);
}

/* room_member_count's "is": "2", "==2", "<10", ">=3"... */
static bool member_count_is(const char *is, int64_t count) {
    if (!is) return false;
    char op[3] = {0};
    size_t i = 0;
    while (i < 2 && (is[i] == '<' || is[i] == '>' || is[i] == '=')) op[i] = is[i], i++;
    char *end;
    long long want = strtoll(is + i, &end, 10);
    if (end == is + i || *end) return false;
    if (!*op || strcmp(op, "==") == 0) return count == want;
    if (strcmp(op, "<") == 0) return count < want;
    if (strcmp(op, ">") == 0) return count > want;
    if (strcmp(op, "<=") == 0) return count <= want;
    if (strcmp(op, ">=") == 0) return count >= want;
    return false;
}

/* With the shared default ruleset, its placeholders stand for the owner. */
static const char *owner_value(const ht_push_room *room, const char *text) {
    if (!room->owner || !text) return text;
    if (strcmp(text, owner_placeholder) == 0) return room->owner;
    if (strcmp(text, localpart_placeholder) == 0) return room->owner_localpart;
    return text;
}

static bool condition_holds(const condition *c, const ht_push_room *room, json_t *event) {
    switch (c->kind) {
    case COND_EVENT_MATCH: {
        const char *pattern = owner_value(room, c->text);
        const char *value = json_string_value(lookup(event, &c->path));
        return pattern_usable(pattern) && value &&
               ht_glob_push(pattern, value, strcmp(c->key, "content.body") == 0, false, room->budget);
    }
    case COND_PROPERTY_IS: {
        json_t *have = lookup(event, &c->path);
        return c->value && have && scalar(have) && json_equal(c->value, have);
    }
    case COND_PROPERTY_CONTAINS: {
        json_t *have = lookup(event, &c->path);
        if (!ht_budget_take(room->budget, (int64_t)json_array_size(have))) return false;
        const char *owner = json_is_string(c->value) ? owner_value(room, json_string_value(c->value)) : NULL;
        size_t i;
        json_t *item;
        json_array_foreach(have, i, item) {
            if (owner && json_is_string(item) && strcmp(owner, json_string_value(item)) == 0) return true;
            if (!owner && c->value && scalar(item) && json_equal(c->value, item)) return true;
        }
        return false;
    }
    case COND_DISPLAY_NAME: {
        const char *body = json_string_value(lookup(event, &body_path));
        return room->display_name && *room->display_name && body &&
               ht_glob_push(room->display_name, body, true, true, room->budget);
    }
    case COND_MEMBER_COUNT:
        return member_count_is(c->text, room->member_count);
    case COND_SENDER_PERMISSION: {
        if (!c->key) return false;
        json_t *needed = json_object_get(json_object_get(room->power_levels, "notifications"), c->key);
        int64_t level = json_is_integer(needed) ? json_integer_value(needed) : 50;
        return ht_power_user(room->power_levels, ht_json_str(event, "sender"), room->creator) >= level;
    }
    case COND_UNKNOWN:
        break;
    }
    return false; /* unknown conditions never hold */
}

static bool rule_matches(const compiled_rule *r, const ht_push_room *room, json_t *event, bool mentions) {
    if (r->legacy_mention && mentions) return false;
    if (r->kind == KIND_ROOM) return strcmp(r->rule_id, ht_json_str(event, "room_id")) == 0;
    if (r->kind == KIND_SENDER) return strcmp(r->rule_id, ht_json_str(event, "sender")) == 0;
    if (r->kind == KIND_CONTENT) {
        const char *pattern = owner_value(room, r->pattern);
        const char *body = json_string_value(lookup(event, &body_path));
        return pattern_usable(pattern) && body && ht_glob_push(pattern, body, true, false, room->budget);
    }
    for (size_t i = 0; i < r->condition_count; i++)
        if (!condition_holds(&r->conditions[i], room, event)) return false;
    return true;
}

ht_push_result ht_push_evaluate(const ht_push_rules *rules, const ht_push_room *room, json_t *event) {
    bool mentions = json_object_get(json_object_get(event, "content"), "m.mentions") != NULL;
    for (size_t i = 0; i < rules->count; i++)
        if (rule_matches(&rules->rules[i], room, event, mentions)) return rules->rules[i].result;
    return (ht_push_result){false, false, NULL};
}

json_t *ht_push_event(const char *type, const char *sender, const char *room_id, const char *state_key,
                      json_t *content) {
    json_t *event = json_pack("{s:s, s:s, s:s, s:o}", "type", type, "sender", sender, "room_id", room_id, "content",
                              content ? json_incref(content) : json_object());
    if (state_key) json_object_set_new(event, "state_key", json_string(state_key));
    return event;
}

ht_push_result ht_push_evaluate_row(const ht_push_rules *rules, const ht_push_room *room, const ht_event_row *ev,
                                    json_t *content) {
    json_t *event = ht_push_event(ev->type, ev->sender, ev->room_id, ev->state_key, content);
    ht_push_result r = ht_push_evaluate(rules, room, event);
    json_decref(event);
    return r;
}

const char *ht_push_event_thread(json_t *content) {
    json_t *rel = json_object_get(content, "m.relates_to");
    const char *type = ht_json_str(rel, "rel_type");
    const char *root = ht_json_str(rel, "event_id");
    return type && root && strcmp(type, "m.thread") == 0 ? root : "main";
}

ht_push_room ht_push_room_shared(ht_env *env, const char *room_id, int64_t member_count) {
    ht_push_room room = {.budget = &env->match_budget, .member_count = member_count};
    room.power_levels = ht_room_state_content(env, room_id, "m.room.power_levels", "");
    ht_room_row row;
    if (ht_store_room_get(env->store, env->arena, room_id, &row)) room.creator = row.creator;
    return room;
}

const char *ht_push_display_name(ht_env *env, const char *room_id, const char *user_id) {
    return ht_json_str(ht_room_state_content(env, room_id, "m.room.member", user_id), "displayname");
}

ht_push_room ht_push_room_of(ht_env *env, const char *room_id, const char *user_id) {
    ht_push_room room = ht_push_room_shared(env, room_id, ht_store_members_joined_count(env->store, room_id));
    room.display_name = ht_push_display_name(env, room_id, user_id);
    return room;
}
