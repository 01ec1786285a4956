/* profile.c -- display names and avatars: GET /profile/{userId},
 * GET/PUT/DELETE /profile/{userId}/{displayname|avatar_url}, and the user
 * directory (POST /user_directory/search).
 *
 * The profile lives in the users table; every room shows it through the
 * user's m.room.member event. So a change is followed by a new join event,
 * carrying the new name and avatar, in every room the user is joined to,
 * sent through ht_room_send like any other event. */
#include "api/profile.h"

#include <string.h>

#include "federation/federation.h"
#include "matrix/ids.h"
#include "room/room.h"
#include "store/accounts.h"
#include "store/profile.h"
#include "store/store.h"
#include "util/json.h"

enum {
    DEFAULT_SEARCH_LIMIT = 10,
    MAX_SEARCH_LIMIT = 50,
    MAX_SEARCH_TERM_BYTES = 256,
};

/* The user of the path, who must exist here and not be deactivated. */
static bool profile_user(ht_ctx *ctx, const char **user_id, ht_user_row *row, ht_reply *err) {
    const char *id = ht_param_get(ctx, "userId");
    if (!ht_user_id_valid(id)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "That is not a valid user id.");
        return false;
    }
    if (!ht_store_user_get(ctx->env->store, ctx->arena, id, row) || row->deactivated) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "There is no such user on this server.");
        return false;
    }
    *user_id = id;
    return true;
}

static bool is_field(const char *key) {
    return strcmp(key, "displayname") == 0 || strcmp(key, "avatar_url") == 0;
}

static const char *field_value(const ht_user_row *row, const char *key) {
    return strcmp(key, "displayname") == 0 ? row->displayname : row->avatar_url;
}

/* A user of another server: asked of it (when federation is on). */
static bool remote_user(ht_ctx *ctx) {
    const char *id = ht_param_get(ctx, "userId");
    const char *server = ht_user_id_valid(id) ? ht_id_server(id) : NULL;
    return server && strcmp(server, ctx->env->server_name) != 0 && ctx->env->cfg->federation;
}

ht_reply ht_api_profile_get(ht_ctx *ctx) {
    ht_reply remote;
    if (remote_user(ctx)) return ht_fed_remote_profile(ctx, ht_param_get(ctx, "userId"), NULL, &remote)
                                     ? remote : (ht_reply){0};
    const char *user_id;
    ht_user_row row;
    ht_reply err;
    if (!profile_user(ctx, &user_id, &row, &err)) return err;
    json_t *profile = json_object();
    if (row.displayname) json_object_set_new(profile, "displayname", json_string(row.displayname));
    if (row.avatar_url) json_object_set_new(profile, "avatar_url", json_string(row.avatar_url));
    return ht_reply_json(profile);
}

ht_reply ht_api_profile_field_get(ht_ctx *ctx) {
    ht_reply remote;
    const char *key = ht_param_get(ctx, "keyName");
    if (remote_user(ctx) && is_field(key))
        return ht_fed_remote_profile(ctx, ht_param_get(ctx, "userId"), key, &remote) ? remote : (ht_reply){0};
    const char *user_id;
    ht_user_row row;
    ht_reply err;
    if (!profile_user(ctx, &user_id, &row, &err)) return err;
    const char *value = is_field(key) ? field_value(&row, key) : NULL;
    if (!value) return ht_reply_errorf(ctx, HT_M_NOT_FOUND, "That user has no %s.", key);
    return ht_reply_json(json_pack("{s:s}", key, value));
}

/* The user's current member event content in a room, with the profile
 * fields replaced; NULL if nothing would change. */
static json_t *rejoin_content(ht_ctx *ctx, const char *room_id, const char *user_id,
                              const char *displayname, const char *avatar_url) {
    json_t *now = ht_room_state_content(ctx->env, room_id, "m.room.member", user_id);
    json_t *content = ht_json_keep(ctx->arena, now ? json_deep_copy(now) : json_object());
    json_object_del(content, "reason");
    json_object_set_new(content, "membership", json_string("join"));
    if (displayname) json_object_set_new(content, "displayname", json_string(displayname));
    else json_object_del(content, "displayname");
    if (avatar_url) json_object_set_new(content, "avatar_url", json_string(avatar_url));
    else json_object_del(content, "avatar_url");
    return now && json_equal(now, content) ? NULL : content;
}

/* Shows the profile in every room the user is joined to. A room whose
 * rules refuse the event keeps the old profile; that does not undo the
 * change elsewhere. */
static void announce_profile(ht_ctx *ctx, const char *user_id) {
    ht_user_row row;
    if (!ht_store_user_get(ctx->env->store, ctx->arena, user_id, &row)) return;
    ht_membership_row *rooms;
    size_t n = ht_store_memberships_of_user(ctx->env->store, ctx->arena, user_id, &rooms);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rooms[i].membership, "join") != 0) continue;
        json_t *content = rejoin_content(ctx, rooms[i].room_id, user_id, row.displayname, row.avatar_url);
        if (!content) continue;
        ht_new_event ev = {.room_id = rooms[i].room_id, .type = "m.room.member", .state_key = user_id,
                           .sender = user_id, .content = content};
        const char *event_id;
        ht_room_send(ctx->env, &ev, &event_id, NULL);
    }
}

