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
#include "room/pdu.h"
#include "store/meta.h"
#include "store/relations.h"
#include "util/crypto.h"
#include "util/json.h"

static const char room_id_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool ht_room_version_supported(const char *version) { return strcmp(version, "10") == 0; }

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
    ht_event_row row;
    if (!stream || !ht_store_event_by_stream(env->store, env->arena, stream, &row)) return NULL;
    return ht_room_event_content(env->arena, &row);
}

json_t *ht_room_state_content(ht_env *env, const char *room_id,
                              const char *type, const char *state_key) {
    return ht_room_state_content_at(env, room_id, type, state_key, 0);
}

json_t *ht_room_event_content(ht_arena *arena, const ht_event_row *ev) {
    json_t *pdu = ht_json_parse(arena, ev->json);
    return json_object_get(pdu, "content");
}

/* The user a join names in join_authorised_via_users_server, or NULL. */
static const char *join_authoriser(const ht_new_event *ev) {
    if (strcmp(ev->type, "m.room.member") != 0) return NULL;
    const char *m = ht_json_str(ev->content, "membership");
    if (!m || strcmp(m, "join") != 0) return NULL;
    const char *via = ht_json_str(ev->content, "join_authorised_via_users_server");
    return via && ht_user_id_valid(via) ? via : NULL;
}

/* auth_events per the spec's "auth events selection". */
static json_t *auth_events(ht_env *env, const ht_new_event *ev) {
    json_t *list = json_array();
    const char *keys[][2] = {{"m.room.create", ""},
                             {"m.room.power_levels", ""},
                             {"m.room.member", ev->sender},
                             {NULL, NULL},
                             {NULL, NULL},
                             {"m.room.member", join_authoriser(ev)}};
    enum { KEYS = sizeof keys / sizeof *keys };
    if (strcmp(ev->type, "m.room.member") == 0) {
        keys[3][0] = "m.room.member";
        keys[3][1] = ev->state_key;
        const char *m = ht_json_str(ev->content, "membership");
        if (m && (strcmp(m, "join") == 0 || strcmp(m, "invite") == 0 || strcmp(m, "knock") == 0)) {
            keys[4][0] = "m.room.join_rules";
            keys[4][1] = "";
        }
    }
    for (size_t i = 0; i < KEYS; i++) {
        if (!keys[i][0] || !keys[i][1]) continue;
        if (i == 3 && strcmp(keys[3][1], ev->sender) == 0) continue;
        if (i == 5 && (strcmp(keys[5][1], ev->sender) == 0 || strcmp(keys[5][1], ev->state_key) == 0))
            continue;
        int64_t stream = ht_store_state_get(env->store, ev->room_id, keys[i][0], keys[i][1]);
        ht_event_row row;
        if (stream && ht_store_event_by_stream(env->store, env->arena, stream, &row))
            json_array_append_new(list, json_string(row.event_id));
    }
    return list;
}

static ht_error load_auth_state(ht_env *env, const ht_new_event *ev,
                                const ht_room_row *room, ht_auth_state *st) {
    memset(st, 0, sizeof *st);
    st->creator = room->creator;
    st->has_create = ht_store_state_get(env->store, ev->room_id, "m.room.create", "") != 0;
    st->power_levels = ht_room_state_content(env, ev->room_id, "m.room.power_levels", "");
    st->join_rules = ht_room_state_content(env, ev->room_id, "m.room.join_rules", "");
    st->sender_membership =
        ht_store_membership_get(env->store, env->arena, ev->room_id, ev->sender, NULL, NULL);
    if (ev->state_key && strcmp(ev->type, "m.room.member") == 0)
        st->target_membership =
            ht_store_membership_get(env->store, env->arena, ev->room_id, ev->state_key, NULL, NULL);
    int64_t depth = 0;
    ht_store_room_latest(env->store, env->arena, ev->room_id, &depth, NULL);
    st->room_empty = depth <= 1;
    return (ht_error){0};
}

static void load_authoriser_membership(ht_env *env, const ht_new_event *ev,
                                       ht_auth_state *st) {
    const char *via = join_authoriser(ev);
    st->authoriser_membership =
        via ? ht_store_membership_get(env->store, env->arena, ev->room_id, via, NULL, NULL) : NULL;
}

