/* spaces.c -- GET /_matrix/client/v1/rooms/{roomId}/hierarchy: the rooms of
 * a space, found through its m.space.child state events.
 *
 * The walk is breadth-first from the requested room, each room once (a set
 * of rooms seen ends cycles), children in the spec's order (`order`, then
 * the child event's timestamp, then room id). Rooms on other servers are
 * skipped, as there is no federation, and so are rooms the caller may not
 * see, along with everything below them.
 *
 * The one design decision: pagination is stateless. A `from` token says how
 * many visible rooms earlier pages returned (plus the max_depth and
 * suggested_only they used and a tag of the start room), and every page
 * walks again from the start, skipping that many. Nothing is kept between
 * requests; each request costs at most MAX_HIERARCHY_READS rooms and child
 * events read, so a hierarchy larger than that ends where the budget does,
 * the same place on every page. A space changed between two pages can shift
 * what the next page starts with. */
#include "api/spaces.h"

#include <stdlib.h>
#include <string.h>

#include "api/directory.h"
#include "api/room_access.h"
#include "matrix/ids.h"
#include "room/room.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/json.h"

enum {
    MAX_HIERARCHY_READS = 10000, /* rooms examined + child events read, per request */
    MAX_CHILDREN_PER_ROOM = 500, /* m.space.child events read from one room */
    DEFAULT_HIERARCHY_LIMIT = 50,
    MAX_HIERARCHY_LIMIT = 100,
    MAX_HIERARCHY_DEPTH = 10,   /* also the default */
    MAX_ORDER_CHARS = 50,       /* the spec's bound on a valid `order` */
    ROOM_TAG_BYTES = 4,
};

typedef struct walk_params {
    int64_t limit, max_depth, skip;
    bool suggested_only;
} walk_params;

typedef struct child {
    const char *room_id;
    const char *order; /* NULL when absent or not valid */
    int64_t ts;
    json_t *stripped;  /* the StrippedChildStateEvent */
} child;

typedef struct queued {
    const char *room_id;
    int64_t depth;
} queued;

static bool is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* ---- the from token: "<skip>_<max_depth>_<0|1>_<room tag>" ------------------ */

/* A few bytes of the start room's hash, so a token from one room's
 * hierarchy is refused for another's. */
static const char *room_tag(ht_ctx *ctx, const char *room_id) {
    unsigned char hash[HT_SHA256_BYTES];
    ht_sha256(room_id, strlen(room_id), hash);
    char *hex = ht_arena_calloc(ctx->arena, 2 * ROOM_TAG_BYTES + 1, 1);
    for (int i = 0; i < ROOM_TAG_BYTES; i++) {
        hex[2 * i] = "0123456789abcdef"[hash[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[hash[i] & 15];
    }
    return hex;
}

static const char *make_token(ht_ctx *ctx, const char *room_id, const walk_params *p, int64_t skip) {
    return ht_arena_printf(ctx->arena, "%lld_%lld_%d_%s", (long long)skip, (long long)p->max_depth,
                           p->suggested_only ? 1 : 0, room_tag(ctx, room_id));
}

/* Reads a run of at most `max_digits` digits ending at `stop`. */
static bool token_number(const char **s, char stop, int max_digits, int64_t *out) {
    size_t n = strspn(*s, "0123456789");
    if (n == 0 || n > (size_t)max_digits || (*s)[n] != stop) return false;
    *out = strtoll(*s, NULL, 10);
    *s += n + 1;
    return true;
}

static bool parse_token(ht_ctx *ctx, const char *room_id, const char *token, int64_t *skip,
                        int64_t *max_depth, bool *suggested) {
    int64_t s;
    const char *p = token;
    if (!token_number(&p, '_', 7, skip) || !token_number(&p, '_', 2, max_depth) ||
        !token_number(&p, '_', 1, &s) || s > 1 || *max_depth > MAX_HIERARCHY_DEPTH)
        return false;
    *suggested = s == 1;
    return strcmp(p, room_tag(ctx, room_id)) == 0;
}

/* ---- parameters ----------------------------------------------------------------- */

static bool query_bool(ht_ctx *ctx, const char *name, bool *given, bool *out, ht_reply *err) {
    const char *v = ht_request_query(ctx->req, name);
    *given = v != NULL;
    *out = false;
    if (!v) return true;
    if (is(v, "true") || is(v, "false")) {
        *out = is(v, "true");
        return true;
    }
    *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s must be true or false.", name);
    return false;
}

static bool read_params(ht_ctx *ctx, const char *room_id, walk_params *p, ht_reply *err) {
    bool suggested_given;
    memset(p, 0, sizeof *p);
    if (!ht_query_count(ctx, "limit", DEFAULT_HIERARCHY_LIMIT, MAX_HIERARCHY_LIMIT, &p->limit, err) ||
        !ht_query_count(ctx, "max_depth", MAX_HIERARCHY_DEPTH, MAX_HIERARCHY_DEPTH, &p->max_depth, err) ||
        !query_bool(ctx, "suggested_only", &suggested_given, &p->suggested_only, err))
        return false;
    if (p->limit == 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "limit must be greater than zero.");
        return false;
    }
    const char *from = ht_request_query(ctx->req, "from");
    if (!from) return true;
    int64_t depth;
    bool suggested;
    if (!parse_token(ctx, room_id, from, &p->skip, &depth, &suggested)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "from is not a token this room's hierarchy gave out.");
        return false;
    }
    /* Later pages keep the first page's settings; one that is given again
     * must not change. */
    bool depth_given = ht_request_query(ctx->req, "max_depth") != NULL;
    if ((depth_given && depth != p->max_depth) || (suggested_given && suggested != p->suggested_only)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "max_depth and suggested_only cannot change while paginating.");
        return false;
    }
    p->max_depth = depth;
    p->suggested_only = suggested;
    return true;
}

