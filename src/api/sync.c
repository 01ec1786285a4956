/* sync.c -- GET /sync: everything new for the caller since a token.
 *
 * One stream position orders everything, so a sync is "what happened in
 * (since, now]". When nothing did and the client asked to wait, the handler
 * does not block: it answers "park" with the current position and the
 * request's deadline (see hometab.h), and the host calls again when the
 * position moves or the deadline comes. Each call recomputes from scratch,
 * so a woken sync that finds nothing for this user simply parks again. */
#include <stdlib.h>
#include <string.h>

#include "api/filter.h"
#include "api/keys.h"
#include "api/sync.h"
#include "api/sync_extras.h"
#include "api/sync_write.h"
#include "api/timeline.h"
#include "room/room.h"
#include "store/federation.h"
#include "store/keys.h"
#include "store/meta.h"
#include "store/room_news.h"
#include "store/store.h"
#include "store/to_device.h"
#include "util/json.h"
#include "util/wake.h"

enum { DEFAULT_TIMELINE_LIMIT = 10, MAX_TIMELINE_LIMIT = 100, MAX_TIMEOUT_MS = 60000, MAX_HEROES = 5 };

typedef struct sync_req {
    ht_ctx *ctx;
    int64_t since;   /* 0: initial sync */
    bool has_since;  /* a since token was given (even "s0": then a long-poll may wait) */
    int64_t upto;    /* the position this response covers up to */
    bool full_state;
    json_t *filter;
    json_t *room_filter;
    json_t *timeline_filter;
    json_t *state_filter;
    bool lazy_members;
    int64_t timeline_limit;
} sync_req;

/* The events at these positions that the filter keeps, as rows (arena). */
static size_t events_of(ht_ctx *ctx, const int64_t *streams, size_t n, json_t *filter, bool lazy,
                        json_t *keep_members, ht_event_row **out) {
    ht_event_row *rows = n ? ht_arena_alloc(ctx->arena, n * sizeof *rows) : NULL;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        ht_event_row *row = &rows[kept];
        if (!ht_store_event_by_stream(ctx->env->store, ctx->arena, streams[i], row)) continue;
        if (!ht_filter_allows_event(ctx->env, filter, row)) continue;
        /* Lazy loading keeps only the members the timeline needs. */
        if (lazy && strcmp(row->type, "m.room.member") == 0 && !json_object_get(keep_members, row->state_key))
            continue;
        kept++;
    }
    *out = rows;
    return kept;
}

/* Counted and chosen by the store: a room of 5,000 costs two counts and a
 * few rows, not 5,000 members read on every sync it appears in. */
static json_t *summary(sync_req *s, const char *room_id) {
    ht_ctx *ctx = s->ctx;
    ht_store *store = ctx->env->store;
    const char **ids;
    size_t n = ht_store_member_heroes(store, ctx->arena, room_id, ctx->auth.user_id, MAX_HEROES, &ids);
    json_t *heroes = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(heroes, json_string(ids[i]));
    return json_pack("{s:o, s:I, s:I}", "m.heroes", heroes, "m.joined_member_count",
                     (json_int_t)ht_store_members_joined_count(store, room_id), "m.invited_member_count",
                     (json_int_t)ht_store_members_invited_count(store, room_id));
}

/* The user ids that are keys of `members`, as a JSON array's text (arena). */
static const char *member_list(ht_arena *arena, json_t *members) {
    json_t *ids = ht_json_keep(arena, json_array());
    const char *id;
    json_t *value;
    json_object_foreach(members, id, value) json_array_append_new(ids, json_string(id));
    char *text = json_dumps(ids, JSON_COMPACT);
    const char *kept = ht_arena_strdup(arena, text ? text : "[]");
    free(text);
    return kept;
}

/* The state at stream `first` (the timeline's first event) without the
 * events the timeline page holds. */
