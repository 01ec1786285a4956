/* send.c -- the one way an event enters a room.
 *
 * Order matters: authorize against the current state, build and hash the
 * stored form, take the next stream position, then write the event, the
 * state it replaces, the membership it changes, and, for a redaction, the
 * redacted target. The caller's transaction makes all of it one commit. */
#include "room/room.h"

#include <stdlib.h>
#include <string.h>

#include "matrix/ids.h"
#include "room/auth_rules.h"
#include "room/event_cache.h"
#include "room/event_auth.h"
#include "room/graph.h"
#include "room/pdu.h"
#include "store/graph.h"
#include "store/meta.h"
#include "store/relations.h"
#include "util/crypto.h"
#include "util/json.h"

static const char room_id_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool ht_room_version_supported(const char *version) { return ht_room_version_get(version) != NULL; }

bool ht_room_type_needs_state_key(const char *type) {
    static const char *const state_only[] = {"m.room.create", "m.room.member", "m.room.power_levels",
                                             "m.room.join_rules", "m.room.third_party_invite"};
    for (size_t i = 0; i < sizeof state_only / sizeof *state_only; i++)
        if (strcmp(type, state_only[i]) == 0) return true;
    return false;
}

ht_error ht_room_new(ht_env *env, const char *creator,
                     const char *version, bool published, const char **room_id) {
    char *id = ht_arena_printf(env->arena, "!%s:%s", ht_random_string(env->arena, 18, room_id_alphabet),
                               env->server_name);
    if (!ht_store_room_insert(env->store, id, version, creator, env->now_ms, published))
        return (ht_error){HT_M_SERVER_ERROR, 0, "The room could not be stored."};
    *room_id = id;
    return (ht_error){0};
}

json_t *ht_room_state_content_at(ht_env *env, const char *room_id,
                                 const char *type, const char *state_key, int64_t at) {
    int64_t stream = at ? ht_store_state_at(env->store, room_id, type, state_key, at)
                        : ht_store_state_get(env->store, room_id, type, state_key);
    return stream ? ht_room_content_at_stream(env, stream) : NULL;
}

json_t *ht_room_state_content(ht_env *env, const char *room_id,
                              const char *type, const char *state_key) {
    return ht_room_state_content_at(env, room_id, type, state_key, 0);
}

json_t *ht_room_event_content(ht_arena *arena, const ht_event_row *ev) {
    json_t *pdu = ht_json_parse(arena, ev->json);
    return json_object_get(pdu, "content");
}

json_t *ht_room_content_at_stream(ht_env *env, int64_t stream) {
    ht_parsed_event ev;
    return ht_room_parsed_by_stream(env, stream, &ev) ? json_object_get(ev.json, "content") : NULL;
}

static ht_error load_auth_state(ht_env *env, const ht_new_event *ev,
                                const ht_room_row *room, ht_auth_state *st) {
    memset(st, 0, sizeof *st);
    st->creator = room->creator;
    st->power_levels = ht_room_state_content(env, ev->room_id, "m.room.power_levels", "");
    st->join_rules = ht_room_state_content(env, ev->room_id, "m.room.join_rules", "");
    st->sender_membership =
        ht_store_membership_get(env->store, env->arena, ev->room_id, ev->sender, NULL, NULL);
    if (ev->state_key && strcmp(ev->type, "m.room.member") == 0)
        st->target_membership =
            ht_store_membership_get(env->store, env->arena, ev->room_id, ev->state_key, NULL, NULL);
    return (ht_error){0};
}

/* The spec's "auth events selection", looked up in the current state. */
static json_t *select_auth_events(ht_env *env, const ht_room_version *version, const ht_pdu *view,
                                  const ht_state_view *current) {
    ht_state_key *keys;
    size_t n = ht_auth_selection(env->arena, view, version->id, &keys);
    json_t *ids = ht_json_keep(env->arena, json_array());
    for (size_t i = 0; i < n; i++) {
        const char *id = current->get(current->self, keys[i].type, keys[i].state_key);
        if (id) json_array_append_new(ids, json_string(id));
    }
    return ids;
}

/* A local redaction needs the power to redact others' events, or to be of
 * one's own (client-server "Redactions"); the rules accepted the event
 * itself, this judges what it may do. */
static ht_error check_redaction(ht_env *env, const ht_new_event *ev, const ht_auth_state *st) {
    ht_event_row target;
    if (!ht_store_event_by_id(env->store, env->arena, ev->redacts, &target) ||
        strcmp(target.room_id, ev->room_id) != 0 || target.status != HT_EVENT_TIMELINE)
        return (ht_error){HT_M_NOT_FOUND, 0, "The event to redact is not in this room."};
    int64_t mine = ht_power_user(st->power_levels, ev->sender, st->creator);
    if (strcmp(target.sender, ev->sender) != 0 && mine < ht_power_for_action(st->power_levels, "redact"))
        return (ht_error){HT_M_FORBIDDEN, 0, "You do not have permission to redact other people's events."};
    return (ht_error){0};
}

/* The event's fields in the room version's format, not yet hashed or
 * signed. */
