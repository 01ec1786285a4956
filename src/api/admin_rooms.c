/* admin_rooms.c -- the admin API's rooms: /_synapse/admin/v1/rooms (list,
 * details, members, state), deleting a room (v1 and v2, with purge) and
 * the v2 delete status.
 *
 * The list is built per call from every room's current state and sorted
 * here, as /publicRooms is: a server of this size has rooms in the
 * thousands, not millions, and each summary is a handful of indexed state
 * reads. Deleting runs to its end inside the call (Synapse's v2 answers
 * first and works in the background; here the work is one transaction):
 * every member leaves by their own leave event, the room's aliases go, it
 * leaves the directory, and with purge (the default) every trace of it is
 * deleted. The v2 status endpoints then report the finished deletion. */
#include <stdlib.h>
#include <string.h>

#include "api/admin.h"
#include "matrix/ids.h"
#include "room/room.h"
#include "store/accounts.h"
#include "store/admin.h"
#include "store/rooms.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/json.h"

enum {
    MAX_ROOMS_LISTED = 100000, /* the rooms one list call looks at */
    MAX_LIST_LIMIT = 1000,
    MAX_SEARCH_TERM_BYTES = 256,
    DELETION_KEPT_MS = 24 * 60 * 60 * 1000,
};

/* ---- summaries ---------------------------------------------------------- */

static json_t *state_field(ht_ctx *ctx, const char *room_id, const char *type, const char *key) {
    json_t *content = ht_room_state_content(ctx->env, room_id, type, "");
    json_t *v = json_object_get(content, key);
    return json_is_string(v) ? json_string(json_string_value(v)) : json_null();
}

/* The room as the list shows it; details adds what the details call has. */
static json_t *room_summary(ht_ctx *ctx, const char *room_id, bool details) {
    ht_store *store = ctx->env->store;
    ht_room_row room;
    if (!ht_store_room_get(store, ctx->arena, room_id, &room)) return NULL;
    int64_t joined = ht_store_members_joined_count(store, room_id);
    json_t *create = ht_room_state_content(ctx->env, room_id, "m.room.create", "");
    json_t *type = json_object_get(create, "type");
    json_t *out = json_pack(
        "{s:s, s:o, s:o, s:I, s:I, s:s, s:s, s:o, s:b, s:b, s:o, s:o, s:o, s:I, s:o}", "room_id", room_id,
        "name", state_field(ctx, room_id, "m.room.name", "name"), "canonical_alias",
        state_field(ctx, room_id, "m.room.canonical_alias", "alias"), "joined_members", (json_int_t)joined,
        "joined_local_members", (json_int_t)joined, "version", room.version, "creator", room.creator,
        "encryption", state_field(ctx, room_id, "m.room.encryption", "algorithm"), "federatable",
        !json_is_false(json_object_get(create, "m.federate")), "public", room.published, "join_rules",
        state_field(ctx, room_id, "m.room.join_rules", "join_rule"), "guest_access",
        state_field(ctx, room_id, "m.room.guest_access", "guest_access"), "history_visibility",
        state_field(ctx, room_id, "m.room.history_visibility", "history_visibility"), "state_events",
        (json_int_t)ht_store_room_state_count(store, room_id), "room_type",
        json_is_string(type) ? json_string(json_string_value(type)) : json_null());
    if (details) {
        json_object_set_new(out, "topic", state_field(ctx, room_id, "m.room.topic", "topic"));
        json_object_set_new(out, "avatar", state_field(ctx, room_id, "m.room.avatar", "url"));
        int64_t devices = 0;
        ht_membership_row *members;
        size_t n = ht_store_members_of_room(store, ctx->arena, room_id, &members);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(members[i].membership, "join") != 0) continue;
            ht_device_row *rows;
            devices += (int64_t)ht_store_device_list(store, ctx->arena, members[i].user_id, &rows);
        }
        json_object_set_new(out, "joined_local_devices", json_integer(devices));
        json_object_set_new(out, "forgotten", json_boolean(ht_store_room_remembered(store, room_id) == 0));
    }
    return out;
}

/* The room of the path, which must exist here. */
static bool existing_room(ht_ctx *ctx, const char **room_id, ht_reply *err) {
    const char *id = ht_param_get(ctx, "roomId");
    if (!id || !ht_room_id_valid(id)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "That is not a valid room id.");
        return false;
    }
    ht_room_row room;
    if (!ht_store_room_get(ctx->env->store, ctx->arena, id, &room)) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "There is no such room on this server.");
        return false;
    }
    *room_id = id;
    return true;
}

