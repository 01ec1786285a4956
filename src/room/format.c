/* format.c -- events as clients see them (the spec's "ClientEvent").
 *
 * Aggregations are bundled here, once, so every endpoint that returns
 * events (/sync, /messages, /context, /event, /relations, /threads,
 * /notifications, /search) gives the same unsigned["m.relations"]. Only
 * the thread summary is bundled so far: its count, latest reply and
 * whether the viewer took part, read from the relations index. */
#include <stdint.h>
#include <string.h>

#include "room/room.h"
#include "store/relations.h"
#include "util/json.h"

static json_t *client_event(ht_env *env, const ht_event_row *ev,
                            const ht_viewer *viewer, int64_t now_ms, bool with_room_id, int depth);

/* May the viewer see this event? Someone joined since before it has; only
 * others need the history-visibility rules. */
static bool seen_by(ht_env *env, const ht_viewer *viewer, const ht_event_row *ev) {
    int64_t joined_at = 0;
    const char *m = ht_store_membership_get(env->store, env->arena, ev->room_id, viewer->user_id, &joined_at, NULL);
    if (m && strcmp(m, "join") == 0 && joined_at < ev->stream) return true;
    return ht_room_event_visible(env, viewer->user_id, ev);
}

/* How many of the thread's replies the viewer may see. Counting them all
 * would tell someone who was away (history visibility "joined") how much
 * was said meanwhile (issue 9). Someone joined since before the root has
 * seen every reply; otherwise the newest MAX_CHECKED_REPLIES are checked
 * one by one and the count says how many of those are visible. */
enum { MAX_CHECKED_REPLIES = 50 };

static int64_t visible_replies(ht_env *env, const ht_event_row *root, const ht_viewer *viewer, int64_t total) {
    int64_t joined_at = 0;
    const char *m = ht_store_membership_get(env->store, env->arena, root->room_id, viewer->user_id, &joined_at, NULL);
    if (m && strcmp(m, "join") == 0 && joined_at < root->stream) return total;
    int64_t *streams;
    json_t *parents = ht_json_keep(env->arena, json_pack("[s]", root->event_id));
    size_t n = ht_store_relations(env->store, env->arena, root->room_id, ht_json_dump(env->arena, parents), "m.thread",
                                  NULL, true, INT64_MAX, 0, MAX_CHECKED_REPLIES, &streams);
    int64_t visible = 0;
    for (size_t i = 0; i < n; i++) {
        ht_event_row reply;
        visible += ht_store_event_by_stream(env->store, env->arena, streams[i], &reply) &&
                   ht_room_event_visible(env, viewer->user_id, &reply);
    }
    return visible;
}

/* unsigned["m.relations"]["m.thread"] of a thread root: {latest_event,
 * count, current_user_participated}. Left out when the latest reply is one
 * the viewer may not see (they left before it), rather than reveal it. */
static void bundle_thread(ht_env *env, const ht_event_row *ev, const ht_viewer *viewer,
                          int64_t now_ms, bool with_room_id, json_t *unsig) {
    ht_thread_summary thread;
    ht_event_row latest;
    if (!ht_store_thread_summary(env->store, ev->room_id, ev->event_id, viewer->user_id, &thread) ||
        !ht_store_event_by_stream(env->store, env->arena, thread.latest, &latest) ||
        !ht_room_event_visible(env, viewer->user_id, &latest))
        return;
    bool participated = thread.user_replied || strcmp(ev->sender, viewer->user_id) == 0;
    json_t *summary = json_pack("{s:o, s:I, s:b}", "latest_event",
                                client_event(env, &latest, viewer, now_ms, with_room_id, 1), "count",
                                (json_int_t)visible_replies(env, ev, viewer, thread.count),
                                "current_user_participated", participated);
    json_object_set_new(unsig, "m.relations", json_pack("{s:o}", "m.thread", summary));
}

static json_t *client_event(ht_env *env, const ht_event_row *ev,
                            const ht_viewer *viewer, int64_t now_ms, bool with_room_id, int depth) {
    json_t *pdu = ht_json_parse(env->arena, ev->json);
    json_t *out = json_object();
    json_t *content = json_object_get(pdu, "content");
    json_object_set(out, "content", content ? content : json_object());
    json_object_set_new(out, "event_id", json_string(ev->event_id));
    json_object_set_new(out, "origin_server_ts", json_integer(ev->origin_ts));
    json_object_set_new(out, "sender", json_string(ev->sender));
    json_object_set_new(out, "type", json_string(ev->type));
    if (ev->state_key) json_object_set_new(out, "state_key", json_string(ev->state_key));
    if (with_room_id) json_object_set_new(out, "room_id", json_string(ev->room_id));
    /* Room version 11 moved redacts into content; clients still find it at
     * the top level too (as the spec's client format keeps it). */
    json_t *redacts = json_object_get(pdu, "redacts");
    if (!redacts && strcmp(ev->type, "m.room.redaction") == 0) redacts = json_object_get(content, "redacts");
    if (json_is_string(redacts)) json_object_set(out, "redacts", redacts);

    json_t *unsig = json_object();
    json_object_set_new(unsig, "age", json_integer(now_ms > ev->origin_ts ? now_ms - ev->origin_ts : 0));
    if (viewer && ev->txn_id && viewer->device_id && strcmp(viewer->user_id, ev->sender) == 0 &&
        ev->device_id && strcmp(viewer->device_id, ev->device_id) == 0)
        json_object_set_new(unsig, "transaction_id", json_string(ev->txn_id));
    ht_event_row other;
    if (ev->prev_state && ht_store_event_by_stream(env->store, env->arena, ev->prev_state, &other)) {
        json_object_set_new(unsig, "replaces_state", json_string(other.event_id));
        /* The spec: prev_content only "if the client has permission to see
         * the previous event"; otherwise a newcomer would read the topic (or
         * who set it) from before their time through the current one. */
        if (!viewer || !viewer->user_id || seen_by(env, viewer, &other)) {
            json_t *prev = ht_room_event_content(env->arena, &other);
            if (prev) json_object_set(unsig, "prev_content", prev);
            json_object_set_new(unsig, "prev_sender", json_string(other.sender));
        }
    }
    if (ev->redacted_by && depth == 0 &&
        ht_store_event_by_id(env->store, env->arena, ev->redacted_by, &other))
        json_object_set_new(unsig, "redacted_because",
                            client_event(env, &other, viewer, now_ms, with_room_id, 1));
    if (viewer && viewer->user_id && depth == 0) bundle_thread(env, ev, viewer, now_ms, with_room_id, unsig);
    json_object_set_new(out, "unsigned", unsig);
    return out;
}

json_t *ht_room_event_json(ht_env *env, const ht_event_row *ev,
                           const ht_viewer *viewer, int64_t now_ms, bool with_room_id) {
    return client_event(env, ev, viewer, now_ms, with_room_id, 0);
}
