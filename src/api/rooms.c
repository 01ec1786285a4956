/* rooms.c -- making rooms and moving people in and out of them:
 * /createRoom, /join, /knock, /rooms/{roomId}/(join|invite|leave|kick|ban|unban|forget),
 * /joined_rooms. Every change is an m.room.member event through ht_room_send,
 * so the authorization rules decide, not this file. */
#include "api/rooms.h"

#include <string.h>

#include "api/room_access.h"
#include "federation/federation.h"
#include "federation/pdus.h"
#include "matrix/ids.h"
#include "room/room.h"
#include "room/room_version.h"
#include "store/accounts.h"
#include "store/store.h"
#include "util/json.h"

enum { MAX_INVITES = 100, MAX_INITIAL_STATE = 100 };

static ht_reply from_error(ht_error err) { return (ht_reply){.error = err}; }

/* Sends one event; on failure returns false with the error reply. */
static bool send_event(ht_ctx *ctx, const char *room_id, const char *type, const char *state_key,
                       json_t *content, const char **event_id, ht_reply *err) {
    ht_new_event ev = {.room_id = room_id, .type = type, .state_key = state_key,
                       .sender = ctx->auth.user_id, .content = content};
    const char *id;
    ht_error e = ht_room_send(ctx->env, &ev, &id, NULL);
    if (e.code) {
        *err = from_error(e);
        return false;
    }
    if (event_id) *event_id = id;
    return true;
}

/* A member event's content, with the target's profile for join, invite and
 * knock (the members deciding on a knock see who is asking). */
static json_t *member_content(ht_ctx *ctx, const char *user_id, const char *membership,
                              json_t *body) {
    json_t *content = ht_json_keep(ctx->arena, json_pack("{s:s}", "membership", membership));
    const char *reason = ht_json_str(body, "reason");
    if (reason) json_object_set_new(content, "reason", json_string(reason));
    if (strcmp(membership, "join") == 0 || strcmp(membership, "invite") == 0 ||
        strcmp(membership, "knock") == 0) {
        ht_user_row user;
        if (ht_store_user_get(ctx->env->store, ctx->arena, user_id, &user)) {
            if (user.displayname) json_object_set_new(content, "displayname", json_string(user.displayname));
            if (user.avatar_url) json_object_set_new(content, "avatar_url", json_string(user.avatar_url));
        }
    }
    return content;
}

/* Every membership change may carry a reason; if it does, a string. */
static bool reason_valid(json_t *body) {
    json_t *reason = json_object_get(body, "reason");
    return !reason || json_is_string(reason);
}

static bool local_user_exists(ht_ctx *ctx, const char *user_id) {
    ht_user_row user;
    return ht_store_user_get(ctx->env->store, ctx->arena, user_id, &user) && !user.deactivated;
}

/* ---- createRoom -------------------------------------------------------- */

static bool is_object_or_absent(json_t *v) { return !v || json_is_object(v); }
static bool is_string_or_absent(json_t *v) { return !v || json_is_string(v); }

static json_t *default_power_levels(ht_ctx *ctx, json_t *invites, bool trusted) {
    json_t *pl = json_pack(
        "{s:{s:i}, s:i, s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}, s:i, s:i, s:i, s:i, s:i, s:i, "
        "s:{s:i}}",
        "users", ctx->auth.user_id, 100, "users_default", 0, "events", "m.room.name", 50,
        "m.room.power_levels", 100, "m.room.history_visibility", 100, "m.room.canonical_alias", 50,
        "m.room.avatar", 50, "m.room.tombstone", 100, "m.room.server_acl", 100, "m.room.encryption",
        100, "events_default", 0, "state_default", 50, "ban", 50, "kick", 50, "redact", 50, "invite",
        0, "notifications", "room", 50);
    if (trusted) {
        size_t i;
        json_t *v;
        json_array_foreach(invites, i, v) {
            json_object_set_new(json_object_get(pl, "users"), json_string_value(v), json_integer(100));
        }
    }
    return ht_json_keep(ctx->arena, pl);
}

