/* state_res.c -- state resolution version 2, step by step as the spec
 * writes it: split the states into agreed and conflicted keys, widen the
 * conflicted events by the auth difference, replay the power events in
 * reverse topological power order, then the rest in mainline order, each
 * through the authorization rules against the state built so far, and let
 * the agreed keys have the last word.
 *
 * Every event read becomes a `node` in one table, so each is fetched from
 * the source once and the bound on events read is one counter. Orders never
 * come from the table: every sort has a total order ending in the event id,
 * so every server that resolves the same states gets the same answer.
 *
 * Where the spec, Synapse and ruma read the algorithm differently, the
 * choice is said next to the code: the auth chain of a state counts the
 * state's own events (Synapse), create events count as power events
 * (Synapse, ruma), the power events' auth chains are followed only through
 * the full conflicted set (Synapse, ruma), and an event rejected on receipt
 * is judged again like any other (the spec, ruma, Synapse 1.67; later
 * Synapse leaves it out) but never serves as another's auth event. */
#include "room/state_res.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "room/event_auth.h"
#include "room/id_map.h"
#include "util/json.h"

static bool is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

typedef struct node node;
struct node {
    const ht_pdu *pdu;
    uint64_t reach;  /* bit i: in state i's auth chain (the state's own events included) */
    bool conflicted; /* in the full conflicted set */
    bool in_graph;   /* in the power events' graph */
    int64_t power;   /* the sender's power level by the event's auth events */
    size_t waiting;  /* auth events in the graph not yet sorted */
    node **cited_by; /* graph events that cite this one */
    size_t cited_by_count, cited_by_cap;
    int64_t mainline; /* mainline position (0 and up), or one of these: */
};
enum { MAINLINE_UNKNOWN = -1, MAINLINE_WALKING = -2 /* on the walk being made: a cycle if met again */ };

typedef struct resolver {
    ht_arena *arena;
    const ht_event_source *src;
    const char *room_version;
    const ht_room_version *version;
    const char *room_id; /* of the first event read; all others must match */
    ht_id_map *nodes;
    size_t max_events;
    bool failed; /* bound exceeded, event missing, rooms mixed */
} resolver;

/* The node of an event, read from the source the first time. NULL (and the
 * resolution failed) if it cannot be had. */
static node *node_of(resolver *r, const char *event_id) {
    if (r->failed) return NULL;
    node *n = ht_id_map_get(r->nodes, event_id);
    if (n) return n;
    if (ht_id_map_count(r->nodes) >= r->max_events) {
        r->failed = true;
        return NULL;
    }
    const ht_pdu *pdu = r->src->get(r->src->self, event_id);
    if (!pdu || !is(pdu->event_id, event_id) || (r->room_id && !is(pdu->room_id, r->room_id))) {
        r->failed = true;
        return NULL;
    }
    if (!r->room_id) r->room_id = pdu->room_id;
    n = ht_arena_calloc(r->arena, 1, sizeof *n);
    n->pdu = pdu;
    n->mainline = MAINLINE_UNKNOWN;
    *ht_id_map_slot(r->nodes, pdu->event_id, NULL) = n;
    return n;
}

typedef struct node_list {
    node **items;
    size_t count, cap;
} node_list;

static void push(resolver *r, node_list *list, node *n) {
    list->items = ht_arena_push(r->arena, list->items, sizeof *list->items, list->count, &list->cap);
    list->items[list->count++] = n;
}

/* ---- unconflicted state map and conflicted state set --------------------- */

/* Walks the sorted states side by side: a key every state has with the same
 * event is agreed; any other key (missing from a state included) puts each
 * of its events in the conflicted set. */
