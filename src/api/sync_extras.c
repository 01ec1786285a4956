/* sync_extras.c -- ephemeral events, account data, presence and unread
 * counts for /sync.
 *
 * Each is read from the store as "what changed after since" (everything
 * on an initial sync), using the stream position every change recorded.
 * Unread counts are kept by the rooms engine (room/push_actions.h). */
#include "api/sync_extras.h"

#include <string.h>

#include "api/filter.h"
#include "api/presence.h"
#include "api/push_rules.h"
#include "room/push_actions.h"
#include "store/account_data.h"
#include "store/meta.h"
#include "store/presence.h"
#include "store/receipts.h"
#include "store/store.h"
#include "store/typing.h"
#include "util/json.h"

enum {
    MAX_PRESENCE_EVENTS = 500,
    CURRENTLY_ACTIVE_MS = 5 * 60 * 1000,
};

/* ---- before the sync: typing expiry and set_presence ------------------------ */

static void expire_typing(ht_ctx *ctx) {
    ht_store *store = ctx->env->store;
    const char **rooms;
    size_t n = ht_store_typing_expired_rooms(store, ctx->arena, ctx->now_ms, &rooms);
    if (!n) return;
    ht_store_typing_delete_expired(store, ctx->now_ms);
    int64_t stream = (int64_t)ht_store_stream_advance(store);
    for (size_t i = 0; i < n; i++) ht_store_typing_mark(store, rooms[i], stream);
}

/* The spec: no set_presence marks the user online; "unavailable" marks them
 * idle; "offline" leaves presence alone. A state set explicitly with PUT
 * /presence is not overridden by syncing, except offline -> online. */
static void apply_set_presence(ht_ctx *ctx) {
    const char *wanted = ht_request_query(ctx->req, "set_presence");
    if (!wanted) wanted = "online";
    if (strcmp(wanted, "offline") == 0) return;
    ht_store *store = ctx->env->store;
    ht_presence_row row;
    bool known = ht_store_presence_get(store, ctx->arena, ctx->auth.user_id, &row);
    const char *now = known ? row.presence : "offline";
    bool change = strcmp(wanted, "online") == 0 ? strcmp(now, "offline") == 0 : strcmp(now, wanted) != 0;
    if (change) {
        ht_presence_row next = {ctx->auth.user_id, wanted, known ? row.status_msg : NULL, ctx->now_ms,
                                (int64_t)ht_store_stream_advance(store)};
        ht_store_presence_set(store, &next);
    } else if (known && ctx->now_ms - row.last_active_ms > ht_presence_activity_interval(ctx)) {
        ht_presence_touch(ctx, &row);
    }
}

void ht_sync_prepare(ht_ctx *ctx) {
    expire_typing(ctx);
    apply_set_presence(ctx); /* first, so a returning user is not shown offline in between */
    ht_presence_expire(ctx);
}

int64_t ht_sync_wake_at(ht_ctx *ctx, int64_t deadline) {
    int64_t expiry = ht_store_typing_next_expiry(ctx->env->store, ctx->auth.user_id);
    if (!expiry || expiry >= deadline) return deadline;
    return expiry > ctx->now_ms ? expiry : ctx->now_ms + 1;
}

/* ---- ephemeral: typing and receipts ------------------------------------------ */

static json_t *room_filter_part(ht_sync_scope *scope, const char *part) {
    return json_object_get(json_object_get(scope->filter, "room"), part);
}

static json_t *typing_event(ht_ctx *ctx, ht_sync_scope *scope, const char *room_id, bool fresh) {
    ht_store *store = ctx->env->store;
    int64_t changed = ht_store_typing_changed(store, room_id);
    if (!fresh && (changed <= scope->since || changed > scope->upto)) return NULL;
    const char **users;
    size_t n = ht_store_typing_users(store, ctx->arena, room_id, ctx->now_ms, &users);
    if (fresh && !n) return NULL;
    json_t *ids = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(ids, json_string(users[i]));
    return json_pack("{s:s, s:{s:o}}", "type", "m.typing", "content", "user_ids", ids);
}

