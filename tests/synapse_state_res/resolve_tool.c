/* resolve_tool.c -- hometab's side of the comparison with Synapse's
 * authorization rules and state resolution (compare.py).
 *
 * Reads one question per line on stdin, about events given in full:
 *   {"room_version": "10", "events": [{"event_id": ..., "rejected": bool, "pdu": {...}}, ...],
 *    "states": [[event ids of state 1], [of state 2], ...]}
 *     -> {"ok": true, "state": [the resolved state's event ids, sorted]}, or {"ok": false} when
 *        ht_state_resolve refuses;
 *   {"room_version": "10", "events": [...], "check": event id, "state": [event ids]}
 *     -> {"ok": true or false}: does ht_auth_check_pdu allow the event against the state?
 * and writes one answer per line. Nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room/event_auth.h"
#include "room/id_map.h"
#include "room/pdu_view.h"
#include "room/state_map.h"
#include "room/state_res.h"
#include "util/json.h"

static const ht_pdu *table_get(void *self, const char *event_id) { return ht_id_map_get(self, event_id); }

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* One scenario: false if it is malformed. */
static bool resolve_line(ht_arena *arena, const char *line) {
    json_t *scenario = ht_json_parse(arena, line);
    const char *version = ht_json_str(scenario, "room_version");
    json_t *events = json_object_get(scenario, "events"), *states = json_object_get(scenario, "states");
    if (!version || !json_is_array(events)) return false;
    ht_id_map *table = ht_id_map_new(arena, json_array_size(events));
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e) {
        ht_pdu *pdu = ht_arena_alloc(arena, sizeof *pdu);
        if (!ht_pdu_view(arena, json_object_get(e, "pdu"), ht_json_str(e, "event_id"), version, pdu)) return false;
        pdu->rejected = json_is_true(json_object_get(e, "rejected"));
        *ht_id_map_slot(table, pdu->event_id, NULL) = pdu;
    }
    if (json_object_get(scenario, "check")) {
        const ht_pdu *ev = ht_id_map_get(table, ht_json_str(scenario, "check") ? ht_json_str(scenario, "check") : "");
        ht_state_map *map = ht_arena_alloc(arena, sizeof *map);
        ht_state_map_init(map, arena);
        json_t *id;
        json_array_foreach(json_object_get(scenario, "state"), i, id) {
            const ht_pdu *pdu = ht_id_map_get(table, json_string_value(id) ? json_string_value(id) : "");
            if (!pdu || !pdu->state_key) return false;
            ht_state_map_set(map, pdu->type, pdu->state_key, pdu->event_id);
        }
        if (!ev) return false;
        ht_event_source src = {table_get, table};
        ht_state_view view = ht_state_map_view(map);
        printf("{\"ok\": %s}\n", ht_auth_check_pdu(arena, ev, &view, &src, version).code ? "false" : "true");
        return true;
    }
    size_t count = json_array_size(states);
    const ht_state_map **maps = ht_arena_calloc(arena, count ? count : 1, sizeof *maps);
    json_t *ids;
    json_array_foreach(states, i, ids) {
        ht_state_map *map = ht_arena_alloc(arena, sizeof *map);
        ht_state_map_init(map, arena);
        size_t k;
        json_t *id;
        json_array_foreach(ids, k, id) {
            const ht_pdu *pdu = ht_id_map_get(table, json_string_value(id) ? json_string_value(id) : "");
            if (!pdu || !pdu->state_key) return false;
            ht_state_map_set(map, pdu->type, pdu->state_key, pdu->event_id);
        }
        maps[i] = map;
    }
    if (!json_is_array(states)) return false;
    ht_event_source src = {table_get, table};
    ht_state_map out;
    ht_state_map_init(&out, arena);
    if (!ht_state_resolve(arena, maps, count, &src, version, &out)) {
        printf("{\"ok\": false}\n");
        return true;
    }
    const char **sorted = ht_arena_alloc(arena, (out.count ? out.count : 1) * sizeof *sorted);
    for (size_t k = 0; k < out.count; k++) sorted[k] = out.entries[k].event_id;
    qsort(sorted, out.count, sizeof *sorted, by_string);
    json_t *answer = ht_json_keep(arena, json_pack("{s:b, s:[]}", "ok", 1, "state"));
    for (size_t k = 0; k < out.count; k++)
        json_array_append_new(json_object_get(answer, "state"), json_string(sorted[k]));
    char *text = json_dumps(answer, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    return true;
}

int main(void) {
    char *line = NULL;
    size_t cap = 0;
    ht_arena arena;
    ht_arena_init(&arena, 64 * 1024);
    while (getline(&line, &cap, stdin) > 0) {
        if (!resolve_line(&arena, line)) {
            fprintf(stderr, "resolve_tool: malformed scenario\n");
            free(line);
            ht_arena_free(&arena);
            return 2;
        }
        fflush(stdout);
        ht_arena_reset(&arena);
    }
    free(line);
    ht_arena_free(&arena);
    return 0;
}
