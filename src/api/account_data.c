/* account_data.c -- a user's own settings, kept by the server and synced
 * to all their devices: global and per-room account data, and room tags
 * (the m.tag room account data).
 *
 * Two types belong to the server and are read-only here: m.fully_read
 * (set through /read_markers) and m.push_rules (set through /pushrules,
 * and read here as the whole ruleset). */
#include "api/account_data.h"

#include <stdlib.h>
#include <string.h>

#include "api/push_rules.h"
#include "matrix/ids.h"
#include "store/account_data.h"
#include "store/meta.h"
#include "store/store.h"
#include "util/json.h"

/* Bounds on what a user keeps here (issue 9). Types and tag names: 255
 * bytes (the spec's limit for event types and, in its tagging module, for
 * tag names). The rest is hometab's choice, Synapse having none: one entry
 * at most 1 MiB, one tag 1 KiB (its `order` and a little more), 100 tags a
 * room, so m.tag stays near 128 KiB however it is rewritten; and per user
 * 10,000 entries holding 8 MiB in all, not counting the m.fully_read
 * markers the server keeps for every room read. */
enum {
    MAX_TYPE_BYTES = 255,
    MAX_TAG_BYTES = 255,
    MAX_TAGS = 100,
    MAX_TAG_CONTENT_BYTES = 1024,
    MAX_CONTENT_BYTES = 1024 * 1024,
    MAX_ENTRIES_PER_USER = 10000,
    MAX_BYTES_PER_USER = 8 * 1024 * 1024,
};

bool ht_account_data_set(ht_ctx *ctx, const char *room_id, const char *type, json_t *content) {
    char *text = json_dumps(content, JSON_COMPACT);
    if (!text) return false;
    int64_t stream = (int64_t)ht_store_stream_advance(ctx->env->store);
    bool ok = ht_store_account_data_put(ctx->env->store, ctx->auth.user_id, room_id, type, text, stream);
    free(text);
    return ok;
}

/* The path's user must be the caller; the room, if any, a valid room id. */
static bool scope(ht_ctx *ctx, bool with_room, const char **room_id, ht_reply *err) {
    if (strcmp(ht_param_get(ctx, "userId"), ctx->auth.user_id) != 0) {
        *err = ht_reply_error(HT_M_FORBIDDEN, "You can only use your own account data.");
        return false;
    }
    *room_id = "";
    if (!with_room) return true;
    const char *id = ht_param_get(ctx, "roomId");
    if (!ht_room_id_valid(id)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "That is not a valid room id.");
        return false;
    }
    *room_id = id;
    return true;
}

static bool type_param(ht_ctx *ctx, const char **type, ht_reply *err) {
    const char *t = ht_param_get(ctx, "type");
    if (!*t || strlen(t) > MAX_TYPE_BYTES) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "The account data type must be 1 to 255 bytes.");
        return false;
    }
    *type = t;
    return true;
}

/* May the user store `content` under (room_id, type), given what they keep
 * already? `old`: the entry it replaces, or NULL. */
static bool within_quota(ht_ctx *ctx, const char *old, const char *content, ht_reply *err) {
    int64_t entries, bytes;
    ht_store_account_data_usage(ctx->env->store, ctx->auth.user_id, &entries, &bytes);
    int64_t after = bytes - (old ? (int64_t)strlen(old) : 0) + (int64_t)strlen(content);
    if ((!old && entries >= MAX_ENTRIES_PER_USER) || after > MAX_BYTES_PER_USER) {
        *err = ht_reply_error(HT_M_TOO_LARGE, "Your account data is full: at most 10000 entries and 8 MiB in "
                                              "all. Remove some before adding more.");
        return false;
    }
    return true;
}

static ht_reply get(ht_ctx *ctx, bool with_room) {
    const char *room_id, *type;
    ht_reply err;
    if (!scope(ctx, with_room, &room_id, &err) || !type_param(ctx, &type, &err)) return err;
    if (!with_room && strcmp(type, "m.push_rules") == 0) return ht_reply_json(ht_push_rules_account_data(ctx));
    const char *text = ht_store_account_data_get(ctx->env->store, ctx->arena, ctx->auth.user_id, room_id, type);
    json_t *content = text ? json_loads(text, 0, NULL) : NULL;
    if (!content) return ht_reply_error(HT_M_NOT_FOUND, "You have no account data of that type.");
    return ht_reply_json(content);
}