static void split(resolver *r, const ht_state_map *const *states, size_t count, ht_state_map *unconflicted,
                  node_list *conflicted) {
    size_t *at = ht_arena_calloc(r->arena, count, sizeof *at);
    for (;;) {
        const ht_state_entry *least = NULL;
        for (size_t i = 0; i < count; i++) {
            if (at[i] == states[i]->count) continue;
            const ht_state_entry *e = &states[i]->entries[at[i]];
            if (!least || ht_state_key_compare(e->type, e->state_key, least->type, least->state_key) < 0)
                least = e;
        }
        if (!least) return;
        ht_state_entry key = *least;
        size_t present = 0;
        bool agreed = true;
        for (size_t i = 0; i < count; i++) {
            if (at[i] == states[i]->count) continue;
            const ht_state_entry *e = &states[i]->entries[at[i]];
            if (ht_state_key_compare(e->type, e->state_key, key.type, key.state_key) != 0) continue;
            present++;
            agreed &= is(e->event_id, key.event_id);
        }
        for (size_t i = 0; i < count; i++) {
            if (at[i] == states[i]->count) continue;
            const ht_state_entry *e = &states[i]->entries[at[i]];
            if (ht_state_key_compare(e->type, e->state_key, key.type, key.state_key) != 0) continue;
            at[i]++;
            if (present == count && agreed) continue;
            node *n = node_of(r, e->event_id);
            if (!n) return;
            if (!n->conflicted) {
                n->conflicted = true;
                push(r, conflicted, n);
            }
        }
        if (present == count && agreed) ht_state_map_set(unconflicted, key.type, key.state_key, key.event_id);
    }
}

/* ---- auth difference ------------------------------------------------------ */

/* Marks, for every event in any state's auth chain, which states reach it,
 * then adds to `full` every event some but not all states reach. A state's
 * own events count as reached by it, as Synapse's database counts them (the
 * spec's auth chain of E starts at E's auth events; the difference then
 * differs only by agreed events, whose keys the last step restores anyway:
 * on the random forks of `make test-state-res-synapse` both readings give
 * the same states). Each event is walked again only when it gains a state,
 * so the work is at most the number of states times the events in the
 * chains; every event of every state is read, since the chains of agreed
 * events decide what the others share (Synapse keeps an index of chains for
 * this; a store that has one could hand the difference over instead). */
static void auth_difference(resolver *r, const ht_state_map *const *states, size_t count, node_list *full) {
    node_list stack = {0};
    node_list seen = {0}; /* every event reached, in the order found */
    for (size_t i = 0; i < count && !r->failed; i++) {
        for (size_t k = 0; k < states[i]->count; k++) {
            node *n = node_of(r, states[i]->entries[k].event_id);
            if (!n) return;
            if (!n->reach) push(r, &seen, n);
            if (n->reach & (UINT64_C(1) << i)) continue;
            n->reach |= UINT64_C(1) << i;
            push(r, &stack, n);
        }
    }
    while (stack.count && !r->failed) {
        node *n = stack.items[--stack.count];
        for (size_t k = 0; k < n->pdu->auth_count; k++) {
            node *a = node_of(r, n->pdu->auth_events[k]);
            if (!a) return;
            uint64_t gained = n->reach & ~a->reach;
            if (!gained) continue;
            if (!a->reach) push(r, &seen, a);
            a->reach |= gained;
            push(r, &stack, a);
        }
    }
    uint64_t everyone = count == 64 ? UINT64_MAX : (UINT64_C(1) << count) - 1;
    for (size_t k = 0; k < seen.count; k++) {
        node *n = seen.items[k];
        if (n->reach != everyone && !n->conflicted) {
            n->conflicted = true;
            push(r, full, n);
        }
    }
}

/* ---- reverse topological power ordering ----------------------------------- */

/* A power event might take someone's power away: power levels, join rules,
 * a kick or ban of another. Synapse and ruma count the create event too (the
 * spec does not; it matters only for states that disagree on the create
 * event, where sorting it first is the sane order). */
static bool is_power_event(const ht_pdu *e) {
    if (!e->state_key) return false;
    if ((is(e->type, "m.room.power_levels") || is(e->type, "m.room.join_rules") || is(e->type, "m.room.create")) &&
        !*e->state_key)
        return true;
    if (!is(e->type, "m.room.member")) return false;
    const char *m = ht_json_str(e->content, "membership");
    return (is(m, "leave") || is(m, "ban")) && !is(e->sender, e->state_key);
}