/* Checks createRoom's body before anything is written. */
static bool check_create_body(ht_ctx *ctx, json_t *body, ht_reply *err) {
    json_t *invite = json_object_get(body, "invite");
    json_t *initial = json_object_get(body, "initial_state");
    const char *visibility = ht_json_str(body, "visibility");
    const char *preset = ht_json_str(body, "preset");
    size_t i;
    json_t *v;
    if (!is_string_or_absent(json_object_get(body, "name")) ||
        !is_string_or_absent(json_object_get(body, "topic")) ||
        !is_string_or_absent(json_object_get(body, "room_alias_name")) ||
        !is_string_or_absent(json_object_get(body, "room_version")) ||
        !is_string_or_absent(json_object_get(body, "visibility")) ||
        !is_string_or_absent(json_object_get(body, "preset")) ||
        !is_object_or_absent(json_object_get(body, "creation_content")) ||
        !is_object_or_absent(json_object_get(body, "power_level_content_override")) ||
        (json_object_get(body, "is_direct") && !json_is_boolean(json_object_get(body, "is_direct"))) ||
        (invite && !json_is_array(invite)) || (initial && !json_is_array(initial))) {
        *err = ht_reply_error(HT_M_BAD_JSON, "A createRoom field has the wrong type.");
        return false;
    }
    if (visibility && strcmp(visibility, "public") != 0 && strcmp(visibility, "private") != 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "visibility must be \"public\" or \"private\".");
        return false;
    }
    if (preset && strcmp(preset, "public_chat") != 0 && strcmp(preset, "private_chat") != 0 &&
        strcmp(preset, "trusted_private_chat") != 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "Unknown preset.");
        return false;
    }
    if (json_array_size(invite) > MAX_INVITES || json_array_size(initial) > MAX_INITIAL_STATE) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "Too many invites or initial state events (100 at most).");
        return false;
    }
    json_array_foreach(invite, i, v) {
        if (!json_is_string(v) || !ht_user_id_valid(json_string_value(v))) {
            *err = ht_reply_error(HT_M_INVALID_PARAM, "invite must be a list of user ids.");
            return false;
        }
        if (!local_user_exists(ctx, json_string_value(v))) {
            *err = ht_reply_errorf(ctx, HT_M_NOT_FOUND, "There is no user %s.", json_string_value(v));
            return false;
        }
    }
    json_array_foreach(initial, i, v) {
        if (!json_is_object(v) || !json_is_string(json_object_get(v, "type")) ||
            !is_string_or_absent(json_object_get(v, "state_key")) ||
            !json_is_object(json_object_get(v, "content"))) {
            *err = ht_reply_error(HT_M_BAD_JSON,
                                  "initial_state entries need a type, a content object and a string state_key.");
            return false;
        }
    }
    const char *version = ht_json_str(body, "room_version");
    if (version && !ht_room_version_supported(version)) {
        *err = ht_reply_error(HT_M_UNSUPPORTED_ROOM_VERSION, "This server supports room versions 10 and 11.");
        return false;
    }
    return true;
}

