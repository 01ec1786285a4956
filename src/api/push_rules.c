/* push_rules.c -- reading and changing push rules (/pushrules) and
 * registering pushers (/pushers, /pushers/set).
 *
 * Every change to a user's rules also touches their m.push_rules account
 * data, at a new stream position: that is how the next /sync (on every
 * device) learns the new ruleset, as clients expect. Pushers are stored
 * and listed; this server has no push gateway to call. */
#include "api/push_rules.h"

#include <stdlib.h>
#include <string.h>

#include "api/account_data.h"
#include "room/push_eval.h"
#include "store/push_rules.h"
#include "store/store.h"
#include "util/json.h"

enum {
    MAX_USER_RULES = 500,
    MAX_CONDITIONS = 20,
    MAX_ACTIONS = 20,
    MAX_RULE_ID_BYTES = 255,
    MAX_KEY_BYTES = 255,        /* a condition's dotted path into the event */
    MAX_PART_BYTES = 1024,      /* one condition or action, as JSON */
    MAX_PUSHERS = 100,
    MAX_PUSHKEY_BYTES = 512,
    MAX_APP_ID_BYTES = 64,
    MAX_PUSHER_DATA_BYTES = 2048,
    MAX_PROFILE_TAG_BYTES = 255,
};

json_t *ht_push_rules_account_data(ht_ctx *ctx) {
    return json_pack("{s:o}", "global", ht_push_ruleset(ctx->env, ctx->auth.user_id));
}

/* Lets /sync tell every device that the rules changed. */
static void rules_changed(ht_ctx *ctx) {
    json_t *marker = ht_json_keep(ctx->arena, json_object());
    ht_account_data_set(ctx, "", "m.push_rules", marker);
}

static json_t *ruleset(ht_ctx *ctx) {
    return ht_json_keep(ctx->arena, ht_push_ruleset(ctx->env, ctx->auth.user_id));
}

ht_reply ht_api_push_rules_all(ht_ctx *ctx) { return ht_reply_json(ht_push_rules_account_data(ctx)); }

ht_reply ht_api_push_rules_global(ht_ctx *ctx) { return ht_reply_json(json_incref(ruleset(ctx))); }

/* The rule of the path (kind, ruleId) in the user's ruleset, or an error. */
static bool path_rule(ht_ctx *ctx, const char **kind, const char **rule_id, json_t **rule, ht_reply *err) {
    *kind = ht_param_get(ctx, "kind");
    *rule_id = ht_param_get(ctx, "ruleId");
    if (!ht_push_kind_valid(*kind)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "The kind must be override, content, room, sender or underride.");
        return false;
    }
    *rule = NULL;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(ruleset(ctx), *kind), i, r) {
        if (strcmp(ht_json_str(r, "rule_id"), *rule_id) == 0) *rule = r;
    }
    if (!*rule) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "There is no such push rule.");
        return false;
    }
    return true;
}

ht_reply ht_api_push_rule_get(ht_ctx *ctx) {
    const char *kind, *rule_id;
    json_t *rule;
    ht_reply err;
    if (!path_rule(ctx, &kind, &rule_id, &rule, &err)) return err;
    return ht_reply_json(json_incref(rule));
}

/* Actions as the spec has them now: "notify" and set_tweak objects; the
 * historical dont_notify and coalesce are dropped. Returns a new array, or
 * NULL with *err. */