/* The sender's power level "when looking at their respective auth_events":
 * the power levels event among them, else the defaults (the creator has 100,
 * by the create event among them). */
static int64_t sender_power(resolver *r, const ht_pdu *e) {
    const ht_pdu *pl = NULL, *create = NULL;
    for (size_t k = 0; k < e->auth_count; k++) {
        node *a = node_of(r, e->auth_events[k]);
        if (!a) return 0;
        /* The first of each, should an event cite two (rule 2 rejects it). */
        if (!pl && is(a->pdu->type, "m.room.power_levels") && is(a->pdu->state_key, "")) pl = a->pdu;
        if (!create && is(a->pdu->type, "m.room.create") && is(a->pdu->state_key, "")) create = a->pdu;
    }
    if (pl) {
        json_t *level = json_object_get(json_object_get(pl->content, "users"), e->sender);
        if (!json_is_integer(level)) level = json_object_get(pl->content, "users_default");
        return json_is_integer(level) ? json_integer_value(level) : 0;
    }
    if (!create) return 0;
    const char *creator = r->version->create_has_creator ? ht_json_str(create->content, "creator") : create->sender;
    return is(creator, e->sender) ? 100 : 0;
}

/* x before y: greater power, then earlier origin_server_ts, then smaller id. */
static bool power_before(const node *x, const node *y) {
    if (x->power != y->power) return x->power > y->power;
    if (x->pdu->origin_server_ts != y->pdu->origin_server_ts)
        return x->pdu->origin_server_ts < y->pdu->origin_server_ts;
    return strcmp(x->pdu->event_id, y->pdu->event_id) < 0;
}

/* A binary min-heap under power_before: Kahn's algorithm picks the least of
 * the events whose auth events are all sorted. */
static void heap_push(resolver *r, node_list *heap, node *n) {
    push(r, heap, n);
    for (size_t i = heap->count - 1; i > 0;) {
        size_t up = (i - 1) / 2;
        if (!power_before(heap->items[i], heap->items[up])) break;
        node *t = heap->items[i];
        heap->items[i] = heap->items[up];
        heap->items[up] = t;
        i = up;
    }
}

static node *heap_pop(node_list *heap) {
    node *top = heap->items[0];
    heap->items[0] = heap->items[--heap->count];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, rt = l + 1, least = i;
        if (l < heap->count && power_before(heap->items[l], heap->items[least])) least = l;
        if (rt < heap->count && power_before(heap->items[rt], heap->items[least])) least = rt;
        if (least == i) break;
        node *t = heap->items[i];
        heap->items[i] = heap->items[least];
        heap->items[least] = t;
        i = least;
    }
    return top;
}

/* Adds the event and, through the full conflicted set only, its auth chain
 * (Synapse and ruma stop at events outside the set; the spec's words would
 * also reach conflicted events behind an agreed one). */
static void add_to_graph(resolver *r, node *start, node_list *graph) {
    node_list stack = {0};
    start->in_graph = true;
    push(r, graph, start);
    push(r, &stack, start);
    while (stack.count && !r->failed) {
        node *n = stack.items[--stack.count];
        for (size_t k = 0; k < n->pdu->auth_count; k++) {
            node *a = node_of(r, n->pdu->auth_events[k]);
            if (!a) return;
            if (!a->conflicted) continue;
            bool known_edge = false; /* an id listed twice is one edge */
            for (size_t c = 0; c < a->cited_by_count; c++) known_edge |= a->cited_by[c] == n;
            if (known_edge) continue;
            a->cited_by =
                ht_arena_push(r->arena, a->cited_by, sizeof *a->cited_by, a->cited_by_count, &a->cited_by_cap);
            a->cited_by[a->cited_by_count++] = n;
            n->waiting++;
            if (!a->in_graph) {
                a->in_graph = true;
                push(r, graph, a);
                push(r, &stack, a);
            }
        }
    }
}

