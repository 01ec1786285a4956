/* query.c -- the server-server queries (GET /_matrix/federation/v1/query/
 * profile and /directory), served for other servers and asked of them for
 * our own clients; and another server's room directory asked for our
 * clients (its serving side is the client one's: api/directory.c). */
#include "federation/federation.h"

#include <string.h>

#include "http/outbound.h"
#include "matrix/ids.h"
#include "matrix/remote.h"
#include "store/accounts.h"
#include "store/federation.h"
#include "store/rooms.h"
#include "util/json.h"

enum {
    QUERY_TIMEOUT_MS = 15000,
    MAX_LISTED_ROOMS = 500, /* rooms of another server's directory page passed on */
    MAX_TOKEN_BYTES = 1024,
};

static bool ours(ht_ctx *ctx, const char *id) {
    const char *server = ht_id_server(id);
    return server && strcmp(server, ctx->env->server_name) == 0;
}

ht_reply ht_fed_query_profile(ht_ctx *ctx) {
    const char *user_id = ht_request_query(ctx->req, "user_id");
    const char *field = ht_request_query(ctx->req, "field");
    if (!user_id || !ht_user_id_valid(user_id))
        return ht_reply_error(HT_M_INVALID_PARAM, "user_id must be a user id.");
    if (field && strcmp(field, "displayname") != 0 && strcmp(field, "avatar_url") != 0)
        return ht_reply_error(HT_M_INVALID_PARAM, "field must be displayname or avatar_url.");
    ht_user_row row;
    if (!ours(ctx, user_id) || !ht_store_user_get(ctx->env->store, ctx->arena, user_id, &row) || row.deactivated)
        return ht_reply_error(HT_M_NOT_FOUND, "There is no such user on this server.");
    json_t *profile = json_object();
    if (row.displayname && (!field || strcmp(field, "displayname") == 0))
        json_object_set_new(profile, "displayname", json_string(row.displayname));
    if (row.avatar_url && (!field || strcmp(field, "avatar_url") == 0))
        json_object_set_new(profile, "avatar_url", json_string(row.avatar_url));
    return ht_reply_json(profile);
}

ht_reply ht_fed_query_directory(ht_ctx *ctx) {
    const char *alias = ht_request_query(ctx->req, "room_alias");
    if (!alias || !ht_room_alias_valid(alias)) return ht_reply_error(HT_M_INVALID_PARAM, "room_alias must be an alias.");
    const char *room_id = ours(ctx, alias) ? ht_store_alias_get(ctx->env->store, ctx->arena, alias, NULL) : NULL;
    if (!room_id) return ht_reply_error(HT_M_NOT_FOUND, "This server has no such alias.");
    const char **servers;
    size_t n = ht_store_room_servers(ctx->env->store, ctx->arena, room_id, ctx->env->server_name, &servers);
    json_t *list = json_pack("[s]", ctx->env->server_name); /* we answer for the room: ask us first */
    for (size_t i = 0; i < n && i < 20; i++) json_array_append_new(list, json_string(servers[i]));
    return ht_reply_json(json_pack("{s:s, s:o}", "room_id", room_id, "servers", list));
}

/* An answer from another server, as a reply to our client: its JSON on
 * success, its Matrix error as it gave it, or 502 when none came. */
static ht_reply relay(ht_ctx *ctx, const char *server, const ht_remote_answer *a) {
    if (a->status == 200 && json_is_object(a->json)) return ht_reply_json(json_incref(a->json));
    if (a->status == 404) return ht_reply_error(HT_M_NOT_FOUND, "The other server has no such thing.");
    if (a->status >= 400 && a->status < 500 && json_is_object(a->json)) {
        const char *message = ht_json_str(a->json, "error");
        return ht_reply_errorf(ctx, HT_M_FORBIDDEN, "%s refused: %s", server, message ? message : "no reason given");
    }
    return ht_reply_status_error(502, HT_M_UNKNOWN,
                                 ht_arena_printf(ctx->arena, "%s did not answer: %s", server,
                                                 a->error ? a->error : "it failed"));
}

bool ht_fed_remote_profile(ht_ctx *ctx, const char *user_id, const char *field, ht_reply *out) {
    const char *server = ht_id_server(user_id);
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/query/profile?user_id=%s%s%s",
                                         ht_percent_encode(ctx->arena, user_id), field ? "&field=" : "",
                                         field ? field : "");
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, server, "GET", target, NULL, QUERY_TIMEOUT_MS, &a)) return false;
    *out = relay(ctx, server, &a);
    return true;
}

bool ht_fed_remote_alias(ht_ctx *ctx, const char *alias, const char **room_id, json_t **servers, ht_reply *err) {
    const char *server = ht_id_server(alias);
    const char *target = ht_arena_printf(ctx->arena, "/_matrix/federation/v1/query/directory?room_alias=%s",
                                         ht_percent_encode(ctx->arena, alias));
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, server, "GET", target, NULL, QUERY_TIMEOUT_MS, &a)) return false;
    *room_id = NULL;
    const char *id = ht_json_str(a.json, "room_id");
    if (a.status != 200 || !id || !ht_room_id_valid(id)) {
        *err = relay(ctx, server, &a);
        if (a.status == 200) *err = ht_reply_error(HT_M_NOT_FOUND, "The alias's server gave no usable room.");
        return true;
    }
    *room_id = id;
    /* The servers named, as far as they are strings, at most a bounded few. */
    json_t *list = ht_json_keep(ctx->arena, json_array());
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(a.json, "servers"), i, s) {
        if (json_array_size(list) == HT_FED_MAX_ALIAS_SERVERS) break;
        if (json_is_string(s)) json_array_append(list, s);
    }
    *servers = list;
    return true;
}

/* A paging token of another server's, if it is a string of sensible size. */
static void copy_token(json_t *from, json_t *to, const char *name) {
    json_t *t = json_object_get(from, name);
    if (json_is_string(t) && json_string_length(t) <= MAX_TOKEN_BYTES) json_object_set(to, name, t);
}

bool ht_fed_remote_public_rooms(ht_ctx *ctx, const char *server, json_t *body, ht_reply *out) {
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, server, "POST", "/_matrix/federation/v1/publicRooms", body, QUERY_TIMEOUT_MS, &a))
        return false;
    json_t *chunk = json_object_get(a.json, "chunk");
    if (a.status != 200 || !json_is_array(chunk)) {
        *out = relay(ctx, server, &a);
        if (a.status == 200) *out = ht_reply_status_error(502, HT_M_UNKNOWN, "The other server's directory is malformed.");
        return true;
    }
    /* Its rooms as it describes them, as far as each is a room with an id. */
    json_t *rooms = json_array();
    size_t i;
    json_t *room;
    json_array_foreach(chunk, i, room) {
        if (json_array_size(rooms) == MAX_LISTED_ROOMS) break;
        const char *room_id = ht_json_str(room, "room_id");
        if (json_is_object(room) && room_id && ht_room_id_valid(room_id) &&
            json_is_integer(json_object_get(room, "num_joined_members")))
            json_array_append(rooms, room);
    }
    json_t *reply = json_pack("{s:o}", "chunk", rooms);
    copy_token(a.json, reply, "next_batch");
    copy_token(a.json, reply, "prev_batch");
    json_t *estimate = json_object_get(a.json, "total_room_count_estimate");
    if (json_is_integer(estimate)) json_object_set(reply, "total_room_count_estimate", estimate);
    *out = ht_reply_json(reply);
    return true;
}
