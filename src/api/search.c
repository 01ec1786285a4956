/* search.c -- POST /search: full-text search of room events
 * (search_categories.room_events).
 *
 * The search term is cut into words by the rule the index was cut by
 * (util/words.h); each word is a prefix an event's word must start with,
 * all of them must match, and nothing else in the term means anything: no
 * input can be a malformed query. Rank is how often the event says the
 * words (ties: newest first). The index
 * is searched only in rooms the caller is joined to (and that the filter
 * allows); each hit is then checked against history visibility. next_batch
 * is the number of index hits already consumed, so paging is stable for a
 * given order. count counts only results the caller may see, like the
 * results themselves (issue 9: a count taken before the visibility check
 * told a newcomer how often a word was said before they joined); to bound
 * the work it looks at the newest MAX_COUNTED hits, so past that it is a
 * lower bound, which the spec's "approximate" allows. */
#include "api/relations.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/filter.h"
#include "api/timeline.h"
#include "room/room.h"
#include "store/rooms.h"
#include "store/search.h"
#include "store/store.h"
#include "util/json.h"
#include "util/words.h"

enum {
    DEFAULT_LIMIT = 10,
    MAX_LIMIT = 100,
    MAX_TERM_BYTES = 1000,
    MAX_WORDS = 20,
    DEFAULT_CONTEXT = 5,
    MAX_CONTEXT = 50,
    MAX_FILTER_ROOMS = 500,
    MAX_FILTER_ENTRY_BYTES = 255,
    MAX_COUNTED = 1000, /* index hits the count looks at */
    COUNT_BATCH = 100,
};

/* The words of a search term as a JSON array (the index's query; each
 * also goes into highlights); NULL if the term has no words. */
static const char *term_words(ht_ctx *ctx, const char *term, json_t *highlights) {
    char word[HT_WORD_MAX_BYTES + 1];
    for (size_t n = 0; n < MAX_WORDS && ht_word_next(&term, word) > 0; n++)
        json_array_append_new(highlights, json_string(word));
    if (json_array_size(highlights) == 0) return NULL;
    char *text = json_dumps(highlights, JSON_COMPACT);
    const char *copy = text ? ht_arena_strdup(ctx->arena, text) : NULL;
    free(text);
    return copy;
}

static bool keys_param(json_t *keys, unsigned *out) {
    *out = HT_SEARCH_BODY | HT_SEARCH_NAME | HT_SEARCH_TOPIC;
    if (!keys) return true;
    if (!json_is_array(keys) || json_array_size(keys) == 0) return false;
    *out = 0;
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        const char *s = json_string_value(k);
        if (s && strcmp(s, "content.body") == 0) *out |= HT_SEARCH_BODY;
        else if (s && strcmp(s, "content.name") == 0) *out |= HT_SEARCH_NAME;
        else if (s && strcmp(s, "content.topic") == 0) *out |= HT_SEARCH_TOPIC;
        else return false;
    }
    return true;
}

static bool string_list_ok(json_t *v) {
    if (!v) return true;
    if (!json_is_array(v) || json_array_size(v) > MAX_FILTER_ROOMS) return false;
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) {
        if (!json_is_string(s) || json_string_length(s) > MAX_FILTER_ENTRY_BYTES) return false;
    }
    return true;
}

static bool filter_ok(json_t *f) {
    if (!f) return true;
    static const char *const lists[] = {"rooms", "not_rooms", "types", "not_types", "senders", "not_senders"};
    if (!json_is_object(f)) return false;
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        if (!string_list_ok(json_object_get(f, lists[i]))) return false;
    json_t *limit = json_object_get(f, "limit");
    json_t *contains_url = json_object_get(f, "contains_url");
    return (!limit || json_is_integer(limit)) && (!contains_url || json_is_boolean(contains_url));
}

/* Rooms the caller is joined to and the filter allows, as JSON text. */
static const char *searchable_rooms(ht_ctx *ctx, json_t *filter) {
    ht_membership_row *rooms;
    size_t n = ht_store_memberships_of_user(ctx->env->store, ctx->arena, ctx->auth.user_id, &rooms);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        if (strcmp(rooms[i].membership, "join") == 0 && ht_filter_allows_room(filter, rooms[i].room_id))
            json_array_append_new(list, json_string(rooms[i].room_id));
    char *text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    const char *copy = ht_arena_strdup(ctx->arena, text ? text : "[]");
    free(text);
    return copy;
}