/* m.receipt: event id -> receipt type -> user -> {ts, thread_id}. Private
 * receipts are shown to their owner only. */
static json_t *receipt_event(ht_ctx *ctx, ht_sync_scope *scope, const char *room_id, bool fresh) {
    ht_receipt_row *rows;
    size_t n = ht_store_receipts_since(ctx->env->store, ctx->arena, room_id, fresh ? 0 : scope->since,
                                       scope->upto, &rows);
    json_t *content = json_object();
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].type, "m.read.private") == 0 && strcmp(rows[i].user_id, ctx->auth.user_id) != 0)
            continue;
        json_t *by_event = json_object_get(content, rows[i].event_id);
        if (!by_event) json_object_set_new(content, rows[i].event_id, by_event = json_object());
        json_t *by_type = json_object_get(by_event, rows[i].type);
        if (!by_type) json_object_set_new(by_event, rows[i].type, by_type = json_object());
        json_t *receipt = json_pack("{s:I}", "ts", (json_int_t)rows[i].ts);
        if (*rows[i].thread_id) json_object_set_new(receipt, "thread_id", json_string(rows[i].thread_id));
        json_object_set_new(by_type, rows[i].user_id, receipt);
    }
    if (!json_object_size(content)) {
        json_decref(content);
        return NULL;
    }
    return json_pack("{s:s, s:o}", "type", "m.receipt", "content", content);
}

static json_t *ephemeral_events(ht_ctx *ctx, ht_sync_scope *scope, const char *room_id, bool fresh) {
    json_t *filter = room_filter_part(scope, "ephemeral");
    json_t *events = json_array();
    json_t *typing =
        ht_filter_allows(ctx->env, filter, "m.typing", "") ? typing_event(ctx, scope, room_id, fresh) : NULL;
    if (typing) json_array_append_new(events, typing);
    json_t *receipts =
        ht_filter_allows(ctx->env, filter, "m.receipt", "") ? receipt_event(ctx, scope, room_id, fresh) : NULL;
    if (receipts) json_array_append_new(events, receipts);
    return events;
}

/* ---- account data --------------------------------------------------------------- */

static json_t *account_data_events(ht_ctx *ctx, const char *room_id, int64_t since, int64_t upto,
                                   json_t *filter) {
    ht_account_data_row *rows;
    size_t n = ht_store_account_data_since(ctx->env->store, ctx->arena, ctx->auth.user_id, room_id, since,
                                           upto, &rows);
    json_t *events = json_array();
    bool global = !*room_id;
    bool rules_sent = false;
    for (size_t i = 0; i < n; i++) {
        if (!ht_filter_allows(ctx->env, filter, rows[i].type, "")) continue;
        json_t *content;
        if (global && strcmp(rows[i].type, "m.push_rules") == 0) {
            content = ht_push_rules_account_data(ctx); /* the row only marks the change */
            rules_sent = true;
        } else {
            content = json_loads(rows[i].content, 0, NULL);
        }
        if (content) json_array_append_new(events, json_pack("{s:s, s:o}", "type", rows[i].type, "content", content));
    }
    /* A new account has no row yet, but clients want its rules at once. */
    if (global && !since && !rules_sent && ht_filter_allows(ctx->env, filter, "m.push_rules", ""))
        json_array_append_new(events, json_pack("{s:s, s:o}", "type", "m.push_rules", "content",
                                                ht_push_rules_account_data(ctx)));
    return events;
}

/* ---- unread counts (room/push_actions.c) ---------------------------------------------------- */

static json_t *counts_json(int64_t notifications, int64_t highlights) {
    return json_pack("{s:I, s:I}", "notification_count", (json_int_t)notifications, "highlight_count",
                     (json_int_t)highlights);
}

