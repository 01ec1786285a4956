/* served.c -- events and states in the form other servers are given them
 * (for_servers.h): a PDU as served, the state before an event, and auth
 * chains.
 *
 * The state before an event is read, not recomputed: the state after it is
 * kept (its state group, or the state log at its position), and a state
 * event's row remembers the event it replaced (prev_state, worked out from
 * the state before it when it was stored). So the state before is the
 * state after with that one key put back, with no resolution to run. */
#include "room/for_servers.h"

#include <string.h>

#include "matrix/ids.h"
#include "room/graph.h"
#include "room/pdu.h"
#include "store/graph_read.h"
#include "util/json.h"

json_t *ht_room_served_pdu(ht_env *env, const ht_room_version *version, const ht_event_row *ev, bool full) {
    json_t *pdu = ht_json_parse(env->arena, ev->json);
    if (!json_is_object(pdu)) return NULL;
    /* What a server added on the way is not part of the event. */
    json_object_del(pdu, "unsigned");
    /* Our events from before schema 8 were stored unsigned; other servers
     * drop an event that its sender's server did not sign. */
    const char *server = ht_id_server(ev->sender);
    json_t *ours = json_object_get(json_object_get(pdu, "signatures"), env->server_name);
    if (server && strcmp(server, env->server_name) == 0 && !json_object_get(ours, env->signing_key->key_id) &&
        !ht_pdu_sign(version, pdu, env->server_name, env->signing_key))
        return NULL;
    return full ? pdu : ht_json_keep(env->arena, ht_pdu_redact(version, pdu));
}

bool ht_room_state_ids_before(ht_env *env, const ht_event_row *ev, size_t max, const char ***ids, size_t *count,
                              bool *over) {
    *ids = NULL;
    *count = 0;
    *over = false;
    ht_state_map state;
    ht_state_map_init(&state, env->arena);
    if (!ht_room_state_after(env, ev, &state)) return false;
    if (ev->state_key) {
        ht_event_row replaced;
        if (ev->prev_state && ht_store_event_by_stream(env->store, env->arena, ev->prev_state, &replaced))
            ht_state_map_set(&state, ev->type, ev->state_key, replaced.event_id);
        else
            ht_state_map_remove(&state, ev->type, ev->state_key);
    }
    if (state.count > max) {
        *over = true;
        return true;
    }
    const char **list = ht_arena_calloc(env->arena, state.count ? state.count : 1, sizeof *list);
    for (size_t i = 0; i < state.count; i++) list[i] = state.entries[i].event_id;
    *ids = list;
    *count = state.count;
    return true;
}

size_t ht_room_auth_chain(ht_env *env, const char *const *ids, size_t n, size_t max, ht_event_row **out,
                          bool *over) {
    json_t *list = ht_json_keep(env->arena, ht_json_string_array(ids, n));
    size_t count = ht_store_auth_chain(env->store, env->arena, ht_json_dump(env->arena, list), (int64_t)max + 1, out);
    *over = count > max;
    if (*over) {
        *out = NULL;
        return 0;
    }
    return count;
}
