/* filter.c -- POST/GET /user/{userId}/filter and applying filters.
 *
 * Filters are stored as the client sent them (after checking their shape)
 * and interpreted when used, so a filter keeps meaning what it said. */
#include "api/filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/accounts.h"
#include "room/room.h"
#include "store/store.h"
#include "util/glob.h"
#include "util/json.h"

/* Entries name event types, user ids and room ids, or globs over them:
 * all at most 255 bytes (spec appendix "Size limits"). */
enum { MAX_FILTER_LIST = 500, MAX_FILTER_BYTES = 65536, MAX_FILTER_ENTRY_BYTES = 255 };

static bool list_ok(json_t *v) {
    if (!v) return true;
    if (!json_is_array(v) || json_array_size(v) > MAX_FILTER_LIST) return false;
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item) || json_string_length(item) > MAX_FILTER_ENTRY_BYTES) return false;
    }
    return true;
}

/* An EventFilter / RoomEventFilter: lists of strings and a limit. */
static bool event_filter_ok(json_t *f) {
    if (!f) return true;
    if (!json_is_object(f)) return false;
    static const char *const lists[] = {"types", "not_types", "senders", "not_senders", "rooms", "not_rooms"};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        if (!list_ok(json_object_get(f, lists[i]))) return false;
    static const char *const flags[] = {"lazy_load_members", "include_redundant_members",
                                        "contains_url", "unread_thread_notifications"};
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        json_t *flag = json_object_get(f, flags[i]);
        if (flag && !json_is_boolean(flag)) return false;
    }
    json_t *limit = json_object_get(f, "limit");
    return !limit || json_is_integer(limit);
}

/* A Filter (/sync, POST /filter), or the RoomEventFilter that /messages and
 * /context take in the same parameter: its fields sit at the top level, so
 * they are checked there too. */
static bool filter_ok(json_t *f) {
    if (!json_is_object(f) || !event_filter_ok(f)) return false;
    if (!event_filter_ok(json_object_get(f, "presence")) ||
        !event_filter_ok(json_object_get(f, "account_data")))
        return false;
    json_t *room = json_object_get(f, "room");
    if (!room) return true;
    json_t *include_leave = json_object_get(room, "include_leave");
    if (!json_is_object(room) || !list_ok(json_object_get(room, "rooms")) ||
        !list_ok(json_object_get(room, "not_rooms")) || (include_leave && !json_is_boolean(include_leave)))
        return false;
    static const char *const parts[] = {"timeline", "state", "ephemeral", "account_data"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (!event_filter_ok(json_object_get(room, parts[i]))) return false;
    return true;
}

ht_reply ht_api_filter_create(ht_ctx *ctx) {
    if (strcmp(ht_param_get(ctx, "userId"), ctx->auth.user_id) != 0)
        return ht_reply_error(HT_M_FORBIDDEN, "You can only create filters for yourself.");
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    if (ctx->req->body_len > MAX_FILTER_BYTES) return ht_reply_error(HT_M_TOO_LARGE, "The filter is too large.");
    if (!filter_ok(body)) return ht_reply_error(HT_M_BAD_JSON, "The filter does not have the shape the spec gives.");
    char *text = json_dumps(body, JSON_COMPACT);
    int64_t id = ht_store_filter_insert(ctx->env->store, ctx->auth.user_id, text);
    free(text);
    if (id < 0) return ht_reply_error(HT_M_SERVER_ERROR, "The filter could not be stored.");
    return ht_reply_json(json_pack("{s:s}", "filter_id", ht_arena_printf(ctx->arena, "%lld", (long long)id)));
}

static bool parse_id(const char *s, int64_t *out) {
    char *end;
    if (!*s || strlen(s) > 18) return false;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 0) return false;
    *out = v;
    return true;
}

ht_reply ht_api_filter_get(ht_ctx *ctx) {
    if (strcmp(ht_param_get(ctx, "userId"), ctx->auth.user_id) != 0)
        return ht_reply_error(HT_M_FORBIDDEN, "You can only read your own filters.");
    int64_t id;
    const char *json = parse_id(ht_param_get(ctx, "filterId"), &id)
                           ? ht_store_filter_get(ctx->env->store, ctx->arena, ctx->auth.user_id, id)
                           : NULL;
    if (!json) return ht_reply_error(HT_M_NOT_FOUND, "No such filter.");
    return ht_reply_json(json_loads(json, 0, NULL));
}