static json_t *pdu_fields(ht_env *env, const ht_room_version *version, const ht_new_event *ev, json_t *prev_ids,
                          int64_t depth) {
    json_t *pdu = ht_json_keep(env->arena, json_object());
    json_object_set_new(pdu, "room_id", json_string(ev->room_id));
    json_object_set_new(pdu, "sender", json_string(ev->sender));
    json_object_set_new(pdu, "type", json_string(ev->type));
    if (ev->state_key) json_object_set_new(pdu, "state_key", json_string(ev->state_key));
    json_t *content = ev->content;
    if (ev->redacts && version->redacts_in_content) {
        content = ht_json_keep(env->arena, json_deep_copy(ev->content));
        json_object_set_new(content, "redacts", json_string(ev->redacts));
    } else if (ev->redacts) {
        json_object_set_new(pdu, "redacts", json_string(ev->redacts));
    }
    json_object_set(pdu, "content", content);
    /* Room version 10 keeps origin in the redacted form; events stored
     * before this server signed had none, and keep their ids without it. */
    if (version->redaction_keeps_origin) json_object_set_new(pdu, "origin", json_string(env->server_name));
    json_object_set_new(pdu, "origin_server_ts", json_integer(env->received_ms ? env->received_ms : env->now_ms));
    json_object_set_new(pdu, "depth", json_integer(depth));
    json_object_set(pdu, "prev_events", prev_ids);
    json_object_set_new(pdu, "auth_events", json_array());
    return pdu;
}

/* The event's content hash and id, and, if it goes to another server,
 * this server's signature; its canonical JSON is what the store keeps.
 * A message no other server is sent is kept unsigned: signing is the
 * costliest step of a send, and federation signs it (ht_fed_pdu) if it is
 * ever asked for it. A state event is signed whenever the server federates:
 * every server that joins later is sent the room's state, and signing a
 * big room's worth of it then would hold up its one call into the core
 * (3,000 members: a fifth of a second). */
static ht_error finish_pdu(ht_env *env, const ht_room_version *version, json_t *pdu, bool sign, const char **id,
                           const char **stored) {
    ht_canonical_error cerr;
    size_t size;
    char *text = ht_pdu_seal(env->arena, version, pdu, env->server_name, sign ? env->signing_key : NULL, id, &size,
                             &cerr);
    if (!text) return (ht_error){HT_M_BAD_JSON, 0, ht_canonical_error_text(env->arena, &cerr)};
    *stored = ht_arena_strndup(env->arena, text, size);
    free(text);
    /* The limit counts the whole event as sent to other servers, signed. */
    if (!sign) size += ht_pdu_signature_bytes(env->server_name, env->signing_key);
    if (size > HT_PDU_MAX_BYTES)
        return (ht_error){HT_M_TOO_LARGE, 0, "The event is larger than 65536 bytes."};
    return (ht_error){0};
}

/* Everything a new event of ours needs before it is signed: the checks on
 * what the client asked, a restricted join's authoriser, its place in the
 * graph (prev events, depth), its auth events, and the authorization rules
 * against the current state. *pdu is the unsigned event in the room
 * version's format, *view its reading, *used the event as judged (with an
 * authoriser the client did not name); *follows_every whether its prev
 * events are all of the room's forward extremities (none was left out for
 * the room version's limit), so that storing it leaves it the only one. */