/* ---- the list ----------------------------------------------------------- */

/* One room of the list with the key it sorts by: text, or a number. */
typedef struct listed_room {
    json_t *summary;
    const char *text;
    int64_t number;
    bool numeric;
    bool descending; /* the same for every entry */
} listed_room;

static int compare_listed(const void *pa, const void *pb) {
    const listed_room *a = pa, *b = pb;
    int c;
    if (a->numeric) c = a->number < b->number ? -1 : a->number > b->number;
    else if (!a->text || !b->text) c = (a->text != NULL) - (b->text != NULL); /* no value first */
    else c = strcmp(a->text, b->text);
    if (a->descending) c = -c;
    if (c) return c;
    return strcmp(json_string_value(json_object_get(a->summary, "room_id")),
                  json_string_value(json_object_get(b->summary, "room_id")));
}

/* Synapse's orders: text ones A to Z, counts (and version) largest first;
 * "dir=b" reverses either. The field each order reads. */
static bool room_order(const char *order, const char **field, bool *numeric, bool *largest_first) {
    static const struct {
        const char *order, *field;
        bool numeric, largest_first;
    } orders[] = {
        {"name", "name", false, false},
        {"alphabetical", "name", false, false},
        {"size", "joined_members", true, true},
        {"joined_members", "joined_members", true, true},
        {"joined_local_members", "joined_local_members", true, true},
        {"canonical_alias", "canonical_alias", false, false},
        {"version", "version", false, true},
        {"creator", "creator", false, false},
        {"encryption", "encryption", false, false},
        {"federatable", "federatable", true, true},
        {"public", "public", true, true},
        {"join_rules", "join_rules", false, false},
        {"guest_access", "guest_access", false, false},
        {"history_visibility", "history_visibility", false, false},
        {"state_events", "state_events", true, true},
    };
    for (size_t i = 0; i < sizeof orders / sizeof *orders; i++) {
        if (strcmp(order, orders[i].order) != 0) continue;
        *field = orders[i].field;
        *numeric = orders[i].numeric;
        *largest_first = orders[i].largest_first;
        return true;
    }
    return false;
}

/* The search term is found in the name, in the canonical alias's local
 * part, or (case-sensitively) in the room id: Synapse's rule. */
static bool room_matches(json_t *summary, const char *term) {
    const char *name = json_string_value(json_object_get(summary, "name"));
    const char *alias = json_string_value(json_object_get(summary, "canonical_alias"));
    const char *id = json_string_value(json_object_get(summary, "room_id"));
    if (name && strcasestr(name, term)) return true;
    if (alias) {
        size_t local = strcspn(alias, ":");
        const char *hit = strcasestr(alias, term);
        if (hit && (size_t)(hit - alias) + strlen(term) <= local) return true;
    }
    return strstr(id, term) != NULL;
}

/* spec: Synapse admin API "List Room API" */
ht_reply ht_api_admin_rooms_list(ht_ctx *ctx) {
    int64_t from, limit;
    bool backwards;
    ht_reply err;
    if (!ht_admin_paging(ctx, 100, MAX_LIST_LIMIT, &from, &limit, &err) ||
        !ht_admin_direction(ctx, &backwards, &err))
        return err;
    const char *order = ht_request_query(ctx->req, "order_by");
    const char *field;
    bool numeric, largest_first;
    if (!room_order(order ? order : "name", &field, &numeric, &largest_first))
        return ht_reply_error(HT_M_INVALID_PARAM, "order_by must name a column of the room list.");
    const char *term = ht_request_query(ctx->req, "search_term");
    if (term && strlen(term) > MAX_SEARCH_TERM_BYTES)
        return ht_reply_error(HT_M_INVALID_PARAM, "search_term is longer than 256 bytes.");

    const char **ids;
    size_t count = ht_store_rooms_all(ctx->env->store, ctx->arena, MAX_ROOMS_LISTED, &ids);
    listed_room *rooms = ht_arena_calloc(ctx->arena, count ? count : 1, sizeof *rooms);
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        json_t *summary = ht_json_keep(ctx->arena, room_summary(ctx, ids[i], false));
        if (!summary || (term && *term && !room_matches(summary, term))) continue;
        json_t *key = json_object_get(summary, field);
        rooms[n++] = (listed_room){summary, json_string_value(key),
                                   json_is_boolean(key) ? json_is_true(key) : json_integer_value(key), numeric,
                                   largest_first != backwards};
    }
    qsort(rooms, n, sizeof *rooms, compare_listed);

    json_t *list = json_array();
    int64_t start = from < (int64_t)n ? from : (int64_t)n;
    for (int64_t i = start; i < (int64_t)n && i < start + limit; i++) json_array_append(list, rooms[i].summary);
    json_t *reply = json_pack("{s:o, s:I, s:I}", "rooms", list, "offset", (json_int_t)from, "total_rooms",
                              (json_int_t)n);
    if (start + limit < (int64_t)n) json_object_set_new(reply, "next_batch", json_integer(start + limit));
    if (from > 0) json_object_set_new(reply, "prev_batch", json_integer(from > limit ? from - limit : 0));
    return ht_reply_json(reply);
}