static size_t state_at_start(ht_ctx *ctx, const char *room_id, int64_t first, const ht_timeline_page *page,
                             int64_t **streams) {
    int64_t *all = NULL;
    size_t n = ht_store_state_list(ctx->env->store, ctx->arena, room_id, first, &all), kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool shown = false;
        for (size_t j = 0; j < page->count && !shown; j++) shown = page->events[j].stream == all[i];
        if (!shown) all[kept++] = all[i];
    }
    *streams = all;
    return kept;
}

/* A joined (or left) room's entry, in *entry; false when nothing in it is
 * new. `end` is the last position the user may see: the response's, or
 * their leave. */
static bool room_entry(sync_req *s, const char *room_id, int64_t member_stream, int64_t end, bool joined,
                       ht_sync_room *entry) {
    ht_ctx *ctx = s->ctx;
    ht_store *store = ctx->env->store;
    bool fresh = s->since == 0 || member_stream > s->since || s->full_state;
    if (!fresh && ht_store_room_max_stream(store, room_id, end) <= s->since) return false;

    ht_timeline_page page;
    int64_t down_to = (s->since && !(joined && member_stream > s->since)) ? s->since : 0;
    if (s->full_state && s->since) down_to = s->since;
    ht_timeline_back(ctx, room_id, end, down_to, s->timeline_limit, s->timeline_filter, &page);
    int64_t first = page.count ? page.events[page.count - 1].stream : end + 1;

    /* State: everything before the timeline on a fresh view, otherwise what
     * changed between since and the timeline. */
    int64_t *streams = NULL;
    size_t n = 0;
    json_t *keep = json_object();
    json_object_set_new(keep, ctx->auth.user_id, json_true());
    for (size_t i = 0; i < page.count; i++) json_object_set_new(keep, page.events[i].sender, json_true());
    if (fresh || (s->since && member_stream > s->since)) {
        /* A timeline that starts at stream 1 (the server's first room, from
         * its creation) has no state before it; "state at 0" would mean the
         * current state and repeat the timeline's events. With lazy-loaded
         * members only the members kept are looked up. */
        if (first - 1 > 0 && s->lazy_members)
            n = ht_store_state_list_lazy(store, ctx->arena, room_id, first - 1, member_list(ctx->arena, keep),
                                         &streams);
        else if (first - 1 > 0)
            n = ht_store_state_list(store, ctx->arena, room_id, first - 1, &streams);
        /* A room joined over federation got its whole state with the join,
         * at the join's own position: when the timeline's first position
         * set more than its own event, the state is the state there, less
         * what the timeline shows. */
        int64_t *at_first;
        size_t m = page.count ? ht_store_state_changed(store, ctx->arena, room_id, first - 1, first, &at_first) : 0;
        bool more = false;
        for (size_t i = 0; i < m; i++) more |= at_first[i] != first;
        if (more) n = state_at_start(ctx, room_id, first, &page, &streams);
    } else
        n = ht_store_state_changed(store, ctx->arena, room_id, s->since, first - 1, &streams);
    ht_event_row *state;
    size_t state_count = events_of(ctx, streams, n, s->state_filter, s->lazy_members, keep, &state);
    json_decref(keep);

    /* The page is newest first; the timeline reads oldest first. */
    ht_event_row *timeline = page.count ? ht_arena_alloc(ctx->arena, page.count * sizeof *timeline) : NULL;
    for (size_t i = 0; i < page.count; i++) timeline[i] = page.events[page.count - 1 - i];
    *entry = (ht_sync_room){.room_id = room_id,
                            .timeline = timeline,
                            .timeline_count = page.count,
                            .state = state,
                            .state_count = state_count,
                            .limited = page.more,
                            .prev_batch = ht_stream_token(ctx->arena, page.count ? first - 1 : end),
                            .rest = json_object()};
    if (joined) json_object_set_new(entry->rest, "summary", summary(s, room_id));
    else json_object_set_new(entry->rest, "account_data", json_pack("{s:[]}", "events"));
    return true;
}

