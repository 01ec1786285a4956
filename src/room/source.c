/* source.c -- the store's events and the room's current state, as the
 * authorization rules and state resolution read them (pdu_view.h).
 *
 * A resolution reads every event of the states it resolves and of their
 * auth chains, often the same ones again and again, so a source parses each
 * event once per request and keeps the view in the arena (the parsed JSON
 * itself is kept across requests: event_cache.h). */
#include "room/graph.h"

#include <string.h>

#include "room/event_cache.h"
#include "room/id_map.h"
#include "store/graph.h"
#include "util/json.h"

typedef struct store_source {
    ht_env *env;
    const char *room_version;
    ht_id_map *parsed; /* event id -> ht_pdu (NULL value: not in the store) */
} store_source;

/* A parsed event, or a remembered "not in the store" (so a hostile graph
 * naming missing events costs one query each, not one per mention). */
static const ht_pdu *const not_stored = &(const ht_pdu){0};

static const ht_pdu *source_get(void *self, const char *event_id) {
    store_source *s = self;
    const ht_pdu *known = ht_id_map_get(s->parsed, event_id);
    if (known) return known == not_stored ? NULL : known;
    ht_parsed_event ev;
    ht_pdu *pdu = NULL;
    if (ht_room_parsed_by_id(s->env, event_id, &ev)) {
        pdu = ht_arena_calloc(s->env->arena, 1, sizeof *pdu);
        if (ht_pdu_view(s->env->arena, ev.json, ev.event_id, s->room_version, pdu))
            pdu->rejected = ev.status == HT_EVENT_REJECTED;
        else
            pdu = NULL;
    }
    /* The map borrows its keys: give it one that lives as long as it. */
    bool created;
    *ht_id_map_slot(s->parsed, ht_arena_strdup(s->env->arena, event_id), &created) =
        pdu ? pdu : (void *)not_stored;
    return pdu;
}

ht_event_source ht_room_event_source(ht_env *env, const char *room_version) {
    store_source *s = ht_arena_calloc(env->arena, 1, sizeof *s);
    *s = (store_source){env, room_version, ht_id_map_new(env->arena, 64)};
    return (ht_event_source){source_get, s};
}

/* A send looks up the same few keys (create, power levels, the sender's
 * membership) to select its auth events and again to judge itself: the
 * view remembers the first REMEMBERED keys it reads. A view serves one
 * judgement, made before its request writes, so what it read cannot change
 * under it. */
#define REMEMBERED 8

typedef struct remembered {
    const char *type, *state_key, *event_id; /* event_id NULL: no such state */
} remembered;

typedef struct current_view {
    ht_env *env;
    const char *room_id;
    remembered seen[REMEMBERED];
    size_t seen_count;
} current_view;

static const char *current_get(void *self, const char *type, const char *state_key) {
    current_view *v = self;
    for (size_t i = 0; i < v->seen_count; i++)
        if (strcmp(v->seen[i].type, type) == 0 && strcmp(v->seen[i].state_key, state_key) == 0)
            return v->seen[i].event_id;
    const char *id = ht_store_state_event_id(v->env->store, v->env->arena, v->room_id, type, state_key);
    if (v->seen_count < REMEMBERED && !ht_store_failed(v->env->store))
        v->seen[v->seen_count++] = (remembered){ht_arena_strdup(v->env->arena, type),
                                                ht_arena_strdup(v->env->arena, state_key), id};
    return id;
}

ht_state_view ht_room_current_view(ht_env *env, const char *room_id) {
    current_view *v = ht_arena_calloc(env->arena, 1, sizeof *v);
    v->env = env, v->room_id = room_id;
    return (ht_state_view){current_get, v};
}