static ht_error prepare(ht_env *env, const ht_new_event *ev, const ht_room_version **version_out, json_t **pdu_out,
                        ht_pdu *view_out, ht_new_event *used, bool *follows_every) {
    /* Spec appendix "Size limits": whichever way an event comes in, its
     * type and state key are at most 255 bytes (issue 9). */
    if (strlen(ev->type) > HT_MAX_ID_LENGTH || (ev->state_key && strlen(ev->state_key) > HT_MAX_ID_LENGTH))
        return (ht_error){HT_M_TOO_LARGE, 0, "An event's type and state key may be at most 255 bytes."};
    /* Room versions 6 and later: content with no canonical JSON form (a float,
     * an integer beyond 2^53) has no content hash other servers agree on, and
     * they refuse such events. */
    ht_canonical_error not_canonical;
    if (!ht_canonical_check(ev->content, &not_canonical))
        return (ht_error){HT_M_BAD_JSON, 0, ht_canonical_error_text(env->arena, &not_canonical)};
    ht_room_row room;
    if (!ht_store_room_get(env->store, env->arena, ev->room_id, &room))
        return (ht_error){HT_M_NOT_FOUND, 0, "There is no room with that id on this server."};
    const ht_room_version *version = ht_room_version_get(room.version);
    if (!version) return (ht_error){HT_M_UNSUPPORTED_ROOM_VERSION, 0, "This room's version is not supported."};
    if (ev->state_key && strcmp(ev->type, "m.room.member") == 0 && !ht_user_id_valid(ev->state_key))
        return (ht_error){HT_M_INVALID_PARAM, 0, "A membership event's state key must be a user id."};
    /* The authorization rules give these types meaning only as state: sent
     * as messages (PUT /send) they would be judged by rules that expect a
     * state key (issue 9: a member "message" crashed the auth events
     * selection). */
    if (!ev->state_key && ht_room_type_needs_state_key(ev->type))
        return (ht_error){HT_M_INVALID_PARAM, 0,
                          "This event type is state: send it with PUT /state/{eventType}/{stateKey}."};

    ht_auth_state st;
    load_auth_state(env, ev, &room, &st);
    /* A join into a restricted room is vouched for first: judged against the
     * allow list and, unless the client named one, given an authoriser. */
    json_t *vouched = NULL;
    ht_error err = ht_room_vouch_join(env, ev, &st, &vouched);
    if (err.code) return err;
    *used = *ev;
    if (vouched) used->content = vouched;
    ev = used;
    if (ev->redacts) {
        err = check_redaction(env, ev, &st);
        if (err.code) return err;
    }

    /* Our event follows everything the room's graph ends in (its forward
     * extremities, as many as the room version allows). */
    ht_extremity_row *tips;
    size_t tip_count = ht_store_extremities(env->store, env->arena, ev->room_id, HT_PDU_MAX_PREV_EVENTS, &tips);
    *follows_every = tip_count < HT_PDU_MAX_PREV_EVENTS;
    int64_t depth = 0;
    json_t *prev_ids = ht_json_keep(env->arena, json_array());
    for (size_t i = 0; i < tip_count; i++) {
        if (tips[i].depth > depth) depth = tips[i].depth;
        json_array_append_new(prev_ids, json_string(tips[i].event_id));
    }
    json_t *pdu = pdu_fields(env, version, ev, prev_ids, depth + 1);

    /* Judged against the current state by the same rules as any other
     * server's event, before it costs a signature. */
    ht_pdu view;
    if (!ht_pdu_view(env->arena, pdu, "$unsigned", version->id, &view))
        return (ht_error){HT_M_BAD_JSON, 0, "The event is malformed."};
    /* One view for both: the check reads the keys the selection read. */
    ht_state_view current = ht_room_current_view(env, ev->room_id);
    json_object_set(pdu, "auth_events", select_auth_events(env, version, &view, &current));
    if (!ht_pdu_view(env->arena, pdu, "$unsigned", version->id, &view))
        return (ht_error){HT_M_BAD_JSON, 0, "The event is malformed."};
    ht_event_source src = ht_room_event_source(env, version->id);
    err = ht_auth_check_pdu(env->arena, &view, &current, &src, version->id);
    if (err.code) return err;

    *version_out = version;
    *pdu_out = pdu;
    *view_out = view;
    return (ht_error){0};
}

ht_error ht_room_template(ht_env *env, const ht_new_event *ev, json_t **pdu, const char **room_version) {
    const ht_room_version *version;
    ht_pdu view;
    ht_new_event used;
    bool follows_every;
    ht_error err = prepare(env, ev, &version, pdu, &view, &used, &follows_every);
    if (err.code) return err;
    /* The joining (leaving...) server signs it: it is that server's event. */
    if (version->redaction_keeps_origin) json_object_set_new(*pdu, "origin", json_string(ht_id_server(ev->sender)));
    *room_version = version->id;
    return (ht_error){0};
}

ht_error ht_room_make(ht_env *env, const ht_new_event *ev, json_t **pdu, const char **event_id) {
    const ht_room_version *version;
    ht_pdu view;
    ht_new_event used;
    bool follows_every;
    ht_error err = prepare(env, ev, &version, pdu, &view, &used, &follows_every);
    if (err.code) return err;
    const char *stored;
    return finish_pdu(env, version, *pdu, true, event_id, &stored);
}

ht_error ht_room_send(ht_env *env, const ht_new_event *ev,
                      const char **event_id, int64_t *stream_out) {
    const ht_room_version *version;
    json_t *pdu;
    ht_pdu view;
    ht_new_event used;
    bool follows_every;
    ht_error err = prepare(env, ev, &version, &pdu, &view, &used, &follows_every);
    if (err.code) return err;
    ev = &used;
    const char *const *servers;
    size_t server_count = ht_room_event_servers(env, &view, &servers);
    const char *id, *stored;
    bool sign = server_count > 0 || (view.state_key && env->cfg->federation);
    err = finish_pdu(env, version, pdu, sign, &id, &stored);
    if (err.code) return err;
    view.event_id = id;
    ht_persist p = {.pdu = &view, .json = stored, .status = HT_EVENT_TIMELINE, .txn_id = ev->txn_id,
                    .device_id = ev->device_id, .follows_every_extremity = follows_every,
                    .servers_read = true, .servers = servers, .server_count = server_count};
    ht_event_row row;
    err = ht_room_persist(env, version->id, &p, &row);
    if (err.code) return err;
    if (ev->redacts) {
        err = ht_room_redact_target(env, version, ev->redacts, id);
        if (err.code) return err;
    }
    if (!ht_store_event_index(env->store, &row, ev->content, ev->redacts))
        return (ht_error){HT_M_SERVER_ERROR, 0, "The event could not be indexed."};
    *event_id = id;
    if (stream_out) *stream_out = row.stream;
    return (ht_error){0};
}
