/* receive.c -- the one way another server's event enters a room.
 *
 * The spec's "Checks performed on receipt of a PDU", in its order: the
 * format (1), the signatures (2), the content hash (3: a mismatch means the
 * event is used in its redacted form), then the authorization rules three
 * times: against the event's own auth events (4), against the state before
 * it (5) -- either failing rejects it --, and against the room's current
 * state (6), failing which it is soft-failed: kept in the graph, never
 * shown, never built on by us.
 *
 * The caller fetches what is missing: an event whose auth events or prev
 * events are not here is not stored, and the answer lists them, so the
 * caller (the federation pipeline, which may ask other servers) can fetch
 * them and try again. Nothing here does I/O. */
#include "room/room.h"

#include <stdlib.h>
#include <string.h>

#include "matrix/ids.h"
#include "room/event_auth.h"
#include "room/graph.h"
#include "room/pdu.h"
#include "room/power_levels.h"
#include "room/state_res.h"
#include "store/graph.h"
#include "store/federation.h"
#include "store/relations.h"
#include "util/json.h"
#include "util/str.h"

static ht_received outcome(ht_receive_outcome what, const char *event_id, const char *reason) {
    return (ht_received){.outcome = what, .event_id = event_id, .reason = reason};
}

/* The events of `ids` the store lacks (or holds only as rejected, when
 * `usable` asks for events whose state is known), in the arena. */
static size_t missing_of(ht_env *env, const char *const *ids, size_t n, bool need_state, const char ***out) {
    size_t count = 0;
    const char **list = ht_arena_calloc(env->arena, n ? n : 1, sizeof *list);
    for (size_t i = 0; i < n; i++) {
        ht_event_row row;
        bool have = ht_store_event_by_id(env->store, env->arena, ids[i], &row);
        if (!have || (need_state && (row.status == HT_EVENT_OUTLIER || row.status == HT_EVENT_REJECTED)))
            list[count++] = ids[i];
    }
    *out = list;
    return count;
}

/* Do the event's prev events name exactly the room's forward extremities?
 * Then the state before it is the room's current state, and nothing needs
 * loading or resolving: the common case of a live room. */
static bool follows_the_tips(ht_env *env, const ht_pdu *pdu) {
    ht_extremity_row *tips;
    size_t n = ht_store_extremities(env->store, env->arena, pdu->room_id, HT_STATE_RES_MAX_STATES, &tips);
    if (n != pdu->prev_count) return false;
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < pdu->prev_count && !found; j++) found = strcmp(tips[i].event_id, pdu->prev_events[j]) == 0;
        if (!found) return false;
    }
    return true;
}

/* The state before the event: the resolution of the states after its prev
 * events. False if one is unknown or the resolution exceeds its bounds. */
static bool state_before(ht_env *env, const char *room_version, const ht_event_source *src, const ht_pdu *pdu,
                         ht_state_map *out) {
    const ht_state_map **states = ht_arena_calloc(env->arena, pdu->prev_count ? pdu->prev_count : 1, sizeof *states);
    for (size_t i = 0; i < pdu->prev_count; i++) {
        ht_event_row row;
        ht_state_map *m = ht_arena_calloc(env->arena, 1, sizeof *m);
        if (!ht_store_event_by_id(env->store, env->arena, pdu->prev_events[i], &row) ||
            !ht_room_state_after(env, &row, m))
            return false;
        states[i] = m;
    }
    ht_state_map_init(out, env->arena);
    if (pdu->prev_count == 1) {
        ht_state_map_copy(out, states[0]);
        return true;
    }
    return ht_state_resolve(env->arena, states, pdu->prev_count, src, room_version, out);
}

/* The first event of a room we did not know: the room is made from it. */
static bool make_room(ht_env *env, const ht_room_version *version, const ht_pdu *create) {
    const char *creator = version->create_has_creator ? ht_json_str(create->content, "creator") : create->sender;
    return ht_store_room_insert(env->store, create->room_id, version->id, creator ? creator : create->sender,
                                create->origin_server_ts, false);
}

