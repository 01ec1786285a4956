/* graph.c -- storing an event in its room's graph, and the states along
 * it (see graph.h for the model).
 *
 * States are handled as maps of event ids (state_map.h); the store keeps
 * them as stream positions. The state log holds the current state of a room
 * at every position, so the state after an event that was the room's only
 * forward extremity is the log at its position and costs nothing to keep.
 * Any other state is kept as a state group: the log at some position
 * overridden by the keys that differ from it, usually a handful. */
#include "room/graph.h"

#include <stdlib.h>
#include <string.h>

#include "matrix/ids.h"
#include "room/id_map.h"
#include "room/pdu.h"
#include "room/pdu_view.h"
#include "room/push_actions.h"
#include "room/state_res.h"
#include "store/federation.h"
#include "store/graph.h"
#include "store/meta.h"
#include "store/relations.h"
#include "util/json.h"
#include "util/str.h"

enum { MAX_EXTREMITIES = HT_STATE_RES_MAX_STATES };

static bool is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static void map_from_rows(ht_state_map *out, const ht_state_entry_row *rows, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (rows[i].event_id) ht_state_map_set(out, rows[i].type, rows[i].state_key, rows[i].event_id);
}

void ht_room_current_state(ht_env *env, const char *room_id, ht_state_map *out) {
    ht_state_map_init(out, env->arena);
    ht_state_entry_row *rows;
    size_t n = ht_store_state_keys_at(env->store, env->arena, room_id, 0, &rows);
    map_from_rows(out, rows, n);
}

/* The log at `at` (a whole room state), overridden by a group's entries. */
static void log_state(ht_env *env, const char *room_id, int64_t at, ht_state_map *out) {
    ht_state_map_init(out, env->arena);
    ht_state_entry_row *rows;
    size_t n = ht_store_state_keys_at(env->store, env->arena, room_id, at, &rows);
    map_from_rows(out, rows, n);
}

bool ht_room_state_after(ht_env *env, const ht_event_row *ev, ht_state_map *out) {
    /* A historical event's state is unknown (graph.h: historical_stream). */
    if (ev->status == HT_EVENT_OUTLIER || ev->status == HT_EVENT_REJECTED || ev->stream < 1) return false;
    if (!ev->state_group) {
        log_state(env, ev->room_id, ev->stream, out);
        return true;
    }
    int64_t base;
    ht_state_entry_row *entries;
    size_t n;
    if (!ht_store_state_group_get(env->store, env->arena, ev->state_group, &base, &entries, &n)) return false;
    log_state(env, ev->room_id, base, out);
    for (size_t i = 0; i < n; i++) {
        if (entries[i].event_id)
            ht_state_map_set(out, entries[i].type, entries[i].state_key, entries[i].event_id);
        else
            ht_state_map_remove(out, entries[i].type, entries[i].state_key);
    }
    return true;
}

/* Keeps a state apart from the log, for the event stored at `stream`: the
 * room's log just before that position, overridden by the keys where
 * `state` differs. The log below the newest event's position never changes
 * again (every change is written at the position of the event that made
 * it), so the base stays what it was. Returns the group, 0 on failure. */
static int64_t save_state(ht_env *env, const char *room_id, const ht_state_map *state, int64_t stream) {
    int64_t base = stream - 1;
    ht_state_map current;
    log_state(env, room_id, base, &current);
    size_t n = 0, cap = 0;
    ht_state_entry_row *diff = NULL;
    for (size_t i = 0; i < state->count; i++) {
        const ht_state_entry *e = &state->entries[i];
        if (is(ht_state_map_get(&current, e->type, e->state_key), e->event_id)) continue;
        ht_event_row row;
        if (!ht_store_event_by_id(env->store, env->arena, e->event_id, &row)) return 0;
        diff = ht_arena_push(env->arena, diff, sizeof *diff, n, &cap);
        diff[n++] = (ht_state_entry_row){e->type, e->state_key, row.stream, e->event_id};
    }
    for (size_t i = 0; i < current.count; i++) {
        const ht_state_entry *e = &current.entries[i];
        if (ht_state_map_get(state, e->type, e->state_key)) continue;
        diff = ht_arena_push(env->arena, diff, sizeof *diff, n, &cap);
        diff[n++] = (ht_state_entry_row){e->type, e->state_key, 0, NULL};
    }
    return ht_store_state_group_put(env->store, room_id, base, diff, n);
}