typedef struct context_opts {
    bool wanted;
    int64_t before, after;
    bool profile;
} context_opts;

static bool context_param(json_t *ctxobj, context_opts *o) {
    *o = (context_opts){.before = DEFAULT_CONTEXT, .after = DEFAULT_CONTEXT};
    if (!ctxobj) return true;
    if (!json_is_object(ctxobj)) return false;
    o->wanted = true;
    json_t *b = json_object_get(ctxobj, "before_limit"), *a = json_object_get(ctxobj, "after_limit"),
           *p = json_object_get(ctxobj, "include_profile");
    if ((b && !json_is_integer(b)) || (a && !json_is_integer(a)) || (p && !json_is_boolean(p))) return false;
    if (b) o->before = json_integer_value(b);
    if (a) o->after = json_integer_value(a);
    if (o->before < 0 || o->after < 0) return false;
    if (o->before > MAX_CONTEXT) o->before = MAX_CONTEXT;
    if (o->after > MAX_CONTEXT) o->after = MAX_CONTEXT;
    o->profile = json_is_true(p);
    return true;
}

static void add_profile(ht_ctx *ctx, json_t *profiles, const ht_event_row *ev) {
    if (json_object_get(profiles, ev->sender)) return;
    json_t *member = ht_room_state_content_at(ctx->env, ev->room_id, "m.room.member", ev->sender,
                                              ev->stream);
    json_t *p = json_object();
    const char *name = ht_json_str(member, "displayname"), *avatar = ht_json_str(member, "avatar_url");
    if (name) json_object_set_new(p, "displayname", json_string(name));
    if (avatar) json_object_set_new(p, "avatar_url", json_string(avatar));
    json_object_set_new(profiles, ev->sender, p);
}

/* The events around a result, as /context gives them. */
static json_t *result_context(ht_ctx *ctx, const ht_event_row *ev, const context_opts *o) {
    ht_timeline_page before = {0}, after = {0};
    if (o->before) ht_timeline_back(ctx, ev->room_id, ev->stream - 1, 0, o->before, NULL, &before);
    int64_t ceiling = ht_store_room_max_stream(ctx->env->store, ev->room_id, INT64_MAX);
    if (o->after) ht_timeline_forward(ctx, ev->room_id, ev->stream, ceiling, o->after, NULL, &after);
    int64_t last = after.count ? after.events[after.count - 1].stream : ev->stream;
    json_t *c = json_pack("{s:o, s:o, s:s, s:s}", "events_before",
                          ht_timeline_json(ctx, before.events, before.count, false, true), "events_after",
                          ht_timeline_json(ctx, after.events, after.count, false, true), "start",
                          ht_stream_token(ctx->arena, before.count ? before.next : ev->stream - 1), "end",
                          ht_stream_token(ctx->arena, last));
    if (o->profile) {
        json_t *profiles = json_object();
        add_profile(ctx, profiles, ev);
        for (size_t i = 0; i < before.count; i++) add_profile(ctx, profiles, &before.events[i]);
        for (size_t i = 0; i < after.count; i++) add_profile(ctx, profiles, &after.events[i]);
        json_object_set_new(c, "profile_info", profiles);
    }
    return c;
}

/* May the caller see this hit, and does the filter keep it? *ev is set. */
static bool hit_shown(ht_ctx *ctx, json_t *filter, const ht_search_hit *hit, ht_event_row *ev) {
    return ht_store_event_by_stream(ctx->env->store, ctx->arena, hit->stream, ev) &&
           ht_filter_allows_event(ctx->env, filter, ev) && ht_room_event_visible(ctx->env, ctx->auth.user_id, ev);
}