/* The state event of this type (empty state key) in a state, or NULL. */
static const ht_pdu *state_event(const ht_state_view *state, const ht_event_source *src, const char *type) {
    const char *id = state->get(state->self, type, "");
    return id ? src->get(src->self, id) : NULL;
}

/* A redaction from elsewhere touches its target only if it comes from the
 * target's own server or from someone with the power to redact (the spec's
 * "Redactions" for room versions 3 and later); the event itself is kept
 * either way. One whose target is not here (yet: history comes newest
 * first) waits for it. *applied (if given): whether the target is redacted now. */
static ht_error apply_redaction(ht_env *env, const ht_room_version *version, const ht_pdu *redaction,
                                int64_t stream, const ht_state_view *before, const ht_event_source *src,
                                bool *applied) {
    ht_event_row target;
    if (applied) *applied = false;
    if (!redaction->redacts) return (ht_error){0};
    if (!ht_store_event_by_id(env->store, env->arena, redaction->redacts, &target))
        return ht_store_redaction_wait(env->store, redaction->redacts, redaction->room_id, stream)
                   ? (ht_error){0}
                   : (ht_error){HT_M_SERVER_ERROR, 0, "The redaction could not be kept."};
    if (strcmp(target.room_id, redaction->room_id) != 0) return (ht_error){0};
    const char *own = ht_id_server(target.sender), *theirs = ht_id_server(redaction->sender);
    bool allowed = own && theirs && strcmp(own, theirs) == 0;
    if (!allowed) {
        const ht_pdu *pl = state_event(before, src, "m.room.power_levels");
        const ht_pdu *create = state_event(before, src, "m.room.create");
        const char *creator = create && version->create_has_creator ? ht_json_str(create->content, "creator")
                              : create                              ? create->sender
                                                                    : NULL;
        ht_levels levels = {pl ? pl->content : NULL, creator};
        allowed = ht_levels_user(&levels, redaction->sender) >= ht_levels_action(&levels, "redact");
    }
    if (!allowed) return (ht_error){0};
    ht_error err = ht_room_redact_target(env, version, redaction->redacts, redaction->event_id);
    if (applied) *applied = !err.code;
    return err;
}

/* The redaction that came before this event, if one waits for it: applied
 * now, judged with the room's current state (the state before the
 * redaction may be unknown here). */
static ht_error apply_waiting_redaction(ht_env *env, const ht_room_version *version, const char *event_id,
                                        const ht_event_source *src, bool *redacted) {
    int64_t stream;
    ht_event_row row;
    ht_pdu redaction;
    *redacted = false;
    if (!ht_store_redaction_waiting(env->store, event_id, &stream)) return (ht_error){0};
    if (!ht_store_redaction_waited(env->store, event_id))
        return (ht_error){HT_M_SERVER_ERROR, 0, "The waiting redaction could not be taken."};
    if (!ht_store_event_by_stream(env->store, env->arena, stream, &row) ||
        !ht_pdu_view(env->arena, ht_json_parse(env->arena, row.json), row.event_id, version->id, &redaction))
        return (ht_error){0};
    ht_state_view current = ht_room_current_view(env, redaction.room_id);
    return apply_redaction(env, version, &redaction, stream, &current, src, redacted);
}

/* The given state before an event of room_id, as a map of stored events
 * (of that room: another's in the list is refused). */
static bool given_state(ht_env *env, const ht_receive_opts *opts, const char *room_id, ht_state_map *out) {
    ht_state_map_init(out, env->arena);
    for (size_t i = 0; i < opts->state_before_count; i++) {
        const char *type, *key;
        if (!ht_room_stored_state_of(env, opts->state_before[i], room_id, &type, &key)) return false;
        ht_state_map_set(out, type, key, opts->state_before[i]);
    }
    return true;
}