/* ---- what the caller may see ------------------------------------------------------ */

/* The spec's list: joined or invited, a room anyone may read or join or
 * knock on, or a restricted room whose allow list the caller satisfies. */
static bool room_visible(ht_ctx *ctx, const char *room_id) {
    const char *m = ht_store_membership_get(ctx->env->store, ctx->arena, room_id, ctx->auth.user_id, NULL, NULL);
    if (is(m, "join") || is(m, "invite")) return true;
    json_t *hv = ht_room_state_content(ctx->env, room_id, "m.room.history_visibility", "");
    if (is(ht_json_str(hv, "history_visibility"), "world_readable")) return true;
    if (is(m, "ban")) return false;
    json_t *rules = ht_room_state_content(ctx->env, room_id, "m.room.join_rules", "");
    const char *rule = ht_json_str(rules, "join_rule");
    if (is(rule, "public") || is(rule, "knock") || is(rule, "knock_restricted")) return true;
    return is(rule, "restricted") && ht_room_allow_satisfied(ctx->env, rules, ctx->auth.user_id);
}

/* ---- a room's children -------------------------------------------------------------- */

static bool order_valid(const char *order) {
    size_t n = 0;
    for (const char *c = order; *c; c++, n++)
        if (*c < 0x20 || *c > 0x7e) return false;
    return n <= MAX_ORDER_CHARS;
}

static int by_space_order(const void *a, const void *b) {
    const child *x = a, *y = b;
    if (x->order && y->order) {
        int c = strcmp(x->order, y->order);
        if (c) return c;
    } else if (x->order || y->order) {
        return x->order ? -1 : 1;
    }
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return strcmp(x->room_id, y->room_id);
}

/* A child counts when its state key is a room id and its content has a
 * non-empty `via`; an emptied event is how a child is removed. */
static bool child_from_event(ht_ctx *ctx, const ht_event_row *row, bool suggested_only, child *out) {
    json_t *content = ht_room_event_content(ctx->arena, row);
    json_t *via = json_object_get(content, "via");
    if (!row->state_key || !ht_room_id_valid(row->state_key) || !json_is_array(via) || !json_array_size(via))
        return false;
    if (suggested_only && !json_is_true(json_object_get(content, "suggested"))) return false;
    const char *order = ht_json_str(content, "order");
    *out = (child){.room_id = row->state_key, .order = order && order_valid(order) ? order : NULL,
                   .ts = row->origin_ts};
    out->stripped = ht_json_keep(ctx->arena, json_pack("{s:s, s:s, s:O, s:s, s:I}", "type", row->type,
                                                       "state_key", row->state_key, "content", content,
                                                       "sender", row->sender, "origin_server_ts",
                                                       (json_int_t)row->origin_ts));
    return true;
}