ht_reply ht_api_create_room(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    if (!check_create_body(ctx, body, &err)) return err;

    const char *visibility = ht_json_str(body, "visibility");
    bool published = visibility && strcmp(visibility, "public") == 0;
    const char *preset = ht_json_str(body, "preset");
    if (!preset) preset = published ? "public_chat" : "private_chat";
    bool is_public = strcmp(preset, "public_chat") == 0;
    json_t *invites = json_object_get(body, "invite");
    bool is_direct = json_is_true(json_object_get(body, "is_direct"));

    const char *alias = NULL;
    const char *alias_name = ht_json_str(body, "room_alias_name");
    if (alias_name) {
        alias = ht_arena_printf(ctx->arena, "#%s:%s", alias_name, ctx->env->server_name);
        if (!*alias_name || strchr(alias_name, ':') || !ht_room_alias_valid(alias))
            return ht_reply_error(HT_M_INVALID_PARAM, "room_alias_name is not a valid alias name.");
        if (ht_store_alias_get(ctx->env->store, ctx->arena, alias, NULL))
            return ht_reply_error(HT_M_ROOM_IN_USE, "That room alias is already taken.");
    }

    const char *version = ht_json_str(body, "room_version");
    if (!version) version = HT_ROOM_VERSION_DEFAULT;
    const char *room_id;
    ht_error e = ht_room_new(ctx->env, ctx->auth.user_id, version,
                             published, &room_id);
    if (e.code) return from_error(e);

    /* The events, in the order the spec gives. */
    json_t *create = ht_json_keep(ctx->arena, json_object());
    json_object_update(create, json_object_get(body, "creation_content"));
    /* Room version 11 dropped creator: the create event's sender is it. */
    if (ht_room_version_get(version)->create_has_creator)
        json_object_set_new(create, "creator", json_string(ctx->auth.user_id));
    else
        json_object_del(create, "creator");
    json_object_set_new(create, "room_version", json_string(version));
    if (!send_event(ctx, room_id, "m.room.create", "", create, NULL, &err)) return err;
    if (!send_event(ctx, room_id, "m.room.member", ctx->auth.user_id,
                    member_content(ctx, ctx->auth.user_id, "join", NULL), NULL, &err))
        return err;

    json_t *pl = default_power_levels(ctx, invites, strcmp(preset, "trusted_private_chat") == 0);
    json_object_update(pl, json_object_get(body, "power_level_content_override"));
    if (!send_event(ctx, room_id, "m.room.power_levels", "", pl, NULL, &err)) return err;

    if (alias) {
        ht_store_alias_insert(ctx->env->store, alias, room_id, ctx->auth.user_id);
        json_t *content = ht_json_keep(ctx->arena, json_pack("{s:s}", "alias", alias));
        if (!send_event(ctx, room_id, "m.room.canonical_alias", "", content, NULL, &err)) return err;
    }

    json_t *join_rules = ht_json_keep(ctx->arena, json_pack("{s:s}", "join_rule", is_public ? "public" : "invite"));
    json_t *history = ht_json_keep(ctx->arena, json_pack("{s:s}", "history_visibility", "shared"));
    if (!send_event(ctx, room_id, "m.room.join_rules", "", join_rules, NULL, &err) ||
        !send_event(ctx, room_id, "m.room.history_visibility", "", history, NULL, &err))
        return err;
    if (!is_public) {
        json_t *guest = ht_json_keep(ctx->arena, json_pack("{s:s}", "guest_access", "can_join"));
        if (!send_event(ctx, room_id, "m.room.guest_access", "", guest, NULL, &err)) return err;
    }

    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(body, "initial_state"), i, v) {
        const char *key = ht_json_str(v, "state_key"), *type = ht_json_str(v, "type");
        json_t *content = json_object_get(v, "content");
        /* The same checks as PUT /state (issue 9: a canonical alias here
         * could claim another room's alias). */
        if (!ht_room_state_content_ok(ctx, room_id, type, content, &err) ||
            !send_event(ctx, room_id, type, key ? key : "", content, NULL, &err))
            return err;
    }
    static const char *const named[][2] = {{"name", "m.room.name"}, {"topic", "m.room.topic"}};
    for (size_t k = 0; k < 2; k++) {
        const char *text = ht_json_str(body, named[k][0]);
        if (!text) continue;
        json_t *content = ht_json_keep(ctx->arena, json_pack("{s:s}", named[k][0], text));
        if (!send_event(ctx, room_id, named[k][1], "", content, NULL, &err)) return err;
    }
    json_array_foreach(invites, i, v) {
        const char *target = json_string_value(v);
        json_t *content = member_content(ctx, target, "invite", NULL);
        if (is_direct) json_object_set_new(content, "is_direct", json_true());
        if (!send_event(ctx, room_id, "m.room.member", target, content, NULL, &err)) return err;
    }
    return ht_reply_json(json_pack("{s:s}", "room_id", room_id));
}