static void power_sort(resolver *r, const node_list *full, node_list *sorted) {
    node_list graph = {0}, ready = {0};
    for (size_t i = 0; i < full->count && !r->failed; i++)
        if (is_power_event(full->items[i]->pdu) && !full->items[i]->in_graph)
            add_to_graph(r, full->items[i], &graph);
    for (size_t i = 0; i < graph.count && !r->failed; i++)
        graph.items[i]->power = sender_power(r, graph.items[i]->pdu);
    if (r->failed) return;
    for (size_t i = 0; i < graph.count; i++)
        if (!graph.items[i]->waiting) heap_push(r, &ready, graph.items[i]);
    while (ready.count) {
        node *n = heap_pop(&ready);
        push(r, sorted, n);
        for (size_t c = 0; c < n->cited_by_count; c++)
            if (--n->cited_by[c]->waiting == 0) heap_push(r, &ready, n->cited_by[c]);
    }
}

/* ---- mainline ordering ----------------------------------------------------- */

/* The power levels event among an event's auth events (the first listed). */
static node *power_levels_cited(resolver *r, const ht_pdu *e) {
    for (size_t k = 0; k < e->auth_count; k++) {
        node *a = node_of(r, e->auth_events[k]);
        if (!a) return NULL;
        if (is(a->pdu->type, "m.room.power_levels") && is(a->pdu->state_key, "")) return a;
    }
    return NULL;
}

/* The mainline position of an event: that of the first event on the
 * mainline met by following power levels auth events from it (Synapse starts
 * at the event itself, the spec at the event it cites: the same, as no event
 * sorted here is on the mainline). Every event walked past gets the same
 * answer, so each is walked once. */
static int64_t mainline_position(resolver *r, node *e) {
    node_list walk = {0};
    int64_t position = 0;
    for (node *n = e; n && !r->failed; n = power_levels_cited(r, n->pdu)) {
        if (n->mainline >= 0) {
            position = n->mainline;
            break;
        }
        if (n->mainline == MAINLINE_WALKING) break; /* a cycle: impossible with hashed ids */
        n->mainline = MAINLINE_WALKING;
        push(r, &walk, n);
    }
    for (size_t i = 0; i < walk.count; i++) walk.items[i]->mainline = position;
    return position;
}

static int mainline_compare(const void *a, const void *b) {
    const node *x = *(node *const *)a, *y = *(node *const *)b;
    if (x->mainline != y->mainline) return x->mainline < y->mainline ? -1 : 1;
    if (x->pdu->origin_server_ts != y->pdu->origin_server_ts)
        return x->pdu->origin_server_ts < y->pdu->origin_server_ts ? -1 : 1;
    return strcmp(x->pdu->event_id, y->pdu->event_id);
}

/* Sorts the events by the mainline of the resolved power levels event.
 * Positions count from the oldest power levels event of the mainline (1) up
 * to the resolved one, 0 for an event whose power levels never meet it, and
 * sort ascending: events based on older power come first, as the spec's
 * position "greater" (counted from the newest) says. */
static void mainline_sort(resolver *r, const char *power_levels_id, node_list *events) {
    node_list mainline = {0};
    for (node *n = power_levels_id ? node_of(r, power_levels_id) : NULL; n && !r->failed;
         n = power_levels_cited(r, n->pdu)) {
        if (n->mainline == MAINLINE_WALKING) break; /* a cycle: impossible with hashed ids */
        n->mainline = MAINLINE_WALKING;
        push(r, &mainline, n);
    }
    for (size_t i = 0; i < mainline.count; i++) mainline.items[i]->mainline = (int64_t)(mainline.count - i);
    for (size_t i = 0; i < events->count && !r->failed; i++) mainline_position(r, events->items[i]);
    if (!r->failed && events->count) qsort(events->items, events->count, sizeof *events->items, mainline_compare);
}

/* ---- iterative auth checks -------------------------------------------------- */

/* The state an event is judged against: the partial state, except where it
 * has nothing usable (missing, or rejected) at a key: there the event's own
 * auth event for that key, unless rejected. */