/* A left (or banned) room the user never joined: they were only invited or
 * only knocked. They learn how it ended (their own member event, with its
 * reason) and nothing else; the room's state and timeline were never theirs
 * to read, and anyone may knock and withdraw. */
static void outsider_leave_entry(sync_req *s, const char *room_id, int64_t member_stream, ht_sync_room *entry) {
    ht_event_row *own;
    size_t n = events_of(s->ctx, &member_stream, 1, s->timeline_filter, false, NULL, &own);
    *entry = (ht_sync_room){.room_id = room_id,
                            .timeline = own,
                            .timeline_count = n,
                            .prev_batch = ht_stream_token(s->ctx->arena, member_stream - 1),
                            .rest = json_pack("{s:{s:[]}}", "account_data", "events")};
}

/* Stripped state (spec "stripped state"): what an invitee or a knocker sees
 * of a room they are not in, as it stood at their invite or knock, ending
 * with that member event itself. */
static json_t *stripped_state(sync_req *s, const char *room_id, int64_t member_stream) {
    ht_ctx *ctx = s->ctx;
    /* An invite from another server into a room we hold nothing of: the
     * state its invite carried, then the invite itself. */
    const char *carried = ht_store_invite_state_get(ctx->env->store, ctx->arena, room_id, ctx->auth.user_id);
    json_t *remote = carried ? ht_json_parse(ctx->arena, carried) : NULL;
    ht_event_row invite;
    if (json_is_array(remote) && ht_store_event_by_stream(ctx->env->store, ctx->arena, member_stream, &invite) &&
        invite.status == HT_EVENT_OUTLIER) {
        json_t *events = json_deep_copy(remote);
        json_t *content = ht_room_event_content(ctx->arena, &invite);
        json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:O}", "type", invite.type, "state_key",
                                                invite.state_key, "sender", invite.sender, "content",
                                                content ? content : json_object()));
        return events;
    }
    static const char *const types[] = {"m.room.create", "m.room.join_rules", "m.room.name",
                                        "m.room.avatar", "m.room.canonical_alias", "m.room.topic",
                                        "m.room.encryption"};
    json_t *events = json_array();
    for (size_t i = 0; i <= sizeof types / sizeof *types; i++) {
        int64_t stream = i < sizeof types / sizeof *types
                             ? ht_store_state_at(ctx->env->store, room_id, types[i], "", member_stream)
                             : member_stream;
        ht_event_row row;
        if (!stream || !ht_store_event_by_stream(ctx->env->store, ctx->arena, stream, &row)) continue;
        json_t *content = ht_room_event_content(ctx->arena, &row);
        json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:O}", "type", row.type, "state_key",
                                                row.state_key ? row.state_key : "", "sender", row.sender,
                                                "content", content ? content : json_object()));
    }
    return events;
}

/* ---- end-to-end encryption in /sync (e2ee-media) ------------------------
 * to_device, device_lists, device_one_time_keys_count and
 * device_unused_fallback_key_types. */
enum { MAX_TO_DEVICE_PER_SYNC = 100 };

/* The device's since token acknowledges the to-device messages at or below
 * it: they are deleted. If more are waiting than one response carries, the
 * response covers less of the stream (the rest, and everything else after
 * that point, comes with the next sync), so nothing is skipped. Returns the
 * position the response covers up to. */
static int64_t sync_to_device_upto(sync_req *s, int64_t position) {
    ht_store *store = s->ctx->env->store;
    const char *user = s->ctx->auth.user_id, *device = s->ctx->auth.device_id;
    if (s->since) ht_store_to_device_ack(store, user, device, s->since);
    int64_t first = ht_store_to_device_nth_stream(store, user, device, s->since, position, 0);
    int64_t beyond = ht_store_to_device_nth_stream(store, user, device, s->since, position, MAX_TO_DEVICE_PER_SYNC);
    if (!first || !beyond) return position;
    /* One sending request's messages share a position: never split them. */
    return beyond > first ? beyond - 1 : beyond;
}