/* ---- membership -------------------------------------------------------- */

static ht_reply change_membership(ht_ctx *ctx, const char *room_id, const char *target,
                                  const char *membership, json_t *body) {
    json_t *content = member_content(ctx, target, membership, body);
    const char *event_id;
    ht_reply err;
    if (!send_event(ctx, room_id, "m.room.member", target, content, &event_id, &err)) return err;
    return ht_reply_empty();
}

/* Join or knock as oneself: {reason?} in, {room_id} out. */
static ht_reply enter_room(ht_ctx *ctx, const char *room_id, const char *membership) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    if (!reason_valid(body)) return ht_reply_error(HT_M_BAD_JSON, "reason must be a string.");
    if (!send_event(ctx, room_id, "m.room.member", ctx->auth.user_id,
                    member_content(ctx, ctx->auth.user_id, membership, body), NULL, &err))
        return err;
    return ht_reply_json(json_pack("{s:s}", "room_id", room_id));
}


/* The servers to join a room through: the client's server_name and via
 * (spec: both, repeated), those an alias's server named, and the room id's
 * own server, in that order, each once, at most 20. */
static size_t join_servers(ht_ctx *ctx, const char *room_id, json_t *from_alias, const char ***out) {
    enum { MAX_SERVERS = 20 };
    const char **list = ht_arena_calloc(ctx->arena, MAX_SERVERS, sizeof *list);
    size_t n = 0;
    const char *candidates[MAX_SERVERS * 2 + 1];
    size_t c = 0;
    for (size_t i = 0; i < ctx->req->query_count && c < MAX_SERVERS; i++)
        if (strcmp(ctx->req->query[i].name, "server_name") == 0 || strcmp(ctx->req->query[i].name, "via") == 0)
            candidates[c++] = ctx->req->query[i].value;
    for (size_t i = 0; i < json_array_size(from_alias) && c < MAX_SERVERS * 2 - 1; i++)
        if (json_is_string(json_array_get(from_alias, i))) candidates[c++] = json_string_value(json_array_get(from_alias, i));
    /* Whoever invited us is in the room. */
    int64_t stream;
    ht_event_row invite;
    const char *m = ht_store_membership_get(ctx->env->store, ctx->arena, room_id, ctx->auth.user_id, &stream, NULL);
    if (ht_str_is(m, "invite") && ht_store_event_by_stream(ctx->env->store, ctx->arena, stream, &invite))
        candidates[c++] = ht_id_server(invite.sender);
    candidates[c++] = ht_id_server(room_id);
    for (size_t i = 0; i < c && n < MAX_SERVERS; i++) {
        bool seen = !candidates[i] || !*candidates[i];
        for (size_t j = 0; j < n && !seen; j++) seen = strcmp(list[j], candidates[i]) == 0;
        if (!seen) list[n++] = candidates[i];
    }
    *out = list;
    return n;
}

/* Joins or knocks on a room this server is not in, through the servers
 * the client or the alias named (else an inviter's, the room id's); false
 * while it waits for them (the reply is then discarded). */
static bool enter_remote(ht_ctx *ctx, const char *room_id, json_t *from_alias, const char *membership, ht_reply *out) {
    json_t *body;
    if (!ht_body_object(ctx, &body, out)) return true;
    if (!reason_valid(body)) {
        *out = ht_reply_error(HT_M_BAD_JSON, "reason must be a string.");
        return true;
    }
    const char **servers;
    size_t n = join_servers(ctx, room_id, from_alias, &servers);
    json_t *content = member_content(ctx, ctx->auth.user_id, membership, body);
    return strcmp(membership, "knock") == 0 ? ht_fed_knock(ctx, room_id, servers, n, content, out)
                                            : ht_fed_join(ctx, room_id, servers, n, content, out);
}

/* {roomIdOrAlias} of /join and /knock: a room id, or an alias (of this
 * server, or, with federation, of another one, asked of it). *remote is
 * set when this server is not in the room: it must be joined through
 * others (*servers: those an alias named). False while it waits. */