static bool set_field(ht_ctx *ctx, const char *key, const char *value) {
    ht_store *store = ctx->env->store;
    return strcmp(key, "displayname") == 0 ? ht_store_profile_set_displayname(store, ctx->auth.user_id, value)
                                           : ht_store_profile_set_avatar_url(store, ctx->auth.user_id, value);
}

/* The caller may change only their own profile, and only its two fields. */
static bool own_field(ht_ctx *ctx, const char **key, ht_reply *err) {
    if (strcmp(ht_param_get(ctx, "userId"), ctx->auth.user_id) != 0) {
        *err = ht_reply_error(HT_M_FORBIDDEN, "You can only change your own profile.");
        return false;
    }
    *key = ht_param_get(ctx, "keyName");
    if (!is_field(*key)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "This server keeps only displayname and avatar_url.");
        return false;
    }
    return true;
}

/* Checks the new value; "" and null clear the field (*value = NULL). */
static bool check_value(ht_ctx *ctx, const char *key, json_t *v, const char **value, ht_reply *err) {
    bool name = strcmp(key, "displayname") == 0;
    if (!v) {
        *err = ht_reply_errorf(ctx, HT_M_MISSING_PARAM, "The body needs a %s field.", key);
        return false;
    }
    if (!json_is_string(v) && !json_is_null(v)) {
        *err = ht_reply_errorf(ctx, HT_M_BAD_JSON, "%s must be a string.", key);
        return false;
    }
    const char *text = json_string_value(v);
    *value = text && *text ? text : NULL;
    if (!*value) return true;
    if (strlen(text) > (name ? HT_MAX_DISPLAYNAME_BYTES : HT_MAX_AVATAR_URL_BYTES)) {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s is too long (at most %d bytes).", key,
                               name ? HT_MAX_DISPLAYNAME_BYTES : HT_MAX_AVATAR_URL_BYTES);
        return false;
    }
    if (!name && strncmp(text, "mxc://", 6) != 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "avatar_url must be an mxc:// URI.");
        return false;
    }
    return true;
}

ht_reply ht_api_profile_field_put(ht_ctx *ctx) {
    const char *key, *value;
    json_t *body;
    ht_reply err;
    if (!own_field(ctx, &key, &err) || !ht_body_object(ctx, &body, &err)) return err;
    if (!check_value(ctx, key, json_object_get(body, key), &value, &err)) return err;
    if (!set_field(ctx, key, value)) return ht_reply_error(HT_M_SERVER_ERROR, "The profile could not be stored.");
    announce_profile(ctx, ctx->auth.user_id);
    return ht_reply_empty();
}

ht_reply ht_api_profile_field_delete(ht_ctx *ctx) {
    const char *key;
    ht_reply err;
    if (!own_field(ctx, &key, &err)) return err;
    if (!set_field(ctx, key, NULL)) return ht_reply_error(HT_M_SERVER_ERROR, "The profile could not be stored.");
    announce_profile(ctx, ctx->auth.user_id);
    return ht_reply_empty();
}

ht_reply ht_api_user_directory_search(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *term = json_object_get(body, "search_term");
    json_t *limit = json_object_get(body, "limit");
    if (!term) return ht_reply_error(HT_M_MISSING_PARAM, "search_term is required.");
    if (!json_is_string(term)) return ht_reply_error(HT_M_BAD_JSON, "search_term must be a string.");
    if (limit && !json_is_integer(limit)) return ht_reply_error(HT_M_BAD_JSON, "limit must be an integer.");
    if (strlen(json_string_value(term)) > MAX_SEARCH_TERM_BYTES)
        return ht_reply_error(HT_M_INVALID_PARAM, "search_term is too long.");
    int64_t max = limit ? json_integer_value(limit) : DEFAULT_SEARCH_LIMIT;
    if (max < 1) max = 1;
    if (max > MAX_SEARCH_LIMIT) max = MAX_SEARCH_LIMIT;

    /* One more than asked tells whether the list was cut. */
    ht_directory_user *users;
    size_t n = ht_store_user_directory_search(ctx->env->store, ctx->arena, ctx->auth.user_id,
                                              json_string_value(term), max + 1, &users);
    json_t *results = json_array();
    for (size_t i = 0; i < n && (int64_t)i < max; i++) {
        json_t *u = json_pack("{s:s}", "user_id", users[i].user_id);
        if (users[i].displayname) json_object_set_new(u, "display_name", json_string(users[i].displayname));
        if (users[i].avatar_url) json_object_set_new(u, "avatar_url", json_string(users[i].avatar_url));
        json_array_append_new(results, u);
    }
    return ht_reply_json(json_pack("{s:o, s:b}", "results", results, "limited", (int64_t)n > max));
}

void ht_profile_announce(ht_ctx *ctx, const char *user_id) { announce_profile(ctx, user_id); }
