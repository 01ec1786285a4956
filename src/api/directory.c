/* directory.c -- room aliases (/directory/room/{roomAlias},
 * /rooms/{roomId}/aliases), a room's visibility in the published directory
 * (/directory/list/room/{roomId}) and the directory itself (/publicRooms).
 *
 * Aliases made here are this server's; another server's alias is resolved
 * by asking it (federation/query.c). The directory is built per request,
 * sorted by joined members and paged by offset tokens; since anyone may
 * ask for it, without an account, a request builds the summaries (each
 * room's name, topic, alias... from its state) only of the rooms it shows,
 * or of the most joined ones when it filters. Other servers read it too
 * (GET and POST /_matrix/federation/v1/publicRooms, the same listing), and
 * our clients read theirs through us (`server`). */
#include "api/directory.h"

#include <stdlib.h>
#include <string.h>

#include "api/room_access.h"
#include "federation/federation.h"
#include "matrix/ids.h"
#include "room/room.h"
#include "store/directory.h"
#include "store/store.h"
#include "util/glob.h"
#include "util/json.h"
#include "util/str.h"

enum {
    MAX_DIRECTORY_ROOMS = 10000,
    MAX_FILTERED_ROOMS = 2000, /* the most joined rooms a filtered listing looks at */
    DEFAULT_PUBLIC_LIMIT = 500,
    MAX_PUBLIC_LIMIT = 500,
    MAX_ALT_ALIASES = 100,
    MAX_SEARCH_TERM_BYTES = 256,
    MAX_ROOM_TYPES = 20,
};

/* The alias of the path: valid, and on this server. */
static bool alias_param(ht_ctx *ctx, const char **alias, ht_reply *err) {
    const char *a = ht_param_get(ctx, "roomAlias");
    if (!ht_room_alias_valid(a)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "That is not a valid room alias.");
        return false;
    }
    const char *server = ht_id_server(a);
    if (!server || strcmp(server, ctx->env->server_name) != 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "Aliases here must end in this server's name.");
        return false;
    }
    *alias = a;
    return true;
}

/* Room admins: those who may set the room's canonical alias. */
static bool may_manage_room(ht_ctx *ctx, const char *room_id) {
    const char *membership =
        ht_store_membership_get(ctx->env->store, ctx->arena, room_id, ctx->auth.user_id, NULL, NULL);
    if (!membership || strcmp(membership, "join") != 0) return false;
    ht_room_row room;
    if (!ht_store_room_get(ctx->env->store, ctx->arena, room_id, &room)) return false;
    json_t *pl = ht_room_state_content(ctx->env, room_id, "m.room.power_levels", "");
    return ht_power_user(pl, ctx->auth.user_id, room.creator) >= ht_power_for_event(pl, "m.room.canonical_alias", true);
}