/* Adds the end-to-end encryption parts to out; true if any is news. */
static bool sync_e2ee(sync_req *s, json_t *out) {
    ht_store *store = s->ctx->env->store;
    const char *user = s->ctx->auth.user_id, *device = s->ctx->auth.device_id;
    ht_arena *arena = s->ctx->arena;
    ht_to_device_row *messages;
    size_t message_count = ht_store_to_device_list(store, arena, user, device, s->since, s->upto, &messages);
    json_t *events = json_array();
    for (size_t i = 0; i < message_count; i++) {
        json_t *content = ht_json_parse(arena, messages[i].content);
        json_array_append_new(events, json_pack("{s:s, s:s, s:O}", "sender", messages[i].sender, "type",
                                                messages[i].type, "content",
                                                content ? content : ht_json_keep(arena, json_object())));
    }
    /* Device lists are changes: an initial sync has none to report. */
    json_t *lists = s->since ? ht_keys_device_lists(s->ctx, s->since, s->upto)
                             : json_pack("{s:[], s:[]}", "changed", "left");
    json_t *changed = json_object_get(lists, "changed"), *left = json_object_get(lists, "left");
    json_t *counts = ht_keys_otk_counts(s->ctx, user, device);
    const char **fallback;
    size_t fallback_count = ht_store_fallback_unused(store, arena, user, device, &fallback);
    json_t *unused = ht_json_string_array(fallback, fallback_count);
    int64_t taken = ht_store_otk_taken_stream(store, user, device);
    bool news = json_array_size(events) || json_array_size(changed) || json_array_size(left) ||
                (s->since && taken > s->since && taken <= s->upto);
    json_object_set_new(out, "to_device", json_pack("{s:o}", "events", events));
    json_object_set_new(out, "device_lists", lists);
    json_object_set_new(out, "device_one_time_keys_count", counts);
    json_object_set_new(out, "device_unused_fallback_key_types", unused);
    return news;
}


/* ---- which joined rooms to look at --------------------------------------
 * An incremental sync looks only at the rooms the store names as having
 * news (store/room_news.h) and at those whose membership is new: a user in
 * 300 quiet rooms pays for the one that moved. */

typedef struct room_news {
    bool all;           /* initial or full_state: every room is looked at */
    const char **rooms; /* sorted by strcmp */
    size_t count;
} room_news;

static int compare_room_id(const void *key, const void *member) {
    return strcmp(key, *(const char *const *)member);
}

static room_news news_since(sync_req *s, const ht_membership_row *rooms, size_t n) {
    if (!s->since || s->full_state) return (room_news){.all = true};
    size_t joined = 0;
    for (size_t i = 0; i < n; i++) joined += strcmp(rooms[i].membership, "join") == 0;
    room_news news = {0};
    news.count = ht_store_room_news(s->ctx->env->store, s->ctx->arena, s->ctx->auth.user_id, s->since, s->upto,
                                    joined, &news.rooms);
    return news;
}

static bool has_news(const room_news *news, const char *room_id) {
    return news->all || (news->count && bsearch(room_id, news->rooms, news->count, sizeof *news->rooms,
                                                 compare_room_id));
}

/* "Nothing new yet": park, woken only by writes that touch the user or a
 * room they are joined to (util/wake.h): everything a sync reports is one
 * of those (events, receipts, typing and the presence and device lists of
 * room-mates by room; account data, to-device messages, invites and their
 * own membership changes by user). In more rooms than a parked request may
 * name, any write wakes it. */