static bool room_id_or_alias(ht_ctx *ctx, const char **room_id, bool *remote, json_t **servers, ht_reply *err) {
    const char *target = ht_param_get(ctx, "roomIdOrAlias");
    *remote = false;
    *servers = NULL;
    *room_id = NULL;
    bool federation = ctx->env->cfg->federation;
    if (target[0] == '#') {
        if (!ht_room_alias_valid(target)) {
            *err = ht_reply_error(HT_M_INVALID_PARAM, "That is not a valid room alias.");
            return true;
        }
        if (federation && !ht_str_is(ht_id_server(target), ctx->env->server_name)) {
            if (!ht_fed_remote_alias(ctx, target, room_id, servers, err)) return false;
            *remote = *room_id && !ht_fed_resident(ctx->env, *room_id);
            return true;
        }
        *room_id = ht_store_alias_get(ctx->env->store, ctx->arena, target, NULL);
        if (!*room_id) *err = ht_reply_error(HT_M_NOT_FOUND, "No room has that alias.");
        return true;
    }
    if (!ht_room_id_valid(target)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "That is neither a room id nor a room alias.");
        return true;
    }
    ht_room_row row;
    bool known = ht_store_room_get(ctx->env->store, ctx->arena, target, &row);
    *remote = federation && (!known || !ht_fed_resident(ctx->env, target));
    if (!known && !*remote) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "There is no room with that id on this server.");
        return true;
    }
    *room_id = target;
    return true;
}

ht_reply ht_api_join_room_id(ht_ctx *ctx) {
    const char *room_id = ht_param_get(ctx, "roomId");
    ht_reply err;
    if (ctx->env->cfg->federation && ht_room_id_valid(room_id) && !ht_fed_resident(ctx->env, room_id))
        return enter_remote(ctx, room_id, NULL, "join", &err) ? err : (ht_reply){0};
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    return enter_room(ctx, room_id, "join");
}

ht_reply ht_api_join(ht_ctx *ctx) {
    const char *room_id;
    bool remote;
    json_t *servers;
    ht_reply err;
    if (!room_id_or_alias(ctx, &room_id, &remote, &servers, &err)) return (ht_reply){0};
    if (!room_id) return err;
    if (remote) return enter_remote(ctx, room_id, servers, "join", &err) ? err : (ht_reply){0};
    return enter_room(ctx, room_id, "join");
}

/* A knock is a membership like a join: the authorization rules say whether
 * the room takes knocks and whether this user may knock. */
ht_reply ht_api_knock(ht_ctx *ctx) {
    const char *room_id;
    bool remote;
    json_t *servers;
    ht_reply err;
    if (!room_id_or_alias(ctx, &room_id, &remote, &servers, &err)) return (ht_reply){0};
    if (!room_id) return err;
    if (remote) return enter_remote(ctx, room_id, servers, "knock", &err) ? err : (ht_reply){0};
    return enter_room(ctx, room_id, "knock");
}

/* invite, kick, ban and unban: {user_id, reason}, one reading of the body
 * and the same errors for all four. */
static ht_reply act_on_user(ht_ctx *ctx, const char *action) {
    const char *room_id;
    json_t *body;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    const char *target = ht_json_str(body, "user_id");
    if (!target) return ht_reply_error(HT_M_BAD_JSON, "user_id (a string) is required.");
    if (!ht_user_id_valid(target)) return ht_reply_error(HT_M_INVALID_PARAM, "user_id is not a valid user id.");
    if (!reason_valid(body)) return ht_reply_error(HT_M_BAD_JSON, "reason must be a string.");
    const char *membership = action;
    bool remote = !ht_str_is(ht_id_server(target), ctx->env->server_name);
    if (strcmp(action, "invite") == 0 && remote && ctx->env->cfg->federation) {
        ht_reply out;
        return ht_fed_invite_remote(ctx, room_id, target, member_content(ctx, target, "invite", body), &out)
                   ? out
                   : (ht_reply){0};
    }
    if (strcmp(action, "invite") == 0 && !local_user_exists(ctx, target))
        return ht_reply_error(HT_M_NOT_FOUND, "There is no such user on this server.");
    if (strcmp(action, "kick") == 0) membership = "leave";
    if (strcmp(action, "unban") == 0) {
        const char *now = ht_store_membership_get(ctx->env->store, ctx->arena, room_id, target, NULL, NULL);
        if (!now || strcmp(now, "ban") != 0) return ht_reply_error(HT_M_FORBIDDEN, "That user is not banned.");
        membership = "leave";
    }
    return change_membership(ctx, room_id, target, membership, body);
}

