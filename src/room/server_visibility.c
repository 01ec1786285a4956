/* server_visibility.c -- may another server see an event? (for_servers.h)
 *
 * The client-server spec's history visibility rules ("Room History
 * Visibility", server behaviour), applied to a server as to any of its
 * users, and read at the event's own place in the graph: the state after
 * an event is its state group, or the state log at its position when it was
 * the room's only tip (room/graph.h), so one key is one lookup, never the
 * room's whole state. Only history visibility "invited" and "joined" need
 * the server's users' memberships; those lookups are counted, and once the
 * request has spent its allowance an event is judged not visible: a slow
 * answer for one server must not become a slow server for everyone. */
#include "room/for_servers.h"

#include <string.h>

#include "matrix/ids.h"
#include "room/room.h"
#include "store/graph.h"
#include "store/graph_read.h"
#include "util/json.h"

static bool is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

void ht_server_viewer_init(ht_env *env, ht_server_viewer *viewer, const char *room_id, const char *server) {
    *viewer = (ht_server_viewer){.env = env, .server = server, .room_id = room_id,
                                 .joined = ht_store_room_server_joined(env->store, room_id, server),
                                 .lookups_left = HT_SERVER_VIEWER_LOOKUPS};
}

/* The stream of the event at (type, state_key) after `ev` or just before
 * it; 0 if the key is absent there. */
static int64_t state_at(ht_env *env, const ht_event_row *ev, const char *type, const char *state_key, bool before) {
    /* Before a state event, its own key holds what it replaced. */
    if (before && is(ev->type, type) && is(ev->state_key, state_key)) return ev->prev_state;
    int64_t stream = 0;
    if (ev->state_group) {
        if (ht_store_state_group_entry(env->store, ev->state_group, type, state_key, &stream)) return stream;
        int64_t base = ht_store_state_group_base(env->store, ev->state_group);
        return base ? ht_store_state_at(env->store, ev->room_id, type, state_key, base) : 0;
    }
    return ht_store_state_at(env->store, ev->room_id, type, state_key, ev->stream);
}

/* A string of the content of the event stored at `stream`, or NULL. */
static const char *content_at(ht_env *env, int64_t stream, const char *key) {
    ht_event_row row;
    if (!stream || !ht_store_event_by_stream(env->store, env->arena, stream, &row)) return NULL;
    return ht_json_str(ht_room_event_content(env->arena, &row), key);
}

/* The visibilities that count for the event: the one before it, and for a
 * history_visibility event its own too. Unset or unknown reads "shared". */
static void visibilities(ht_env *env, const ht_event_row *ev, const char *out[2]) {
    for (int i = 0; i < 2; i++) {
        const char *v = i == 0 ? content_at(env, state_at(env, ev, "m.room.history_visibility", "", true),
                                            "history_visibility")
                        : is(ev->type, "m.room.history_visibility") && is(ev->state_key, "")
                            ? content_at(env, ev->stream, "history_visibility")
                            : NULL;
        if (i == 1 && !v) v = out[0];
        out[i] = is(v, "world_readable") || is(v, "invited") || is(v, "joined") ? v : "shared";
    }
}

static bool read_users(ht_server_viewer *v) {
    if (!v->users_read) {
        v->user_count = ht_store_room_users_of_server(v->env->store, v->env->arena, v->room_id, v->server,
                                                      HT_SERVER_VIEWER_MAX_USERS, &v->users);
        v->users_read = true;
    }
    return v->user_count > 0;
}

/* Is a user of the server joined at the event (or invited, when that is
 * enough)? The membership at an event includes the event itself; before a
 * user's own member event, the one it replaced counts too. */
static bool member_at(ht_server_viewer *v, const ht_event_row *ev, bool invite_counts) {
    if (!read_users(v)) return false;
    for (size_t i = 0; i < v->user_count; i++) {
        bool own = is(ev->type, "m.room.member") && is(ev->state_key, v->users[i]);
        for (int before = 0; before <= (int)own; before++) {
            if (v->lookups_left-- <= 0) return false;
            const char *m = content_at(v->env, state_at(v->env, ev, "m.room.member", v->users[i], before),
                                       "membership");
            if (is(m, "join") || (invite_counts && is(m, "invite"))) return true;
        }
    }
    return false;
}

bool ht_server_may_see(ht_server_viewer *v, const ht_event_row *ev) {
    if (is(ht_id_server(ev->sender), v->server)) return true;
    if (ev->status == HT_EVENT_REJECTED) return false;
    if (ev->status == HT_EVENT_OUTLIER) return ev->state_key != NULL;
    const char *vis[2];
    visibilities(v->env, ev, vis);
    bool invited = false;
    for (int i = 0; i < 2; i++) {
        if (is(vis[i], "world_readable")) return true;
        /* A member sees what was sent before they joined: a server in the
         * room now has a user who is joined, or joined since. */
        if (is(vis[i], "shared") && v->joined) return true;
        invited |= is(vis[i], "invited");
    }
    return member_at(v, ev, invited);
}