static ht_reply park(ht_ctx *ctx, int64_t position, int64_t deadline, const ht_membership_row *rooms, size_t n) {
    uint64_t *keys = ht_arena_alloc(ctx->arena, HT_MAX_PARK_KEYS * sizeof *keys);
    size_t count = 0;
    keys[count++] = ht_wake_key(HT_WAKE_USER, ctx->auth.user_id);
    for (size_t i = 0; i < n && keys; i++) {
        if (strcmp(rooms[i].membership, "join") != 0) continue;
        if (count == HT_MAX_PARK_KEYS) keys = NULL;
        else keys[count++] = ht_wake_key(HT_WAKE_ROOM, rooms[i].room_id);
    }
    return ht_reply_park((uint64_t)position, ht_sync_wake_at(ctx, deadline), keys, count);
}

/* The response's text; steals invite, knock, globals and each room's rest. */
static ht_reply sync_reply(ht_ctx *ctx, int64_t position, const ht_sync_room *join, size_t join_count,
                           const ht_sync_room *leave, size_t leave_count, json_t *invite, json_t *knock,
                           json_t *globals) {
    ht_buf out = {0};
    ht_buf_puts(&out, "{\"next_batch\":");
    ht_sync_write_string(&out, ht_stream_token(ctx->arena, position));
    ht_buf_puts(&out, ",\"rooms\":{\"join\":{");
    ht_sync_write_rooms(ctx, &out, join, join_count);
    ht_buf_puts(&out, "},\"invite\":{");
    ht_sync_write_members(&out, invite);
    ht_buf_puts(&out, "},\"leave\":{");
    ht_sync_write_rooms(ctx, &out, leave, leave_count);
    ht_buf_puts(&out, "},\"knock\":{");
    ht_sync_write_members(&out, knock);
    /* globals: presence, account_data and the end-to-end encryption parts. */
    ht_buf_puts(&out, "}}");
    if (json_object_size(globals)) ht_buf_append(&out, ",", 1);
    ht_sync_write_members(&out, globals);
    ht_buf_append(&out, "}", 1);
    return ht_reply_json_text(ctx, &out);
}

static bool setup(ht_ctx *ctx, sync_req *s, int64_t *timeout, ht_reply *err) {
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    const char *since = ht_request_query(ctx->req, "since");
    s->has_since = since != NULL;
    if (since && (!ht_stream_token_parse(since, &s->since) || s->since < 0)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "since is not a token this server gave out.");
        return false;
    }
    const char *full = ht_request_query(ctx->req, "full_state");
    s->full_state = full && strcmp(full, "true") == 0;
    const char *presence = ht_request_query(ctx->req, "set_presence");
    if (presence && strcmp(presence, "online") != 0 && strcmp(presence, "offline") != 0 &&
        strcmp(presence, "unavailable") != 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "set_presence must be online, offline or unavailable.");
        return false;
    }
    if (!ht_query_count(ctx, "timeout", 0, MAX_TIMEOUT_MS, timeout, err) || !ht_filter_param(ctx, "filter", &s->filter, err)) return false;
    s->room_filter = json_object_get(s->filter, "room");
    s->timeline_filter = json_object_get(s->room_filter, "timeline");
    s->state_filter = json_object_get(s->room_filter, "state");
    s->lazy_members = json_is_true(json_object_get(s->state_filter, "lazy_load_members"));
    s->timeline_limit = ht_filter_limit(s->timeline_filter, DEFAULT_TIMELINE_LIMIT, MAX_TIMELINE_LIMIT);
    return true;
}