typedef struct layered_state {
    const ht_state_map *partial;
    const ht_pdu *ev;
    const ht_event_source *src;
} layered_state;

static const char *layered_get(void *self, const char *type, const char *state_key) {
    layered_state *s = self;
    const char *id = ht_state_map_get(s->partial, type, state_key);
    if (id) {
        const ht_pdu *e = s->src->get(s->src->self, id);
        if (e && !e->rejected) return id;
    }
    for (size_t k = 0; k < s->ev->auth_count; k++) {
        const ht_pdu *a = s->src->get(s->src->self, s->ev->auth_events[k]);
        if (a && !a->rejected && is(a->type, type) && is(a->state_key, state_key)) return a->event_id;
    }
    return NULL;
}

static void iterative_auth_checks(resolver *r, const node_list *events, ht_state_map *state) {
    for (size_t i = 0; i < events->count; i++) {
        const ht_pdu *e = events->items[i]->pdu;
        if (!e->state_key) continue; /* only state events take part; an auth chain holds no others */
        layered_state layers = {state, e, r->src};
        ht_state_view view = {layered_get, &layers};
        if (ht_auth_check_pdu(r->arena, e, &view, r->src, r->room_version).code == HT_OK)
            ht_state_map_set(state, e->type, e->state_key, e->event_id);
    }
}

/* ---- the algorithm ------------------------------------------------------------ */

/* spec: rooms/fragments/v2-state-res.md "Algorithm" */
bool ht_state_resolve_bounded(ht_arena *arena, const ht_state_map *const *states, size_t count,
                              const ht_event_source *src, const char *room_version,
                              const ht_state_res_bounds *bounds, ht_state_map *out) {
    const ht_room_version *version = ht_room_version_get(room_version);
    if (count > bounds->max_states || count > HT_STATE_RES_MAX_STATES || !version) return false;
    resolver r = {.arena = arena,
                  .src = src,
                  .room_version = room_version,
                  .version = version,
                  .nodes = ht_id_map_new(arena, 256),
                  .max_events = bounds->max_events};
    ht_state_map unconflicted;
    ht_state_map_init(&unconflicted, arena);
    node_list full = {0};
    split(&r, states, count, &unconflicted, &full);
    if (r.failed) return false;
    if (!full.count) {
        ht_state_map_copy(out, &unconflicted);
        return true;
    }
    auth_difference(&r, states, count, &full);
    if (r.failed) return false;

    /* 1 and 2: the power events and what they stand on, in reverse
     * topological power order, onto the unconflicted state. */
    node_list power = {0};
    power_sort(&r, &full, &power);
    if (r.failed) return false;
    ht_state_map resolved;
    ht_state_map_init(&resolved, arena);
    ht_state_map_copy(&resolved, &unconflicted);
    iterative_auth_checks(&r, &power, &resolved);

    /* 3 and 4: everything else, in mainline order of the power levels the
     * power events left. */
    node_list rest = {0};
    for (size_t i = 0; i < full.count; i++)
        if (!full.items[i]->in_graph) push(&r, &rest, full.items[i]);
    mainline_sort(&r, ht_state_map_get(&resolved, "m.room.power_levels", ""), &rest);
    if (r.failed) return false;
    iterative_auth_checks(&r, &rest, &resolved);

    /* 5: agreed keys stay what everyone agreed. */
    for (size_t i = 0; i < unconflicted.count; i++) {
        const ht_state_entry *e = &unconflicted.entries[i];
        ht_state_map_set(&resolved, e->type, e->state_key, e->event_id);
    }
    ht_state_map_copy(out, &resolved);
    return true;
}

bool ht_state_resolve(ht_arena *arena, const ht_state_map *const *states, size_t count, const ht_event_source *src,
                      const char *room_version, ht_state_map *out) {
    static const ht_state_res_bounds defaults = {HT_STATE_RES_MAX_STATES, HT_STATE_RES_MAX_EVENTS};
    return ht_state_resolve_bounded(arena, states, count, src, room_version, &defaults, out);
}