ht_reply ht_api_alias_put(ht_ctx *ctx) {
    const char *alias;
    json_t *body;
    ht_reply err;
    if (!alias_param(ctx, &alias, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *room = json_object_get(body, "room_id");
    if (!room) return ht_reply_error(HT_M_MISSING_PARAM, "room_id is required.");
    if (!json_is_string(room)) return ht_reply_error(HT_M_BAD_JSON, "room_id must be a string.");
    const char *room_id = json_string_value(room);
    if (!ht_room_id_valid(room_id)) return ht_reply_error(HT_M_INVALID_PARAM, "room_id is not a valid room id.");
    ht_room_row row;
    if (!ht_store_room_get(ctx->env->store, ctx->arena, room_id, &row))
        return ht_reply_error(HT_M_NOT_FOUND, "There is no room with that id on this server.");
    if (!ht_room_require_joined(ctx, room_id, &err)) return err;
    if (ht_store_alias_get(ctx->env->store, ctx->arena, alias, NULL))
        return ht_reply_status_error(409, HT_M_UNKNOWN, "That room alias already exists.");
    if (!ht_store_alias_insert(ctx->env->store, alias, room_id, ctx->auth.user_id))
        return ht_reply_error(HT_M_SERVER_ERROR, "The alias could not be stored.");
    return ht_reply_empty();
}

ht_reply ht_api_alias_get(ht_ctx *ctx) {
    const char *alias = ht_param_get(ctx, "roomAlias");
    if (!ht_room_alias_valid(alias)) return ht_reply_error(HT_M_INVALID_PARAM, "That is not a valid room alias.");
    if (ctx->env->cfg->federation && !ht_str_is(ht_id_server(alias), ctx->env->server_name)) {
        /* Another server's alias: its server answers (query/directory). */
        const char *room_id;
        json_t *servers = NULL;
        ht_reply err;
        if (!ht_fed_remote_alias(ctx, alias, &room_id, &servers, &err)) return (ht_reply){0}; /* waits */
        if (!room_id) return err;
        return ht_reply_json(json_pack("{s:s, s:O}", "room_id", room_id, "servers", servers));
    }
    const char *room_id = ht_store_alias_get(ctx->env->store, ctx->arena, alias, NULL);
    if (!room_id) return ht_reply_errorf(ctx, HT_M_NOT_FOUND, "Room alias %s not found.", alias);
    return ht_reply_json(json_pack("{s:s, s:[s]}", "room_id", room_id, "servers", ctx->env->server_name));
}

/* After an alias is deleted, the room's canonical alias event stops naming
 * it, if the caller may send that event; otherwise it stays as it is. */
static void drop_from_canonical(ht_ctx *ctx, const char *room_id, const char *alias) {
    json_t *now = ht_room_state_content(ctx->env, room_id, "m.room.canonical_alias", "");
    if (!now) return;
    json_t *content = ht_json_keep(ctx->arena, json_deep_copy(now));
    const char *primary = ht_json_str(content, "alias");
    if (primary && strcmp(primary, alias) == 0) json_object_del(content, "alias");
    json_t *alt = json_object_get(content, "alt_aliases");
    if (json_is_array(alt)) {
        json_t *kept = json_array();
        size_t i;
        json_t *a;
        json_array_foreach(alt, i, a) {
            if (!json_is_string(a) || strcmp(json_string_value(a), alias) != 0) json_array_append(kept, a);
        }
        json_object_set_new(content, "alt_aliases", kept);
    }
    if (json_equal(now, content)) return;
    ht_new_event ev = {.room_id = room_id, .type = "m.room.canonical_alias", .state_key = "",
                       .sender = ctx->auth.user_id, .content = content};
    const char *event_id;
    ht_room_send(ctx->env, &ev, &event_id, NULL);
}

ht_reply ht_api_alias_delete(ht_ctx *ctx) {
    const char *alias;
    ht_reply err;
    if (!alias_param(ctx, &alias, &err)) return err;
    const char *creator = NULL;
    const char *room_id = ht_store_alias_get(ctx->env->store, ctx->arena, alias, &creator);
    if (!room_id) return ht_reply_errorf(ctx, HT_M_NOT_FOUND, "Room alias %s not found.", alias);
    if (!(creator && strcmp(creator, ctx->auth.user_id) == 0) && !may_manage_room(ctx, room_id))
        return ht_reply_error(HT_M_FORBIDDEN, "Only the alias's creator or a room admin may delete it.");
    if (!ht_store_alias_delete(ctx->env->store, alias))
        return ht_reply_error(HT_M_SERVER_ERROR, "The alias could not be deleted.");
    drop_from_canonical(ctx, room_id, alias);
    return ht_reply_empty();
}

static bool world_readable(ht_ctx *ctx, const char *room_id) {
    json_t *hv = ht_room_state_content(ctx->env, room_id, "m.room.history_visibility", "");
    const char *v = ht_json_str(hv, "history_visibility");
    return v && strcmp(v, "world_readable") == 0;
}

ht_reply ht_api_room_aliases(ht_ctx *ctx) {
    const char *room_id;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    if (!world_readable(ctx, room_id) && !ht_room_require_joined(ctx, room_id, &err)) return err;
    const char **aliases;
    size_t n = ht_store_alias_list(ctx->env->store, ctx->arena, room_id, &aliases);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(list, json_string(aliases[i]));
    return ht_reply_json(json_pack("{s:o}", "aliases", list));
}

/* ---- the published directory ------------------------------------------------ */

ht_reply ht_api_directory_visibility_get(ht_ctx *ctx) {
    const char *room_id;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err)) return err;
    ht_room_row row;
    ht_store_room_get(ctx->env->store, ctx->arena, room_id, &row);
    return ht_reply_json(json_pack("{s:s}", "visibility", row.published ? "public" : "private"));
}