/* spec: Synapse admin API "Room Details API" */
ht_reply ht_api_admin_room_get(ht_ctx *ctx) {
    const char *room_id;
    ht_reply err;
    if (!existing_room(ctx, &room_id, &err)) return err;
    return ht_reply_json(room_summary(ctx, room_id, true));
}

/* spec: Synapse admin API "Room Members API" */
ht_reply ht_api_admin_room_members(ht_ctx *ctx) {
    const char *room_id;
    ht_reply err;
    if (!existing_room(ctx, &room_id, &err)) return err;
    ht_membership_row *rows;
    size_t n = ht_store_members_of_room(ctx->env->store, ctx->arena, room_id, &rows);
    json_t *members = json_array();
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].membership, "join") == 0) json_array_append_new(members, json_string(rows[i].user_id));
    return ht_reply_json(json_pack("{s:o, s:I}", "members", members, "total", (json_int_t)json_array_size(members)));
}

/* spec: Synapse admin API "Room State API" */
ht_reply ht_api_admin_room_state(ht_ctx *ctx) {
    const char *room_id;
    ht_reply err;
    if (!existing_room(ctx, &room_id, &err)) return err;
    int64_t *streams;
    size_t n = ht_store_state_list(ctx->env->store, ctx->arena, room_id, 0, &streams);
    json_t *state = json_array();
    for (size_t i = 0; i < n; i++) {
        ht_event_row ev;
        if (ht_store_event_by_stream(ctx->env->store, ctx->arena, streams[i], &ev))
            json_array_append_new(state, ht_room_event_json(ctx->env, &ev, NULL, ctx->now_ms, true));
    }
    return ht_reply_json(json_pack("{s:o}", "state", state));
}

/* ---- deleting ----------------------------------------------------------- */

/* Makes every member leave by their own leave event (a leave by oneself is
 * always allowed, whatever the power levels), drops the aliases and the
 * directory entry, and purges if asked. Fills the shutdown_room object. */
static bool shut_down(ht_ctx *ctx, const char *room_id, bool purge, json_t *result, ht_reply *err) {
    ht_store *store = ctx->env->store;
    json_t *kicked = json_array(), *failed = json_array(), *aliases = json_array();
    json_object_set_new(result, "kicked_users", kicked);
    json_object_set_new(result, "failed_to_kick_users", failed);
    json_object_set_new(result, "local_aliases", aliases);
    json_object_set_new(result, "new_room_id", json_null());

    ht_membership_row *members;
    size_t n = ht_store_members_of_room(store, ctx->arena, room_id, &members);
    for (size_t i = 0; i < n; i++) {
        const char *m = members[i].membership;
        if (strcmp(m, "join") != 0 && strcmp(m, "invite") != 0 && strcmp(m, "knock") != 0) continue;
        json_t *content = ht_json_keep(ctx->arena, json_pack("{s:s}", "membership", "leave"));
        ht_new_event ev = {.room_id = room_id, .type = "m.room.member", .state_key = members[i].user_id,
                           .sender = members[i].user_id, .content = content};
        const char *event_id;
        ht_error e = ht_room_send(ctx->env, &ev, &event_id, NULL);
        if (ht_store_failed(store)) {
            *err = ht_reply_error(HT_M_SERVER_ERROR, "The database failed; nothing was changed.");
            return false;
        }
        json_array_append_new(e.code ? failed : kicked, json_string(members[i].user_id));
    }
    const char **names;
    size_t count = ht_store_alias_list(store, ctx->arena, room_id, &names);
    for (size_t i = 0; i < count; i++) {
        ht_store_alias_delete(store, names[i]);
        json_array_append_new(aliases, json_string(names[i]));
    }
    ht_store_room_set_published(store, room_id, false);
    if (purge && !ht_store_room_purge(store, room_id)) {
        *err = ht_reply_error(HT_M_SERVER_ERROR, "The room could not be purged; nothing was changed.");
        return false;
    }
    ht_admin_note(ctx, "deleted room %s: %zu members left, %zu aliases removed%s", room_id,
                  json_array_size(kicked), count, purge ? ", purged" : "");
    return true;
}

