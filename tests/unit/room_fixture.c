/* room_fixture.c -- see room_fixture.h. Events go through the same parsing
 * as received PDUs (ht_pdu_view), so the tests read events as the server
 * would. */
#include "room_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room/event_auth.h"
#include "util/json.h"

static const ht_pdu *source_get(void *self, const char *event_id) {
    fixture *f = self;
    return ht_id_map_get(f->events, event_id);
}

void fixture_init(fixture *f, const char *version) {
    ht_arena_init(&f->arena, 64 * 1024);
    f->events = ht_id_map_new(&f->arena, 64);
    f->src = (ht_event_source){source_get, f};
    f->version = version;
    f->clock = 1000;
}

void fixture_free(fixture *f) { ht_arena_free(&f->arena); }

const char *fixture_event_id(fixture *f, const char *short_id) {
    return short_id[0] == '$' ? short_id : ht_arena_printf(&f->arena, "$%s", short_id);
}

const char *fixture_user(fixture *f, const char *short_user) {
    return short_user[0] == '@' ? short_user : ht_arena_printf(&f->arena, "@%s:x", short_user);
}

/* A JSON array of the event ids a space-separated list names. */
static json_t *id_array(fixture *f, const char *list) {
    json_t *array = json_array();
    if (!list) return array;
    char *copy = ht_arena_strdup(&f->arena, list), *save = NULL;
    for (char *word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save))
        json_array_append_new(array, json_string(fixture_event_id(f, word)));
    return array;
}

static json_t *content_of(fixture *f, const char *text) {
    if (!text) return json_object();
    char *json = ht_arena_strdup(&f->arena, text);
    for (char *p = json; *p; p++)
        if (*p == '\'') *p = '"';
    json_error_t error;
    json_t *content = json_loads(json, 0, &error);
    if (!content) {
        fprintf(stderr, "room_fixture: bad content %s: %s\n", text, error.text);
        abort();
    }
    return content;
}

ht_pdu *fixture_add(fixture *f, const spec_event *e) {
    json_t *pdu = ht_json_keep(&f->arena, json_object());
    json_object_set_new(pdu, "room_id", json_string(ROOM_ID));
    json_object_set_new(pdu, "sender", json_string(fixture_user(f, e->sender)));
    json_object_set_new(pdu, "type", json_string(e->type));
    if (e->state_key) json_object_set_new(pdu, "state_key", json_string(e->state_key));
    json_object_set_new(pdu, "content", content_of(f, e->content));
    json_object_set_new(pdu, "prev_events", id_array(f, e->prev));
    json_object_set_new(pdu, "auth_events", id_array(f, e->auth));
    json_object_set_new(pdu, "origin_server_ts", json_integer(e->ts ? e->ts : f->clock++));
    json_object_set_new(pdu, "depth", json_integer((json_int_t)ht_id_map_count(f->events) + 1));
    ht_pdu *view = ht_arena_alloc(&f->arena, sizeof *view);
    if (!ht_pdu_view(&f->arena, pdu, fixture_event_id(f, e->id), f->version, view)) {
        fprintf(stderr, "room_fixture: event %s does not parse\n", e->id);
        abort();
    }
    view->rejected = e->rejected;
    *ht_id_map_slot(f->events, view->event_id, NULL) = view;
    return view;
}

ht_pdu *fixture_event(fixture *f, const char *id, const char *sender, const char *type, const char *state_key,
                      const char *content, const char *prev, const char *auth, int64_t ts) {
    return fixture_add(f, &(spec_event)EVENT_AT(id, sender, type, state_key, content, prev, auth, ts));
}

ht_pdu *fixture_add_on(fixture *f, const spec_event *e, const ht_state_map *state) {
    /* The selection reads type, state key, sender and content. */
    ht_pdu probe = {.type = e->type,
                    .state_key = e->state_key,
                    .sender = fixture_user(f, e->sender),
                    .content = ht_json_keep(&f->arena, content_of(f, e->content))};
    ht_state_key *keys;
    size_t count = ht_auth_selection(&f->arena, &probe, f->version, &keys);
    const char *auth = "";
    for (size_t k = 0; k < count; k++) {
        const char *id = ht_state_map_get(state, keys[k].type, keys[k].state_key);
        if (id) auth = ht_arena_printf(&f->arena, "%s %s", auth, id);
    }
    spec_event with_auth = *e;
    with_auth.auth = auth;
    return fixture_add(f, &with_auth);
}

ht_pdu *fixture_get(fixture *f, const char *short_id) {
    return ht_id_map_get(f->events, fixture_event_id(f, short_id));
}

ht_state_map *fixture_state(fixture *f, const char *short_ids) {
    ht_state_map *map = ht_arena_alloc(&f->arena, sizeof *map);
    ht_state_map_init(map, &f->arena);
    char *copy = ht_arena_strdup(&f->arena, short_ids), *save = NULL;
    for (char *word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
        const ht_pdu *e = fixture_get(f, word);
        if (!e || !e->state_key) {
            fprintf(stderr, "room_fixture: %s is not a state event of the fixture\n", word);
            abort();
        }
        ht_state_map_set(map, e->type, e->state_key, e->event_id);
    }
    return map;
}

const char *fixture_describe(fixture *f, const ht_state_map *map) {
    const char *text = "";
    for (size_t i = 0; i < map->count; i++)
        text = ht_arena_printf(&f->arena, "%s%s%s", text, i ? " " : "", map->entries[i].event_id + 1);
    return text;
}