ht_reply ht_api_directory_visibility_put(ht_ctx *ctx) {
    const char *room_id;
    json_t *body;
    ht_reply err;
    if (!ht_room_param(ctx, &room_id, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *v = json_object_get(body, "visibility");
    if (v && !json_is_string(v)) return ht_reply_error(HT_M_BAD_JSON, "visibility must be a string.");
    const char *visibility = v ? json_string_value(v) : "public";
    if (strcmp(visibility, "public") != 0 && strcmp(visibility, "private") != 0)
        return ht_reply_error(HT_M_INVALID_PARAM, "visibility must be \"public\" or \"private\".");
    if (!may_manage_room(ctx, room_id))
        return ht_reply_error(HT_M_FORBIDDEN, "Only room admins may publish or unpublish the room.");
    ht_store_room_set_published(ctx->env->store, room_id, strcmp(visibility, "public") == 0);
    return ht_reply_empty();
}

typedef struct listed_room {
    const char *room_id;
    int64_t members;
    json_t *entry;
} listed_room;

static void copy_state_string(ht_ctx *ctx, const char *room_id, json_t *entry, const char *type,
                              const char *field, const char *as) {
    json_t *content = ht_room_state_content(ctx->env, room_id, type, "");
    const char *value = ht_json_str(content, field);
    if (value && *value) json_object_set_new(entry, as, json_string(value));
}

json_t *ht_directory_room_summary(ht_ctx *ctx, const char *room_id, int64_t members) {
    json_t *entry = ht_json_keep(ctx->arena, json_pack("{s:s, s:I}", "room_id", room_id, "num_joined_members",
                                                      (json_int_t)members));
    copy_state_string(ctx, room_id, entry, "m.room.name", "name", "name");
    copy_state_string(ctx, room_id, entry, "m.room.topic", "topic", "topic");
    copy_state_string(ctx, room_id, entry, "m.room.canonical_alias", "alias", "canonical_alias");
    copy_state_string(ctx, room_id, entry, "m.room.avatar", "url", "avatar_url");
    copy_state_string(ctx, room_id, entry, "m.room.join_rules", "join_rule", "join_rule");
    copy_state_string(ctx, room_id, entry, "m.room.create", "type", "room_type");
    json_t *guest = ht_room_state_content(ctx->env, room_id, "m.room.guest_access", "");
    const char *access = ht_json_str(guest, "guest_access");
    json_object_set_new(entry, "world_readable", json_boolean(world_readable(ctx, room_id)));
    json_object_set_new(entry, "guest_can_join", json_boolean(access && strcmp(access, "can_join") == 0));
    return entry;
}

/* A linear search: names and topics are up to 64 KiB each, in up to
 * MAX_DIRECTORY_ROOMS rooms, and paid for from the request's budget. */
static bool contains_ci(ht_ctx *ctx, const char *text, const char *term) {
    return text && ht_text_contains(text, term, &ctx->env->match_budget);
}

static bool matches_search(ht_ctx *ctx, json_t *entry, const char *term) {
    if (!term || !*term) return true;
    return contains_ci(ctx, ht_json_str(entry, "name"), term) || contains_ci(ctx, ht_json_str(entry, "topic"), term) ||
           contains_ci(ctx, ht_json_str(entry, "canonical_alias"), term);
}

static bool matches_types(json_t *entry, json_t *types) {
    if (!types) return true;
    const char *type = ht_json_str(entry, "room_type");
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t) {
        if (json_is_null(t) ? !type : type && strcmp(json_string_value(t), type) == 0) return true;
    }
    return false;
}

static int by_members(const void *a, const void *b) {
    const listed_room *x = a, *y = b;
    if (x->members != y->members) return x->members > y->members ? -1 : 1;
    return strcmp(x->room_id, y->room_id);
}

/* Tokens are "o" and an offset into the sorted list; both directions use
 * them, as the direction is the token's. */
static bool parse_since(const char *since, int64_t *offset) {
    *offset = 0;
    if (!since) return true;
    if (since[0] != 'o' || !since[1] || strlen(since) > 12) return false;
    char *end;
    long long v = strtoll(since + 1, &end, 10);
    if (*end || v < 0) return false;
    *offset = v;
    return true;
}

/* Another server's directory, asked for our client (its `server`). */
static ht_reply remote_public_rooms(ht_ctx *ctx, const char *server, int64_t limit, const char *since,
                                    const char *term, json_t *types) {
    if (!ctx->env->cfg->federation)
        return ht_reply_error(HT_M_INVALID_PARAM, "Federation is off: this server lists only its own rooms.");
    if (!ht_server_name_valid(server)) return ht_reply_error(HT_M_INVALID_PARAM, "server is not a server name.");
    json_t *body = ht_json_keep(ctx->arena, json_pack("{s:I}", "limit", (json_int_t)limit));
    if (since) json_object_set_new(body, "since", json_string(since));
    if ((term && *term) || types) {
        json_t *filter = json_object();
        if (term && *term) json_object_set_new(filter, "generic_search_term", json_string(term));
        if (types) json_object_set(filter, "room_types", types);
        json_object_set_new(body, "filter", filter);
    }
    ht_reply out;
    if (!ht_fed_remote_public_rooms(ctx, server, body, &out)) return (ht_reply){0}; /* waits */
    return out;
}

static ht_reply public_rooms(ht_ctx *ctx, int64_t limit, const char *since, const char *term, json_t *types) {
    if (limit < 1 || limit > MAX_PUBLIC_LIMIT) limit = limit < 1 ? 1 : MAX_PUBLIC_LIMIT;
    /* Only our own clients may have us ask another server. */
    const char *server = ctx->origin ? NULL : ht_request_query(ctx->req, "server");
    if (server && strcmp(server, ctx->env->server_name) != 0)
        return remote_public_rooms(ctx, server, limit, since, term, types);
    int64_t offset;
    if (!parse_since(since, &offset)) return ht_reply_error(HT_M_INVALID_PARAM, "since is not a token from this server.");

    /* Every published room is counted and sorted, but a summary (several
     * state reads) is built only for the rooms on the page, or, when the
     * caller filters, for the MAX_FILTERED_ROOMS most joined: an anonymous
     * GET /publicRooms costs one count a room, not a summary a room. */
    const char **ids;
    size_t n = ht_store_published_rooms(ctx->env->store, ctx->arena, MAX_DIRECTORY_ROOMS, &ids);
    listed_room *rooms = ht_arena_calloc(ctx->arena, n ? n : 1, sizeof *rooms);
    for (size_t i = 0; i < n; i++)
        rooms[i] = (listed_room){ids[i], ht_store_members_joined_count(ctx->env->store, ids[i]), NULL};
    qsort(rooms, n, sizeof *rooms, by_members);
    size_t count = n;
    if ((term && *term) || types) {
        count = 0;
        for (size_t i = 0; i < n && i < MAX_FILTERED_ROOMS; i++) {
            json_t *entry = ht_directory_room_summary(ctx, rooms[i].room_id, rooms[i].members);
            if (matches_search(ctx, entry, term) && matches_types(entry, types))
                rooms[count++] = (listed_room){rooms[i].room_id, rooms[i].members, entry};
        }
    }

    json_t *chunk = json_array();
    for (int64_t i = offset; i < (int64_t)count && i < offset + limit; i++) {
        if (!rooms[i].entry) rooms[i].entry = ht_directory_room_summary(ctx, rooms[i].room_id, rooms[i].members);
        json_array_append(chunk, rooms[i].entry);
    }
    json_t *reply = json_pack("{s:o, s:I}", "chunk", chunk, "total_room_count_estimate", (json_int_t)count);
    if (offset + limit < (int64_t)count)
        json_object_set_new(reply, "next_batch", json_string(ht_arena_printf(ctx->arena, "o%lld", (long long)(offset + limit))));
    if (offset > 0) {
        int64_t prev = offset > limit ? offset - limit : 0;
        json_object_set_new(reply, "prev_batch", json_string(ht_arena_printf(ctx->arena, "o%lld", (long long)prev)));
    }
    return ht_reply_json(reply);
}

ht_reply ht_api_public_rooms_get(ht_ctx *ctx) {
    const char *limit_text = ht_request_query(ctx->req, "limit");
    int64_t limit = DEFAULT_PUBLIC_LIMIT;
    if (limit_text) {
        char *end;
        long long v = strtoll(limit_text, &end, 10);
        if (!*limit_text || *end) return ht_reply_error(HT_M_INVALID_PARAM, "limit must be a number.");
        limit = v;
    }
    return public_rooms(ctx, limit, ht_request_query(ctx->req, "since"), NULL, NULL);
}

ht_reply ht_api_public_rooms_post(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *limit = json_object_get(body, "limit");
    json_t *since = json_object_get(body, "since");
    json_t *filter = json_object_get(body, "filter");
    json_t *term = json_object_get(filter, "generic_search_term");
    json_t *types = json_object_get(filter, "room_types");
    if ((limit && !json_is_integer(limit)) || (since && !json_is_string(since) && !json_is_null(since)) ||
        (filter && !json_is_object(filter) && !json_is_null(filter)) ||
        (term && !json_is_string(term) && !json_is_null(term)) || (types && !json_is_array(types)))
        return ht_reply_error(HT_M_BAD_JSON, "limit must be an integer, since a string, filter an object.");
    if (json_string_length(term) > MAX_SEARCH_TERM_BYTES || json_array_size(types) > MAX_ROOM_TYPES)
        return ht_reply_error(HT_M_INVALID_PARAM, "The search term is at most 256 bytes, room_types at most 20.");
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t) {
        if (!json_is_string(t) && !json_is_null(t))
            return ht_reply_error(HT_M_BAD_JSON, "room_types must list strings or null.");
    }
    return public_rooms(ctx, limit ? json_integer_value(limit) : DEFAULT_PUBLIC_LIMIT, json_string_value(since),
                        json_string_value(term), types);
}

