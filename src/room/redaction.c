/* redaction.c -- room version 10's redaction algorithm.
 *
 * A redacted event keeps only the top-level keys needed to keep the room's
 * history and authorization intact, and of its content only the keys that
 * matter to authorization for its type. */
#include "room/room.h"

#include <string.h>

static const char *const kept_top_level[] = {
    "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
    "depth", "prev_events", "prev_state", "auth_events", "origin", "origin_server_ts", "membership",
};

static const struct {
    const char *type;
    const char *keys[9];
} kept_content[] = {
    {"m.room.member", {"membership", "join_authorised_via_users_server"}},
    {"m.room.create", {"creator"}},
    {"m.room.join_rules", {"join_rule", "allow"}},
    {"m.room.power_levels",
     {"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"}},
    {"m.room.history_visibility", {"history_visibility"}},
};

json_t *ht_redact_event(json_t *pdu) {
    json_t *out = json_object();
    for (size_t i = 0; i < sizeof kept_top_level / sizeof *kept_top_level; i++) {
        json_t *v = json_object_get(pdu, kept_top_level[i]);
        if (v) json_object_set_new(out, kept_top_level[i], json_deep_copy(v));
    }
    json_t *content = json_object_get(pdu, "content");
    json_t *kept = json_object();
    const char *type = json_string_value(json_object_get(pdu, "type"));
    for (size_t i = 0; type && i < sizeof kept_content / sizeof *kept_content; i++) {
        if (strcmp(type, kept_content[i].type) != 0) continue;
        for (size_t k = 0; k < 9 && kept_content[i].keys[k]; k++) {
            json_t *v = json_object_get(content, kept_content[i].keys[k]);
            if (v) json_object_set_new(kept, kept_content[i].keys[k], json_deep_copy(v));
        }
    }
    json_object_set_new(out, "content", kept);
    return out;
}