/* How many hits the caller may see, among the newest MAX_COUNTED. */
static int64_t visible_count(ht_ctx *ctx, const char *words, const char *rooms, unsigned keys, json_t *filter) {
    int64_t counted = 0, looked_at = 0;
    while (looked_at < MAX_COUNTED) {
        ht_search_hit *hits;
        size_t n = ht_store_search(ctx->env->store, ctx->arena, words, rooms, keys, false, looked_at, COUNT_BATCH,
                                   &hits);
        for (size_t i = 0; i < n; i++) {
            ht_event_row ev;
            counted += hit_shown(ctx, filter, &hits[i], &ev);
        }
        looked_at += (int64_t)n;
        if (n < COUNT_BATCH) break;
    }
    return counted;
}

ht_reply ht_api_search(ht_ctx *ctx) {
    json_t *body;
    int64_t offset;
    ht_reply err;
    if (!ht_query_count(ctx, "next_batch", 0, INT64_MAX, &offset, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *categories = json_object_get(body, "search_categories");
    if (!json_is_object(categories)) return ht_reply_error(HT_M_BAD_JSON, "search_categories must be an object.");
    json_t *re = json_object_get(categories, "room_events");
    if (!re) return ht_reply_json(json_pack("{s:{}}", "search_categories"));
    if (!json_is_object(re)) return ht_reply_error(HT_M_BAD_JSON, "room_events must be an object.");

    const char *term = ht_json_str(re, "search_term");
    if (!term) return ht_reply_error(HT_M_BAD_JSON, "room_events.search_term must be a string.");
    if (strlen(term) > MAX_TERM_BYTES) return ht_reply_error(HT_M_INVALID_PARAM, "The search term is too long.");
    unsigned keys;
    if (!keys_param(json_object_get(re, "keys"), &keys))
        return ht_reply_error(HT_M_INVALID_PARAM, "keys may list content.body, content.name and content.topic.");
    const char *order = ht_json_str(re, "order_by");
    if (json_object_get(re, "order_by") && (!order || (strcmp(order, "rank") != 0 && strcmp(order, "recent") != 0)))
        return ht_reply_error(HT_M_INVALID_PARAM, "order_by must be \"rank\" or \"recent\".");
    json_t *filter = json_object_get(re, "filter");
    if (!filter_ok(filter)) return ht_reply_error(HT_M_BAD_JSON, "filter must be a room event filter.");
    context_opts copts;
    if (!context_param(json_object_get(re, "event_context"), &copts))
        return ht_reply_error(HT_M_BAD_JSON, "event_context needs non-negative before_limit and after_limit.");
    int64_t limit = ht_filter_limit(filter, DEFAULT_LIMIT, MAX_LIMIT);
    bool by_rank = !order || strcmp(order, "rank") == 0;

    json_t *highlights = json_array(), *results = json_array();
    const char *words = term_words(ctx, term, highlights);
    const char *rooms = searchable_rooms(ctx, filter);
    int64_t count = words ? visible_count(ctx, words, rooms, keys, filter) : 0;
    int64_t consumed = offset;
    bool more = false;
    ht_viewer viewer = {ctx->auth.user_id, ctx->auth.device_id};
    while (words && !more) {
        ht_search_hit *hits;
        size_t n = ht_store_search(ctx->env->store, ctx->arena, words, rooms, keys, by_rank, consumed, limit + 1, &hits);
        for (size_t i = 0; i < n; i++) {
            if ((int64_t)json_array_size(results) == limit) {
                more = true;
                break;
            }
            consumed++;
            ht_event_row ev;
            if (!hit_shown(ctx, filter, &hits[i], &ev)) continue;
            json_t *r = json_pack("{s:f, s:o}", "rank", hits[i].rank, "result",
                                  ht_room_event_json(ctx->env, &ev, &viewer, ctx->now_ms, true));
            if (copts.wanted) json_object_set_new(r, "context", result_context(ctx, &ev, &copts));
            json_array_append_new(results, r);
        }
        if ((int64_t)n < limit + 1) break;
    }
    json_t *out = json_pack("{s:I, s:o, s:o}", "count", (json_int_t)count, "highlights", highlights, "results", results);
    if (more) json_object_set_new(out, "next_batch", json_string(ht_arena_printf(ctx->arena, "%lld", (long long)consumed)));
    return ht_reply_json(json_pack("{s:{s:o}}", "search_categories", "room_events", out));
}