/* One key of the current state becomes the event `event_id` (NULL: gone),
 * at position `at`, with the membership it means. */
static bool change_key(ht_env *env, const ht_event_source *src, const char *room_id, const char *type,
                       const char *state_key, const char *event_id, int64_t at) {
    int64_t event_stream = 0;
    const char *membership = "leave", *display_name = NULL;
    if (event_id) {
        ht_event_row row;
        if (!ht_store_event_by_id(env->store, env->arena, event_id, &row)) return false;
        event_stream = row.stream;
        const ht_pdu *pdu = src->get(src->self, event_id);
        const char *m = pdu ? ht_json_str(pdu->content, "membership") : NULL;
        if (m) membership = m;
        if (pdu) display_name = ht_json_str(pdu->content, "displayname");
    }
    if (!ht_store_state_change(env->store, room_id, type, state_key, event_stream, at)) return false;
    const char *old_membership = NULL;
    if (strcmp(type, "m.room.member") == 0) {
        old_membership = ht_store_membership_get(env->store, env->arena, room_id, state_key, NULL, NULL);
        if (!ht_store_membership_set(env->store, room_id, state_key, membership, display_name,
                                     event_stream ? event_stream : at))
            return false;
    }
    return ht_room_push_state_changed(env, room_id, type, state_key, old_membership, membership);
}

/* Makes `state` the room's current state from position `at` on: only the
 * keys that differ are written. */
static bool set_current_state(ht_env *env, const ht_event_source *src, const char *room_id,
                              const ht_state_map *state, int64_t at) {
    ht_state_map current;
    ht_room_current_state(env, room_id, &current);
    for (size_t i = 0; i < state->count; i++) {
        const ht_state_entry *e = &state->entries[i];
        if (is(ht_state_map_get(&current, e->type, e->state_key), e->event_id)) continue;
        if (!change_key(env, src, room_id, e->type, e->state_key, e->event_id, at)) return false;
    }
    for (size_t i = 0; i < current.count; i++) {
        const ht_state_entry *e = &current.entries[i];
        if (!ht_state_map_get(state, e->type, e->state_key) &&
            !change_key(env, src, room_id, e->type, e->state_key, NULL, at))
            return false;
    }
    return true;
}

/* The event becomes a forward extremity in place of those it follows;
 * returns the room's extremities afterwards (*count of them). */
static ht_extremity_row *move_extremities(ht_env *env, const ht_persist *p, int64_t stream, size_t *count) {
    const ht_pdu *pdu = p->pdu;
    *count = 0;
    for (size_t i = 0; i < pdu->prev_count; i++)
        if (!ht_store_extremity_remove(env->store, pdu->room_id, pdu->prev_events[i])) return NULL;
    if (!ht_store_extremity_add(env->store, pdu->room_id, pdu->event_id)) return NULL;
    ht_extremity_row *rows;
    if (p->follows_every_extremity) {
        rows = ht_arena_alloc(env->arena, sizeof *rows);
        *rows = (ht_extremity_row){pdu->event_id, pdu->depth, stream};
        *count = 1;
        return rows;
    }
    *count = ht_store_extremities(env->store, env->arena, pdu->room_id, MAX_EXTREMITIES, &rows);
    return rows;
}

/* The state after the event: the state before it, and itself if it is a
 * state event. */
static void state_after(const ht_persist *p, const ht_state_map *before, ht_state_map *out) {
    ht_state_map_copy(out, before);
    if (p->pdu->state_key) ht_state_map_set(out, p->pdu->type, p->pdu->state_key, p->pdu->event_id);
}

/* Resolves the states after the room's forward extremities into the new
 * current state. */