ht_reply ht_api_sync(ht_ctx *ctx) {
    sync_req s;
    int64_t timeout;
    ht_reply err;
    if (!setup(ctx, &s, &timeout, &err)) return err;
    ht_sync_prepare(ctx);
    int64_t position = (int64_t)ht_store_stream_position(ctx->env->store);
    if (s.since > position) s.since = position; /* a token from before a restore */
    int64_t deadline = ctx->received_ms + timeout;
    /* "s0" (a server with no events yet) is a real token: a client that got
     * it must be able to wait on it, or it would poll in a tight loop. */
    bool may_wait = timeout > 0 && ctx->now_ms < deadline && !s.full_state && s.has_since;
    if (may_wait && s.since == position) {
        ht_membership_row *joined;
        size_t count = ht_store_memberships_of_user(ctx->env->store, ctx->arena, ctx->auth.user_id, &joined);
        return park(ctx, position, deadline, joined, count);
    }
    position = sync_to_device_upto(&s, position);
    s.upto = position;
    ht_sync_scope scope = {.since = s.since, .upto = position, .filter = s.filter};

    /* Joined and left rooms are written as text (sync_write.h); invites
     * and knocks are small and stay jansson values. */
    ht_sync_room *join = NULL, *leave = NULL;
    size_t join_count = 0, join_cap = 0, leave_count = 0, leave_cap = 0;
    json_t *invite = json_object(), *knock = json_object();
    bool include_leave = json_is_true(json_object_get(s.room_filter, "include_leave"));
    ht_membership_row *rooms;
    size_t n = ht_store_memberships_of_user(ctx->env->store, ctx->arena, ctx->auth.user_id, &rooms);
    room_news changed = news_since(&s, rooms, n);
    for (size_t i = 0; i < n; i++) {
        const char *room_id = rooms[i].room_id;
        const char *m = rooms[i].membership;
        if (!ht_filter_allows_room(s.room_filter, room_id)) continue;
        ht_sync_room entry;
        if (strcmp(m, "join") == 0) {
            bool fresh = !s.since || s.full_state || rooms[i].stream > s.since;
            if (!fresh && !has_news(&changed, room_id)) continue;
            bool has_entry = room_entry(&s, room_id, rooms[i].stream, position, true, &entry);
            json_t *rest = ht_sync_joined_room_extras(ctx, &scope, room_id, fresh, has_entry ? entry.rest : NULL);
            if (!rest) continue;
            if (!has_entry) /* only ephemeral events or account data are new */
                entry = (ht_sync_room){.room_id = room_id, .prev_batch = ht_stream_token(ctx->arena, position)};
            entry.rest = rest;
            join = ht_arena_push(ctx->arena, join, sizeof *join, join_count, &join_cap);
            join[join_count++] = entry;
        } else if (strcmp(m, "invite") == 0 || strcmp(m, "knock") == 0) {
            /* Both are reported once, when the membership is new; what
             * follows (accepted, rejected, withdrawn) is a new membership. */
            bool is_invite = strcmp(m, "invite") == 0;
            if (!s.since || rooms[i].stream > s.since)
                json_object_set_new(is_invite ? invite : knock, room_id,
                                    json_pack("{s:{s:o}}", is_invite ? "invite_state" : "knock_state",
                                              "events", stripped_state(&s, room_id, rooms[i].stream)));
        } else if ((strcmp(m, "leave") == 0 || strcmp(m, "ban") == 0) &&
                   ((s.since && rooms[i].stream > s.since) || (!s.since && include_leave))) {
            if (ht_store_member_joined_after(ctx->env->store, room_id, ctx->auth.user_id, 0)) {
                if (!room_entry(&s, room_id, rooms[i].stream, rooms[i].stream, false, &entry)) continue;
            } else {
                outsider_leave_entry(&s, room_id, rooms[i].stream, &entry);
            }
            leave = ht_arena_push(ctx->arena, leave, sizeof *leave, leave_count, &leave_cap);
            leave[leave_count++] = entry;
        }
    }
    json_t *e2ee = json_object();
    bool e2ee_news = sync_e2ee(&s, e2ee);
    bool global_news;
    json_t *globals = ht_sync_globals(ctx, &scope, &global_news);
    bool news = join_count || json_object_size(invite) || leave_count || json_object_size(knock) || e2ee_news ||
                global_news;
    if (!news && may_wait) {
        json_decref(invite);
        json_decref(knock);
        json_decref(e2ee);
        json_decref(globals);
        return park(ctx, position, deadline, rooms, n);
    }
    json_object_update(globals, e2ee);
    json_decref(e2ee);
    return sync_reply(ctx, position, join, join_count, leave, leave_count, invite, knock, globals);
}