static json_t *clean_actions(ht_ctx *ctx, json_t *actions, ht_reply *err) {
    if (!actions) {
        *err = ht_reply_error(HT_M_MISSING_PARAM, "actions is required.");
        return NULL;
    }
    if (!json_is_array(actions) || json_array_size(actions) > MAX_ACTIONS) {
        *err = ht_reply_error(HT_M_BAD_JSON, "actions must be a list of at most 20 actions.");
        return NULL;
    }
    json_t *out = ht_json_keep(ctx->arena, json_array());
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a) {
        const char *name = json_string_value(a);
        if (name && (strcmp(name, "dont_notify") == 0 || strcmp(name, "coalesce") == 0)) continue;
        if ((name && strcmp(name, "notify") == 0) || (json_is_object(a) && ht_json_str(a, "set_tweak"))) {
            if (strlen(ht_json_dump(ctx->arena, a)) > MAX_PART_BYTES) {
                *err = ht_reply_error(HT_M_INVALID_PARAM, "An action may be at most 1024 bytes of JSON.");
                return NULL;
            }
            json_array_append(out, a);
            continue;
        }
        *err = ht_reply_error(HT_M_INVALID_PARAM, "Unknown action: use \"notify\" or {\"set_tweak\": ...}.");
        return NULL;
    }
    return out;
}

/* A condition is evaluated against other people's events on every sync of
 * its owner, so what it may hold is bounded here, where it enters: a
 * pattern at most 255 bytes (the size of what patterns match: types, ids,
 * words), a key path at most 255, the whole condition 1 KiB. */
static bool condition_ok(ht_ctx *ctx, json_t *c, ht_reply *err) {
    if (!json_is_object(c) || !json_is_string(json_object_get(c, "kind"))) {
        *err = ht_reply_error(HT_M_BAD_JSON, "Each condition must be an object with a kind.");
        return false;
    }
    json_t *pattern = json_object_get(c, "pattern"), *key = json_object_get(c, "key");
    if ((pattern && !json_is_string(pattern)) || (key && !json_is_string(key))) {
        *err = ht_reply_error(HT_M_BAD_JSON, "A condition's key and pattern must be strings.");
        return false;
    }
    if (json_string_length(pattern) > HT_PUSH_MAX_PATTERN_BYTES || json_string_length(key) > MAX_KEY_BYTES ||
        strlen(ht_json_dump(ctx->arena, c)) > MAX_PART_BYTES) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "A condition's pattern and key may be at most 255 bytes, and "
                                                  "the whole condition 1024 bytes of JSON.");
        return false;
    }
    return true;
}

/* Checks a new rule's id and body; fills *row (without priority). */
static bool check_new_rule(ht_ctx *ctx, const char *kind, const char *rule_id, json_t *body,
                           ht_push_rule_row *row, ht_reply *err) {
    if (!*rule_id || strlen(rule_id) > MAX_RULE_ID_BYTES || rule_id[0] == '.' || strchr(rule_id, '/') ||
        strchr(rule_id, '\\')) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "A rule id must be 1 to 255 bytes, not start with '.' "
                                                  "(those are the server's) and hold no '/' or '\\'.");
        return false;
    }
    json_t *actions = clean_actions(ctx, json_object_get(body, "actions"), err);
    if (!actions) return false;
    *row = (ht_push_rule_row){.kind = kind, .rule_id = rule_id, .enabled = true,
                              .actions = ht_json_dump(ctx->arena, actions)};
    if (strcmp(kind, "content") == 0) {
        json_t *pattern = json_object_get(body, "pattern");
        if (!pattern) {
            *err = ht_reply_error(HT_M_MISSING_PARAM, "A content rule needs a pattern.");
            return false;
        }
        if (!json_is_string(pattern) || json_string_length(pattern) > HT_PUSH_MAX_PATTERN_BYTES) {
            *err = ht_reply_error(HT_M_BAD_JSON, "pattern must be a string of at most 255 bytes.");
            return false;
        }
        row->pattern = json_string_value(pattern);
    }
    if (strcmp(kind, "override") == 0 || strcmp(kind, "underride") == 0) {
        json_t *conditions = json_object_get(body, "conditions");
        if (conditions && (!json_is_array(conditions) || json_array_size(conditions) > MAX_CONDITIONS)) {
            *err = ht_reply_error(HT_M_BAD_JSON, "conditions must be a list of at most 20 conditions.");
            return false;
        }
        size_t i;
        json_t *c;
        json_array_foreach(conditions, i, c) {
            if (!condition_ok(ctx, c, err)) return false;
        }
        row->conditions = conditions ? ht_json_dump(ctx->arena, conditions) : "[]";
    }
    return true;
}