static ht_reply put(ht_ctx *ctx, bool with_room) {
    const char *room_id, *type;
    json_t *body;
    ht_reply err;
    if (!scope(ctx, with_room, &room_id, &err) || !type_param(ctx, &type, &err)) return err;
    if (strcmp(type, "m.fully_read") == 0 || strcmp(type, "m.push_rules") == 0) {
        ht_reply refused = ht_reply_status_error(405, HT_M_BAD_JSON,
                                                 "This type of account data is managed by the server: use "
                                                 "/read_markers or /pushrules to change it.");
        refused.extra_headers = "Allow: GET, HEAD, OPTIONS\r\n"; /* every 405 names what is allowed */
        return refused;
    }
    if (!ht_body_object(ctx, &body, &err)) return err;
    if (ctx->req->body_len > MAX_CONTENT_BYTES)
        return ht_reply_error(HT_M_TOO_LARGE, "Account data may be at most 1 MiB.");
    const char *old = ht_store_account_data_get(ctx->env->store, ctx->arena, ctx->auth.user_id, room_id, type);
    if (!within_quota(ctx, old, ht_json_dump(ctx->arena, body), &err)) return err;
    if (!ht_account_data_set(ctx, room_id, type, body))
        return ht_reply_error(HT_M_SERVER_ERROR, "The account data could not be stored.");
    return ht_reply_empty();
}

ht_reply ht_api_account_data_get(ht_ctx *ctx) { return get(ctx, false); }
ht_reply ht_api_account_data_put(ht_ctx *ctx) { return put(ctx, false); }
ht_reply ht_api_room_account_data_get(ht_ctx *ctx) { return get(ctx, true); }
ht_reply ht_api_room_account_data_put(ht_ctx *ctx) { return put(ctx, true); }

/* ---- tags ---------------------------------------------------------------- */

/* The room's m.tag content, always with a "tags" object (arena-kept);
 * *stored is its text as stored, NULL if there is none. */
static json_t *tags_content(ht_ctx *ctx, const char *room_id, const char **stored) {
    const char *text = ht_store_account_data_get(ctx->env->store, ctx->arena, ctx->auth.user_id, room_id, "m.tag");
    if (stored) *stored = text;
    json_t *content = ht_json_parse(ctx->arena, text);
    if (!json_is_object(content)) content = ht_json_keep(ctx->arena, json_object());
    if (!json_is_object(json_object_get(content, "tags"))) json_object_set_new(content, "tags", json_object());
    return content;
}

ht_reply ht_api_tags_get(ht_ctx *ctx) {
    const char *room_id;
    ht_reply err;
    if (!scope(ctx, true, &room_id, &err)) return err;
    return ht_reply_json(json_pack("{s:O}", "tags", json_object_get(tags_content(ctx, room_id, NULL), "tags")));
}

static bool tag_param(ht_ctx *ctx, const char **tag, ht_reply *err) {
    const char *t = ht_param_get(ctx, "tag");
    if (!*t || strlen(t) > MAX_TAG_BYTES) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "A tag must be 1 to 255 bytes.");
        return false;
    }
    *tag = t;
    return true;
}

ht_reply ht_api_tag_put(ht_ctx *ctx) {
    const char *room_id, *tag;
    json_t *body;
    ht_reply err;
    if (!scope(ctx, true, &room_id, &err) || !tag_param(ctx, &tag, &err)) return err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *order = json_object_get(body, "order");
    if (order && !json_is_number(order)) return ht_reply_error(HT_M_BAD_JSON, "order must be a number.");
    if (strlen(ht_json_dump(ctx->arena, body)) > MAX_TAG_CONTENT_BYTES)
        return ht_reply_error(HT_M_TOO_LARGE, "A tag's content may be at most 1024 bytes of JSON.");
    const char *stored;
    json_t *content = tags_content(ctx, room_id, &stored);
    json_t *tags = json_object_get(content, "tags");
    if (!json_object_get(tags, tag) && json_object_size(tags) >= MAX_TAGS)
        return ht_reply_error(HT_M_INVALID_PARAM, "A room can have at most 100 tags.");
    json_object_set(tags, tag, body);
    if (!within_quota(ctx, stored, ht_json_dump(ctx->arena, content), &err)) return err;
    if (!ht_account_data_set(ctx, room_id, "m.tag", content))
        return ht_reply_error(HT_M_SERVER_ERROR, "The tag could not be stored.");
    return ht_reply_empty();
}

ht_reply ht_api_tag_delete(ht_ctx *ctx) {
    const char *room_id, *tag;
    ht_reply err;
    if (!scope(ctx, true, &room_id, &err) || !tag_param(ctx, &tag, &err)) return err;
    json_t *content = tags_content(ctx, room_id, NULL);
    json_t *tags = json_object_get(content, "tags");
    if (!json_object_get(tags, tag)) return ht_reply_empty(); /* already gone */
    json_object_del(tags, tag);
    if (!ht_account_data_set(ctx, room_id, "m.tag", content))
        return ht_reply_error(HT_M_SERVER_ERROR, "The tag could not be stored.");
    return ht_reply_empty();
}