/* 6: an event that fails against the room's current state is soft-failed. */
static void soft_fail_check(ht_env *env, const ht_pdu *pdu, const ht_event_source *src, const char *room_version,
                            ht_persist *p, ht_received *res) {
    ht_state_view current = ht_room_current_view(env, pdu->room_id);
    ht_error err = ht_auth_check_pdu(env->arena, pdu, &current, src, room_version);
    if (!err.code) return;
    p->status = HT_EVENT_SOFT_FAILED;
    res->reason = err.message;
}

ht_received ht_room_receive(ht_env *env, const char *room_version, json_t *pdu_json, ht_pdu_key_lookup *lookup,
                            void *key_ctx, const ht_receive_opts *opts) {
    static const ht_receive_opts defaults = {0};
    if (!opts) opts = &defaults;
    bool as_outlier = opts->as_outlier, historical = opts->historical_stream != 0;
    const ht_room_version *version = ht_room_version_get(room_version);
    if (!version) return outcome(HT_RECEIVED_DROPPED, NULL, "The room version is not supported.");
    /* 1: the format. */
    const char *why = ht_pdu_check_format(env->arena, version, pdu_json);
    if (why) return outcome(HT_RECEIVED_DROPPED, NULL, why);
    ht_canonical_error cerr;
    const char *event_id = ht_pdu_id(env->arena, version, pdu_json, &cerr);
    if (!event_id) return outcome(HT_RECEIVED_DROPPED, NULL, "The event has no canonical form.");
    ht_event_row existing;
    bool have = ht_store_event_by_id(env->store, env->arena, event_id, &existing);
    if (have && (as_outlier || historical || existing.status != HT_EVENT_OUTLIER))
        return outcome(HT_RECEIVED_DUPLICATE, event_id, NULL);
    /* 2: the signatures. */
    why = ht_pdu_check_signatures(env->arena, version, pdu_json, lookup, key_ctx);
    if (why) return outcome(HT_RECEIVED_DROPPED, event_id, why);
    /* 3: a wrong content hash: what the event says beyond its redacted
     * form cannot be trusted, so only that form is kept. */
    json_t *pdu_used = pdu_json;
    if (!ht_pdu_content_hash_matches(pdu_json)) pdu_used = ht_json_keep(env->arena, ht_pdu_redact(version, pdu_json));
    ht_pdu pdu;
    if (!pdu_used || !ht_pdu_view(env->arena, pdu_used, event_id, version->id, &pdu))
        return outcome(HT_RECEIVED_DROPPED, event_id, "The event is malformed.");
    size_t size;
    char *text = ht_canonical_json(pdu_used, &size, &cerr);
    if (!text) return outcome(HT_RECEIVED_DROPPED, event_id, "The event has no canonical form.");
    const char *stored = ht_arena_strndup(env->arena, text, size);
    free(text);

    ht_room_row room;
    bool is_create = strcmp(pdu.type, "m.room.create") == 0 && pdu.state_key && !*pdu.state_key;
    if (!ht_store_room_get(env->store, env->arena, pdu.room_id, &room)) {
        if (!is_create) return outcome(HT_RECEIVED_DROPPED, event_id, "This server does not know the room.");
        if (!make_room(env, version, &pdu)) return outcome(HT_RECEIVED_DROPPED, event_id, "The room could not be stored.");
    } else if (strcmp(room.version, version->id) != 0) {
        return outcome(HT_RECEIVED_DROPPED, event_id, "The event's room has another room version.");
    }

    ht_received res = outcome(HT_RECEIVED_MISSING, event_id, NULL);
    ht_event_source src = ht_room_event_source(env, version->id);
    /* 4: the auth events, which must all be here. */
    res.missing_count = missing_of(env, pdu.auth_events, pdu.auth_count, false, &res.missing);
    if (res.missing_count) return res;
    ht_persist p = {.pdu = &pdu, .json = stored, .status = HT_EVENT_TIMELINE,
                    .outlier_stream = have ? existing.stream : 0, .historical_stream = opts->historical_stream};
    ht_error err = ht_auth_check_by_auth_events(env->arena, &pdu, &src, version->id);
    if (err.code) {
        p.status = HT_EVENT_REJECTED;
        res.reason = err.message;
    } else if (as_outlier) {
        p.status = HT_EVENT_OUTLIER;
    }
    ht_state_map before;
    ht_state_view before_view = ht_room_current_view(env, pdu.room_id);
    if (historical) {
        /* 5 and 6 need the state before it, which history does not bring. */
    } else if (p.status == HT_EVENT_TIMELINE && opts->state_before) {
        /* 5, with the state before the event given. */
        if (!given_state(env, opts, pdu.room_id, &before))
            return outcome(HT_RECEIVED_DROPPED, event_id, "The state given before the event is not stored.");
        p.state_before = &before;
        before_view = ht_state_map_view(&before);
        err = ht_auth_check_pdu(env->arena, &pdu, &before_view, &src, version->id);
        if (err.code) {
            p.status = HT_EVENT_REJECTED;
            res.reason = err.message;
        } else if (opts->check_current_state) {
            soft_fail_check(env, &pdu, &src, version->id, &p, &res);
        }
    } else if (p.status == HT_EVENT_TIMELINE) {
        res.missing_count = missing_of(env, pdu.prev_events, pdu.prev_count, true, &res.missing);
        if (res.missing_count) return res;
        /* 5: the state before the event. */
        if (!is_create && !follows_the_tips(env, &pdu)) {
            if (!state_before(env, version->id, &src, &pdu, &before))
                return outcome(HT_RECEIVED_DROPPED, event_id, "The state before the event could not be worked out.");
            p.state_before = &before;
            before_view = ht_state_map_view(&before);
        }
        err = ht_auth_check_pdu(env->arena, &pdu, &before_view, &src, version->id);
        if (err.code) {
            p.status = HT_EVENT_REJECTED;
            res.reason = err.message;
        } else if (p.state_before) {
            /* 6, when the current state differs from the state before. */
            soft_fail_check(env, &pdu, &src, version->id, &p, &res);
        }
    }
    ht_event_row row;
    err = ht_room_persist(env, version->id, &p, &row);
    if (err.code) return outcome(HT_RECEIVED_DROPPED, event_id, err.message);
    res.outcome = p.status == HT_EVENT_TIMELINE      ? HT_RECEIVED_TIMELINE
                  : p.status == HT_EVENT_SOFT_FAILED ? HT_RECEIVED_SOFT_FAILED
                  : p.status == HT_EVENT_OUTLIER     ? HT_RECEIVED_OUTLIER
                                                     : HT_RECEIVED_REJECTED;
    res.missing_count = 0;
    if (p.status != HT_EVENT_TIMELINE) return res;
    /* A historical redaction is judged with the room's current state: the
     * state before it is unknown here. */
    err = apply_redaction(env, version, &pdu, row.stream, &before_view, &src, NULL);
    bool redacted = false;
    if (!err.code) err = apply_waiting_redaction(env, version, event_id, &src, &redacted);
    /* Redacted already: nothing of its content is indexed. */
    if (!err.code && !ht_store_event_index(env->store, &row, redacted ? NULL : pdu.content, pdu.redacts))
        err = (ht_error){HT_M_SERVER_ERROR, 0, "The event could not be indexed."};
    if (err.code) return outcome(HT_RECEIVED_DROPPED, event_id, err.message);
    return res;
}