static ht_error resolve_extremities(ht_env *env, const char *room_version, const ht_event_source *src,
                                    const ht_extremity_row *tips, size_t n, ht_state_map *out) {
    const ht_state_map **states = ht_arena_calloc(env->arena, n, sizeof *states);
    for (size_t i = 0; i < n; i++) {
        ht_event_row row;
        ht_state_map *m = ht_arena_calloc(env->arena, 1, sizeof *m);
        if (!ht_store_event_by_id(env->store, env->arena, tips[i].event_id, &row) ||
            !ht_room_state_after(env, &row, m))
            return (ht_error){HT_M_SERVER_ERROR, 0, "A forward extremity of the room has no known state."};
        states[i] = m;
    }
    ht_state_map_init(out, env->arena);
    if (!ht_state_resolve(env->arena, states, n, src, room_version, out))
        return (ht_error){HT_M_SERVER_ERROR, 0, "The room's state could not be resolved within bounds."};
    return (ht_error){0};
}

ht_error ht_room_redact_target(ht_env *env, const ht_room_version *version, const char *target_id,
                               const char *redaction_id) {
    ht_event_row target;
    if (!ht_store_event_by_id(env->store, env->arena, target_id, &target) || target.redacted_by)
        return (ht_error){0};
    json_t *redacted = ht_json_keep(env->arena, ht_pdu_redact(version, ht_json_parse(env->arena, target.json)));
    ht_canonical_error cerr;
    size_t size;
    char *text = redacted ? ht_canonical_json(redacted, &size, &cerr) : NULL;
    bool ok = text && ht_store_event_redact(env->store, target.stream, text, redaction_id) &&
              ht_store_unread_stale_room(env->store, target.room_id);
    free(text);
    return ok ? (ht_error){0} : (ht_error){HT_M_SERVER_ERROR, 0, "The redaction could not be stored."};
}

size_t ht_room_event_servers(ht_env *env, const ht_pdu *pdu, const char *const **out) {
    const char **servers;
    size_t n = ht_store_room_servers(env->store, env->arena, pdu->room_id, env->server_name, &servers);
    const char *subject = NULL;
    if (pdu->state_key && strcmp(pdu->type, "m.room.member") == 0) {
        subject = ht_id_server(pdu->state_key);
        if (subject && strcmp(subject, env->server_name) == 0) subject = NULL;
        for (size_t i = 0; i < n && subject; i++)
            if (strcmp(servers[i], subject) == 0) subject = NULL;
    }
    if (subject) {
        const char **all = ht_arena_calloc(env->arena, n + 1, sizeof *all);
        if (n) memcpy(all, servers, n * sizeof *servers);
        all[n++] = subject;
        servers = all;
    }
    *out = servers;
    return n;
}

/* Our own event goes to the servers ht_room_event_servers names: queued in
 * the durable outbox, before the event changes who is in the room. */
static bool queue_for_servers(ht_env *env, const ht_persist *p, int64_t stream) {
    const char *const *servers = p->servers;
    size_t n = p->servers_read ? p->server_count : ht_room_event_servers(env, p->pdu, &servers);
    for (size_t i = 0; i < n; i++)
        if (!ht_store_outbox_pdu(env->store, servers[i], stream, env->now_ms)) return false;
    if (n) env->outbound = true;
    return true;
}