ht_reply ht_api_invite(ht_ctx *ctx) { return act_on_user(ctx, "invite"); }
ht_reply ht_api_kick(ht_ctx *ctx) { return act_on_user(ctx, "kick"); }
ht_reply ht_api_ban(ht_ctx *ctx) { return act_on_user(ctx, "ban"); }
ht_reply ht_api_unban(ht_ctx *ctx) { return act_on_user(ctx, "unban"); }

ht_reply ht_api_leave(ht_ctx *ctx) {
    const char *room_id;
    json_t *body;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    if (!reason_valid(body)) return ht_reply_error(HT_M_BAD_JSON, "reason must be a string.");
    /* An invite into a room of other servers is declined through them. */
    if (ctx->env->cfg->federation && !ht_fed_resident(ctx->env, room_id)) {
        const char *m = ht_store_membership_get(ctx->env->store, ctx->arena, room_id, ctx->auth.user_id, NULL, NULL);
        if (ht_str_is(m, "invite") || ht_str_is(m, "knock")) {
            json_t *content = ht_json_keep(ctx->arena, json_pack("{s:s}", "membership", "leave"));
            if (ht_json_str(body, "reason")) json_object_set(content, "reason", json_object_get(body, "reason"));
            return ht_fed_leave_remote(ctx, room_id, content, &err) ? err : (ht_reply){0};
        }
    }
    return change_membership(ctx, room_id, ctx->auth.user_id, "leave", body);
}

bool ht_rooms_leave_all(ht_ctx *ctx, const char *user_id, ht_reply *err) {
    ht_membership_row *rows;
    size_t n = ht_store_memberships_of_user(ctx->env->store, ctx->arena, user_id, &rows);
    for (size_t i = 0; i < n; i++) {
        const char *now = rows[i].membership;
        if (strcmp(now, "join") != 0 && strcmp(now, "invite") != 0 && strcmp(now, "knock") != 0) continue;
        ht_new_event ev = {.room_id = rows[i].room_id, .type = "m.room.member", .state_key = user_id,
                           .sender = user_id, .content = member_content(ctx, user_id, "leave", NULL)};
        const char *event_id;
        ht_error e = ht_room_send(ctx->env, &ev, &event_id, NULL);
        if (e.code) {
            *err = from_error(e);
            return false;
        }
    }
    return true;
}

ht_reply ht_api_forget(ht_ctx *ctx) {
    const char *room_id;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    const char *now = ht_store_membership_get(ctx->env->store, ctx->arena, room_id, ctx->auth.user_id, NULL, NULL);
    if (now && (strcmp(now, "join") == 0 || strcmp(now, "invite") == 0 || strcmp(now, "knock") == 0))
        return ht_reply_error(HT_M_UNKNOWN, "Leave the room before forgetting it.");
    if (now) ht_store_membership_forget(ctx->env->store, room_id, ctx->auth.user_id);
    return ht_reply_empty();
}

ht_reply ht_api_joined_rooms(ht_ctx *ctx) {
    ht_membership_row *rows;
    size_t n = ht_store_memberships_of_user(ctx->env->store, ctx->arena, ctx->auth.user_id, &rows);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].membership, "join") == 0) json_array_append_new(list, json_string(rows[i].room_id));
    return ht_reply_json(json_pack("{s:o}", "joined_rooms", list));
}