/* unread_notifications, and unread_thread_notifications when the filter
 * asks for counts per thread (then the room count is the main timeline's). */
static void add_unread(ht_ctx *ctx, ht_sync_scope *scope, const char *room_id, json_t *entry) {
    ht_unread_row *counts;
    size_t n = ht_room_unread_counts(ctx->env, room_id, ctx->auth.user_id, &scope->rules, &counts);
    bool per_thread = json_is_true(json_object_get(room_filter_part(scope, "timeline"), "unread_thread_notifications"));
    int64_t notifications = 0, highlights = 0;
    json_t *threads = json_object();
    for (size_t i = 0; i < n; i++) {
        ht_unread_row *t = &counts[i];
        bool main = strcmp(t->thread_id, "main") == 0;
        if (per_thread && !main) {
            if (t->notifications)
                json_object_set_new(threads, t->thread_id, counts_json(t->notifications, t->highlights));
            continue;
        }
        notifications += t->notifications;
        highlights += t->highlights;
    }
    json_object_set_new(entry, "unread_notifications", counts_json(notifications, highlights));
    if (per_thread) json_object_set_new(entry, "unread_thread_notifications", threads);
    else json_decref(threads);
}

/* ---- the joined room entry --------------------------------------------------------- */

json_t *ht_sync_joined_room_extras(ht_ctx *ctx, ht_sync_scope *scope, const char *room_id, bool fresh,
                                   json_t *entry) {
    json_t *ephemeral = ephemeral_events(ctx, scope, room_id, fresh);
    json_t *account_data =
        account_data_events(ctx, room_id, fresh ? 0 : scope->since, scope->upto,
                            room_filter_part(scope, "account_data"));
    if (!entry && !json_array_size(ephemeral) && !json_array_size(account_data)) {
        json_decref(ephemeral);
        json_decref(account_data);
        return NULL;
    }
    if (!entry) entry = json_object();
    json_object_set_new(entry, "ephemeral", json_pack("{s:o}", "events", ephemeral));
    json_object_set_new(entry, "account_data", json_pack("{s:o}", "events", account_data));
    add_unread(ctx, scope, room_id, entry);
    return entry;
}

/* ---- top level: presence and account data ------------------------------------------- */

static json_t *presence_events(ht_ctx *ctx, ht_sync_scope *scope) {
    json_t *filter = json_object_get(scope->filter, "presence");
    ht_presence_row *rows;
    size_t n = ht_store_presence_visible_since(ctx->env->store, ctx->arena, ctx->auth.user_id, scope->since,
                                               scope->upto, MAX_PRESENCE_EVENTS, &rows);
    json_t *events = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!ht_filter_allows(ctx->env, filter, "m.presence", rows[i].user_id)) continue;
        int64_t ago = ctx->now_ms > rows[i].last_active_ms ? ctx->now_ms - rows[i].last_active_ms : 0;
        json_t *content = json_pack("{s:s, s:I, s:b}", "presence", rows[i].presence, "last_active_ago",
                                    (json_int_t)ago, "currently_active",
                                    strcmp(rows[i].presence, "online") == 0 && ago < CURRENTLY_ACTIVE_MS);
        if (rows[i].status_msg) json_object_set_new(content, "status_msg", json_string(rows[i].status_msg));
        json_array_append_new(events, json_pack("{s:s, s:s, s:o}", "type", "m.presence", "sender",
                                                rows[i].user_id, "content", content));
    }
    return events;
}

json_t *ht_sync_globals(ht_ctx *ctx, ht_sync_scope *scope, bool *news) {
    json_t *presence = presence_events(ctx, scope);
    json_t *account_data =
        account_data_events(ctx, "", scope->since, scope->upto, json_object_get(scope->filter, "account_data"));
    *news = json_array_size(presence) || json_array_size(account_data);
    return json_pack("{s:{s:o}, s:{s:o}}", "presence", "events", presence, "account_data", "events", account_data);
}