/* Stores the event in the graph and moves the room's state. */
static ht_error persist_event(ht_env *env, const char *room_version, const ht_persist *p, ht_event_row *out) {
    const ht_pdu *pdu = p->pdu;
    ht_event_source src = ht_room_event_source(env, room_version);
    bool historical = p->historical_stream != 0;
    int64_t stream = historical ? p->historical_stream : (int64_t)ht_store_stream_advance(env->store);
    int64_t prev_state = 0;
    if (pdu->state_key && !historical) {
        const char *replaced = p->state_before ? ht_state_map_get(p->state_before, pdu->type, pdu->state_key)
                                               : ht_store_state_event_id(env->store, env->arena, pdu->room_id,
                                                                         pdu->type, pdu->state_key);
        ht_event_row old;
        if (replaced && ht_store_event_by_id(env->store, env->arena, replaced, &old)) prev_state = old.stream;
    }
    ht_event_row row = {.stream = stream,
                        .event_id = pdu->event_id,
                        .room_id = pdu->room_id,
                        .type = pdu->type,
                        .state_key = pdu->state_key,
                        .sender = pdu->sender,
                        .origin_ts = pdu->origin_server_ts,
                        .depth = pdu->depth,
                        .json = p->json,
                        .txn_id = p->txn_id,
                        .device_id = p->device_id,
                        .prev_state = prev_state,
                        .status = p->status};
    bool stored =
        p->outlier_stream
            ? ht_store_event_move(env->store, p->outlier_stream, stream) &&
                  ht_store_event_set_status(env->store, stream, p->status, 0)
            : ht_store_event_insert(env->store, &row) &&
                  ht_store_event_edges_put(env->store, stream, pdu->prev_events, pdu->prev_count);
    if (!stored) return (ht_error){HT_M_SERVER_ERROR, 0, "The event could not be stored."};
    if (out) *out = row;
    if (p->status == HT_EVENT_OUTLIER || p->status == HT_EVENT_REJECTED || historical) return (ht_error){0};
    const char *origin = ht_id_server(pdu->sender);
    if (p->status == HT_EVENT_TIMELINE && origin && strcmp(origin, env->server_name) == 0 &&
        !queue_for_servers(env, p, stream))
        return (ht_error){HT_M_SERVER_ERROR, 0, "The event could not be queued for other servers."};

    ht_state_map before_current;
    const ht_state_map *before = p->state_before;
    if (p->status == HT_EVENT_SOFT_FAILED) {
        /* In the graph, so others may build on it, but it moves nothing. */
        if (!before) {
            ht_room_current_state(env, pdu->room_id, &before_current);
            before = &before_current;
        }
        ht_state_map after;
        ht_state_map_init(&after, env->arena);
        state_after(p, before, &after);
        int64_t group = save_state(env, pdu->room_id, &after, stream);
        if (!group || !ht_store_event_set_status(env->store, stream, p->status, group))
            return (ht_error){HT_M_SERVER_ERROR, 0, "The event's state could not be stored."};
        if (out) out->state_group = group;
        return (ht_error){0};
    }

    size_t tip_count;
    ht_extremity_row *tips = move_extremities(env, p, stream, &tip_count);
    if (!tips && tip_count) return (ht_error){HT_M_SERVER_ERROR, 0, "The room's extremities could not be stored."};
    bool alone = tip_count == 1 && is(tips[0].event_id, pdu->event_id);
    if (alone && !before) {
        /* Our own event on the room's one line: only its own key changes. */
        if (pdu->state_key && !change_key(env, &src, pdu->room_id, pdu->type, pdu->state_key, pdu->event_id, stream))
            return (ht_error){HT_M_SERVER_ERROR, 0, "The room's state could not be stored."};
        return (ht_error){0};
    }
    if (!before) {
        ht_room_current_state(env, pdu->room_id, &before_current);
        before = &before_current;
    }
    ht_state_map after;
    ht_state_map_init(&after, env->arena);
    state_after(p, before, &after);
    if (alone) {
        /* The state after it is the current state: the log keeps it. */
        if (!set_current_state(env, &src, pdu->room_id, &after, stream))
            return (ht_error){HT_M_SERVER_ERROR, 0, "The room's state could not be stored."};
        return (ht_error){0};
    }
    /* The graph has forked: keep this event's state apart, and resolve the
     * room's current state from all its tips. */
    int64_t group = save_state(env, pdu->room_id, &after, stream);
    if (!group || !ht_store_event_set_status(env->store, stream, p->status, group))
        return (ht_error){HT_M_SERVER_ERROR, 0, "The event's state could not be stored."};
    if (out) out->state_group = group;
    ht_state_map resolved;
    ht_error err = resolve_extremities(env, room_version, &src, tips, tip_count, &resolved);
    if (err.code) return err;
    if (!set_current_state(env, &src, pdu->room_id, &resolved, stream))
        return (ht_error){HT_M_SERVER_ERROR, 0, "The room's state could not be stored."};
    return (ht_error){0};
}

bool ht_room_stored_state_of(ht_env *env, const char *event_id, const char *room_id, const char **type,
                             const char **state_key) {
    const char *its_room;
    return ht_store_event_key(env->store, env->arena, event_id, &its_room, type, state_key) && *state_key &&
           strcmp(its_room, room_id) == 0;
}