/* Where, among the user's other rules of the kind (most important first),
 * the rule goes: before or after another user rule, or where it was
 * (`was`; 0 for a new rule, the most important place). */
static bool place(ht_ctx *ctx, const ht_push_rule_row *others, size_t n, size_t was, size_t *at,
                  ht_reply *err) {
    const char *before = ht_request_query(ctx->req, "before");
    const char *after = ht_request_query(ctx->req, "after");
    const char *anchor = before ? before : after;
    *at = was;
    if (!anchor) return true;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(others[i].rule_id, anchor) == 0) {
            *at = before ? i : i + 1;
            return true;
        }
    }
    *err = ht_reply_errorf(ctx, HT_M_UNKNOWN, "before/after rule not found among your own rules: %s", anchor);
    return false;
}

ht_reply ht_api_push_rule_put(ht_ctx *ctx) {
    const char *kind = ht_param_get(ctx, "kind");
    const char *rule_id = ht_param_get(ctx, "ruleId");
    json_t *body;
    ht_reply err;
    if (!ht_push_kind_valid(kind))
        return ht_reply_error(HT_M_INVALID_PARAM, "The kind must be override, content, room, sender or underride.");
    if (!ht_body_object(ctx, &body, &err)) return err;
    ht_push_rule_row rule;
    if (!check_new_rule(ctx, kind, rule_id, body, &rule, &err)) return err;

    /* The user's other rules of this kind, most important first. */
    ht_push_rule_row *all;
    size_t total = ht_store_push_rules_list(ctx->env->store, ctx->arena, ctx->auth.user_id, &all);
    ht_push_rule_row *order = ht_arena_calloc(ctx->arena, total + 1, sizeof *order);
    size_t n = 0, was = 0;
    bool existed = false;
    for (size_t i = 0; i < total; i++) {
        if (strcmp(all[i].kind, kind) != 0) continue;
        if (strcmp(all[i].rule_id, rule_id) == 0) {
            existed = true;
            was = n;
            rule.enabled = all[i].enabled; /* an update keeps the switch */
            continue;
        }
        order[n++] = all[i];
    }
    if (!existed && total >= MAX_USER_RULES)
        return ht_reply_error(HT_M_INVALID_PARAM, "You have 500 push rules, the most this server keeps.");
    size_t at;
    if (!place(ctx, order, n, was, &at, &err)) return err;

    /* Insert, then rewrite the kind's priorities in the new order. */
    memmove(&order[at + 1], &order[at], (n - at) * sizeof *order);
    order[at] = rule;
    n++;
    for (size_t i = 0; i < n; i++) {
        order[i].priority = (int64_t)(n - i);
        if (!ht_store_push_rule_put(ctx->env->store, ctx->auth.user_id, &order[i]))
            return ht_reply_error(HT_M_SERVER_ERROR, "The push rule could not be stored.");
    }
    rules_changed(ctx);
    return ht_reply_empty();
}

ht_reply ht_api_push_rule_delete(ht_ctx *ctx) {
    const char *kind, *rule_id;
    json_t *rule;
    ht_reply err;
    if (!path_rule(ctx, &kind, &rule_id, &rule, &err)) return err;
    if (json_is_true(json_object_get(rule, "default")))
        return ht_reply_error(HT_M_INVALID_PARAM, "Server-default rules cannot be deleted; disable them instead.");
    ht_store_push_rule_delete(ctx->env->store, ctx->auth.user_id, kind, rule_id);
    rules_changed(ctx);
    return ht_reply_empty();
}

ht_reply ht_api_push_rule_enabled_get(ht_ctx *ctx) {
    const char *kind, *rule_id;
    json_t *rule;
    ht_reply err;
    if (!path_rule(ctx, &kind, &rule_id, &rule, &err)) return err;
    return ht_reply_json(json_pack("{s:O}", "enabled", json_object_get(rule, "enabled")));
}