/* ---- m.room.canonical_alias ------------------------------------------------------ */

static bool alias_points_here(ht_ctx *ctx, const char *room_id, json_t *alias, ht_reply *err) {
    if (!json_is_string(alias) || !ht_room_alias_valid(json_string_value(alias))) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "Canonical aliases must be valid room aliases.");
        return false;
    }
    const char *target = ht_store_alias_get(ctx->env->store, ctx->arena, json_string_value(alias), NULL);
    if (!target || strcmp(target, room_id) != 0) {
        *err = ht_reply_errorf(ctx, HT_M_BAD_ALIAS, "The alias %s does not point to this room.", json_string_value(alias));
        return false;
    }
    return true;
}

bool ht_directory_check_canonical_alias(ht_ctx *ctx, const char *room_id, json_t *content, ht_reply *err) {
    json_t *alias = json_object_get(content, "alias");
    json_t *alt = json_object_get(content, "alt_aliases");
    if (alias && !json_is_null(alias) && !alias_points_here(ctx, room_id, alias, err)) return false;
    if (!alt) return true;
    if (!json_is_array(alt) || json_array_size(alt) > MAX_ALT_ALIASES) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "alt_aliases must be a list of at most 100 aliases.");
        return false;
    }
    size_t i;
    json_t *a;
    json_array_foreach(alt, i, a) {
        if (!alias_points_here(ctx, room_id, a, err)) return false;
    }
    return true;
}