/* An outlier of a room this server may not be in: the room row is made if
 * needed (it names the version; its creator is not known yet: the sender
 * stands in), the event kept, and its state key's membership set. */
static ht_error keep_membership_outlier(ht_env *env, const ht_room_version *version, json_t *pdu_json,
                                        const char *event_id) {
    ht_pdu pdu;
    if (!ht_pdu_view(env->arena, pdu_json, event_id, version->id, &pdu) || !pdu.state_key ||
        strcmp(pdu.type, "m.room.member") != 0)
        return (ht_error){HT_M_BAD_JSON, 0, "The event is not a membership event."};
    ht_room_row room;
    if (!ht_store_room_get(env->store, env->arena, pdu.room_id, &room) &&
        !ht_store_room_insert(env->store, pdu.room_id, version->id, pdu.sender, pdu.origin_server_ts, false))
        return (ht_error){HT_M_SERVER_ERROR, 0, "The room could not be stored."};
    ht_event_row existing;
    if (ht_store_event_by_id(env->store, env->arena, event_id, &existing)) return (ht_error){0};
    size_t size;
    ht_canonical_error cerr;
    char *text = ht_canonical_json(pdu_json, &size, &cerr);
    if (!text) return (ht_error){HT_M_BAD_JSON, 0, "The event has no canonical form."};
    ht_persist p = {.pdu = &pdu, .json = ht_arena_strndup(env->arena, text, size), .status = HT_EVENT_OUTLIER};
    free(text);
    ht_event_row row;
    ht_error err = ht_room_persist(env, version->id, &p, &row);
    if (err.code) return err;
    const char *membership = ht_json_str(pdu.content, "membership");
    if (!ht_store_membership_set(env->store, pdu.room_id, pdu.state_key, membership,
                                 ht_json_str(pdu.content, "displayname"), row.stream))
        return (ht_error){HT_M_SERVER_ERROR, 0, "The membership could not be stored."};
    return (ht_error){0};
}