ht_reply ht_api_push_rule_actions_get(ht_ctx *ctx) {
    const char *kind, *rule_id;
    json_t *rule;
    ht_reply err;
    if (!path_rule(ctx, &kind, &rule_id, &rule, &err)) return err;
    return ht_reply_json(json_pack("{s:O}", "actions", json_object_get(rule, "actions")));
}

/* Stores a rule as it now stands in the ruleset (a user rule) or the
 * change to a default rule. */
static bool store_change(ht_ctx *ctx, const char *kind, json_t *rule, bool set_enabled, bool set_actions) {
    const char *rule_id = ht_json_str(rule, "rule_id");
    ht_store *store = ctx->env->store;
    if (json_is_true(json_object_get(rule, "default"))) {
        bool ok = true;
        if (set_enabled)
            ok = ht_store_push_default_set_enabled(store, ctx->auth.user_id, kind, rule_id,
                                                   json_is_true(json_object_get(rule, "enabled")));
        if (set_actions)
            ok = ok && ht_store_push_default_set_actions(store, ctx->auth.user_id, kind, rule_id,
                                                         ht_json_dump(ctx->arena, json_object_get(rule, "actions")));
        return ok;
    }
    ht_push_rule_row *all;
    size_t n = ht_store_push_rules_list(store, ctx->arena, ctx->auth.user_id, &all);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].kind, kind) != 0 || strcmp(all[i].rule_id, rule_id) != 0) continue;
        if (set_enabled) all[i].enabled = json_is_true(json_object_get(rule, "enabled"));
        if (set_actions) all[i].actions = ht_json_dump(ctx->arena, json_object_get(rule, "actions"));
        return ht_store_push_rule_put(store, ctx->auth.user_id, &all[i]);
    }
    return false;
}

ht_reply ht_api_push_rule_enabled_put(ht_ctx *ctx) {
    const char *kind, *rule_id;
    json_t *rule, *body;
    ht_reply err;
    if (!path_rule(ctx, &kind, &rule_id, &rule, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *enabled = json_object_get(body, "enabled");
    if (!enabled) return ht_reply_error(HT_M_MISSING_PARAM, "enabled is required.");
    if (!json_is_boolean(enabled)) return ht_reply_error(HT_M_BAD_JSON, "enabled must be true or false.");
    json_object_set(rule, "enabled", enabled);
    if (!store_change(ctx, kind, rule, true, false))
        return ht_reply_error(HT_M_SERVER_ERROR, "The push rule could not be stored.");
    rules_changed(ctx);
    return ht_reply_empty();
}

ht_reply ht_api_push_rule_actions_put(ht_ctx *ctx) {
    const char *kind, *rule_id;
    json_t *rule, *body;
    ht_reply err;
    if (!path_rule(ctx, &kind, &rule_id, &rule, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *actions = clean_actions(ctx, json_object_get(body, "actions"), &err);
    if (!actions) return err;
    json_object_set(rule, "actions", actions);
    if (!store_change(ctx, kind, rule, false, true))
        return ht_reply_error(HT_M_SERVER_ERROR, "The push rule could not be stored.");
    rules_changed(ctx);
    return ht_reply_empty();
}

/* ---- pushers --------------------------------------------------------------- */

ht_reply ht_api_pushers_get(ht_ctx *ctx) {
    const char **stored;
    size_t n = ht_store_pushers_list(ctx->env->store, ctx->arena, ctx->auth.user_id, &stored);
    json_t *pushers = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *p = ht_json_parse(ctx->arena, stored[i]);
        if (p) json_array_append(pushers, p);
    }
    return ht_reply_json(json_pack("{s:o}", "pushers", pushers));
}

static bool string_field(ht_ctx *ctx, json_t *body, const char *key, size_t max, ht_reply *err) {
    json_t *v = json_object_get(body, key);
    if (!v) {
        *err = ht_reply_errorf(ctx, HT_M_MISSING_PARAM, "%s is required.", key);
        return false;
    }
    if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > max) {
        *err = ht_reply_errorf(ctx, HT_M_BAD_JSON, "%s must be a non-empty string of at most %zu bytes.", key, max);
        return false;
    }
    return true;
}

/* The fields a pusher must have when it is created (kind not null). */
static bool check_pusher(ht_ctx *ctx, json_t *body, ht_reply *err) {
    const char *kind = ht_json_str(body, "kind");
    if (!kind) {
        *err = ht_reply_error(HT_M_BAD_JSON, "kind must be \"http\", \"email\" or null.");
        return false;
    }
    if (strcmp(kind, "http") != 0 && strcmp(kind, "email") != 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "kind must be \"http\" or \"email\".");
        return false;
    }
    if (!string_field(ctx, body, "app_display_name", 256, err) ||
        !string_field(ctx, body, "device_display_name", 256, err) || !string_field(ctx, body, "lang", 64, err))
        return false;
    json_t *data = json_object_get(body, "data");
    json_t *profile_tag = json_object_get(body, "profile_tag");
    if (!json_is_object(data) || (profile_tag && !json_is_string(profile_tag))) {
        *err = ht_reply_error(HT_M_BAD_JSON, "data must be an object and profile_tag a string.");
        return false;
    }
    if (strlen(ht_json_dump(ctx->arena, data)) > MAX_PUSHER_DATA_BYTES ||
        json_string_length(profile_tag) > MAX_PROFILE_TAG_BYTES) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "data may be at most 2048 bytes of JSON and profile_tag 255 bytes.");
        return false;
    }
    const char *url = ht_json_str(data, "url");
    if (strcmp(kind, "http") == 0 &&
        (!url || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "An http pusher needs data.url, an http(s) URL.");
        return false;
    }
    return true;
}