ht_error ht_room_stage_state(ht_env *env, const char *room_version, const char *room_id, const char *const *ids,
                             size_t count) {
    ht_event_source src = ht_room_event_source(env, room_version);
    int64_t at = (int64_t)ht_store_stream_advance(env->store);
    for (size_t i = 0; i < count; i++) {
        const char *type, *key;
        if (!ht_room_stored_state_of(env, ids[i], room_id, &type, &key))
            return (ht_error){HT_M_SERVER_ERROR, 0, "The state given is not stored."};
        if (is(ht_store_state_event_id(env->store, env->arena, room_id, type, key), ids[i])) continue;
        if (!change_key(env, &src, room_id, type, key, ids[i], at))
            return (ht_error){HT_M_SERVER_ERROR, 0, "The room's state could not be stored."};
    }
    return (ht_error){0};
}

ht_error ht_room_persist(ht_env *env, const char *room_version, const ht_persist *p, ht_event_row *out) {
    ht_event_row row;
    ht_error err = persist_event(env, room_version, p, &row);
    if (!err.code && out) *out = row;
    /* Every event that joins the timeline, ours or another server's; not
     * history fetched from before our join: nobody is told of it anew. */
    if (err.code || p->status != HT_EVENT_TIMELINE || p->historical_stream) return err;
    return ht_room_push_event(env, p->pdu, row.stream);
}

bool ht_room_state_ids_before(ht_env *env, const char *event_id, const char ***ids, size_t *count) {
    ht_event_row row;
    ht_state_map state;
    if (!ht_store_event_by_id(env->store, env->arena, event_id, &row) || !ht_room_state_after(env, &row, &state))
        return false;
    if (row.state_key && ht_str_is(ht_state_map_get(&state, row.type, row.state_key), row.event_id)) {
        ht_event_row replaced;
        if (row.prev_state && ht_store_event_by_stream(env->store, env->arena, row.prev_state, &replaced))
            ht_state_map_set(&state, row.type, row.state_key, replaced.event_id);
        else
            ht_state_map_remove(&state, row.type, row.state_key);
    }
    const char **list = ht_arena_calloc(env->arena, state.count ? state.count : 1, sizeof *list);
    for (size_t i = 0; i < state.count; i++) list[i] = state.entries[i].event_id;
    *ids = list;
    *count = state.count;
    return true;
}

bool ht_room_auth_chain(ht_env *env, const char *const *ids, const char *const *texts, size_t count, size_t max,
                        const char ***out, size_t *out_count) {
    ht_id_map *seen = ht_id_map_new(env->arena, count * 4 + 16);
    ht_id_map *given = ht_id_map_new(env->arena, texts ? count * 2 : 1);
    for (size_t i = 0; texts && i < count; i++) {
        bool created;
        if (texts[i]) *ht_id_map_slot(given, ids[i], &created) = (void *)texts[i];
    }
    size_t n = 0, cap = 0, next = 0;
    const char **chain = NULL;
    /* A breadth-first walk over auth edges from the given events. */
    const char **queue = NULL;
    size_t queued = 0, qcap = 0;
    for (size_t i = 0; i < count; i++) {
        queue = ht_arena_push(env->arena, queue, sizeof *queue, queued, &qcap);
        queue[queued++] = ids[i];
    }
    while (next < queued) {
        const char *id = queue[next++];
        const char *text = ht_id_map_get(given, id);
        ht_event_row row;
        if (!text && ht_store_event_by_id(env->store, env->arena, id, &row)) text = row.json;
        const char **auth;
        size_t auth_count;
        if (!text || !ht_pdu_text_auth_events(env->arena, text, &auth, &auth_count)) continue;
        for (size_t a = 0; a < auth_count; a++) {
            bool created;
            void **slot = ht_id_map_slot(seen, auth[a], &created);
            if (!created) continue;
            *slot = (void *)auth[a];
            if (n == max) return false;
            chain = ht_arena_push(env->arena, chain, sizeof *chain, n, &cap);
            chain[n++] = auth[a];
            queue = ht_arena_push(env->arena, queue, sizeof *queue, queued, &qcap);
            queue[queued++] = auth[a];
        }
    }
    *out = chain;
    *out_count = n;
    return true;
}