/* The body both versions take; what hometab does not do is refused, never
 * silently skipped. */
static bool read_delete_body(ht_ctx *ctx, bool *purge, ht_reply *err) {
    json_t *body;
    if (!ht_body_object(ctx, &body, err)) return false;
    json_t *p = json_object_get(body, "purge");
    json_t *force = json_object_get(body, "force_purge");
    json_t *block = json_object_get(body, "block");
    json_t *new_room = json_object_get(body, "new_room_user_id");
    if ((p && !json_is_boolean(p)) || (force && !json_is_boolean(force)) || (block && !json_is_boolean(block))) {
        *err = ht_reply_error(HT_M_BAD_JSON, "purge, force_purge and block must be true or false.");
        return false;
    }
    if (json_is_true(block) || (new_room && !json_is_null(new_room))) {
        *err = ht_reply_error(HT_M_INVALID_PARAM,
                              "This server cannot block rooms or move their members to a new room.");
        return false;
    }
    *purge = !json_is_false(p);
    return true;
}

/* spec: Synapse admin API "Delete Room API", version 1 */
ht_reply ht_api_admin_room_delete_v1(ht_ctx *ctx) {
    const char *room_id;
    bool purge;
    ht_reply err;
    if (!existing_room(ctx, &room_id, &err) || !read_delete_body(ctx, &purge, &err)) return err;
    json_t *result = json_object();
    if (!shut_down(ctx, room_id, purge, result, &err)) {
        json_decref(result);
        return err;
    }
    return ht_reply_json(result);
}

/* spec: Synapse admin API "Delete Room API", version 2 */
ht_reply ht_api_admin_room_delete_v2(ht_ctx *ctx) {
    const char *room_id;
    bool purge;
    ht_reply err;
    if (!existing_room(ctx, &room_id, &err) || !read_delete_body(ctx, &purge, &err)) return err;
    json_t *shutdown = ht_json_keep(ctx->arena, json_object());
    if (!shut_down(ctx, room_id, purge, shutdown, &err)) return err;
    const char *delete_id = ht_random_token(ctx->arena, 12);
    json_t *status = ht_json_keep(ctx->arena, json_pack("{s:s, s:s, s:O}", "delete_id", delete_id, "status",
                                                        "complete", "shutdown_room", shutdown));
    char *text = json_dumps(status, JSON_COMPACT);
    bool ok = text && ht_store_room_deletion_record(ctx->env->store, delete_id, room_id, text, ctx->now_ms,
                                                    ctx->now_ms - DELETION_KEPT_MS);
    free(text);
    if (!ok) return ht_reply_error(HT_M_SERVER_ERROR, "The deletion could not be recorded; nothing was changed.");
    return ht_reply_json(json_pack("{s:s}", "delete_id", delete_id));
}

/* spec: Synapse admin API "Status of deleting rooms", by room id */
ht_reply ht_api_admin_room_delete_status(ht_ctx *ctx) {
    const char *room_id = ht_param_get(ctx, "roomId");
    if (!room_id || !ht_room_id_valid(room_id)) return ht_reply_error(HT_M_INVALID_PARAM, "That is not a valid room id.");
    ht_room_deletion_row *rows;
    size_t n = ht_store_room_deletions(ctx->env->store, ctx->arena, room_id, &rows);
    if (n == 0) return ht_reply_error(HT_M_NOT_FOUND, "No deletion of that room is known.");
    json_t *results = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *one = json_loads(rows[i].result, 0, NULL);
        if (one) json_array_append_new(results, one);
    }
    return ht_reply_json(json_pack("{s:o}", "results", results));
}

/* spec: Synapse admin API "Status of deleting rooms", by delete id */
ht_reply ht_api_admin_delete_status(ht_ctx *ctx) {
    ht_room_deletion_row row;
    if (!ht_store_room_deletion_get(ctx->env->store, ctx->arena, ht_param_get(ctx, "deleteId"), &row))
        return ht_reply_error(HT_M_NOT_FOUND, "No deletion with that id is known.");
    json_t *one = json_loads(row.result, 0, NULL);
    if (!one) return ht_reply_error(HT_M_SERVER_ERROR, "The deletion's record cannot be read.");
    json_object_del(one, "delete_id"); /* by id, Synapse leaves it out */
    return ht_reply_json(one);
}