ht_reply ht_api_pushers_set(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    if (!string_field(ctx, body, "pushkey", MAX_PUSHKEY_BYTES, &err) ||
        !string_field(ctx, body, "app_id", MAX_APP_ID_BYTES, &err))
        return err;
    json_t *append = json_object_get(body, "append");
    if (append && !json_is_boolean(append)) return ht_reply_error(HT_M_BAD_JSON, "append must be a boolean.");
    const char *pushkey = ht_json_str(body, "pushkey");
    const char *app_id = ht_json_str(body, "app_id");
    ht_store *store = ctx->env->store;
    json_t *kind = json_object_get(body, "kind");
    if (!kind) return ht_reply_error(HT_M_MISSING_PARAM, "kind is required (null deletes the pusher).");
    if (json_is_null(kind)) {
        ht_store_pusher_delete(store, app_id, pushkey, ctx->auth.user_id);
        return ht_reply_empty();
    }
    if (!check_pusher(ctx, body, &err)) return err;
    /* Replacing a pusher does not count against the limit; a refusal rolls
     * this deletion back. */
    ht_store_pusher_delete(store, app_id, pushkey, ctx->auth.user_id);
    if (ht_store_pushers_count(store, ctx->auth.user_id) >= MAX_PUSHERS)
        return ht_reply_error(HT_M_INVALID_PARAM, "You have 100 pushers, the most this server keeps.");

    json_t *pusher = ht_json_keep(ctx->arena, json_deep_copy(body));
    json_object_del(pusher, "append");
    if (!json_is_true(append)) ht_store_pusher_delete_others(store, app_id, pushkey, ctx->auth.user_id);
    if (!ht_store_pusher_put(store, app_id, pushkey, ctx->auth.user_id, ht_json_dump(ctx->arena, pusher), ctx->now_ms))
        return ht_reply_error(HT_M_SERVER_ERROR, "The pusher could not be stored.");
    return ht_reply_empty();
}