/* Applies a redaction to its target, if the redaction is allowed to. */
static ht_error redact_target(ht_env *env, const ht_new_event *ev,
                              const ht_auth_state *st, const char *redaction_id) {
    ht_event_row target;
    if (!ht_store_event_by_id(env->store, env->arena, ev->redacts, &target) ||
        strcmp(target.room_id, ev->room_id) != 0)
        return (ht_error){HT_M_NOT_FOUND, 0, "The event to redact is not in this room."};
    int64_t mine = ht_power_user(st->power_levels, ev->sender, st->creator);
    if (strcmp(target.sender, ev->sender) != 0 && mine < ht_power_for_action(st->power_levels, "redact"))
        return (ht_error){HT_M_FORBIDDEN, 0, "You do not have permission to redact other people's events."};
    if (target.redacted_by) return (ht_error){0};
    json_t *redacted = ht_json_keep(env->arena, ht_redact_event(ht_json_parse(env->arena, target.json)));
    char *text = json_dumps(redacted, JSON_COMPACT);
    bool ok = ht_store_event_redact(env->store, target.stream, text, redaction_id);
    free(text);
    return ok ? (ht_error){0} : (ht_error){HT_M_SERVER_ERROR, 0, "The redaction could not be stored."};
}

ht_error ht_room_send(ht_env *env, const ht_new_event *ev,
                      const char **event_id, int64_t *stream_out) {
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
    ht_new_event with_authoriser;
    if (vouched) {
        with_authoriser = *ev;
        with_authoriser.content = vouched;
        ev = &with_authoriser;
    }
    load_authoriser_membership(env, ev, &st);
    err = ht_auth_check_event(env->arena, ev, &st);
    if (err.code) return err;

    const char *prev_id = NULL;
    int64_t depth = 0;
    ht_store_room_latest(env->store, env->arena, ev->room_id, &depth, &prev_id);

    json_t *pdu = ht_json_keep(env->arena, json_object());
    json_object_set_new(pdu, "room_id", json_string(ev->room_id));
    json_object_set_new(pdu, "sender", json_string(ev->sender));
    json_object_set_new(pdu, "type", json_string(ev->type));
    if (ev->state_key) json_object_set_new(pdu, "state_key", json_string(ev->state_key));
    json_object_set(pdu, "content", ev->content);
    if (ev->redacts) json_object_set_new(pdu, "redacts", json_string(ev->redacts));
    json_object_set_new(pdu, "origin_server_ts", json_integer(env->now_ms));
    json_object_set_new(pdu, "depth", json_integer(depth + 1));
    json_object_set_new(pdu, "prev_events", prev_id ? json_pack("[s]", prev_id) : json_array());
    json_object_set_new(pdu, "auth_events", auth_events(env, ev));
    ht_pdu_add_content_hash(env->arena, pdu);

    char *text = json_dumps(pdu, JSON_COMPACT);
    if (!text) return (ht_error){HT_M_BAD_JSON, 0, "The event could not be encoded."};
    size_t size = strlen(text);
    const char *id = ht_pdu_event_id(env->arena, pdu);
    char *stored = ht_arena_strndup(env->arena, text, size);
    free(text);
    /* The size limit counts the whole event as sent to other servers. */
    if (size + strlen(id) + 16 > HT_MAX_EVENT_BYTES)
        return (ht_error){HT_M_TOO_LARGE, 0, "The event is larger than 65536 bytes."};

    int64_t stream = (int64_t)ht_store_stream_advance(env->store);
    int64_t prev_state =
        ev->state_key ? ht_store_state_get(env->store, ev->room_id, ev->type, ev->state_key) : 0;
    ht_event_row row = {.stream = stream,
                        .event_id = id,
                        .room_id = ev->room_id,
                        .type = ev->type,
                        .state_key = ev->state_key,
                        .sender = ev->sender,
                        .origin_ts = env->now_ms,
                        .depth = depth + 1,
                        .json = stored,
                        .txn_id = ev->txn_id,
                        .device_id = ev->device_id,
                        .prev_state = prev_state};
    if (!ht_store_event_insert(env->store, &row))
        return (ht_error){HT_M_SERVER_ERROR, 0, "The event could not be stored."};
    if (ev->state_key) {
        ht_store_state_set(env->store, ev->room_id, ev->type, ev->state_key, stream);
        if (strcmp(ev->type, "m.room.member") == 0)
            ht_store_membership_set(env->store, ev->room_id, ev->state_key,
                                    ht_json_str(ev->content, "membership"), stream);
    }
    if (ev->redacts) {
        err = redact_target(env, ev, &st, id);
        if (err.code) return err;
    }
    if (!ht_store_event_index(env->store, &row, ev->content, ev->redacts))
        return (ht_error){HT_M_SERVER_ERROR, 0, "The event could not be indexed."};
    *event_id = id;
    if (stream_out) *stream_out = stream;
    return (ht_error){0};
}