ht_received ht_room_take_invite(ht_env *env, const char *room_version, json_t *pdu, json_t *stripped_state,
                                ht_pdu_key_lookup *lookup, void *key_ctx) {
    const ht_room_version *version = ht_room_version_get(room_version);
    if (!version) return outcome(HT_RECEIVED_DROPPED, NULL, "The room version is not supported.");
    const char *why = ht_pdu_check_format(env->arena, version, pdu);
    if (why) return outcome(HT_RECEIVED_DROPPED, NULL, why);
    const char *event_id = ht_pdu_id(env->arena, version, pdu, NULL);
    if (!event_id) return outcome(HT_RECEIVED_DROPPED, NULL, "The event has no canonical form.");
    why = ht_pdu_check_signatures(env->arena, version, pdu, lookup, key_ctx);
    if (why) return outcome(HT_RECEIVED_DROPPED, event_id, why);
    if (!ht_str_is(ht_json_str(json_object_get(pdu, "content"), "membership"), "invite"))
        return outcome(HT_RECEIVED_DROPPED, event_id, "The event is not an invite.");
    ht_error err = keep_membership_outlier(env, version, pdu, event_id);
    if (err.code) return outcome(HT_RECEIVED_DROPPED, event_id, err.message);
    const char *text = stripped_state ? ht_json_dump(env->arena, stripped_state) : "[]";
    if (!ht_store_invite_state_put(env->store, ht_json_str(pdu, "room_id"), ht_json_str(pdu, "state_key"),
                                   text ? text : "[]"))
        return outcome(HT_RECEIVED_DROPPED, event_id, "The invite could not be stored.");
    return outcome(HT_RECEIVED_OUTLIER, event_id, NULL);
}

ht_error ht_room_take_own_outlier(ht_env *env, const char *room_version, json_t *pdu) {
    const ht_room_version *version = ht_room_version_get(room_version);
    const char *event_id = version ? ht_pdu_id(env->arena, version, pdu, NULL) : NULL;
    if (!event_id) return (ht_error){HT_M_BAD_JSON, 0, "The event has no canonical form."};
    return keep_membership_outlier(env, version, pdu, event_id);
}