bool ht_filter_param(ht_ctx *ctx, const char *param, json_t **filter, ht_reply *err) {
    const char *value = ht_request_query(ctx->req, param);
    *filter = NULL;
    if (!value || !*value) return true;
    json_t *f;
    int64_t id;
    if (value[0] == '{') {
        f = ht_json_depth_ok(value, strlen(value), HT_JSON_MAX_DEPTH) ? ht_json_parse(ctx->arena, value)
                                                                       : NULL;
        if (!f || !filter_ok(f)) {
            *err = ht_reply_error(HT_M_BAD_JSON, "The inline filter is not a valid filter.");
            return false;
        }
    } else if (parse_id(value, &id)) {
        f = ht_json_parse(ctx->arena, ht_store_filter_get(ctx->env->store, ctx->arena, ctx->auth.user_id, id));
        if (!f) {
            *err = ht_reply_error(HT_M_NOT_FOUND, "No such filter.");
            return false;
        }
    } else {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "filter must be a filter id or a JSON object.");
        return false;
    }
    *filter = f;
    return true;
}

static bool in_list(ht_env *env, json_t *list, const char *value, bool globbing) {
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        const char *p = json_string_value(item);
        if (p && (globbing ? ht_glob_filter(p, value, &env->match_budget) : strcmp(p, value) == 0)) return true;
    }
    return false;
}

/* Once the request's matching budget is spent (util/glob.h), a filter lets
 * everything through: it chooses what a client wants to see, never what
 * it may see, so more is harmless where less would hide state. Paged reads
 * (timeline.c) stop at that point instead, with a token to go on from. */
bool ht_filter_allows(ht_env *env, json_t *filter, const char *type, const char *sender) {
    if (!filter || ht_budget_spent(&env->match_budget)) return true;
    json_t *types = json_object_get(filter, "types");
    json_t *senders = json_object_get(filter, "senders");
    bool refused = in_list(env, json_object_get(filter, "not_types"), type, true) ||
                   in_list(env, json_object_get(filter, "not_senders"), sender, false) ||
                   (types && !in_list(env, types, type, true)) ||
                   (senders && !in_list(env, senders, sender, false));
    return !refused || ht_budget_spent(&env->match_budget);
}

/* contains_url: true keeps only events whose content has a string url
 * (files, images), false only those without; absent, either. */
bool ht_filter_allows_event(ht_env *env, json_t *filter, const ht_event_row *ev) {
    if (!filter) return true;
    json_t *contains_url = json_object_get(filter, "contains_url");
    if (json_is_boolean(contains_url)) {
        bool has_url = json_is_string(json_object_get(ht_room_event_content(env->arena, ev), "url"));
        if (has_url != json_is_true(contains_url)) return false;
    }
    return ht_filter_allows(env, filter, ev->type, ev->sender);
}

bool ht_filter_allows_room(json_t *room_filter, const char *room_id) {
    if (!room_filter) return true;
    json_t *rooms = json_object_get(room_filter, "rooms");
    if (in_list(NULL, json_object_get(room_filter, "not_rooms"), room_id, false)) return false;
    return !rooms || in_list(NULL, rooms, room_id, false);
}

int64_t ht_filter_limit(json_t *filter, int64_t fallback, int64_t max) {
    json_t *limit = json_object_get(filter, "limit");
    if (!json_is_integer(limit)) return fallback;
    int64_t v = json_integer_value(limit);
    return v < 1 ? 1 : v > max ? max : v;
}

char *ht_stream_token(ht_arena *arena, int64_t position) {
    return ht_arena_printf(arena, "s%lld", (long long)position);
}

/* Positions below 1 hold history fetched from other servers ("s-12"). */
bool ht_stream_token_parse(const char *token, int64_t *position) {
    if (!token || token[0] != 's') return false;
    bool negative = token[1] == '-';
    if (!parse_id(token + 1 + negative, position)) return false;
    if (negative) *position = -*position;
    return true;
}

bool ht_query_token(ht_ctx *ctx, const char *name, int64_t *out, bool *present, ht_reply *err) {
    const char *value = ht_request_query(ctx->req, name);
    *present = value != NULL;
    if (value && !ht_stream_token_parse(value, out)) {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s is not a valid pagination token.", name);
        return false;
    }
    return true;
}