/* The room's valid children, sorted; reads are charged to *budget. */
static size_t children_of(ht_ctx *ctx, const char *room_id, bool suggested_only, int64_t *budget,
                          child **out) {
    int64_t *streams;
    int64_t most = *budget < MAX_CHILDREN_PER_ROOM ? *budget : MAX_CHILDREN_PER_ROOM;
    size_t n = most > 0 ? ht_store_state_of_type(ctx->env->store, ctx->arena, room_id, "m.space.child",
                                                 most, &streams)
                        : 0;
    *budget -= (int64_t)n;
    child *list = ht_arena_calloc(ctx->arena, n ? n : 1, sizeof *list);
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        ht_event_row row;
        if (ht_store_event_by_stream(ctx->env->store, ctx->arena, streams[i], &row) &&
            child_from_event(ctx, &row, suggested_only, &list[count]))
            count++;
    }
    qsort(list, count, sizeof *list, by_space_order);
    *out = list;
    return count;
}

/* ---- the walk ------------------------------------------------------------------------- */

static json_t *room_entry(ht_ctx *ctx, const char *room_id, const child *children, size_t n) {
    int64_t members = ht_store_members_joined_count(ctx->env->store, room_id);
    json_t *entry = ht_directory_room_summary(ctx, room_id, members);
    json_t *state = json_array();
    for (size_t i = 0; i < n; i++) json_array_append(state, children[i].stripped);
    json_object_set_new(entry, "children_state", state);
    return entry;
}

ht_reply ht_api_hierarchy(ht_ctx *ctx) {
    const char *start;
    walk_params p;
    ht_reply err;
    if (!ht_room_param(ctx, &start, &err) || !read_params(ctx, start, &p, &err)) return err;
    if (!room_visible(ctx, start))
        return ht_reply_error(HT_M_FORBIDDEN, "You may not see this room: you are not in it, and it is "
                                              "neither public nor readable by anyone.");

    /* The queue never holds more rooms than the budget lets the walk read. */
    queued *queue = ht_arena_calloc(ctx->arena, MAX_HIERARCHY_READS + 1, sizeof *queue);
    size_t head = 0, tail = 0;
    json_t *seen = ht_json_keep(ctx->arena, json_object());
    queue[tail++] = (queued){start, 0};
    json_object_set_new(seen, start, json_true());

    json_t *rooms = json_array();
    int64_t budget = MAX_HIERARCHY_READS, visible = 0;
    const char *next_batch = NULL;
    while (head < tail && budget > 0) {
        queued q = queue[head++];
        budget--;
        if (q.depth > 0 && !room_visible(ctx, q.room_id)) continue;
        if (visible >= p.skip && (int64_t)json_array_size(rooms) == p.limit) {
            next_batch = make_token(ctx, start, &p, visible);
            break;
        }
        child *children;
        size_t n = children_of(ctx, q.room_id, p.suggested_only, &budget, &children);
        if (visible++ >= p.skip) json_array_append(rooms, room_entry(ctx, q.room_id, children, n));
        if (q.depth >= p.max_depth) continue;
        for (size_t i = 0; i < n && tail < MAX_HIERARCHY_READS; i++) {
            ht_room_row row;
            const char *id = children[i].room_id;
            if (json_object_get(seen, id) || !ht_store_room_get(ctx->env->store, ctx->arena, id, &row))
                continue;
            json_object_set_new(seen, id, json_true());
            queue[tail++] = (queued){id, q.depth + 1};
        }
    }
    json_t *reply = json_pack("{s:o}", "rooms", rooms);
    if (next_batch) json_object_set_new(reply, "next_batch", json_string(next_batch));
    return ht_reply_json(reply);
}
