/* pdus.c -- stored events as other servers get them (see pdus.h). */
#include "federation/pdus.h"

#include <string.h>

#include "matrix/ids.h"
#include "room/pdu.h"
#include "room/room.h"
#include "store/federation.h"
#include "util/json.h"

/* The most events a state or auth chain answer carries. */
enum { MAX_CHAIN_EVENTS = 100000 };

bool ht_fed_resident(ht_env *env, const char *room_id) {
    const char **servers;
    size_t n = ht_store_room_servers(env->store, env->arena, room_id, "", &servers);
    for (size_t i = 0; i < n; i++)
        if (strcmp(servers[i], env->server_name) == 0) return true;
    return false;
}

json_t *ht_fed_pdu(ht_env *env, const ht_event_row *row) {
    json_t *pdu = json_loads(row->json, 0, NULL);
    if (!pdu) return NULL;
    /* What a server added on the way (its age...) is not part of the event. */
    json_object_del(pdu, "unsigned");
    json_t *ours = json_object_get(json_object_get(pdu, "signatures"), env->server_name);
    if (!ours && ht_str_is(ht_id_server(row->sender), env->server_name)) {
        ht_room_row room;
        const ht_room_version *v = ht_store_room_get(env->store, env->arena, row->room_id, &room)
                                       ? ht_room_version_get(room.version)
                                       : NULL;
        if (v) ht_pdu_sign(v, pdu, env->server_name, env->signing_key);
    }
    return pdu;
}

static json_t *pdus_of(ht_env *env, const char *const *ids, size_t n) {
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        ht_event_row row;
        if (!ht_store_event_by_id(env->store, env->arena, ids[i], &row)) continue;
        json_t *pdu = ht_fed_pdu(env, &row);
        if (pdu) json_array_append_new(list, pdu);
    }
    return list;
}

bool ht_fed_state_before(ht_ctx *ctx, const ht_room_row *room, const char *event_id, json_t **state,
                         json_t **auth_chain) {
    (void)room;
    const char **ids, **chain;
    size_t n, chain_count;
    if (!ht_room_state_ids_before(ctx->env, event_id, &ids, &n)) return false;
    /* The chain covers the state and the event itself. */
    const char **roots = ht_arena_calloc(ctx->arena, n + 1, sizeof *roots);
    memcpy(roots, ids, n * sizeof *ids);
    roots[n] = event_id;
    if (!ht_room_auth_chain(ctx->env, roots, n + 1, MAX_CHAIN_EVENTS, &chain, &chain_count)) return false;
    *state = pdus_of(ctx->env, ids, n);
    *auth_chain = pdus_of(ctx->env, chain, chain_count);
    return true;
}

void ht_fed_forward(ht_ctx *ctx, const char *room_id, const char *event_id, const char *except) {
    ht_event_row row;
    if (!ht_store_event_by_id(ctx->env->store, ctx->arena, event_id, &row)) return;
    const char **servers;
    size_t n = ht_store_room_servers(ctx->env->store, ctx->arena, room_id, ctx->env->server_name, &servers);
    for (size_t i = 0; i < n; i++) {
        if (except && strcmp(servers[i], except) == 0) continue;
        ht_store_outbox_pdu(ctx->env->store, servers[i], row.stream, ctx->now_ms);
        ctx->env->outbound = true;
    }
}
